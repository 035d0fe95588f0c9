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

/** Sets the samples of segments from points [from, to) of pts (see the header) in the grid. */
export function strokeRender(grid: usize, S: i32, Gx: i32, Gy: i32, x0: f64, y0: f64, h: f64, W: f64, H: f64, r: f64,
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
    capsule(grid, S, Gx, Gy, x0, y0, h, W, H, r, ax, ay, bx, by);
  }
}

/**
 * One capsule less the disc at A, row by row. Every point's disc is drawn by the element that ends at it (a dot is
 * the segment from a point to itself), so the disc at A is already set when the segment A→B comes: the rest, disc B
 * ∪ the rectangle, is still convex, so each sample row meets it in one interval [L, R], the hull of
 *   disc B:     |x − bx| < √(r² − (y − by)²)
 *   rectangle:  0 ≤ (P − A)·e ≤ |e|²  and  |e × (P − A)| < r·|e|,  P = (x, y), e = B − A  (linear in x: 2 intervals)
 * Cost: one square root and no division per sample row of the capsule's height, plus a u16 per quad it crosses.
 */
function capsule(grid: usize, S: i32, Gx: i32, Gy: i32, x0: f64, y0: f64, h: f64, W: f64, H: f64, r: f64,
  ax: f64, ay: f64, bx: f64, by: f64): void {
  const inv = 1.0 / h;
  // Sample rows s with centre y0 + (s + 0.5)·h in (min y − r, max y + r) ∩ [0, H).
  const ylo = max(min(ay, by) - r, 0.0);
  const yhi = min(max(ay, by) + r, H);
  if (!(ylo < yhi)) return;
  const s0 = max(<i32>Math.floor((ylo - y0) * inv - 0.5) + 1, 0);
  const s1 = min(<i32>Math.ceil((yhi - y0) * inv - 0.5) - 1, (Gy << 2) - 1);
  // Sample columns on the canvas [0, W) and in the grid.
  const uLo = max(<i32>Math.floor(-x0 * inv - 0.5) + 1, 0);
  const uHi = min(<i32>Math.ceil((W - x0) * inv - 0.5) - 1, (Gx << 2) - 1);
  if (uLo > uHi) return;
  const ex = bx - ax, ey = by - ay;
  const len2 = ex * ex + ey * ey;
  const rl = r * Math.sqrt(len2);
  const r2 = r * r;
  // The rectangle's bounds on a row at dA = y − ay, divisions hoisted: q = x − ax with
  //   projection q·ex ∈ [−dA·ey, len2 − dA·ey],  distance q·ey ∈ (ex·dA − rl, ex·dA + rl).
  const hasRect = len2 > 0;
  const kx = ex != 0 ? -ey / ex : 0, lx = ex != 0 ? len2 / ex : 0;
  const ky = ey != 0 ? ex / ey : 0, ly = ey != 0 ? rl / ey : 0;
  // x0 − 0.5·h folded into the sample index: u = (x − x0)/h − 0.5.
  const xs = x0 + 0.5 * h;
  for (let s = s0; s <= s1; s++) {
    const yc = y0 + (<f64>s + 0.5) * h;
    let L = Infinity, R = -Infinity;
    const dB = yc - by;
    if (dB * dB < r2) {
      const hw = Math.sqrt(r2 - dB * dB);
      L = bx - hw;
      R = bx + hw;
    }
    if (hasRect) {
      const dA = yc - ay;
      let lo = -Infinity, hi = Infinity;
      if (ex != 0) {
        const a = dA * kx, b = a + lx;
        lo = min(a, b);
        hi = max(a, b);
      } else if (dA * ey < 0 || len2 - dA * ey < 0) { // t0 = −dA·ey > 0 or t1 < 0
        hi = -Infinity;
      }
      if (ey != 0) {
        const c = dA * ky;
        const a = c - ly, b = c + ly;
        lo = max(lo, min(a, b));
        hi = min(hi, max(a, b));
      } else if (!(Math.abs(ex * dA) < rl)) {
        hi = -Infinity;
      }
      if (lo < hi) {
        L = min(L, ax + lo);
        R = max(R, ax + hi);
      }
    }
    if (!(L < R)) continue;
    const u0 = max(<i32>Math.floor((L - xs) * inv) + 1, uLo);
    const u1 = min(<i32>Math.ceil((R - xs) * inv) - 1, uHi);
    if (u0 > u1) continue;
    setRun(grid + (<usize>((s >> 2) * S) << 1), (s & 3) << 2, u0, u1);
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
