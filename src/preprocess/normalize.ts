// MNIST-style normalisation of a coverage raster into the 28×28 model input, the way the MNIST digits were made:
// crop to the ink's bounding box, scale so the longer side is 20 px keeping the aspect ratio (area-averaging when
// shrinking, bilinear when enlarging), and place the result so its intensity-weighted centre of mass is at
// CENTRE_OF_MASS (14.5, see spec.ts), to sub-pixel precision. No allocation per call (module-level scratch, up to 8 MB).
// Not here: rasterising strokes (stroke-raster.ts), decoding images (image-data.ts), rotation/deskewing (MNIST did
// none), or validating messages (the server's); only cheap shape checks that throw RangeError.
//
// One resampling, not two: source x maps to u = s·(x − cx) + 14.5 (cx = source centre of mass), so the sub-pixel shift
// is part of the scaling and adds no blur of its own. Shrinking integrates the source over each output pixel's
// footprint with a summed-area table (ink-integral.ts), O(28²) however large the drawing. Oracle: reference.ts.

import { bandRows, InkIntegral } from './ink-integral.js';
import { CENTRE_OF_MASS as C, INK_BOX, INK_THRESHOLD, SIDE, type PixelBox } from './spec.js';

const T = INK_THRESHOLD;
const N = SIDE * SIDE;

// The from-scratch path's table, reused and grown up to SCRATCH_CELLS positions (8 MB); a larger crop (a big PNG)
// gets a table of its own for the call, so one huge upload does not pin its memory for the life of the process.
const scratch = new InkIntegral();
const SCRATCH_CELLS = 1 << 20;

/**
 * MNIST-style normalisation of a coverage raster (values ≥ 0, ink high, nominally in [0, 1]) into out[0..784).
 * Returns false, with out all zeros, when no value exceeds INK_THRESHOLD: the caller answers "no ink".
 * `bbox`, if given, must contain all the ink (StrokeRaster.bbox does); only it is scanned. Values ≤ INK_THRESHOLD
 * count as paper (0) everywhere. Output values are clamped to [0, 1]. Always from scratch: a StrokeRaster's
 * toMnist() gives the same result, bit for bit, from a table it keeps up to date while the drawing grows.
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
      throw new RangeError(`normalizeToMnist: bbox [${x0}, ${x1})×[${y0}, ${y1}) is not integer bounds within ` +
        `${width}×${height}`);
    }
  }
  // Tighten [x0, x1)×[y0, y1) to the ink: peel off empty rows from the top and the bottom, then find the columns
  // row by row, each row scanned from either end only as far as the best bound so far (contiguous reads, not
  // strided column scans). A tight box costs little more than its two edge rows; no box, at most one pass.
  while (y0 < y1 && !rowHasInk(raster, y0 * width, x0, x1)) y0++;
  if (y0 === y1) {
    out.fill(0);
    return false;
  }
  while (!rowHasInk(raster, (y1 - 1) * width, x0, x1)) y1--;
  let lo = x1, hi = x0;
  for (let y = y0; y < y1; y++) {
    const row = y * width;
    for (let x = x0; x < lo; x++) {
      if (raster[row + x]! > T) {
        lo = x;
        break;
      }
    }
    for (let x = x1 - 1; x >= hi; x--) {
      if (raster[row + x]! > T) {
        hi = x + 1;
        break;
      }
    }
  }
  x0 = lo;
  x1 = hi;

  const ig = (x1 - x0 + 1) * (y1 - y0) <= SCRATCH_CELLS ? scratch : new InkIntegral();
  ig.reset(x0, y0, x1 - x0, y1 - y0, bandRows(height));
  for (let r = y0; r < y1; r++) ig.row(raster, width, r, x0, x1);
  for (let b = ig.b0 + 1, last = Math.floor((y1 - 1) / ig.K); b <= last; b++) ig.band(b, x0, x1);
  normalizeIntegral(ig, raster, width, x0, y0, x1, y1, out);
  return true;
}

function rowHasInk(raster: ArrayLike<number>, row: number, x0: number, x1: number): boolean {
  for (let k = row + x0, e = row + x1; k < e; k++) if (raster[k]! > T) return true;
  return false;
}

/**
 * The normalisation proper, given the exact ink box [x0, x1)×[y0, y1) (non-empty) and an InkIntegral whose rows
 * y0 … y1 − 1 and bands are up to date over [x0, x1]. Shared by both paths, so they agree bit for bit.
 */
export function normalizeIntegral(ig: InkIntegral, raster: ArrayLike<number>, width: number,
  x0: number, y0: number, x1: number, y1: number, out: Float32Array): void {
  // Centre of mass, continuous coordinates: cx = Σ ink·(x + 0.5) / Σ ink, summed row by row, top to bottom.
  let m = 0, mx = 0, my = 0, peak = 0;
  for (let r = y0; r < y1; r++) {
    const i = r - ig.oy;
    const a = ig.mass[i]!;
    m += a;
    mx += ig.mx[i]!;
    my += a * (r + 0.5);
    if (ig.peak[i]! > peak) peak = ig.peak[i]!;
  }
  if (!Number.isFinite(m + mx + my)) throw new RangeError('normalizeToMnist: the raster holds non-finite values');
  const cx = mx / m;
  const cy = my / m;

  // Scale: the longer side of the ink becomes INK_BOX. The side is measured to sub-pixel precision, E = w − 2 +
  // (c0 + c1)/peak with c0, c1 the strongest ink on the two edge lines and peak the strongest anywhere: an
  // anti-aliased edge pixel at a fraction c/peak of full ink is ink over that fraction of its width, so E is the
  // distance between the true ink edges, and it changes smoothly as a drawing moves by a fraction of a pixel (the
  // integer box w jumps by 1, which alone changed a 50-px digit's 28×28 by up to 0.27 in the translation test).
  // On MNIST's own digits E is 19.9 (5%: 19.5), so they keep their size; a lone line or pixel has E = 1.
  // A side that would be thinner than one output pixel (a 1-px line) is given exactly one pixel instead, so it stays
  // visible (MNIST has no such digits; this only keeps them sane).
  const w = x1 - x0;
  const h = y1 - y0;
  const ex = extent(w, lineMax(raster, x0, width, y0, y1), lineMax(raster, x1 - 1, width, y0, y1), peak);
  const ey = extent(h, lineMax(raster, y0 * width, 1, x0, x1), lineMax(raster, (y1 - 1) * width, 1, x0, x1), peak);
  const s = INK_BOX / Math.max(ex, ey);
  if (s <= 1) shrink(ig, x0, y0, x1, y1, cx, cy, Math.max(s, 1 / w), Math.max(s, 1 / h), out);
  else enlarge(raster, width, x0, y0, x1, y1, cx, cy, s, out);
}

/** Sub-pixel extent of n lines whose first and last lines peak at c0 and c1, of an image peaking at `peak`. */
function extent(n: number, c0: number, c1: number, peak: number): number {
  return n === 1 ? 1 : n - 2 + (c0 + c1) / peak;
}

/** The largest of the values at base + step·b, …, base + step·(e − 1). */
function lineMax(raster: ArrayLike<number>, base: number, step: number, b: number, e: number): number {
  let c = 0;
  for (let k = base + step * b, end = base + step * e; k < end; k += step) {
    const v = raster[k]!;
    if (v > c) c = v;
  }
  return c;
}

// Shrink scratch: per corner column b (SIDE + 1 of them) the integer position and fraction of the corner in the
// source; the corner values I, row by row; the offsets of the two table rows of one corner row (prepareRow).
const cxI = new Int32Array(SIDE + 1);
const cxF = new Float64Array(SIDE + 1);
const corners = new Float64Array((SIDE + 1) * (SIDE + 1));
const refA = new Int32Array(2);
const refB = new Int32Array(2);

/**
 * Area-averaging (box filter) for sx, sy ≤ 1. Output pixel (i, j) has the source footprint
 *   [X_i, X_{i+1}) × [Y_j, Y_{j+1}),  X_b = cx + (b − 14.5)/sx,  Y_c = cy + (c − 14.5)/sy,
 * and its value is the mean of the source there: sx·sy·∫∫ =
 *   sx·sy·(I(X_{i+1}, Y_{j+1}) − I(X_i, Y_{j+1}) − I(X_{i+1}, Y_j) + I(X_i, Y_j)),
 * I(X, Y) = the integral of the source over [0, X) × [0, Y). At integer corners I is the summed-area
 * table S; in between the source is constant per pixel, so I is exactly the bilinear interpolation of S.
 * Corners are clamped to the crop (I is constant beyond it); only output pixels whose footprint meets the crop are
 * computed, the rest are 0. Typical digit: ~22 × 16 corners, 4 table reads each.
 */
function shrink(ig: InkIntegral, x0: number, y0: number, x1: number, y1: number, cx: number, cy: number,
  sx: number, sy: number, out: Float32Array): void {
  out.fill(0);
  // Output columns [iLo, iHi) and rows [jLo, jHi) whose footprints overlap the crop.
  const iLo = Math.max(0, Math.floor((x0 - cx) * sx + C));
  const iHi = Math.min(SIDE, Math.ceil((x1 - cx) * sx + C));
  const jLo = Math.max(0, Math.floor((y0 - cy) * sy + C));
  const jHi = Math.min(SIDE, Math.ceil((y1 - cy) * sy + C));
  if (iLo >= iHi || jLo >= jHi) return;
  // Locals, not module bindings, inside the loops (V8 then keeps them in registers).
  const xI = cxI, xF = cxF, cor = corners, cum = ig.cum, bnd = ig.bnd;
  for (let b = iLo; b <= iHi; b++) {
    const X = clamp(cx + (b - C) / sx, x0, x1);
    let xi = Math.floor(X);
    if (xi >= x1) xi = x1 - 1; // keep xi + 1 ≤ x1: X = x1 is xi = x1 − 1 with fraction 1
    xI[b] = xi;
    xF[b] = X - xi;
  }
  const span = iHi - iLo + 1;
  for (let c = jLo; c <= jHi; c++) {
    const Y = clamp(cy + (c - C) / sy, y0, y1);
    let yi = Math.floor(Y);
    if (yi >= y1) yi = y1 - 1;
    const fy = Y - yi;
    const base = (c - jLo) * span - iLo;
    // I(X_b, Y) = lerp(S(X_b, yi), S(X_b, yi + 1), fy), each S(X_b, ·) a lerp along x; S(·, oy) = 0 (no rows above).
    ig.prepareRow(yi + 1, x0, x1, refB);
    const cB = refB[0]!, bB = refB[1]!;
    if (yi <= ig.oy) {
      for (let b = iLo; b <= iHi; b++) {
        const xi = xI[b]!;
        const s0 = bnd[bB + xi]! + cum[cB + xi]!;
        const s1 = bnd[bB + xi + 1]! + cum[cB + xi + 1]!;
        const rb = s0 + xF[b]! * (s1 - s0);
        cor[base + b] = 0 + fy * (rb - 0); // the general formula with the upper row 0, so both paths agree bit for bit
      }
    } else {
      ig.prepareRow(yi, x0, x1, refA);
      const cA = refA[0]!, bA = refA[1]!;
      for (let b = iLo; b <= iHi; b++) {
        const xi = xI[b]!;
        const f = xF[b]!;
        const a0 = bnd[bA + xi]! + cum[cA + xi]!;
        const a1 = bnd[bA + xi + 1]! + cum[cA + xi + 1]!;
        const s0 = bnd[bB + xi]! + cum[cB + xi]!;
        const s1 = bnd[bB + xi + 1]! + cum[cB + xi + 1]!;
        const ra = a0 + f * (a1 - a0);
        const rb = s0 + f * (s1 - s0);
        cor[base + b] = ra + fy * (rb - ra);
      }
    }
  }
  const k = sx * sy;
  for (let j = jLo; j < jHi; j++) {
    const top = (j - jLo) * span - iLo;
    const bot = top + span;
    for (let i = iLo; i < iHi; i++) {
      const v = k * (cor[bot + i + 1]! - cor[bot + i]! - cor[top + i + 1]! + cor[top + i]!);
      // ≥ 0 up to rounding of the differences (~1e-16 of the table's total); > 1 only if the input was.
      out[j * SIDE + i] = v > 0 ? (v < 1 ? v : 1) : 0;
    }
  }
}

function clamp(q: number, lo: number, hi: number): number {
  return q < lo ? lo : q > hi ? hi : q;
}

// Output-side tables for the bilinear path: per output column/row, the two source indices and their weights.
const upI0 = new Int32Array(SIDE * 2);
const upI1 = new Int32Array(SIDE * 2);
const upW0 = new Float64Array(SIDE * 2);
const upW1 = new Float64Array(SIDE * 2);

/**
 * Bilinear enlargement for s > 1 (a drawing smaller than 20 px). The crop [x0, x1) maps to [A, B), A = s·(x0 − cx) + 14.5.
 * Output pixel j gets cov × (bilinear sample of the source at the centre of its covered part), cov = |[j, j+1) ∩ [A, B)|
 * (anti-aliases the box edge); the sample position maps back by x = cx + (u − 14.5)/s and is clamped to the crop's
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
  const A = s * (lo - c) + C;
  const B = s * (hi - c) + C;
  for (let j = 0; j < SIDE; j++) {
    const l = Math.max(j, A);
    const r = Math.min(j + 1, B);
    let i0 = lo, i1 = lo, w0 = 0, w1 = 0;
    if (r > l) {
      // Source position of the middle of the covered part, in pixel-centre units (centre of pixel i is i + 0.5).
      let q = c + ((l + r) / 2 - C) / s - 0.5;
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
