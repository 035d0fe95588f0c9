// A banded summed-area table of the ink of a raster, so the area average of any rectangle costs O(1): the exact box
// filter behind normalizeToMnist. Built from scratch over a crop (normalize.ts), or kept up to date row by row as
// strokes arrive (stroke-raster.ts); both run the same row and band code, so they produce the same bits.
// Not here: where the rectangles are (normalize.ts) or which rows changed (stroke-raster.ts).
//
// ink(v) = v > INK_THRESHOLD ? v : 0. Row prefix P_r(x) = Σ_{x' < x} ink(v[r][x']). With bands of K rows:
//   cum_r(x) = Σ_{r' ≤ r, r' in r's band} P_r'(x)        bnd_b(x) = Σ_{r' < b·K} P_r'(x) = bnd_{b−1}(x) + cum_{bK−1}(x)
//   S(x, y) = Σ_{r < y} P_r(x) = bnd_{band(y−1)}(x) + cum_{y−1}(x)
// A changed row then costs its band's later rows plus one row per later band (O(√H·W)), not every row below it as a
// plain table would. Each stored row covers positions [lo, hi] only: left of lo it is 0 and right of hi it is constant
// (no ink there when it was computed), so narrower rows are widened exactly, by copying, when a wider one needs them.

import { INK_THRESHOLD } from './spec.js';

const T = INK_THRESHOLD;

/** Rows per band: ≈ √height, a function of the canvas height only, so every path sums in the same order. */
export function bandRows(height: number): number {
  return Math.max(8, Math.round(Math.sqrt(height)));
}

export class InkIntegral {
  /** Window: rows [oy, oy + rows), prefix positions [ox, ox + cols]. */
  ox = 0;
  oy = 0;
  cols = 0;
  rows = 0;
  stride = 1;
  K = 8;
  /** Band of row oy; bnd index i holds band b0 + i (index 0: all zeros). */
  b0 = 0;
  cum = new Float64Array(0);
  lo = new Int32Array(0);
  hi = new Int32Array(0);
  /** Per window row: Σ ink(v), Σ ink(v)·(x + 0.5), max ink(v). */
  mass = new Float64Array(0);
  mx = new Float64Array(0);
  peak = new Float64Array(0);
  bnd = new Float64Array(0);
  bLo = new Int32Array(0);
  bHi = new Int32Array(0);

  /** Sets the window and the band height and makes every row and band read as zero. Grows, never shrinks, storage. */
  reset(ox: number, oy: number, cols: number, rows: number, K: number): void {
    this.ox = ox;
    this.oy = oy;
    this.cols = cols;
    this.rows = rows;
    this.stride = cols + 1;
    this.K = K;
    this.b0 = Math.floor(oy / K);
    const nb = Math.floor((oy + rows - 1) / K) - this.b0 + 1;
    if (this.cum.length < rows * this.stride) this.cum = new Float64Array(rows * this.stride);
    if (this.lo.length < rows) {
      this.lo = new Int32Array(rows);
      this.hi = new Int32Array(rows);
      this.mass = new Float64Array(rows);
      this.mx = new Float64Array(rows);
      this.peak = new Float64Array(rows);
    }
    if (this.bnd.length < nb * this.stride) this.bnd = new Float64Array(nb * this.stride);
    if (this.bLo.length < nb) {
      this.bLo = new Int32Array(nb);
      this.bHi = new Int32Array(nb);
    }
    this.zeroRows(0, rows);
    this.zeroBands(0, nb);
  }

  /** Window rows [i0, i1) read as zero again (range [ox, ox], value 0). */
  zeroRows(i0: number, i1: number): void {
    for (let i = i0; i < i1; i++) {
      this.lo[i] = this.ox;
      this.hi[i] = this.ox;
      this.cum[i * this.stride] = 0;
      this.mass[i] = 0;
      this.mx[i] = 0;
      this.peak[i] = 0;
    }
  }

  /** Band indices [j0, j1) read as zero again. */
  zeroBands(j0: number, j1: number): void {
    for (let j = j0; j < j1; j++) {
      this.bLo[j] = this.ox;
      this.bHi[j] = this.ox;
      this.bnd[j * this.stride] = 0;
    }
  }

  /**
   * Recomputes row r over positions [L, R] (absolute; the ink of row r must lie in columns [L, R)) from the pixels and
   * the row above in the same band, which must be up to date and is widened to [L, R] first.
   */
  row(pixels: ArrayLike<number>, width: number, r: number, L: number, R: number): void {
    const cum = this.cum;
    const i = r - this.oy;
    const base = i * this.stride - this.ox; // cum index of position x in this row: base + x
    const pix = r * width;
    // p = P_r(x) as x advances; m = Σ ink·x (+ 0.5·p at the end: Σ ink·(x + 0.5)); pk = the row's peak. The ink
    // test is a select, not a branch: this loop runs once per pixel of every changed row, and it measured ~3% faster.
    let p = 0;
    let m = 0;
    let pk = 0;
    if (r > this.oy && r % this.K !== 0) {
      this.widen(this.cum, this.lo, this.hi, i - 1, L, R);
      const prev = base - this.stride;
      cum[base + L] = cum[prev + L]!; // + P_r(L) = 0: no ink left of L
      for (let x = L; x < R; x++) {
        const v = pixels[pix + x]!;
        const a = v > T ? v : 0;
        p += a;
        m += a * x;
        pk = a > pk ? a : pk;
        cum[base + x + 1] = cum[prev + x + 1]! + p;
      }
    } else {
      cum[base + L] = 0;
      for (let x = L; x < R; x++) {
        const v = pixels[pix + x]!;
        const a = v > T ? v : 0;
        p += a;
        m += a * x;
        pk = a > pk ? a : pk;
        cum[base + x + 1] = p;
      }
    }
    this.lo[i] = L;
    this.hi[i] = R;
    this.mass[i] = p;
    this.mx[i] = m + 0.5 * p;
    this.peak[i] = pk;
  }

  /** Recomputes bnd of band b (> b0) over [L, R] from band b − 1's bnd and last row, both up to date. */
  band(b: number, L: number, R: number): void {
    const j = b - this.b0;
    const i = b * this.K - 1 - this.oy; // last row of band b − 1
    this.widen(this.cum, this.lo, this.hi, i, L, R);
    this.widen(this.bnd, this.bLo, this.bHi, j - 1, L, R);
    const bnd = this.bnd;
    const cum = this.cum;
    const out = j * this.stride - this.ox;
    const prev = out - this.stride;
    const row = i * this.stride - this.ox;
    for (let x = L; x <= R; x++) bnd[out + x] = bnd[prev + x]! + cum[row + x]!;
    this.bLo[j] = L;
    this.bHi[j] = R;
  }

  /** Extends stored row k of `data` from [lo, hi] to [L, R] ⊇ it, copying the value at lo leftwards (it is 0) and the
   * value at hi rightwards (no ink beyond hi when it was computed, so the sums are constant there). */
  widen(data: Float64Array, lo: Int32Array, hi: Int32Array, k: number, L: number, R: number): void {
    const a = lo[k]!;
    const b = hi[k]!;
    if (a <= L && b >= R) return;
    const base = k * this.stride - this.ox;
    const left = data[base + a]!;
    const right = data[base + b]!;
    for (let x = L; x < a; x++) data[base + x] = left;
    for (let x = b + 1; x <= R; x++) data[base + x] = right;
    lo[k] = Math.min(a, L);
    hi[k] = Math.max(b, R);
  }

  /**
   * Makes S(·, y), y in (oy, oy + rows], readable over [L, R] without clamping or branching, and says where, in `ref`
   * (no allocation): S(x, y) = bnd[ref[1] + x] + cum[ref[0] + x]. In the first band the bnd row is band b0's, all
   * zeros, and 0 + c = c exactly.
   */
  prepareRow(y: number, L: number, R: number, ref: Int32Array): void {
    const i = y - 1 - this.oy;
    this.widen(this.cum, this.lo, this.hi, i, L, R);
    ref[0] = i * this.stride - this.ox;
    const j = Math.floor((y - 1) / this.K) - this.b0;
    this.widen(this.bnd, this.bLo, this.bHi, j, L, R);
    ref[1] = j * this.stride - this.ox;
  }
}
