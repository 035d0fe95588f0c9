// MNIST-style normalisation of a coverage raster into the 28×28 model input, the way the MNIST digits were made:
// crop to the ink's bounding box, scale so the longer side is 20 px keeping the aspect ratio (area-averaging when
// shrinking, bilinear when enlarging), and place the result so its intensity-weighted centre of mass is at (14, 14),
// to sub-pixel precision. Pure TypeScript, no allocation per call (module-level scratch, grown to the largest crop).
// Not here: rasterising strokes (stroke-raster.ts), decoding images (image-data.ts), rotation/deskewing (MNIST did
// none), or validating messages (the server's); only cheap shape checks that throw RangeError.
//
// One resampling, not two: the map from source to output coordinates is u = s·(x − cx) + 14 (cx = source centre of
// mass), so the sub-pixel shift is part of the scaling and adds no blur of its own. Reference: reference.ts.

import { CENTRE, INK_BOX, INK_THRESHOLD, SIDE, type PixelBox } from './spec.js';

const T = INK_THRESHOLD;
const N = SIDE * SIDE;

// Accumulation grid in output space with a PAD-pixel margin on every side. The mapped ink box is at most 20 px long
// and contains the mapped centre of mass 14, so it lies in [14 − 20, 14 + 20] = [−6, 34]; a source pixel maps to
// [a, a + s) with s ≤ 1 and can touch output pixel floor(a) + 1 ≤ 34. PAD = 8 covers that with room for rounding,
// so the hot loop needs no bounds checks; the part outside the 28×28 field is dropped at the end (as in MNIST).
const PAD = 8;
const GRID = SIDE + 2 * PAD;
const grid = new Float64Array(GRID * GRID);
const rowAcc = new Float64Array(GRID);

// Per source column / row of the crop: first output pixel touched (with PAD added) and the weights given to it and
// to the next one. Grown on demand, never shrunk.
let colJ = new Int32Array(64);
let colW0 = new Float64Array(64);
let colW1 = new Float64Array(64);
let rowJ = new Int32Array(64);
let rowW0 = new Float64Array(64);
let rowW1 = new Float64Array(64);

// Output-side tables for the bilinear path: per output column/row, the two source indices and their weights.
const upI0 = new Int32Array(SIDE * 2);
const upI1 = new Int32Array(SIDE * 2);
const upW0 = new Float64Array(SIDE * 2);
const upW1 = new Float64Array(SIDE * 2);

/**
 * MNIST-style normalisation of a coverage raster (values ≥ 0, ink high, nominally in [0, 1]) into out[0..784).
 * Returns false, with out all zeros, when no value exceeds INK_THRESHOLD: the caller answers "no ink".
 * `bbox`, if given, must contain all the ink (StrokeRaster.bbox does); only it is scanned. Values ≤ INK_THRESHOLD
 * count as paper (0) everywhere. Output values are clamped to [0, 1].
 */
export function normalizeToMnist(raster: ArrayLike<number>, width: number, height: number, out: Float32Array,
  bbox?: PixelBox): boolean {
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
    throw new RangeError(`normalizeToMnist: dimensions must be positive integers, got ${width}×${height}`);
  }
  if (raster.length !== width * height) {
    throw new RangeError(`normalizeToMnist: raster has ${raster.length} values, ${width}×${height} needs ${width * height}`);
  }
  if (out.length !== N) throw new RangeError(`normalizeToMnist: out has ${out.length} values, needs ${N}`);
  let x0 = 0, y0 = 0, x1 = width, y1 = height;
  if (bbox !== undefined) {
    ({ x0, y0, x1, y1 } = bbox);
    if (!Number.isInteger(x0) || !Number.isInteger(y0) || !Number.isInteger(x1) || !Number.isInteger(y1) ||
      x0 < 0 || y0 < 0 || x1 > width || y1 > height || x0 > x1 || y0 > y1) {
      throw new RangeError(`normalizeToMnist: bbox [${x0}, ${x1})×[${y0}, ${y1}) is not integer bounds within ${width}×${height}`);
    }
  }

  // 1. Tighten [x0, x1)×[y0, y1) to the ink: peel off empty edge rows, then columns. Each peel scans one edge line, so
  //    a tight box (the rasteriser's) costs four early-exit scans, and no box costs at most one pass over the paper.
  while (y0 < y1 && !rowHasInk(raster, y0 * width, x0, x1)) y0++;
  if (y0 === y1) {
    out.fill(0);
    return false;
  }
  while (!rowHasInk(raster, (y1 - 1) * width, x0, x1)) y1--;
  while (!colHasInk(raster, width, x0, y0, y1)) x0++;
  while (!colHasInk(raster, width, x1 - 1, y0, y1)) x1--;
  const w = x1 - x0;
  const h = y1 - y0;

  // 2. Centre of mass of the ink, continuous coordinates: cx = Σ v·(x + 0.5) / Σ v over the crop (v > T only).
  let m = 0, mx = 0, my = 0;
  for (let y = y0; y < y1; y++) {
    const row = y * width;
    let rs = 0, rxs = 0;
    for (let x = x0; x < x1; x++) {
      const v = raster[row + x]!;
      if (v > T) { // also skips the paper, most of the box, cheaply
        rs += v;
        rxs += v * x;
      }
    }
    m += rs;
    mx += rxs;
    my += rs * y;
  }
  const cx = mx / m + 0.5;
  const cy = my / m + 0.5;

  // 3. Scale: the longer side becomes INK_BOX. A side that would be thinner than one output pixel (a 1-px line) is
  //    given exactly one pixel instead, so it stays visible (MNIST has no such digits; this only keeps them sane).
  const s = INK_BOX / Math.max(w, h);
  if (s <= 1) shrink(raster, width, x0, y0, x1, y1, cx, cy, Math.max(s, 1 / w), Math.max(s, 1 / h), out);
  else enlarge(raster, width, x0, y0, x1, y1, cx, cy, s, out);
  return true;
}

function rowHasInk(raster: ArrayLike<number>, row: number, x0: number, x1: number): boolean {
  for (let k = row + x0, e = row + x1; k < e; k++) if (raster[k]! > T) return true;
  return false;
}

function colHasInk(raster: ArrayLike<number>, width: number, x: number, y0: number, y1: number): boolean {
  for (let k = y0 * width + x, e = y1 * width; k < e; k += width) if (raster[k]! > T) return true;
  return false;
}

/**
 * Area-averaging (box filter) for sx, sy ≤ 1. Source pixel [x, x+1)×[y, y+1) maps to the output rectangle
 * [ax, ax + sx)×[ay, ay + sy) with ax = sx·(x − cx) + 14; it adds v × (area of overlap) to each output pixel it
 * overlaps. Output pixel value = Σ v·overlap = the mean of the source over its footprint (area 1/(sx·sy)), which is
 * exactly "average the source over the target pixel's footprint". A source pixel is narrower than an output pixel, so
 * it overlaps at most 2 per axis: the weight to the first is min(sx, j + 1 − ax), the rest goes to the next.
 * Separable: each source row is binned horizontally into rowAcc, which is then added to ≤ 2 output rows.
 */
function shrink(raster: ArrayLike<number>, width: number, x0: number, y0: number, x1: number, y1: number,
  cx: number, cy: number, sx: number, sy: number, out: Float32Array): void {
  const w = x1 - x0;
  const h = y1 - y0;
  if (colJ.length < w) [colJ, colW0, colW1] = [new Int32Array(w), new Float64Array(w), new Float64Array(w)];
  if (rowJ.length < h) [rowJ, rowW0, rowW1] = [new Int32Array(h), new Float64Array(h), new Float64Array(h)];
  axisTable(colJ, colW0, colW1, x0, w, cx, sx);
  axisTable(rowJ, rowW0, rowW1, y0, h, cy, sy);
  const cLo = colJ[0]!;
  const cHi = colJ[w - 1]! + 2; // rowAcc columns that can be non-zero
  grid.fill(0);
  for (let y = y0; y < y1; y++) {
    const row = y * width;
    let any = false;
    for (let x = x0; x < x1; x++) {
      const v = raster[row + x]!;
      if (v > T) {
        const k = x - x0;
        const j = colJ[k]!;
        rowAcc[j] = rowAcc[j]! + v * colW0[k]!;
        rowAcc[j + 1] = rowAcc[j + 1]! + v * colW1[k]!;
        any = true;
      }
    }
    if (!any) continue;
    const k = y - y0;
    const g0 = rowJ[k]! * GRID;
    const g1 = g0 + GRID;
    const w0 = rowW0[k]!;
    const w1 = rowW1[k]!;
    for (let i = cLo; i < cHi; i++) {
      const a = rowAcc[i]!;
      grid[g0 + i] = grid[g0 + i]! + a * w0;
      grid[g1 + i] = grid[g1 + i]! + a * w1;
      rowAcc[i] = 0;
    }
  }
  for (let j = 0; j < SIDE; j++) {
    const g = (j + PAD) * GRID + PAD;
    for (let i = 0; i < SIDE; i++) {
      const v = grid[g + i]!;
      out[j * SIDE + i] = v < 1 ? v : 1; // ≥ 0 by construction; > 1 only if the input was
    }
  }
}

/** Box-filter table of one axis: source index o + k maps to [a, a + sc), a = sc·(o + k − c) + 14 (+ PAD for the grid). */
function axisTable(J: Int32Array, W0: Float64Array, W1: Float64Array, o: number, n: number, c: number, sc: number): void {
  for (let k = 0; k < n; k++) {
    const a = sc * (o + k - c) + CENTRE + PAD;
    const j = Math.floor(a);
    const w0 = Math.min(sc, j + 1 - a);
    J[k] = j;
    W0[k] = w0;
    W1[k] = sc - w0;
  }
}

/**
 * Bilinear enlargement for s > 1 (a drawing smaller than 20 px). The crop [x0, x1) maps to [A, B), A = s·(x0 − cx) + 14.
 * Output pixel j gets cov × (bilinear sample of the source at the centre of its covered part), cov = |[j, j+1) ∩ [A, B)|
 * (anti-aliases the box edge); the sample position maps back by x = cx + (u − 14)/s and is clamped to the crop's
 * outer pixel centres, so a one-pixel dot becomes a 20×20 square, not a tent that fades over 40 px.
 */
function enlarge(raster: ArrayLike<number>, width: number, x0: number, y0: number, x1: number, y1: number,
  cx: number, cy: number, s: number, out: Float32Array): void {
  upTable(0, x0, x1, cx, s);
  upTable(SIDE, y0, y1, cy, s);
  for (let j = 0; j < SIDE; j++) {
    const wy0 = upW0[SIDE + j]!;
    const wy1 = upW1[SIDE + j]!;
    const r0 = upI0[SIDE + j]! * width;
    const r1 = upI1[SIDE + j]! * width;
    for (let i = 0; i < SIDE; i++) {
      const wx0 = upW0[i]!;
      const wx1 = upW1[i]!;
      const i0 = upI0[i]!;
      const i1 = upI1[i]!;
      const v = wy0 * (wx0 * ink(raster[r0 + i0]!) + wx1 * ink(raster[r0 + i1]!)) +
        wy1 * (wx0 * ink(raster[r1 + i0]!) + wx1 * ink(raster[r1 + i1]!));
      out[j * SIDE + i] = v < 1 ? v : 1;
    }
  }
}

/** A value with paper (≤ T) as 0. */
function ink(v: number): number {
  return v > T ? v : 0;
}

/** Bilinear table of one axis into upI0/upI1/upW0/upW1 at offset `at` (0 for columns, SIDE for rows). */
function upTable(at: number, lo: number, hi: number, c: number, s: number): void {
  const A = s * (lo - c) + CENTRE;
  const B = s * (hi - c) + CENTRE;
  for (let j = 0; j < SIDE; j++) {
    const l = Math.max(j, A);
    const r = Math.min(j + 1, B);
    let i0 = lo, i1 = lo, w0 = 0, w1 = 0;
    if (r > l) {
      // Source position of the middle of the covered part, in pixel-centre units (centre of pixel i is i + 0.5).
      let q = c + ((l + r) / 2 - CENTRE) / s - 0.5;
      q = q < lo ? lo : q > hi - 1 ? hi - 1 : q;
      i0 = Math.floor(q);
      i1 = i0 + 1 < hi ? i0 + 1 : i0;
      const f = q - i0;
      w0 = (r - l) * (1 - f);
      w1 = (r - l) * f;
    }
    upI0[at + j] = i0;
    upI1[at + j] = i1;
    upW0[at + j] = w0;
    upW1[at + j] = w1;
  }
}
