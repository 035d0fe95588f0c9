// Preprocessing latency on the live path, the TS reference path and the wasm fast path (fast-strokes.ts) in the same
// run: StrokeRaster.extend / StrokeSession.extend with 4 new points, normalizeToMnist of a typical digit
// (a figure-eight, ink box ≈ 120×180 on the default 280×280 canvas, brush 18), and both together (one pen-move
// update; also for a "1", whose every move grows the ink box), plus the from-scratch and one-shot paths. Validates against the plain oracles in src/preprocess/reference.ts
// first, then times (median, p10–p90 of single calls in interleaved rounds, one thread). Prints a table and writes
// bench/results/preprocess.json (machine, Node, results).
//   npx esbuild bench/preprocess.bench.ts --bundle --platform=node --format=esm --outfile=build/bench/preprocess.mjs \
//     && node build/bench/preprocess.mjs

import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { SIDE, StrokeRaster, normalizeToMnist, rasterizeStrokes, type CanvasSpec } from '../src/preprocess/index.js';
import { normalizeReference, rasterizeReference } from '../src/preprocess/reference.js';
import { FastPreprocessor, type StrokeSession } from '../src/preprocess/fast-strokes.js';
import { loadCore } from '../src/wasm/core.js';

const BUDGET_MS = Number(process.env.BENCH_BUDGET_MS ?? 1500); // per case, over all rounds
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

/** A digit "1": one slightly slanted stroke down the canvas, every ~4 px, so every move grows the ink box (and now
 * and then the working box: a full re-render). */
function one(k = 1): Pt[] {
  const pts: Pt[] = [];
  for (let y = 40; y <= 240; y += 4) pts.push([k * (150 - 0.12 * (y - 40)), k * y]);
  return pts;
}

interface Timing { medianUs: number; p10Us: number; p90Us: number; samples: number }

/**
 * Single-call samples of each case, gathered in ROUNDS interleaved rounds (this shared VM's speed drifts by ±30% from
 * second to second; interleaving spreads that over every case instead of penalising whichever ran in a slow patch).
 */
const ROUNDS = process.argv.includes("--quick") ? 2 : 6; // --quick: npm run bench -- --quick
interface Case { name: string; fn: () => void; inner: number; samples: number[] }
const cases: Case[] = [];
function bench(name: string, fn: () => void, inner = 1): void {
  cases.push({ name, fn, inner, samples: [] });
}

function runAll(): Array<{ case: string; timing: Timing }> {
  for (const c of cases) for (let i = 0; i < 200; i++) c.fn(); // warm-up: let the JIT tier up
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of cases) {
      const start = performance.now();
      while (performance.now() - start < BUDGET_MS / ROUNDS) {
        const t0 = process.hrtime.bigint();
        c.fn();
        c.samples.push(Number(process.hrtime.bigint() - t0) / 1000 / c.inner);
      }
    }
  }
  return cases.map((c) => {
    const s = c.samples.sort((a, b) => a - b);
    const q = (p: number): number => s[Math.floor(p * (s.length - 1))]!;
    return { case: c.name, timing: { medianUs: q(0.5), p10Us: q(0.1), p90Us: q(0.9), samples: s.length } };
  });
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

/** The wasm fast path, streamed like extendRunner. */
function sessionRunner(session: StrokeSession, path: Pt[]): () => void {
  const chunks: Float64Array[] = [];
  for (let i = 1; i + 4 <= path.length; i += 4) chunks.push(Float64Array.from(path.slice(i, i + 4).flat()));
  let next = 0;
  return (): void => {
    if (next === 0) {
      session.clear();
      session.begin(path[0]![0], path[0]![1]);
    }
    session.extend(chunks[next]!);
    next = (next + 1) % chunks.length;
  };
}

/** Mean and max |fast − reference| of the whole path's 28×28, and the session's bytes. */
function validateFast(session: StrokeSession, spec: CanvasSpec, path: Pt[]): void {
  session.clear();
  session.addStroke(path);
  const a = new Float32Array(SIDE * SIDE), b = new Float32Array(SIDE * SIDE);
  session.toMnist(a);
  const whole = rasterizeStrokes([path], spec);
  normalizeToMnist(whole.pixels, spec.width, spec.height, b, whole.bbox);
  let sum = 0, max = 0;
  for (let i = 0; i < a.length; i++) { const e = Math.abs(a[i]! - b[i]!); sum += e; max = Math.max(max, e); }
  check(`wasm session ${spec.width}×${spec.height} vs TS path`, sum / a.length <= 0.02 && max <= 0.15,
    `mean ${(sum / a.length).toFixed(4)}, max ${max.toFixed(3)}, ${session.bytes} bytes, ${session.renders} renders`);
}

const pre = new FastPreprocessor(await loadCore());
const out = new Float32Array(SIDE * SIDE);
for (const k of [1, 2]) {
  const spec: CanvasSpec = { width: 280 * k, height: 280 * k, brush: 18 * k };
  const path = figureEight(k);
  validate(spec, path);
  const full = rasterizeStrokes([path], spec);
  const copy = Float32Array.from(full.pixels); // normalizeToMnist is always the from-scratch path
  const b = full.bbox!;
  const tag = `${spec.width}×${spec.height} brush ${spec.brush}`;
  console.log(`${tag}: ${path.length} points, ink box ${b.x1 - b.x0}×${b.y1 - b.y0}`);

  const ext = extendRunner(spec, path);
  bench(`extend(4 points) ${tag}`, ext.step);
  const upd = extendRunner(spec, path);
  bench(`live update: extend(4) + normalizeToMnist ${tag}`, () => {
    upd.step();
    upd.raster.toMnist(out); // the live path: the raster's own table
  });
  const session = pre.session(spec);
  validateFast(session, spec, path);
  const fastStep = sessionRunner(session, path);
  bench(`wasm session: extend(4 points) ${tag}`, fastStep);
  const live = pre.session(spec);
  const liveStep = sessionRunner(live, path);
  bench(`wasm live update: extend(4) + toMnist ${tag}`, () => {
    liveStep();
    live.toMnist(out);
  });
  // The other kind of move: the ink box grows every time (the scale and centre of every output pixel change).
  const grow = pre.session(spec);
  validateFast(grow, spec, one(k));
  const growStep = sessionRunner(grow, one(k));
  bench(`wasm live update, box grown each move ("1") ${tag}`, () => {
    growStep();
    grow.toMnist(out);
  });
  bench(`wasm toMnist, unchanged drawing ${tag}`, () => session.toMnist(out));
  // The normaliser itself on a drawing that did change (cached results are only for unchanged ones): the session's
  // stroke extended by its own last point, a zero-length segment that marks its rows dirty and draws nothing new.
  const redo = pre.session(spec);
  redo.begin(path[0]![0], path[0]![1]);
  redo.extend(path.slice(1).flat());
  const last = path[path.length - 1]!;
  bench(`wasm toMnist after a no-op extend(1) ${tag}`, () => {
    redo.extend(last);
    redo.toMnist(out);
  });
  bench(`wasm one-shot: session + addStroke + toMnist ${tag}`, () => {
    const s = pre.session(spec);
    s.addStroke(path);
    s.toMnist(out);
    s.free();
  });
  bench(`wasm rasterToMnist ${tag}`, () => pre.rasterToMnist(copy, spec.width, spec.height, out));
  const reps = 10;
  bench(`normalizeToMnist, unchanged raster ${tag}`, () => {
    for (let i = 0; i < reps; i++) full.toMnist(out);
  }, reps);
  bench(`normalizeToMnist from scratch, bbox ${tag}`, () => normalizeToMnist(copy, spec.width, spec.height, out, b));
  bench(`normalizeToMnist from scratch, no bbox ${tag}`, () => normalizeToMnist(copy, spec.width, spec.height, out));
  bench(`one-shot: rasterizeStrokes + normalize ${tag}`, () => {
    const r = rasterizeStrokes([path], spec);
    r.toMnist(out); // the first call: from scratch, no table
  });
  if (k === 1) bench(`reference normalize (the oracle) ${tag}`, () => normalizeReference(full.pixels, spec.width, spec.height));
}
const rows = runAll();

const width = Math.max(...rows.map((r) => r.case.length));
console.log(`\n${'case'.padEnd(width)}  median µs   p10–p90 µs      samples`);
for (const { case: c, timing: t } of rows) {
  const spread = `${t.p10Us.toFixed(2)}–${t.p90Us.toFixed(2)}`;
  console.log(`${c.padEnd(width)}  ${t.medianUs.toFixed(2).padStart(9)}   ${spread.padEnd(14)}  ${t.samples}`);
}
const machine = {
  cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, arch: arch(), platform: platform(), node: process.version,
};
mkdirSync('build/bench', { recursive: true });
const result = { date: new Date().toISOString(), machine, budgetMs: BUDGET_MS, rounds: ROUNDS, rows };
const resultsDir = process.env.BENCH_RESULTS_DIR ?? 'bench/results';
mkdirSync(resultsDir, { recursive: true });
writeFileSync(`${resultsDir}/preprocess.json`, JSON.stringify(result, null, 2) + '\n');
console.log(`\n${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; wrote ${resultsDir}/preprocess.json`);
