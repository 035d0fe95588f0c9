// Incremental, anti-aliased, round-brush rasteriser of pen strokes onto a width×height coverage buffer (ink 1,
// paper 0), shared by the server (strokes streamed over WebSocket) and the browser. Each segment touches only the
// pixels of its capsule's bounding box; the ink bounding box, and (lazily, on normalize) the summed-area table that
// makes normalisation O(28²), are kept up to date as it draws.
// Not here: the normalisation maths (normalize.ts), message validation (the server's), drawing to a real canvas.
//
// Coverage of a pixel by a segment AB drawn with radius r = brush/2 (see: the usual "distance-field" anti-aliasing):
//   c = clamp(r + 0.5 − d, 0, 1),  d = distance from the pixel centre (x + 0.5, y + 0.5) to AB,
// i.e. 1 inside r − 0.5, 0 beyond r + 0.5, a 1-px linear ramp between (≈ the pixel's area inside the stroke).
// Overlapping segments combine with max, so redrawing never darkens and the result does not depend on how the
// points were split across calls: the same points give the same pixels, bit for bit.

import { bandRows, InkIntegral } from './ink-integral.js';
import { normalizeIntegral, normalizeToMnist } from './normalize.js';
import { INK_THRESHOLD, SIDE, type CanvasSpec, type PixelBox } from './spec.js';

const T = INK_THRESHOLD;

export class StrokeRaster {
  /** The canvas this raster was made for (a frozen copy). */
  readonly spec: CanvasSpec;
  /** width·height coverage values in [0, 1], row-major. */
  readonly pixels: Float32Array;

  private readonly width: number;
  private readonly height: number;
  /** Outer radius r + 0.5 (coverage > 0 iff d < outer), its square, and the square of the inner radius r − 0.5
   * (coverage = 1 iff d ≤ inner; −1 when the brush is thinner than a pixel, so that no pixel is fully covered). */
  private readonly outer: number;
  private readonly outer2: number;
  private readonly inner2: number;

  private drawing = false;
  private lastX = 0;
  private lastY = 0;
  private strokeCount = 0;
  private pointCount = 0;
  // Ink box (pixels > INK_THRESHOLD), inclusive-exclusive; empty when ix1 ≤ ix0.
  private ix0: number;
  private iy0: number;
  private ix1 = 0;
  private iy1 = 0;
  // Every pixel ever written lies in the dirty box, so clear() only has to zero its rows.
  private dy0: number;
  private dy1 = 0;
  private box: PixelBox | undefined;
  // The summed-area table, made on the first normalize(). Per band b, rows [b·K, validTo[b]) of it are up to date;
  // bands [0, bandsValid) have up-to-date band sums. Drawing lowers both to the first changed row / its band.
  private integral: InkIntegral | undefined;
  private validTo = new Int32Array(0);
  private bandsValid = 1;
  private normalizedBefore = false;

  constructor(spec: CanvasSpec) {
    const { width, height, brush } = spec;
    if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
      throw new RangeError(`StrokeRaster: canvas must be positive integers, got ${width}×${height}`);
    }
    if (!Number.isFinite(brush) || brush <= 0) {
      throw new RangeError(`StrokeRaster: brush diameter must be a positive finite number, got ${brush}`);
    }
    this.spec = Object.freeze({ width, height, brush });
    this.width = width;
    this.height = height;
    this.pixels = new Float32Array(width * height);
    const r = brush / 2;
    this.outer = r + 0.5;
    this.outer2 = this.outer * this.outer;
    this.inner2 = r > 0.5 ? (r - 0.5) * (r - 0.5) : -1;
    this.ix0 = width;
    this.iy0 = height;
    this.dy0 = height;
  }

  /** True until some pixel exceeds INK_THRESHOLD. */
  get empty(): boolean {
    return this.ix1 <= this.ix0;
  }

  /** Inclusive-exclusive bounds of the pixels > INK_THRESHOLD (what normalizeToMnist would find); undefined if empty. */
  get bbox(): PixelBox | undefined {
    if (this.ix1 <= this.ix0) return undefined;
    // One small object per change, not per read.
    return this.box ??= Object.freeze({ x0: this.ix0, y0: this.iy0, x1: this.ix1, y1: this.iy1 });
  }

  /** Strokes begun since construction or clear(). */
  get strokes(): number {
    return this.strokeCount;
  }

  /** Points received since construction or clear() (begin counts one, extend one per x,y pair). */
  get points(): number {
    return this.pointCount;
  }

  /** True between begin() and end(). */
  get inStroke(): boolean {
    return this.drawing;
  }

  /** Starts a stroke at (x, y) and draws a dot there. An open stroke is ended first. */
  begin(x: number, y: number): void {
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      throw new RangeError(`StrokeRaster.begin: coordinates must be finite, got (${x}, ${y})`);
    }
    this.drawing = true;
    this.strokeCount++;
    this.pointCount++;
    this.lastX = x;
    this.lastY = y;
    this.segment(x, y, x, y);
  }

  /** Draws segments from the last point through each (x, y) of a flat [x1, y1, x2, y2, …]. */
  extend(points: ArrayLike<number>): void {
    const n = points.length;
    if (!this.drawing) throw new RangeError('StrokeRaster.extend: no stroke in progress (call begin first)');
    if ((n & 1) !== 0) throw new RangeError(`StrokeRaster.extend: expected x,y pairs, got ${n} numbers`);
    // Check all before drawing any, so a bad message leaves the raster as it was.
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(points[i]!)) {
        throw new RangeError(`StrokeRaster.extend: coordinate ${i} is ${points[i]}, not a finite number`);
      }
    }
    for (let i = 0; i < n; i += 2) this.lineTo(points[i]!, points[i + 1]!);
  }

  /** Ends the current stroke (no-op if none is open). */
  end(): void {
    this.drawing = false;
  }

  /** Draws a whole stroke [[x, y], …] (begin, extend, end). An empty stroke draws nothing and is not counted. */
  addStroke(stroke: ReadonlyArray<readonly [number, number]>): void {
    const first = stroke[0];
    if (first === undefined) return;
    for (let i = 0; i < stroke.length; i++) {
      const p = stroke[i]!;
      if (p.length !== 2 || !Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
        throw new RangeError(`StrokeRaster.addStroke: point ${i} is not a pair of finite numbers`);
      }
    }
    this.begin(first[0], first[1]);
    for (let i = 1; i < stroke.length; i++) {
      const p = stroke[i]!;
      this.lineTo(p[0], p[1]);
    }
    this.end();
  }

  /**
   * normalizeToMnist of this raster (same result, bit for bit) in O(28² + rows changed since the last call × ink
   * width): the summed-area table is brought up to date lazily, here, rather than on every segment. The table,
   * 8·(width + 1)·height bytes (630 KB at 280×280), is allocated on the first call and kept until the raster is dropped.
   */
  normalize(out: Float32Array): boolean {
    if (out.length !== SIDE * SIDE) {
      throw new RangeError(`StrokeRaster.normalize: out has ${out.length} values, needs ${SIDE * SIDE}`);
    }
    if (this.ix1 <= this.ix0) {
      out.fill(0);
      return false;
    }
    const ig = this.integral ?? this.makeIntegral();
    const K = ig.K;
    const L = this.ix0, R = this.ix1, top = this.iy0, bottom = this.iy1;
    const last = Math.floor((bottom - 1) / K);
    const validTo = this.validTo;
    for (let b = Math.floor(top / K); b <= last; b++) {
      const end = Math.min((b + 1) * K, bottom);
      const from = validTo[b]!;
      if (from >= end) continue;
      for (let r = from; r < end; r++) ig.row(this.pixels, this.width, r, L, R);
      validTo[b] = end; // rows past the ink's bottom are left stale, and marked so
    }
    for (let b = this.bandsValid; b <= last; b++) ig.band(b, L, R);
    if (last + 1 > this.bandsValid) this.bandsValid = last + 1;
    normalizeIntegral(ig, this.pixels, this.width, L, top, R, bottom, out);
    return true;
  }

  /**
   * The MNIST-style model input of this drawing (what normalizeToMnist of `pixels` gives, bit for bit), the cheapest
   * way: the first call on a raster without a table normalises from scratch (a one-shot drawing would allocate the
   * table for nothing); from the second call on (a live drawing) through normalize() and its table.
   */
  toMnist(out: Float32Array): boolean {
    if (this.integral !== undefined || this.normalizedBefore) return this.normalize(out);
    this.normalizedBefore = true;
    return normalizeToMnist(this.pixels, this.width, this.height, out, this.bbox);
  }

  private makeIntegral(): InkIntegral {
    const ig = new InkIntegral();
    ig.reset(0, 0, this.width, this.height, bandRows(this.height));
    const bands = Math.ceil(this.height / ig.K);
    this.validTo = new Int32Array(bands);
    for (let b = 0; b < bands; b++) this.validTo[b] = Math.min((b + 1) * ig.K, this.height);
    this.bandsValid = 1;
    this.integral = ig;
    if (this.dy1 > this.dy0) this.changedRows(this.dy0, this.dy1); // what was drawn before the table existed
    return ig;
  }

  /** Rows [y0, y1) changed: the table is stale from y0 down (in its band) and band sums after its band. */
  private changedRows(y0: number, y1: number): void {
    const ig = this.integral;
    if (ig === undefined) return;
    const K = ig.K;
    const validTo = this.validTo;
    for (let b = Math.floor(y0 / K), last = Math.floor((y1 - 1) / K); b <= last; b++) {
      const from = Math.max(y0, b * K);
      if (from < validTo[b]!) validTo[b] = from;
    }
    const b = Math.floor(y0 / K) + 1;
    if (b < this.bandsValid) this.bandsValid = b;
  }

  /** Back to a blank canvas with no strokes; zeroes only the rows ever written. */
  clear(): void {
    if (this.dy1 > this.dy0) this.pixels.fill(0, this.dy0 * this.width, this.dy1 * this.width);
    const ig = this.integral;
    if (ig !== undefined) {
      if (this.dy1 > this.dy0) ig.zeroRows(this.dy0, this.dy1);
      const bands = this.validTo.length;
      ig.zeroBands(0, bands);
      for (let b = 0; b < bands; b++) this.validTo[b] = Math.min((b + 1) * ig.K, this.height);
      this.bandsValid = 1;
    }
    this.drawing = false;
    this.strokeCount = 0;
    this.pointCount = 0;
    this.ix0 = this.width;
    this.iy0 = this.height;
    this.ix1 = 0;
    this.iy1 = 0;
    this.dy0 = this.height;
    this.dy1 = 0;
    this.box = undefined;
  }

  private lineTo(x: number, y: number): void {
    this.pointCount++;
    this.segment(this.lastX, this.lastY, x, y);
    this.lastX = x;
    this.lastY = y;
  }

  /** Max-combines the coverage of the capsule around AB (a disc when A = B) into the pixels. */
  private segment(ax: number, ay: number, bx: number, by: number): void {
    const W = this.width;
    const px = this.pixels;
    const R = this.outer;
    const R2 = this.outer2;
    const in2 = this.inner2;
    // Pixels whose centre can be within R of AB: centre x + 0.5 ∈ (min − R, max + R), clipped to the canvas. Points
    // outside the canvas are fine: their off-canvas pixels are simply not visited.
    const xs = Math.max(0, Math.floor(Math.min(ax, bx) - R - 0.5));
    const xe = Math.min(W, Math.ceil(Math.max(ax, bx) + R - 0.5));
    const ys = Math.max(0, Math.floor(Math.min(ay, by) - R - 0.5));
    const ye = Math.min(this.height, Math.ceil(Math.max(ay, by) + R - 0.5));
    if (xs >= xe || ys >= ye) return;
    if (ys < this.dy0) this.dy0 = ys;
    if (ye > this.dy1) this.dy1 = ye;

    const ex = bx - ax;
    const ey = by - ay;
    const len2 = ex * ex + ey * ey;
    const inv = len2 > 0 ? 1 / len2 : 0; // a dot: t = 0, the distance to A
    let bx0 = this.ix0, by0 = this.iy0, bx1 = this.ix1, by1 = this.iy1;
    let cy0 = ye, cy1 = ys; // rows where a pixel changed
    const minX = Math.min(ax, bx), maxX = Math.max(ax, bx);
    const minY = Math.min(ay, by), maxY = Math.max(ay, by);
    for (let y = ys; y < ye; y++) {
      const yc = y + 0.5;
      // Row bound: a point within R of AB is within √(R² − g²) in x of AB's x-range, g = yc's gap to AB's y-range.
      // Skips the empty corners of the capsule's box (conservative by up to one pixel each side).
      const gap = yc < minY ? minY - yc : yc > maxY ? yc - maxY : 0;
      if (gap >= R) continue;
      const half = Math.sqrt(R2 - gap * gap);
      const rs = Math.max(xs, Math.floor(minX - half - 0.5));
      const re = Math.min(xe, Math.ceil(maxX + half - 0.5));
      const dy = yc - ay;
      const row = y * W;
      let first = -1;
      let last = -1;
      let inside = false;
      for (let x = rs; x < re; x++) {
        const k = row + x;
        const old = px[k]!;
        // Already fully inked (most of a capsule: consecutive segments overlap): max cannot change it. Such a pixel is
        // already in the ink box, so skipping it loses nothing.
        if (old >= 1) continue;
        const dx = x + 0.5 - ax;
        // Closest point of AB to the centre: A + t·(B − A), t the clamped projection.
        let t = (dx * ex + dy * ey) * inv;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const qx = dx - t * ex;
        const qy = dy - t * ey;
        const d2 = qx * qx + qy * qy;
        if (d2 >= R2) {
          // The capsule is convex, so its intersection with a row is one run: once left, the row is done.
          if (inside) break;
          continue;
        }
        inside = true;
        const c = d2 <= in2 ? 1 : R - Math.sqrt(d2); // in (0, 1] here: the sqrt only on the 1-px anti-aliased rim
        if (c <= old) continue;
        px[k] = c;
        // Test the stored float32, not c, so the box agrees exactly with a scan of `pixels`.
        if (px[k]! > T) {
          if (first < 0) first = x;
          last = x;
        }
        if (y < cy0) cy0 = y;
        cy1 = y + 1;
      }
      if (first >= 0) {
        if (first < bx0) bx0 = first;
        if (last + 1 > bx1) bx1 = last + 1;
        if (y < by0) by0 = y;
        if (y + 1 > by1) by1 = y + 1;
      }
    }
    if (cy1 > cy0) this.changedRows(cy0, cy1);
    if (bx0 !== this.ix0 || by0 !== this.iy0 || bx1 !== this.ix1 || by1 !== this.iy1) {
      this.ix0 = bx0;
      this.iy0 = by0;
      this.ix1 = bx1;
      this.iy1 = by1;
      this.box = undefined;
    }
  }
}

/** Renders whole strokes at once: strokes = [[[x, y], [x, y], …], …] (the HTTP JSON form). Equals, bit for bit,
 * begin/extend/end with the same points in any split. */
export function rasterizeStrokes(strokes: ReadonlyArray<ReadonlyArray<readonly [number, number]>>,
  spec: CanvasSpec): StrokeRaster {
  const raster = new StrokeRaster(spec);
  for (const stroke of strokes) raster.addStroke(stroke);
  return raster;
}
