// Plain, slow oracles for the preprocessing maths, written the obvious way (every pixel against every segment; every
// output pixel integrating its source footprint in 2-D) so the fast, incremental, table-based versions can be checked
// against them. Used by test/preprocess.test.ts and bench/preprocess.bench.ts; not exported from index.ts and never
// on a request path.

import { CENTRE_OF_MASS as C, INK_BOX, INK_THRESHOLD, SIDE, type CanvasSpec } from './spec.js';

/** Coverage max_segments clamp(r + 0.5 − d, 0, 1) over the whole canvas; a stroke's first point is a dot. */
export function rasterizeReference(strokes: ReadonlyArray<ReadonlyArray<readonly [number, number]>>,
  spec: CanvasSpec): Float32Array {
  const { width, height, brush } = spec;
  const out = new Float32Array(width * height);
  const r = brush / 2;
  const draw = (a: readonly [number, number], b: readonly [number, number]): void => {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const c = Math.min(1, Math.max(0, r + 0.5 - segmentDistance(x + 0.5, y + 0.5, a, b)));
        if (c > out[y * width + x]!) out[y * width + x] = c;
      }
    }
  };
  for (const stroke of strokes) {
    for (let i = 0; i < stroke.length; i++) draw(stroke[Math.max(0, i - 1)]!, stroke[i]!);
  }
  return out;
}

/** Distance from P to segment AB: to an endpoint when P projects outside AB, else |cross| / |AB|. */
export function segmentDistance(px: number, py: number, a: readonly [number, number], b: readonly [number, number]): number {
  const [ax, ay] = a;
  const [bx, by] = b;
  const ux = bx - ax, uy = by - ay;
  const len = Math.hypot(ux, uy);
  if (len === 0) return Math.hypot(px - ax, py - ay);
  const along = ((px - ax) * ux + (py - ay) * uy) / len;
  if (along <= 0) return Math.hypot(px - ax, py - ay);
  if (along >= len) return Math.hypot(px - bx, py - by);
  return Math.abs((px - ax) * uy - (py - ay) * ux) / len;
}

/** Length of [a0, a1) ∩ [b0, b1). */
function overlap(a0: number, a1: number, b0: number, b1: number): number {
  return Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
}

/** The MNIST normalisation, computed per output pixel in double; null when there is no ink. */
export function normalizeReference(raster: ArrayLike<number>, width: number, height: number): Float64Array | null {
  const v = (x: number, y: number): number => {
    const a = raster[y * width + x]!;
    return a > INK_THRESHOLD ? a : 0;
  };
  let x0 = width, y0 = height, x1 = 0, y1 = 0, m = 0, mx = 0, my = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const a = v(x, y);
      if (a === 0) continue;
      x0 = Math.min(x0, x); x1 = Math.max(x1, x + 1);
      y0 = Math.min(y0, y); y1 = Math.max(y1, y + 1);
      m += a; mx += a * (x + 0.5); my += a * (y + 0.5);
    }
  }
  if (m === 0) return null;
  const cx = mx / m, cy = my / m;
  const w = x1 - x0, h = y1 - y0;
  // Ink extent to sub-pixel precision: the box less the uncovered parts of its edge lines, relative to the peak
  // (see normalize.ts).
  let cl = 0, cr = 0, ct = 0, cb = 0, peak = 0;
  for (let y = y0; y < y1; y++) { cl = Math.max(cl, v(x0, y)); cr = Math.max(cr, v(x1 - 1, y)); }
  for (let x = x0; x < x1; x++) { ct = Math.max(ct, v(x, y0)); cb = Math.max(cb, v(x, y1 - 1)); }
  for (let i = 0; i < width * height; i++) peak = Math.max(peak, v(i % width, Math.floor(i / width)));
  const ex = w === 1 ? 1 : w - (1 - cl / peak) - (1 - cr / peak);
  const ey = h === 1 ? 1 : h - (1 - ct / peak) - (1 - cb / peak);
  const s = INK_BOX / Math.max(ex, ey);
  const out = new Float64Array(SIDE * SIDE);
  if (s <= 1) {
    const sx = Math.max(s, 1 / w), sy = Math.max(s, 1 / h);
    for (let j = 0; j < SIDE; j++) {
      for (let i = 0; i < SIDE; i++) {
        // The output pixel's footprint in the source, and the mean of the source over it.
        const fx0 = cx + (i - C) / sx, fx1 = cx + (i + 1 - C) / sx;
        const fy0 = cy + (j - C) / sy, fy1 = cy + (j + 1 - C) / sy;
        let sum = 0;
        for (let y = Math.max(y0, Math.floor(fy0)); y < Math.min(y1, Math.ceil(fy1)); y++) {
          for (let x = Math.max(x0, Math.floor(fx0)); x < Math.min(x1, Math.ceil(fx1)); x++) {
            sum += v(x, y) * overlap(x, x + 1, fx0, fx1) * overlap(y, y + 1, fy0, fy1);
          }
        }
        out[j * SIDE + i] = Math.min(1, sum * sx * sy);
      }
    }
  } else {
    const ax = s * (x0 - cx) + C, bx = s * (x1 - cx) + C;
    const ay = s * (y0 - cy) + C, by = s * (y1 - cy) + C;
    for (let j = 0; j < SIDE; j++) {
      const covY = overlap(j, j + 1, ay, by);
      if (covY === 0) continue;
      const qy = clamp(cy + ((Math.max(j, ay) + Math.min(j + 1, by)) / 2 - C) / s - 0.5, y0, y1 - 1);
      for (let i = 0; i < SIDE; i++) {
        const covX = overlap(i, i + 1, ax, bx);
        if (covX === 0) continue;
        const qx = clamp(cx + ((Math.max(i, ax) + Math.min(i + 1, bx)) / 2 - C) / s - 0.5, x0, x1 - 1);
        const xa = Math.floor(qx), ya = Math.floor(qy);
        const xb = Math.min(xa + 1, x1 - 1), yb = Math.min(ya + 1, y1 - 1);
        const fx = qx - xa, fy = qy - ya;
        const sample = (1 - fy) * ((1 - fx) * v(xa, ya) + fx * v(xb, ya)) + fy * ((1 - fx) * v(xa, yb) + fx * v(xb, yb));
        out[j * SIDE + i] = Math.min(1, covX * covY * sample);
      }
    }
  }
  return out;
}

function clamp(q: number, lo: number, hi: number): number {
  return q < lo ? lo : q > hi ? hi : q;
}
