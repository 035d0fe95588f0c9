// Renders pen strokes (round-capped thick segments, "capsules") straight into a small bit grid of point samples,
// 4×4 samples per quad: the working grid of a live drawing (src/preprocess/fast-strokes.ts), never the W×H canvas.
// Not here: where the working box is or when it grows (the host's), turning the samples into 28×28 (mnist.ts).
//
// Grid: Gy rows of Gx quads, row-major with a row stride of S quads (S a multiple of 8, S ≥ Gx, so a v128 holds 8
// quads of one row and never straddles two). Quad (q, p) is the u16 at grid + 2·(p·S + q); its bit 4v + u is the
// sample at sub-column u, sub-row v, at canvas position
//   (x0 + (4q + u + 0.5)·h,  y0 + (4p + v + 0.5)·h),   h = the sample spacing (quad size / 4).
// A sample is ink iff it lies on the canvas [0, W)×[0, H) and within distance r (brush / 2) of some segment: the
// coverage StrokeRaster's ramp clamp(r + 0.5 − d, 0, 1) approximates. Setting bits is a union, so overlapping
// strokes never darken twice and the points may arrive split any way: the same points give the same bits.
//
// Points: f32 pairs (x, y) at pts; a pair with x = NaN marks a stroke start, so the pair after it is drawn as a dot
// (a segment from itself) and every other pair as the segment from the pair before it.

// Capsules are drawn in batches of up to BATCH, sample row by sample row over all of them: a live move's few short
// segments overlap almost entirely (4 px apart at brush 18), so their intervals on a row merge into one run, set
// once, instead of one run per capsule (the bit setting was about half of a capsule's cost). Per capsule, at caps:
// f64 ax, ay, bx, by, kx, lx, ky, ly, len2, ex, ey, rl (0 … 95); i32 first and last sample row (96, 100), flags (104).
const BATCH = 8;
const CAP = 112;
const caps = memory.data(BATCH * CAP, 16);
const HAS_RECT = 1, EX_NZ = 2, EY_NZ = 4;

/** Sets the samples of segments from points [from, to) of pts (see the header) in the grid. */
export function strokeRender(grid: usize, S: i32, Gx: i32, Gy: i32, x0: f64, y0: f64, h: f64, W: f64, H: f64, r: f64,
  pts: usize, from: i32, to: i32): void {
  const inv = 1.0 / h;
  // Sample columns on the canvas [0, W) and in the grid.
  const uLo = max(<i32>Math.floor(-x0 * inv - 0.5) + 1, 0);
  const uHi = min(<i32>Math.ceil((W - x0) * inv - 0.5) - 1, (Gx << 2) - 1);
  if (uLo > uHi) return;
  const sMax = (Gy << 2) - 1;
  let n = 0, smin = i32.MAX_VALUE, smax = -1;
  for (let k = max(from, 0); k < to; k++) {
    const p = pts + (<usize>k << 3);
    const bx = <f64>load<f32>(p);
    const by = <f64>load<f32>(p, 4);
    if (isNaN(bx)) continue;
    let ax = bx, ay = by;
    if (k > 0) {
      const qx = <f64>load<f32>(p - 8);
      if (!isNaN(qx)) { ax = qx; ay = <f64>load<f32>(p - 4); }
    }
    // Sample rows s with centre y0 + (s + 0.5)·h in (min y − r, max y + r) ∩ [0, H).
    const ylo = max(min(ay, by) - r, 0.0);
    const yhi = min(max(ay, by) + r, H);
    if (!(ylo < yhi)) continue;
    const s0 = max(<i32>Math.floor((ylo - y0) * inv - 0.5) + 1, 0);
    const s1 = min(<i32>Math.ceil((yhi - y0) * inv - 0.5) - 1, sMax);
    if (s0 > s1) continue;
    prepare(caps + <usize>(n * CAP), r, ax, ay, bx, by, s0, s1);
    smin = min(smin, s0);
    smax = max(smax, s1);
    if (++n == BATCH) {
      renderBatch(grid, S, x0, y0, h, r, uLo, uHi, n, smin, smax);
      n = 0;
      smin = i32.MAX_VALUE;
      smax = -1;
    }
  }
  if (n > 0) renderBatch(grid, S, x0, y0, h, r, uLo, uHi, n, smin, smax);
}

/**
 * One capsule less the disc at A. Every point's disc is drawn by the element that ends at it (a dot is the segment
 * from a point to itself), so the disc at A is already set when the segment A→B comes: the rest, disc B ∪ the
 * rectangle, is still convex, so each sample row meets it in one interval [L, R], the hull of
 *   disc B:     |x − bx| < √(r² − (y − by)²)
 *   rectangle:  0 ≤ (P − A)·e ≤ |e|²  and  |e × (P − A)| < r·|e|,  P = (x, y), e = B − A  (linear in x: 2 intervals)
 * With q = x − ax and dA = y − ay the rectangle is q·ex ∈ [−dA·ey, len2 − dA·ey] and q·ey ∈ (ex·dA − rl, ex·dA + rl):
 * the divisions by ex and ey are hoisted here (kx, lx, ky, ly), leaving one square root and no division per row.
 */
function prepare(c: usize, r: f64, ax: f64, ay: f64, bx: f64, by: f64, s0: i32, s1: i32): void {
  const ex = bx - ax, ey = by - ay;
  const len2 = ex * ex + ey * ey;
  const rl = r * Math.sqrt(len2);
  store<f64>(c, ax);
  store<f64>(c, ay, 8);
  store<f64>(c, bx, 16);
  store<f64>(c, by, 24);
  store<f64>(c, ex != 0 ? -ey / ex : 0, 32);
  store<f64>(c, ex != 0 ? len2 / ex : 0, 40);
  store<f64>(c, ey != 0 ? ex / ey : 0, 48);
  store<f64>(c, ey != 0 ? rl / ey : 0, 56);
  store<f64>(c, len2, 64);
  store<f64>(c, ex, 72);
  store<f64>(c, ey, 80);
  store<f64>(c, rl, 88);
  store<i32>(c, s0, 96);
  store<i32>(c, s1, 100);
  store<i32>(c, (len2 > 0 ? HAS_RECT : 0) | (ex != 0 ? EX_NZ : 0) | (ey != 0 ? EY_NZ : 0), 104);
}

/** The rows smin … smax of the n prepared capsules: per row the union of their intervals as few runs as they allow. */
function renderBatch(grid: usize, S: i32, x0: f64, y0: f64, h: f64, r: f64, uLo: i32, uHi: i32, n: i32,
  smin: i32, smax: i32): void {
  const inv = 1.0 / h;
  const r2 = r * r;
  // x0 + 0.5·h folded into the sample index: u = (x − x0)/h − 0.5.
  const xs = x0 + 0.5 * h;
  for (let s = smin; s <= smax; s++) {
    const yc = y0 + (<f64>s + 0.5) * h;
    const row = grid + (<usize>((s >> 2) * S) << 1);
    const sh = (s & 3) << 2;
    let ru0 = 0, ru1 = -2; // the pending run (empty while ru1 < ru0)
    for (let i = 0; i < n; i++) {
      const c = caps + <usize>(i * CAP);
      if (s < load<i32>(c, 96) || s > load<i32>(c, 100)) continue;
      let L = Infinity, R = -Infinity;
      const bx = load<f64>(c, 16);
      const dB = yc - load<f64>(c, 24);
      if (dB * dB < r2) {
        const hw = Math.sqrt(r2 - dB * dB);
        L = bx - hw;
        R = bx + hw;
      }
      const flags = load<i32>(c, 104);
      if ((flags & HAS_RECT) != 0) {
        const dA = yc - load<f64>(c, 8);
        let lo = -Infinity, hi = Infinity;
        if ((flags & EX_NZ) != 0) {
          const a = dA * load<f64>(c, 32), b = a + load<f64>(c, 40);
          lo = min(a, b);
          hi = max(a, b);
        } else {
          const ey = load<f64>(c, 80);
          if (dA * ey < 0 || load<f64>(c, 64) - dA * ey < 0) hi = -Infinity; // t0 = −dA·ey > 0 or t1 < 0
        }
        if ((flags & EY_NZ) != 0) {
          const m = dA * load<f64>(c, 48), l = load<f64>(c, 56);
          const a = m - l, b = m + l;
          lo = max(lo, min(a, b));
          hi = min(hi, max(a, b));
        } else if (!(Math.abs(load<f64>(c, 72) * dA) < load<f64>(c, 88))) {
          hi = -Infinity;
        }
        if (lo < hi) {
          const ax = load<f64>(c);
          L = min(L, ax + lo);
          R = max(R, ax + hi);
        }
      }
      if (!(L < R)) continue;
      const u0 = max(<i32>Math.floor((L - xs) * inv) + 1, uLo);
      const u1 = min(<i32>Math.ceil((R - xs) * inv) - 1, uHi);
      if (u0 > u1) continue;
      if (ru1 < ru0) {
        ru0 = u0;
        ru1 = u1;
      } else if (u0 <= ru1 + 1 && u1 >= ru0 - 1) { // overlapping or adjacent: one run
        ru0 = min(ru0, u0);
        ru1 = max(ru1, u1);
      } else {
        setRun(row, sh, ru0, ru1);
        ru0 = u0;
        ru1 = u1;
      }
    }
    if (ru1 >= ru0) setRun(row, sh, ru0, ru1);
  }
}

/** Sets samples u0 … u1 (inclusive) of sub-row `sh / 4` of the quad row whose first quad is at `row`. */
@inline
function setRun(row: usize, sh: i32, u0: i32, u1: i32): void {
  const q0 = u0 >> 2, q1 = u1 >> 2;
  const m0 = (<u32>0xf << (u0 & 3)) & 0xf;
  const m1 = <u32>0xf >> (3 - (u1 & 3));
  let p = row + (<usize>q0 << 1);
  if (q0 == q1) {
    store<u16>(p, load<u16>(p) | ((m0 & m1) << sh));
    return;
  }
  store<u16>(p, load<u16>(p) | (m0 << sh));
  const full = <u32>0xf << sh;
  for (let q = q0 + 1; q < q1; q++) {
    p += 2;
    store<u16>(p, load<u16>(p) | full);
  }
  p = row + (<usize>q1 << 1);
  store<u16>(p, load<u16>(p) | (m1 << sh));
}

/**
 * The working grid of a small drawing, cells = canvas pixels: max-combines into the u8 raster (Gy rows of Gx, pixel
 * (x, y) of the canvas at index (y − oy)·Gx + x − ox, value·255) the coverage of each segment as StrokeRaster does,
 *   c = clamp(r + 0.5 − d, 0, 1),  d = distance from the pixel centre (x + 0.5, y + 0.5) to the segment,
 * same f64 arithmetic, rounded to 1/255 (≤ 0.002 from the reference's f32; 1 byte a pixel keeps a 128² box in
 * 16 KB). Rounding is monotonic, so max-combining the bytes is max-combining the values. Points as strokeRender.
 */
export function rampRender(raster: usize, Gx: i32, Gy: i32, ox: i32, oy: i32, W: i32, H: i32, r: f64,
  pts: usize, from: i32, to: i32): void {
  for (let k = max(from, 0); k < to; k++) {
    const p = pts + (<usize>k << 3);
    const bx = <f64>load<f32>(p);
    const by = <f64>load<f32>(p, 4);
    if (isNaN(bx)) continue;
    let ax = bx, ay = by;
    if (k > 0) {
      const qx = <f64>load<f32>(p - 8);
      if (!isNaN(qx)) { ax = qx; ay = <f64>load<f32>(p - 4); }
    }
    rampSegment(raster, Gx, ox, oy, max(0, ox), max(0, oy), min(W, ox + Gx), min(H, oy + Gy), r, ax, ay, bx, by);
  }
}

/** StrokeRaster.segment over the pixels [X0, X1) × [Y0, Y1) held by the raster (see there for the row bounds). */
function rampSegment(raster: usize, Gx: i32, ox: i32, oy: i32, X0: i32, Y0: i32, X1: i32, Y1: i32, r: f64,
  ax: f64, ay: f64, bx: f64, by: f64): void {
  const R = r + 0.5;
  const R2 = R * R;
  const in2 = r > 0.5 ? (r - 0.5) * (r - 0.5) : -1.0;
  const minX = min(ax, bx), maxX = max(ax, bx), minY = min(ay, by), maxY = max(ay, by);
  const xs = max(X0, <i32>Math.floor(minX - R - 0.5));
  const xe = min(X1, <i32>Math.ceil(maxX + R - 0.5));
  const ys = max(Y0, <i32>Math.floor(minY - R - 0.5));
  const ye = min(Y1, <i32>Math.ceil(maxY + R - 0.5));
  if (xs >= xe || ys >= ye) return;
  const ex = bx - ax, ey = by - ay;
  const len2 = ex * ex + ey * ey;
  const inv = len2 > 0 ? 1 / len2 : 0.0;
  for (let y = ys; y < ye; y++) {
    const yc = <f64>y + 0.5;
    const gap = yc < minY ? minY - yc : yc > maxY ? yc - maxY : 0.0;
    if (gap >= R) continue;
    const half = Math.sqrt(R2 - gap * gap);
    const rs = max(xs, <i32>Math.floor(minX - half - 0.5));
    const re = min(xe, <i32>Math.ceil(maxX + half - 0.5));
    const dy = yc - ay;
    const row = raster + <usize>((y - oy) * Gx - ox);
    let inside = false;
    for (let x = rs; x < re; x++) {
      const q = row + <usize>x;
      const old = <i32>load<u8>(q);
      if (old == 255) continue;
      const dx = <f64>x + 0.5 - ax;
      let t = (dx * ex + dy * ey) * inv;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const qx = dx - t * ex;
      const qy = dy - t * ey;
      const d2 = qx * qx + qy * qy;
      if (d2 >= R2) {
        if (inside) break;
        continue;
      }
      inside = true;
      const c = d2 <= in2 ? 255 : <i32>((R - Math.sqrt(d2)) * 255 + 0.5);
      if (c <= old) continue;
      store<u8>(q, <u8>c);
    }
  }
}
