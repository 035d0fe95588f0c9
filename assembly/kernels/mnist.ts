// MNIST-style normalisation into the 28×28 model input (784 f32, ink 1 on 0), the maths of src/preprocess/normalize.ts
// (its TypeScript version is the reference these are tested against): ink bounding box → longer side scaled to
// INK_BOX = 20 keeping the aspect (area-averaging; bilinear when enlarging) → intensity centre of mass placed at
// (14.5, 14.5), one resampling. Two sources, one output stage:
//   bitsToMnist      the bit grid of strokes.ts (a live drawing), integrated at sample resolution, O(cells + 28·Gy)
//   coverageToMnist  a coverage raster (f32, values ≥ 0) over a crop: uploaded images, and a drawing's grid when its
//                    cells are canvas pixels
// Not here: rendering (strokes.ts), decoding images, shape checks (the host's: src/preprocess/fast-strokes.ts).
//
// Coordinates are continuous: sample/pixel i covers [i, i + 1). Output pixel (i, j) of the shrink path has the source
// footprint [X_i, X_{i+1}) × [Y_j, Y_{j+1}), X_b = cx + (b − 14.5)/sx, and value sx·sy·(I(X_{i+1}, Y_{j+1}) − I(X_i,
// Y_{j+1}) − I(X_{i+1}, Y_j) + I(X_i, Y_j)), I(X, Y) = ∫∫ source over [0, X)×[0, Y): at integer corners a summed-area
// table, in between exactly its bilinear interpolation (the source is constant per pixel / sample).

const SIDE = 28;
const N = SIDE * SIDE;
const INK_BOX: f64 = 20;
const C: f64 = 14.5;
/** INK_THRESHOLD of spec.ts: the float32 rounding of 1/255; a value is ink iff strictly greater. */
const INK_T: f64 = <f64><f32>(1.0 / 255.0);

// Sub-sample masks of one quad (u16, bit 4v + u = sub-column u, sub-row v), for the 8 quads of a v128.
const QX1: i16 = <i16>0xaaaa; // sub-columns with bit 0 of u set
const QX2: i16 = <i16>0xcccc; // bit 1
const QY1: i16 = <i16>0xf0f0; // sub-rows with bit 0 of v set
const QY2: i16 = <i16>0xff00; // bit 1

@inline function align8(n: i32): i32 { return (n + 7) & ~7; }
@inline function clampf(q: f64, lo: f64, hi: f64): f64 { return q < lo ? lo : q > hi ? hi : q; }
/** f32 entries of bitsToMnist's corner-row table over n quads: n + 1, and room for its 8-lane stores. */
@inline function satStride(n: i32): i32 { return align8(n + 1) + 8; }
/** u16 entries per row of bitsToMnist's column prefix counts over n quads (whole v128s). */
@inline function colStride(n: i32): i32 { return align8(n); }

// Shared tail of the coverage work area: corner positions and fractions per output column, the corner integrals.
const TAIL_BYTES = align8((SIDE + 1) * 4) + (SIDE + 1) * 8 + (SIDE + 1) * (SIDE + 1) * 8 + 4 * SIDE * 2 * 8;
// bitsToMnist's fixed part: per corner column its quad index (i32) and fraction (f32); two corner rows (f32).
const BITS_FIXED = 2 * 32 * 4 + 2 * 32 * 4;

/** Bytes of `work` bitsToMnist needs for a grid of Gx×Gy quads. */
export function bitsWorkBytes(Gx: i32, Gy: i32): i32 {
  return (Gy + 1) * colStride(Gx) * 2 + satStride(Gx) * 4 + BITS_FIXED;
}

// `stats` of bitsToMnist, kept by the host beside the grid between calls, Gy·ROW_STATS bytes: per quad row its set
// samples (i32), first and last non-empty quad (i32; Gx, −1 when empty), Σ in-quad sub-row index (i32), Σ sample x
// coordinate (i64).
const ROW_STATS = 24;

/** Bytes of `work` coverageToMnist needs for a crop of w×h pixels. */
export function coverageWorkBytes(w: i32, h: i32): i32 {
  return (w + 1) * (h + 1) * 8 + TAIL_BYTES;
}

/**
 * out (784 f32) = the normalisation of the bit grid (Gx×Gy quads of 4×4 samples, row stride S, strokes.ts), each
 * sample an area of 1 at value 0 or 1. exS, eyS: the ink's extent in sample units when the host knows it better than
 * the sample box does (from the points: the true capsule edges), else ≤ 0; wS, hS likewise the reference's pixel box,
 * whose sides set the scale of a side thinner than one output pixel (sx ≥ 1/w). Returns 0 (out all zeros) when no
 * sample is set.
 * `stats` (ROW_STATS above) caches per quad row its mass, moments and quad span; only the rows [d0, d1) are rescanned
 * (the host passes the rows changed since the last call on this grid, all after a reset). Mass, moments and the
 * sample box are exact at sample resolution. The integrals take each quad as uniform (its count / 16 per sample):
 * the bilinear interpolation of the summed-area table of the ink box's quad counts at each of the ≤ 29×29 footprint
 * corners, exact for that quad-constant image (≥ 64 quads across the ink's longer side: an output pixel spans ≥ 3.2).
 * Separably: column prefix counts down the box (SIMD, u16 lanes), interpolated at each corner row and summed along
 * it (f32 lane prefix sums), then interpolated at the corner columns (64-bit lane loads) and differenced into the
 * output row.
 */
export function bitsToMnist(out: usize, work: usize, grid: usize, S: i32, Gx: i32, Gy: i32, exS: f64, eyS: f64,
  wS: f64, hS: f64, c0: i32, k0: i32, c1: i32, k1: i32, stats: usize, d0: i32, d1: i32): i32 {
  // Only quads [c0, c1) × [k0, k1) may hold ink (the host's ink box).
  for (let k = max(d0, 0), ke = min(d1, Gy); k < ke; k++) rowScan(stats, grid, S, Gx, k);
  let m: i64 = 0, mxI: i64 = 0, myI: i64 = 0;
  let cl = Gx, cr = -1, kt = Gy, kb = -1;
  for (let k = k0; k < k1; k++) {
    const st = stats + <usize>(k * ROW_STATS);
    const run = load<i32>(st);
    if (run == 0) continue;
    if (k < kt) kt = k;
    kb = k;
    cl = min(cl, load<i32>(st, 4));
    cr = max(cr, load<i32>(st, 8));
    m += run;
    myI += <i64>run * <i64>(k << 2) + <i64>load<i32>(st, 12);
    mxI += load<i64>(st, 16);
  }
  memory.fill(out, 0, N << 2);
  if (m == 0) return 0;

  // The sample box [x0, x1) × [y0, y1): OR the edge quads, then fold to the first/last set sub-column or sub-row.
  let fl: u32 = 0, fr: u32 = 0, ft: u32 = 0, fb: u32 = 0;
  for (let k = kt; k <= kb; k++) {
    const row = grid + (<usize>(k * S) << 1);
    fl |= <u32>load<u16>(row + (<usize>cl << 1));
    fr |= <u32>load<u16>(row + (<usize>cr << 1));
  }
  const rowT = grid + (<usize>(kt * S) << 1), rowB = grid + (<usize>(kb * S) << 1);
  for (let c = cl; c <= cr; c++) {
    ft |= <u32>load<u16>(rowT + (<usize>c << 1));
    fb |= <u32>load<u16>(rowB + (<usize>c << 1));
  }
  const x0 = (cl << 2) + <i32>ctz<u32>(foldNibbles(fl));
  const x1 = (cr << 2) + 32 - <i32>clz<u32>(foldNibbles(fr));
  const y0 = (kt << 2) + (<i32>ctz<u32>(ft) >> 2);
  const y1 = (kb << 2) + ((31 - <i32>clz<u32>(fb)) >> 2) + 1;

  const md = <f64>m;
  const cx = (<f64>mxI + 0.5 * md) / md;
  const cy = (<f64>myI + 0.5 * md) / md;
  const w = x1 - x0, h = y1 - y0;
  const ex = exS > 0 ? exS : <f64>w;
  const ey = eyS > 0 ? eyS : <f64>h;
  const s = INK_BOX / max(ex, ey);
  const sx = max(s, 1.0 / (wS > 0 ? wS : <f64>w)), sy = max(s, 1.0 / (hS > 0 ? hS : <f64>h));

  const iLo = max(0, <i32>Math.floor((<f64>x0 - cx) * sx + C));
  const iHi = min(SIDE, <i32>Math.ceil((<f64>x1 - cx) * sx + C));
  const jLo = max(0, <i32>Math.floor((<f64>y0 - cy) * sy + C));
  const jHi = min(SIDE, <i32>Math.ceil((<f64>y1 - cy) * sy + C));
  if (iLo >= iHi || jLo >= jHi) return 1;

  // Column prefix counts of the ink box's quads [cl, cr] × [kt, kb]: col[p][q] = set samples in quad column cl + q,
  // quad rows kt … kt + p − 1 (u16: ≤ 16·Gy). The row direction is summed later, only on the ≤ 29 interpolated corner
  // rows: R = the summed-area table at a corner row, 1-D.
  const nq = cr - cl + 1, np = kb - kt + 1;
  const cwBytes = <usize>colStride(nq) << 1;
  const col = work;
  memory.fill(col, 0, cwBytes);
  const lane = i16x8(0, 1, 2, 3, 4, 5, 6, 7);
  const rowStep = <usize>S << 1;
  for (let q = 0; q < nq; q += 8) {
    // 8 quad columns at a time down the rows, the running sum in a register. Lanes past nq are masked off: they
    // may be the next row's quads, or the 16 bytes of slack the host leaves after the grid.
    const mask = i16x8.lt_s(lane, i16x8.splat(<i16>min(8, nq - q)));
    let src = grid + (<usize>(kt * S + cl + q) << 1);
    let dst = col + (<usize>q << 1);
    let acc = i16x8.splat(0);
    for (let p = 0; p < np; p++) {
      acc = i16x8.add(acc, i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v128.and(v128.load(src), mask))));
      dst += cwBytes;
      v128.store(dst, acc);
      src += rowStep;
    }
  }
  const R = col + <usize>(np + 1) * cwBytes;
  const rowBytes = <usize>satStride(nq) << 2;
  const qI = R + rowBytes, fX = qI + 32 * 4, rowA = fX + 32 * 4, rowB2 = rowA + 32 * 4;
  const span = iHi - iLo + 1;
  for (let b = iLo; b <= iHi; b++) {
    // X in quads from cl: in [0, nq]; keep qi + 1 ≤ nq (X = the right edge is qi = nq − 1 with fraction 1).
    const X = (clampf(cx + (<f64>b - C) / sx, <f64>x0, <f64>x1) - <f64>(cl << 2)) * 0.25;
    let qi = <i32>Math.floor(X);
    if (qi >= nq) qi = nq - 1;
    store<i32>(qI + (<usize>(b - iLo) << 2), qi << 2); // a byte offset into R
    store<f32>(fX + (<usize>(b - iLo) << 2), <f32>(X - <f64>qi));
  }
  // The corner loop below runs in fours: its tail reads entries up to 31, harmless as offset 0, fraction 0.
  for (let bi = span; bi < 32; bi++) {
    store<i32>(qI + (<usize>bi << 2), 0);
    store<f32>(fX + (<usize>bi << 2), 0);
  }
  const k = <f32>(sx * sy);
  let prev = rowA, cur = rowB2;
  for (let c = jLo; c <= jHi; c++) {
    const Y = (clampf(cy + (<f64>c - C) / sy, <f64>y0, <f64>y1) - <f64>(kt << 2)) * 0.25;
    let pi = <i32>Math.floor(Y);
    if (pi >= np) pi = np - 1;
    cornerRow(R, col + <usize>pi * cwBytes, cwBytes, nq, <f32>(Y - <f64>pi));
    // cur[bi] = R[qi] + fx·(R[qi + 1] − R[qi]) four corners at a time: each (R[qi], R[qi + 1]) pair is one 64-bit
    // lane load (wasm SIMD has no gather), two pairs a v128, split into the a and b lanes by a shuffle.
    for (let bi = 0; bi < span; bi += 4) {
      const o = <usize>bi << 2;
      const offs = v128.load(qI + o);
      let p01 = v128.load64_zero(R + <usize>i32x4.extract_lane(offs, 0));
      p01 = v128.load64_lane(R + <usize>i32x4.extract_lane(offs, 1), p01, 1);
      let p23 = v128.load64_zero(R + <usize>i32x4.extract_lane(offs, 2));
      p23 = v128.load64_lane(R + <usize>i32x4.extract_lane(offs, 3), p23, 1);
      const a = v128.shuffle<f32>(p01, p23, 0, 2, 4, 6);
      const b = v128.shuffle<f32>(p01, p23, 1, 3, 5, 7);
      v128.store(cur + o, f32x4.add(a, f32x4.mul(v128.load(fX + o), f32x4.sub(b, a))));
    }
    if (c > jLo) emitRow(out + (<usize>((c - 1) * SIDE + iLo) << 2), prev, cur, iHi - iLo, k);
    const t = prev;
    prev = cur;
    cur = t;
  }
  return 1;
}

/** The 4 nibbles of w ORed into one (bit u set iff sub-column u is set in some sub-row). */
@inline
function foldNibbles(w: u32): u32 {
  const f = w | (w >> 8);
  return (f | (f >> 4)) & 0xf;
}

/**
 * R[0 … n] = the summed-area table at a corner row between quad rows: R[0] = 0, R[q + 1] = Σ_{q' ≤ q} (a[q'] + fy·(b[q']
 * − a[q'])), a, b = the column prefix rows above and below it (b − a exact in integers). Four lanes at a time in f32:
 * a lane prefix sum in two shifted adds plus the carry. Entries up to n + 7 are written (colStride's room).
 */
function cornerRow(R: usize, a: usize, bOff: usize, n: i32, fy: f32): void {
  store<f32>(R, 0);
  const f = f32x4.splat(fy);
  const zero = f32x4.splat(0);
  let carry = zero;
  for (let q = 0; q < n; q += 8) {
    const o = <usize>q << 1;
    const va = v128.load(a + o);
    const vd = i16x8.sub(v128.load(a + bOff + o), va);
    let lo = f32x4.add(f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(va)),
      f32x4.mul(f, f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(vd))));
    let hi = f32x4.add(f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(va)),
      f32x4.mul(f, f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(vd))));
    lo = f32x4.add(lo, v128.shuffle<f32>(zero, lo, 0, 4, 5, 6));
    lo = f32x4.add(lo, v128.shuffle<f32>(zero, lo, 0, 1, 4, 5));
    lo = f32x4.add(lo, carry);
    hi = f32x4.add(hi, v128.shuffle<f32>(zero, hi, 0, 4, 5, 6));
    hi = f32x4.add(hi, v128.shuffle<f32>(zero, hi, 0, 1, 4, 5));
    hi = f32x4.add(hi, f32x4.splat(f32x4.extract_lane(lo, 3)));
    carry = f32x4.splat(f32x4.extract_lane(hi, 3));
    const r = R + (<usize>(q + 1) << 2);
    v128.store(r, lo);
    v128.store(r, hi, 16);
  }
}

/** One output row from two corner rows: out[i] = k·((bot[i+1] − bot[i]) − (top[i+1] − top[i])), clamped to [0, 1],
 * for i < n; four at a time (unaligned loads of the rows shifted by one), the rest one by one. */
function emitRow(out: usize, top: usize, bot: usize, n: i32, k: f32): void {
  const kv = f32x4.splat(k);
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const d = f32x4.sub(f32x4.sub(v128.load(bot + o + 4), v128.load(bot + o)),
      f32x4.sub(v128.load(top + o + 4), v128.load(top + o)));
    // ≥ 0 up to rounding of the differences; > 1 only if the input was.
    v128.store(out + o, f32x4.min(f32x4.max(f32x4.mul(kv, d), zero), one));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = k * ((load<f32>(bot + o + 4) - load<f32>(bot + o)) - (load<f32>(top + o + 4) - load<f32>(top + o)));
    store<f32>(out + o, v > 0 ? (v < 1 ? v : 1) : 0);
  }
}

/** Rescans quad row k into its stats (ROW_STATS), 8 quads a v128: byte popcounts added pairwise give each quad's
 * count; in-quad moments from masked popcounts (x: Σ_u u·bit = popcnt(& QX1) + 2·popcnt(& QX2); y likewise), the
 * quads' own x by a dot product with their indices. Lanes past Gx are zero (nothing is rendered outside the grid). */
function rowScan(stats: usize, grid: usize, S: i32, Gx: i32, k: i32): void {
  const row = grid + (<usize>(k * S) << 1);
  const zero = i16x8.splat(0);
  const vX1 = i16x8.splat(QX1), vX2 = i16x8.splat(QX2), vY1 = i16x8.splat(QY1), vY2 = i16x8.splat(QY2);
  let idx = i16x8(0, 1, 2, 3, 4, 5, 6, 7);
  const eight = i16x8.splat(8);
  let cnt = zero, xin = zero, yin = zero; // ≤ 24 a lane per v128: Gx ≤ 8192
  let qm = i32x4.splat(0);
  let cl = Gx, cr = -1;
  for (let q = 0; q < Gx; q += 8) {
    const v = v128.load(row + (<usize>q << 1));
    const c = i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v));
    const nz = i16x8.bitmask(i16x8.ne(c, zero));
    if (nz != 0) {
      if (cl == Gx) cl = q + <i32>ctz<u32>(nz);
      cr = q + 31 - <i32>clz<u32>(nz);
      cnt = i16x8.add(cnt, c);
      qm = i32x4.add(qm, i32x4.dot_i16x8_s(c, idx));
      xin = i16x8.add(xin, i16x8.add(i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v128.and(v, vX1))),
        i16x8.shl(i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v128.and(v, vX2))), 1)));
      yin = i16x8.add(yin, i16x8.add(i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v128.and(v, vY1))),
        i16x8.shl(i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v128.and(v, vY2))), 1)));
    }
    idx = i16x8.add(idx, eight);
  }
  const ones = i16x8.splat(1);
  const st = stats + <usize>(k * ROW_STATS);
  store<i32>(st, sum4(i32x4.dot_i16x8_s(cnt, ones)));
  store<i32>(st, cl, 4);
  store<i32>(st, cr, 8);
  store<i32>(st, sum4(i32x4.dot_i16x8_s(yin, ones)), 12);
  store<i64>(st, (<i64>sum4(qm) << 2) + <i64>sum4(i32x4.dot_i16x8_s(xin, ones)), 16);
}

@inline function sum4(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

/** out(i, j) = k·(corner differences), clamped to [0, 1], for the output block [iLo, iHi) × [jLo, jHi). */
function shrinkOut(out: usize, cor: usize, iLo: i32, iHi: i32, jLo: i32, jHi: i32, k: f64): void {
  const span = iHi - iLo + 1;
  for (let j = jLo; j < jHi; j++) {
    const top = cor + (<usize>((j - jLo) * span) << 3);
    const bot = top + (<usize>span << 3);
    const o = out + (<usize>(j * SIDE) << 2);
    for (let i = iLo; i < iHi; i++) {
      const q = <usize>(i - iLo) << 3;
      const v = k * (load<f64>(bot + q + 8) - load<f64>(bot + q) - load<f64>(top + q + 8) + load<f64>(top + q));
      // ≥ 0 up to rounding of the differences; > 1 only if the input was.
      store<f32>(o + (<usize>i << 2), <f32>(v > 0 ? (v < 1 ? v : 1) : 0));
    }
  }
}

/** ink(v) of pixel i of a raster of V = f32 (the value) or u8 (value / 255): v > INK_THRESHOLD ? v : 0. */
@inline function inkAt<V>(raster: usize, i: i32): f64 {
  let v: f64;
  if (sizeof<V>() == 1) v = <f64>load<u8>(raster + <usize>i) * (1.0 / 255.0);
  else v = <f64>load<f32>(raster + (<usize>i << 2));
  return v > INK_T ? v : 0;
}

/**
 * out (784 f32) = normalizeToMnist of the f32 raster (row stride `width`) whose ink lies in [x0, x1) × [y0, y1)
 * (tightened here to the exact ink box). Returns 0 (out all zeros) without ink. A plain summed-area table over the
 * box (f64, in `work`), then the shared shrink, or the bilinear enlargement for ink under 20 px.
 */
export function coverageToMnist(out: usize, work: usize, raster: usize, width: i32,
  x0: i32, y0: i32, x1: i32, y1: i32): i32 {
  return normalizeCoverage<f32>(out, work, raster, width, x0, y0, x1, y1);
}

/** coverageToMnist of a u8 raster, values / 255 (a small drawing's grid: strokes.ts rampRender). */
export function coverageU8ToMnist(out: usize, work: usize, raster: usize, width: i32,
  x0: i32, y0: i32, x1: i32, y1: i32): i32 {
  return normalizeCoverage<u8>(out, work, raster, width, x0, y0, x1, y1);
}

function normalizeCoverage<V>(out: usize, work: usize, raster: usize, width: i32,
  x0: i32, y0: i32, x1: i32, y1: i32): i32 {
  memory.fill(out, 0, N << 2);
  // Tighten: empty rows off the top and bottom, then the columns, row by row from either end.
  while (y0 < y1 && !rowHasInk<V>(raster, y0 * width, x0, x1)) y0++;
  if (y0 == y1) return 0;
  while (!rowHasInk<V>(raster, (y1 - 1) * width, x0, x1)) y1--;
  let lo = x1, hi = x0;
  for (let y = y0; y < y1; y++) {
    const row = y * width;
    for (let x = x0; x < lo; x++) if (inkAt<V>(raster, row + x) > 0) { lo = x; break; }
    for (let x = x1 - 1; x >= hi; x--) if (inkAt<V>(raster, row + x) > 0) { hi = x + 1; break; }
  }
  x0 = lo;
  x1 = hi;
  const w = x1 - x0, h = y1 - y0;
  const sw = w + 1;
  // S[r][x] = Σ ink over [x0, x0 + x) × [y0, y0 + r); with the mass, moments and peak on the way.
  const S = work;
  for (let x = 0; x <= w; x++) store<f64>(S + (<usize>x << 3), 0);
  let m: f64 = 0, mx: f64 = 0, my: f64 = 0, peak: f64 = 0;
  for (let r = 0; r < h; r++) {
    const src = (y0 + r) * width + x0;
    const prev = S + (<usize>(r * sw) << 3);
    const cur = prev + (<usize>sw << 3);
    store<f64>(cur, 0);
    let p: f64 = 0, q: f64 = 0;
    for (let x = 0; x < w; x++) {
      const a = inkAt<V>(raster, src + x);
      p += a;
      q += a * <f64>(x0 + x);
      peak = a > peak ? a : peak;
      store<f64>(cur + (<usize>(x + 1) << 3), load<f64>(prev + (<usize>(x + 1) << 3)) + p);
    }
    m += p;
    mx += q + 0.5 * p;
    my += p * (<f64>(y0 + r) + 0.5);
  }
  if (!isFinite(m + mx + my)) return 0;
  const cx = mx / m, cy = my / m;
  // Sub-pixel extent (normalize.ts): the box less the uncovered parts of its edge lines, relative to the peak.
  const ex = extent(w, lineMax<V>(raster, x0, width, y0, y1), lineMax<V>(raster, x1 - 1, width, y0, y1), peak);
  const ey = extent(h, lineMax<V>(raster, y0 * width, 1, x0, x1), lineMax<V>(raster, (y1 - 1) * width, 1, x0, x1), peak);
  const s = INK_BOX / max(ex, ey);
  const tail = work + (<usize>((h + 1) * sw) << 3);
  if (s > 1) {
    enlarge<V>(out, tail, raster, width, x0, y0, x1, y1, cx, cy, s);
    return 1;
  }
  const sx = max(s, 1.0 / <f64>w), sy = max(s, 1.0 / <f64>h);
  const iLo = max(0, <i32>Math.floor((<f64>x0 - cx) * sx + C));
  const iHi = min(SIDE, <i32>Math.ceil((<f64>x1 - cx) * sx + C));
  const jLo = max(0, <i32>Math.floor((<f64>y0 - cy) * sy + C));
  const jHi = min(SIDE, <i32>Math.ceil((<f64>y1 - cy) * sy + C));
  if (iLo >= iHi || jLo >= jHi) return 1;
  const xI = tail;
  const xF = xI + <usize>align8((SIDE + 1) * 4);
  const cor = xF + (SIDE + 1) * 8;
  const span = iHi - iLo + 1;
  for (let b = iLo; b <= iHi; b++) {
    const X = clampf(cx + (<f64>b - C) / sx, <f64>x0, <f64>x1);
    let xi = <i32>Math.floor(X);
    if (xi >= x1) xi = x1 - 1;
    store<i32>(xI + (<usize>(b - iLo) << 2), xi - x0);
    store<f64>(xF + (<usize>(b - iLo) << 3), X - <f64>xi);
  }
  for (let c = jLo; c <= jHi; c++) {
    const Y = clampf(cy + (<f64>c - C) / sy, <f64>y0, <f64>y1);
    let yi = <i32>Math.floor(Y);
    if (yi >= y1) yi = y1 - 1;
    const fy = Y - <f64>yi;
    const ra0 = S + (<usize>((yi - y0) * sw) << 3);
    const rb0 = ra0 + (<usize>sw << 3);
    const base = cor + (<usize>((c - jLo) * span) << 3);
    for (let bi = 0; bi < span; bi++) {
      const xi = <usize>load<i32>(xI + (<usize>bi << 2)) << 3;
      const fx = load<f64>(xF + (<usize>bi << 3));
      const a0 = load<f64>(ra0 + xi), a1 = load<f64>(ra0 + xi + 8);
      const b0 = load<f64>(rb0 + xi), b1 = load<f64>(rb0 + xi + 8);
      const ra = a0 + fx * (a1 - a0);
      const rb = b0 + fx * (b1 - b0);
      store<f64>(base + (<usize>bi << 3), ra + fy * (rb - ra));
    }
  }
  shrinkOut(out, cor, iLo, iHi, jLo, jHi, sx * sy);
  return 1;
}

function rowHasInk<V>(raster: usize, row: i32, x0: i32, x1: i32): bool {
  for (let k = row + x0, e = row + x1; k < e; k++) if (inkAt<V>(raster, k) > 0) return true;
  return false;
}

@inline function extent(n: i32, c0: f64, c1: f64, peak: f64): f64 {
  return n == 1 ? 1 : <f64>(n - 2) + (c0 + c1) / peak;
}

/** The largest ink value at base + step·b, …, base + step·(e − 1). */
function lineMax<V>(raster: usize, base: i32, step: i32, b: i32, e: i32): f64 {
  let c: f64 = 0;
  for (let k = base + step * b, end = base + step * e; k < end; k += step) {
    const v = inkAt<V>(raster, k);
    if (v > c) c = v;
  }
  return c;
}

/**
 * Bilinear enlargement for s > 1 (ink under 20 px), as normalize.ts: output pixel j gets cov × (bilinear sample of
 * the source at the centre of its covered part), cov = |[j, j + 1) ∩ [A, B)|, A = s·(x0 − cx) + 14.5, the sample
 * position clamped to the crop's outer pixel centres. tables: 4 × 2·28 f64 (indices stored as f64).
 */
function enlarge<V>(out: usize, tables: usize, raster: usize, width: i32, x0: i32, y0: i32, x1: i32, y1: i32,
  cx: f64, cy: f64, s: f64): void {
  const I0 = tables, I1 = I0 + 2 * SIDE * 8, W0 = I1 + 2 * SIDE * 8, W1 = W0 + 2 * SIDE * 8;
  upTable(I0, I1, W0, W1, 0, x0, x1, cx, s);
  upTable(I0, I1, W0, W1, SIDE, y0, y1, cy, s);
  for (let j = 0; j < SIDE; j++) {
    const jy = <usize>(SIDE + j) << 3;
    const wy0 = load<f64>(W0 + jy), wy1 = load<f64>(W1 + jy);
    const r0 = <i32>load<f64>(I0 + jy) * width, r1 = <i32>load<f64>(I1 + jy) * width;
    for (let i = 0; i < SIDE; i++) {
      const ix = <usize>i << 3;
      const wx0 = load<f64>(W0 + ix), wx1 = load<f64>(W1 + ix);
      const i0 = <i32>load<f64>(I0 + ix), i1 = <i32>load<f64>(I1 + ix);
      const v = wy0 * (wx0 * inkAt<V>(raster, r0 + i0) + wx1 * inkAt<V>(raster, r0 + i1)) +
        wy1 * (wx0 * inkAt<V>(raster, r1 + i0) + wx1 * inkAt<V>(raster, r1 + i1));
      store<f32>(out + (<usize>(j * SIDE + i) << 2), <f32>(v < 1 ? v : 1));
    }
  }
}

function upTable(I0: usize, I1: usize, W0: usize, W1: usize, at: i32, lo: i32, hi: i32, c: f64, s: f64): void {
  const A = s * (<f64>lo - c) + C;
  const B = s * (<f64>hi - c) + C;
  for (let j = 0; j < SIDE; j++) {
    const l = max(<f64>j, A);
    const r = min(<f64>(j + 1), B);
    let i0 = lo, i1 = lo;
    let w0: f64 = 0, w1: f64 = 0;
    if (r > l) {
      // Source position of the middle of the covered part, in pixel-centre units.
      let q = c + ((l + r) / 2 - C) / s - 0.5;
      q = q < <f64>lo ? <f64>lo : q > <f64>(hi - 1) ? <f64>(hi - 1) : q;
      i0 = <i32>Math.floor(q);
      i1 = i0 + 1 < hi ? i0 + 1 : i0;
      const f = q - <f64>i0;
      w0 = (r - l) * (1 - f);
      w1 = (r - l) * f;
    }
    const o = <usize>(at + j) << 3;
    store<f64>(I0 + o, <f64>i0);
    store<f64>(I1 + o, <f64>i1);
    store<f64>(W0 + o, w0);
    store<f64>(W1 + o, w1);
  }
}

/**
 * Raster input, step 1: the ink box of an f32 raster (values > INK_THRESHOLD), written to box as 4 i32 [x0, y0, x1,
 * y1); returns 0 (box empty) without ink. One pass, four lanes at a time; the candidate columns are narrowed per row.
 */
export function rasterInkBox(box: usize, raster: usize, width: i32, height: i32): i32 {
  let x0 = width, y0 = height, x1 = 0, y1 = 0;
  const t = f32x4.splat(<f32>INK_T);
  for (let y = 0; y < height; y++) {
    const row = raster + (<usize>(y * width) << 2);
    let x = 0;
    let any = false;
    // Skip paper four at a time; the first ink pixel of the row bounds x0.
    for (; x + 4 <= width; x += 4) {
      if (v128.any_true(f32x4.gt(v128.load(row + (<usize>x << 2)), t))) break;
    }
    for (; x < width; x++) if (<f64>load<f32>(row + (<usize>x << 2)) > INK_T) { any = true; break; }
    if (!any) continue;
    if (x < x0) x0 = x;
    let e = width - 1;
    while (!(<f64>load<f32>(row + (<usize>e << 2)) > INK_T)) e--;
    if (e + 1 > x1) x1 = e + 1;
    if (y < y0) y0 = y;
    y1 = y + 1;
  }
  store<i32>(box, x0);
  store<i32>(box, y0, 4);
  store<i32>(box, x1, 8);
  store<i32>(box, y1, 12);
  return x1 > x0 ? 1 : 0;
}

/**
 * Raster input, step 2 for a large ink box: dst (gw × gh f32) = the area average of ink(raster) over cells of g×g
 * source pixels starting at (x0, y0): cell (i, j) = mean over [x0 + i·g, x0 + (i + 1)·g) × [y0 + j·g, …) with
 * fractional overlaps at its edges, separably (rows into `acc`, gw f64, then into the cell row). O(box area).
 */
export function areaDownsample(dst: usize, acc: usize, raster: usize, width: i32, x0: i32, y0: i32, x1: i32, y1: i32,
  g: f64, gw: i32, gh: i32): void {
  const k = 1.0 / (g * g);
  for (let j = 0; j < gh; j++) {
    for (let i = 0; i < gw; i++) store<f64>(acc + (<usize>i << 3), 0);
    const fy0 = <f64>y0 + <f64>j * g, fy1 = fy0 + g;
    const ra = max(y0, <i32>Math.floor(fy0)), rb = min(y1, <i32>Math.ceil(fy1));
    for (let y = ra; y < rb; y++) {
      const wy = min(<f64>(y + 1), fy1) - max(<f64>y, fy0);
      if (wy <= 0) continue;
      const row = y * width;
      // Walk the row's pixels once, splitting each between the (at most two) cells it overlaps.
      for (let x = x0; x < x1; x++) {
        const v = inkAt<f32>(raster, row + x);
        if (v == 0) continue;
        const u = (<f64>(x - x0)) / g;
        const i = <i32>Math.floor(u);
        const edge = <f64>(i + 1) * g + <f64>x0; // right edge of cell i in source coordinates
        const wv = wy * v;
        if (<f64>(x + 1) <= edge || i + 1 >= gw) {
          store<f64>(acc + (<usize>min(i, gw - 1) << 3), load<f64>(acc + (<usize>min(i, gw - 1) << 3)) + wv);
        } else {
          const left = edge - <f64>x;
          store<f64>(acc + (<usize>i << 3), load<f64>(acc + (<usize>i << 3)) + wv * left);
          store<f64>(acc + (<usize>(i + 1) << 3), load<f64>(acc + (<usize>(i + 1) << 3)) + wv * (1 - left));
        }
      }
    }
    const o = dst + (<usize>(j * gw) << 2);
    for (let i = 0; i < gw; i++) store<f32>(o + (<usize>i << 2), <f32>(load<f64>(acc + (<usize>i << 3)) * k));
  }
}

/**
 * RGBA bytes → coverage (image-data.ts coverageFromRgba, same f32 values): Rec. 601 luma Y, transparency over the
 * paper; dark = 1: ink = α·(1 − Y/255), else ink = α·Y/255.
 */
export function rgbaCoverage(dst: usize, rgba: usize, n: i32, dark: i32): void {
  const k: f64 = 1.0 / (255.0 * 255.0);
  for (let i = 0; i < n; i++) {
    const p = rgba + (<usize>i << 2);
    const y = 0.299 * <f64>load<u8>(p) + 0.587 * <f64>load<u8>(p, 1) + 0.114 * <f64>load<u8>(p, 2);
    const a = <f64>load<u8>(p, 3);
    store<f32>(dst + (<usize>i << 2), <f32>(dark != 0 ? (a * (255 - y)) * k : (a * y) * k));
  }
}
