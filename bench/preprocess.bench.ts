// Preprocessing latency on the live path: StrokeRaster.extend with 4 new points, normalizeToMnist of a typical digit
// (a figure-eight, ink box ≈ 120×180 on the default 280×280 canvas, brush 18), and both together (one pen-move
// update). Validates against the plain oracles in src/preprocess/reference.ts first, then times (median, p10–p90 of
// many single calls, single thread). Prints a table and writes build/bench/preprocess.json (machine, Node, results).
//   npx esbuild bench/preprocess.bench.ts --bundle --platform=node --format=esm --outfile=build/bench/preprocess.mjs \
//     && node build/bench/preprocess.mjs

import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { SIDE, StrokeRaster, normalizeToMnist, rasterizeStrokes, type CanvasSpec } from '../src/preprocess/index.js';
import { normalizeReference, rasterizeReference } from '../src/preprocess/reference.js';

const BUDGET_MS = Number(process.env.BENCH_BUDGET_MS ?? 600);
type Pt = readonly [number, number];

/** A figure-eight, sampled every ~4 canvas px (a pointermove rate's worth of spacing), scaled by k. */
function figureEight(k = 1): Pt[] {
  const pts: Pt[] = [];
  const at = (t: number): Pt => [k * (140 + 50 * Math.sin(2 * t)), k * (140 - 80 * Math.cos(t))];
  let prev = at(0);
  pts.push(prev);
  for (let t = 0; t <= 2 * Math.PI; t += 0.0005) {
    const p = at(t);
    if (Math.hypot(p[0] - prev[0], p[1] - prev[1]) >= 4 * k) {
      pts.push(p);
      prev = p;
    }
  }
  return pts;
}

interface Timing { medianUs: number; p10Us: number; p90Us: number; samples: number }

/** Times `fn` (which does `inner` operations per call) repeatedly for BUDGET_MS; statistics per operation. */
function time(fn: () => void, inner = 1): Timing {
  for (let i = 0; i < 200; i++) fn(); // warm-up: let the JIT tier up
  const samples: number[] = [];
  const start = performance.now();
  while (performance.now() - start < BUDGET_MS && samples.length < 200_000) {
    const t0 = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1000 / inner);
  }
  samples.sort((a, b) => a - b);
  const q = (p: number): number => samples[Math.floor(p * (samples.length - 1))]!;
  return { medianUs: q(0.5), p10Us: q(0.1), p90Us: q(0.9), samples: samples.length };
}

function check(name: string, ok: boolean, detail: string): void {
  if (!ok) throw new Error(`validation failed: ${name}: ${detail}`);
  console.log(`ok  ${name} (${detail})`);
}

function validate(spec: CanvasSpec, path: Pt[]): void {
  const whole = rasterizeStrokes([path], spec);
  const ref = rasterizeReference([path], spec);
  let maxErr = 0;
  for (let i = 0; i < ref.length; i++) maxErr = Math.max(maxErr, Math.abs(ref[i]! - whole.pixels[i]!));
  check(`raster ${spec.width}×${spec.height} vs reference`, maxErr <= 1e-6, `max |err| ${maxErr.toExponential(1)}`);
  const streamed = new StrokeRaster(spec);
  streamed.begin(path[0]![0], path[0]![1]);
  for (let i = 1; i < path.length; i += 4) streamed.extend(path.slice(i, i + 4).flat());
  streamed.end();
  check('streamed 4-point extends = whole stroke', streamed.pixels.every((v, i) => v === whole.pixels[i]), 'bit for bit');
  const out = new Float32Array(SIDE * SIDE);
  normalizeToMnist(whole.pixels, spec.width, spec.height, out, whole.bbox);
  const want = normalizeReference(whole.pixels, spec.width, spec.height)!;
  maxErr = 0;
  for (let i = 0; i < out.length; i++) maxErr = Math.max(maxErr, Math.abs(out[i]! - want[i]!));
  check(`normalize ${spec.width}×${spec.height} vs reference`, maxErr <= 1e-5, `max |err| ${maxErr.toExponential(1)}`);
}

/** Streams the path through one raster in 4-point extends, restarting it when done. */
function extendRunner(spec: CanvasSpec, path: Pt[]): { step: () => void; raster: StrokeRaster } {
  const raster = new StrokeRaster(spec);
  const chunks: Float64Array[] = [];
  for (let i = 1; i + 4 <= path.length; i += 4) chunks.push(Float64Array.from(path.slice(i, i + 4).flat()));
  let next = 0;
  const step = (): void => {
    if (next === 0) {
      raster.clear();
      raster.begin(path[0]![0], path[0]![1]);
    }
    raster.extend(chunks[next]!);
    next = (next + 1) % chunks.length;
  };
  return { step, raster };
}

const rows: Array<{ case: string; timing: Timing }> = [];
const out = new Float32Array(SIDE * SIDE);
for (const k of [1, 2]) {
  const spec: CanvasSpec = { width: 280 * k, height: 280 * k, brush: 18 * k };
  const path = figureEight(k);
  validate(spec, path);
  const full = rasterizeStrokes([path], spec);
  const b = full.bbox!;
  const tag = `${spec.width}×${spec.height} brush ${spec.brush}`;
  console.log(`${tag}: ${path.length} points, ink box ${b.x1 - b.x0}×${b.y1 - b.y0}`);

  const ext = extendRunner(spec, path);
  rows.push({ case: `extend(4 points) ${tag}`, timing: time(ext.step) });
  const reps = 20;
  rows.push({ case: `normalizeToMnist with bbox ${tag}`, timing: time(() => {
    for (let i = 0; i < reps; i++) normalizeToMnist(full.pixels, spec.width, spec.height, out, full.bbox);
  }, reps) });
  rows.push({ case: `normalizeToMnist, no bbox ${tag}`, timing: time(() => {
    for (let i = 0; i < reps; i++) normalizeToMnist(full.pixels, spec.width, spec.height, out);
  }, reps) });
  const upd = extendRunner(spec, path);
  rows.push({ case: `update = extend(4) + normalize ${tag}`, timing: time(() => {
    upd.step();
    normalizeToMnist(upd.raster.pixels, spec.width, spec.height, out, upd.raster.bbox);
  }) });
  if (k === 1) {
    rows.push({ case: `reference normalize (oracle) ${tag}`, timing: time(() => {
      normalizeReference(full.pixels, spec.width, spec.height);
    }) });
  }
}

const width = Math.max(...rows.map((r) => r.case.length));
console.log(`\n${'case'.padEnd(width)}  median µs   p10–p90 µs      samples`);
for (const { case: c, timing: t } of rows) {
  console.log(`${c.padEnd(width)}  ${t.medianUs.toFixed(2).padStart(9)}   ${`${t.p10Us.toFixed(2)}–${t.p90Us.toFixed(2)}`.padEnd(14)}  ${t.samples}`);
}
const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, arch: arch(), platform: platform(), node: process.version };
mkdirSync('build/bench', { recursive: true });
writeFileSync('build/bench/preprocess.json', JSON.stringify({ date: new Date().toISOString(), machine, budgetMs: BUDGET_MS, rows }, null, 2) + '\n');
console.log(`\n${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; wrote build/bench/preprocess.json`);
