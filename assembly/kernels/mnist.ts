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

// Sub-sample masks of one cell (bit 8v + u = sub-column u, sub-row v).
const BYTE_LSB: u64 = 0x0101010101010101;
const X1: u64 = 0xaaaaaaaaaaaaaaaa; // sub-columns with bit 0 of u set
const X2: u64 = 0xcccccccccccccccc; // bit 1
const X4: u64 = 0xf0f0f0f0f0f0f0f0; // bit 2
const Y1: u64 = 0xff00ff00ff00ff00; // sub-rows with bit 0 of v set
const Y2: u64 = 0xffff0000ffff0000;
const Y4: u64 = 0xffffffff00000000;

@inline function lowCols(u: i32): u64 { return ((<u64>1 << <u64>u) - 1) * BYTE_LSB; } // sub-columns < u
@inline function lowRows(v: i32): u64 { return v == 0 ? 0 : (<u64>1 << <u64>(v << 3)) - 1; } // sub-rows < v
@inline function align8(n: i32): i32 { return (n + 7) & ~7; }
@inline function clampf(q: f64, lo: f64, hi: f64): f64 { return q < lo ? lo : q > hi ? hi : q; }

// Shared tail of the work area: corner positions and fractions per output column, the corner integrals.
const TAIL_BYTES = align8((SIDE + 1) * 4) + (SIDE + 1) * 8 + (SIDE + 1) * (SIDE + 1) * 8 + 4 * SIDE * 2 * 8;

/** Bytes of `work` bitsToMnist needs for a Gx×Gy grid. */
export function bitsWorkBytes(Gx: i32, Gy: i32): i32 {
  return align8((SIDE + 1) * 2 * (Gy + 1) * 4) + align8(2 * (Gx + 1) * 4) + (SIDE + 1) * 2 * 16 + TAIL_BYTES;
}

// `stats` of bitsToMnist, kept by the host beside the grid between calls, Gy·(ROW_STATS + 4·(Gx + 1)) bytes: per cell
// row its set samples (i32), first and last non-empty cell (i32; Gx, −1 when empty), Σ in-cell sub-row index (i32),
// Σ sample x coordinate (i64); then per cell row its Gx + 1 cell prefix counts (i32).
const ROW_STATS = 24;

/** Bytes of `work` coverageToMnist needs for a crop of w×h pixels. */
export function coverageWorkBytes(w: i32, h: i32): i32 {
  return (w + 1) * (h + 1) * 8 + TAIL_BYTES;
}

/**
 * out (784 f32) = the normalisation of the bit grid (Gx×Gy cells of 8×8 samples, strokes.ts), each sample an area
 * of 1 at value 0 or 1. exS, eyS: the ink's extent in sample units when the host knows it better than the sample
 * box does (from the points: the true capsule edges), else ≤ 0; wS, hS likewise the reference's pixel box, whose
 * sides set the scale of a side thinner than one output pixel (sx ≥ 1/w). Returns 0 (out all zeros) when no sample
 * is set.
 * `stats` (ROW_STATS above) caches per cell row its mass, moments, cell span and cell prefix counts; only the rows
 * [d0, d1) are rescanned (the host passes the rows changed since the last call on this grid, all after a reset).
 * Every integral is exact at sample resolution: per-row cell prefix counts summed down a column for whole cells, plus,
 * for the ≤ 29·2 corner columns and rows, prefix strips of the partial cells they cut (masked popcounts), plus the cut
 * cell.
 */
export function bitsToMnist(out: usize, work: usize, grid: usize, Gx: i32, Gy: i32, exS: f64, eyS: f64,
  wS: f64, hS: f64, c0: i32, k0: i32, c1: i32, k1: i32, stats: usize, d0: i32, d1: i32): i32 {
  // Only cells [c0, c1) × [k0, k1) may hold ink (the host's ink box).
  const pre = stats + <usize>(Gy * ROW_STATS); // i32 Gy × (Gx + 1): set samples in cells [0, c) of row k
  for (let k = max(d0, 0), ke = min(d1, Gy); k < ke; k++) rowScan(stats, pre, grid, Gx, k);
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
    myI += <i64>(run * (k << 3)) + <i64>load<i32>(st, 12);
    mxI += load<i64>(st, 16);
  }
  memory.fill(out, 0, N << 2);
  if (m == 0) return 0;

  // The sample box [x0, x1) × [y0, y1): OR the edge cells, then fold to the first/last set sub-column or sub-row.
  let fl: u64 = 0, fr: u64 = 0, ft: u64 = 0, fb: u64 = 0;
  for (let k = kt; k <= kb; k++) {
    fl |= load<u64>(grid + ((<usize>(k * Gx + cl)) << 3));
    fr |= load<u64>(grid + ((<usize>(k * Gx + cr)) << 3));
  }
  for (let c = cl; c <= cr; c++) {
    ft |= load<u64>(grid + ((<usize>(kt * Gx + c)) << 3));
    fb |= load<u64>(grid + ((<usize>(kb * Gx + c)) << 3));
  }
  const x0 = (cl << 3) + <i32>ctz<u32>(foldBytes(fl));
  const x1 = (cr << 3) + 32 - <i32>clz<u32>(foldBytes(fr));
  const y0 = (kt << 3) + (<i32>ctz<u64>(ft) >> 3);
  const y1 = (kb << 3) + ((63 - <i32>clz<u64>(fb)) >> 3) + 1;

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

  // Per corner column bi and each of its two sample columns a = xi, xi + 1 (t = 0, 1): T[k] = set samples in
  // [0, a) × [0, 8k) for the cell rows k = kt … kb + 1 (0 above, constant below), its cell column index (clamped to
  // [cl, cr + 1], where the row strips are kept) and the mask of its cut cell's sub-columns < a & 7.
  const tLen = kb - kt + 2;
  const colT = work;
  const rows = colT + <usize>align8((SIDE + 1) * 2 * tLen * 4); // the current corner row's two strips
  const rows1 = rows + (<usize>(Gx + 1) << 2);
  const colMeta = rows + <usize>align8(2 * (Gx + 1) * 4); // per (bi, t): cell index, strip index (i32), mask (u64)
  const xF = colMeta + (SIDE + 1) * 2 * 16;
  const cor = xF + (SIDE + 1) * 8;
  const span = iHi - iLo + 1;
  for (let b = iLo; b <= iHi; b++) {
    const X = clampf(cx + (<f64>b - C) / sx, <f64>x0, <f64>x1);
    let xi = <i32>Math.floor(X);
    if (xi >= x1) xi = x1 - 1; // keep xi + 1 ≤ x1: X = x1 is xi = x1 − 1 with fraction 1
    const bi = b - iLo;
    store<f64>(xF + (<usize>bi << 3), X - <f64>xi);
    for (let t = 0; t < 2; t++) {
      const a = xi + t;
      const ca = a >> 3, ua = a & 7;
      const meta = colMeta + (<usize>(bi * 2 + t) << 4);
      store<i32>(meta, min(ca, Gx - 1));
      store<i32>(meta, min(max(ca, cl), cr + 1), 4);
      store<u64>(meta, lowCols(ua), 8);
      colTable(colT + (<usize>((bi * 2 + t) * tLen) << 2), grid, Gx, pre, ca, lowCols(ua), kt, kb);
    }
  }
  for (let c = jLo; c <= jHi; c++) {
    const Y = clampf(cy + (<f64>c - C) / sy, <f64>y0, <f64>y1);
    let yi = <i32>Math.floor(Y);
    if (yi >= y1) yi = y1 - 1;
    const fy = Y - <f64>yi;
    // The two sample rows yi, yi + 1: cell row (clamped into the grid for the cut cell; into [kt, kb + 1] for T),
    // sub-row mask, and the strip of whole cells left of each cell column.
    const k0 = yi >> 3, k1 = (yi + 1) >> 3;
    const m0 = lowRows(yi & 7), m1 = lowRows((yi + 1) & 7);
    rowStrip(rows, grid, Gx, k0, m0, cl, cr);
    rowStrip(rows1, grid, Gx, k1, m1, cl, cr);
    const g0 = grid + (<usize>(min(k0, Gy - 1) * Gx) << 3), g1 = grid + (<usize>(min(k1, Gy - 1) * Gx) << 3);
    const t0 = <usize>(min(max(k0, kt), kb + 1) - kt) << 2, t1 = <usize>(min(max(k1, kt), kb + 1) - kt) << 2;
    const base = cor + (<usize>((c - jLo) * span) << 3);
    for (let bi = 0; bi < span; bi++) {
      const fx = load<f64>(xF + (<usize>bi << 3));
      const ma = colMeta + (<usize>bi << 5), mb = ma + 16;
      const ta = colT + (<usize>(bi * 2 * tLen) << 2), tb = ta + (<usize>tLen << 2);
      const cA = <usize>load<i32>(ma) << 3, sA = <usize>load<i32>(ma, 4) << 2, xA = load<u64>(ma, 8);
      const cB = <usize>load<i32>(mb) << 3, sB = <usize>load<i32>(mb, 4) << 2, xB = load<u64>(mb, 8);
      // S(a, b) = T_a[kb] + strip_b[ca] + popcnt(cut cell & sub-columns < a & 7 & sub-rows < b & 7).
      const s00 = <f64>(load<i32>(ta + t0) + load<i32>(rows + sA) + <i32>popcnt(load<u64>(g0 + cA) & xA & m0));
      const s10 = <f64>(load<i32>(tb + t0) + load<i32>(rows + sB) + <i32>popcnt(load<u64>(g0 + cB) & xB & m0));
      const s01 = <f64>(load<i32>(ta + t1) + load<i32>(rows1 + sA) + <i32>popcnt(load<u64>(g1 + cA) & xA & m1));
      const s11 = <f64>(load<i32>(tb + t1) + load<i32>(rows1 + sB) + <i32>popcnt(load<u64>(g1 + cB) & xB & m1));
      const ra = s00 + fx * (s10 - s00);
      const rb = s01 + fx * (s11 - s01);
      store<f64>(base + (<usize>bi << 3), ra + fy * (rb - ra));
    }
  }
  shrinkOut(out, cor, iLo, iHi, jLo, jHi, sx * sy);
  return 1;
}

/** The 8 bytes of w ORed into one (bit u set iff sub-column u is set in some sub-row). */
@inline
function foldBytes(w: u64): u32 {
  let f = w | (w >> 32);
  f |= f >> 16;
  f |= f >> 8;
  return <u32>(f & 0xff);
}

/** dst[k − kt] (k = kt … kb + 1) = set samples in [0, a) × [0, 8k), a = 8·ca + the sub-columns in `mask`: the
 * rows' cell prefix counts at ca plus the strip of cut cells (there is no ink outside cell rows kt … kb). */
function colTable(dst: usize, grid: usize, Gx: i32, pre: usize, ca: i32, mask: u64, kt: i32, kb: i32): void {
  let acc = 0;
  const cell = grid + (<usize>min(ca, Gx - 1) << 3); // ca = Gx only with an empty mask
  const pc = pre + (<usize>ca << 2);
  const stride = <usize>(Gx + 1) << 2;
  for (let k = kt; k <= kb; k++) {
    store<i32>(dst + (<usize>(k - kt) << 2), acc);
    acc += load<i32>(pc + <usize>k * stride) + <i32>popcnt(load<u64>(cell + (<usize>(k * Gx) << 3)) & mask);
  }
  store<i32>(dst + (<usize>(kb + 1 - kt) << 2), acc);
}

/** Rescans cell row k into its stats and prefix counts (see bitsStatsBytes). Per cell one scalar popcount for the
 * prefix and Σ p·8c; the in-cell moments two cells at a time with SIMD byte popcounts: x: Σ_u u·bit = popcnt(& X1) +
 * 2·popcnt(& X2) + 4·popcnt(& X4); y: the per-sub-row counts, summed over the row, dotted with 0 … 7. */
function rowScan(stats: usize, pre: usize, grid: usize, Gx: i32, k: i32): void {
  const cells = grid + ((<usize>(k * Gx)) << 3);
  const row = pre + <usize>(k * (Gx + 1)) * 4;
  const st = stats + <usize>(k * ROW_STATS);
  store<i32>(row, 0);
  let run = 0, cl = Gx, cr = -1;
  let rowMx: i64 = 0;
  for (let c = 0; c < Gx; c++) {
    const p = <i32>popcnt(load<u64>(cells + (<usize>c << 3)));
    run += p;
    rowMx += <i64>(p * c);
    if (p != 0) {
      if (c < cl) cl = c;
      cr = c;
    }
    store<i32>(row + (<usize>(c + 1) << 2), run);
  }
  store<i32>(st, run);
  store<i32>(st, cl, 4);
  store<i32>(st, cr, 8);
  if (run == 0) {
    store<i32>(st, 0, 12);
    store<i64>(st, 0, 16);
    return;
  }
  const vX1 = i64x2.splat(<i64>X1), vX2 = i64x2.splat(<i64>X2), vX4 = i64x2.splat(<i64>X4);
  const ramp = i16x8(0, 1, 2, 3, 4, 5, 6, 7);
  const ones = i16x8.splat(1);
  // Only the pairs of cells [cl, cr] (from an even offset from cl).
  const n = cr - cl + 1;
  const pairs = n >> 1;
  const base = cells + (<usize>cl << 3);
  let sub16 = i16x8.splat(0); // per-sub-row counts v of both cells of a pair, added
  let xq = i16x8.splat(0); // in-cell x moments, pairwise summed (≤ 56 a lane per pair: Gx ≤ 1170)
  for (let q0 = 0; q0 < pairs; q0 += 31) {
    let sub = i8x16.splat(0); // ≤ 8 a lane per pair: flushed every 31 pairs
    for (let q = q0, qe = min(pairs, q0 + 31); q < qe; q++) {
      const v = v128.load(base + (<usize>q << 4));
      sub = i8x16.add(sub, i8x16.popcnt(v));
      const x = i8x16.add(i8x16.add(i8x16.popcnt(v128.and(v, vX1)), i8x16.shl(i8x16.popcnt(v128.and(v, vX2)), 1)),
        i8x16.shl(i8x16.popcnt(v128.and(v, vX4)), 2));
      xq = i16x8.add(xq, i16x8.extadd_pairwise_i8x16_u(x));
    }
    sub16 = i16x8.add(sub16, i16x8.add(i16x8.extend_low_i8x16_u(sub), i16x8.extend_high_i8x16_u(sub)));
  }
  const xm = i32x4.dot_i16x8_s(xq, ones);
  const ym = i32x4.dot_i16x8_s(sub16, ramp);
  let xs = i32x4.extract_lane(xm, 0) + i32x4.extract_lane(xm, 1) + i32x4.extract_lane(xm, 2) + i32x4.extract_lane(xm, 3);
  let ys = i32x4.extract_lane(ym, 0) + i32x4.extract_lane(ym, 1) + i32x4.extract_lane(ym, 2) + i32x4.extract_lane(ym, 3);
  if ((n & 1) != 0) { // the odd last cell
    const w = load<u64>(cells + (<usize>cr << 3));
    xs += <i32>(popcnt(w & X1) + (popcnt(w & X2) << 1) + (popcnt(w & X4) << 2));
    ys += <i32>(popcnt(w & Y1) + (popcnt(w & Y2) << 1) + (popcnt(w & Y4) << 2));
  }
  store<i32>(st, ys, 12);
  store<i64>(st, (rowMx << 3) + <i64>xs, 16);
}

/** dst[c] (c = cl … cr + 1) = set samples of the sub-rows in `mask` of cell row k, in cell columns [0, c) (no ink
 * outside columns cl … cr). Nothing when the mask is empty (a row on a cell boundary). */
function rowStrip(dst: usize, grid: usize, Gx: i32, k: i32, mask: u64, cl: i32, cr: i32): void {
  let acc = 0;
  if (mask == 0) {
    for (let c = cl; c <= cr + 1; c++) store<i32>(dst + (<usize>c << 2), 0);
    return;
  }
  const cells = grid + (<usize>(k * Gx) << 3);
  for (let c = cl; c <= cr; c++) {
    store<i32>(dst + (<usize>c << 2), acc);
    acc += <i32>popcnt(load<u64>(cells + (<usize>c << 3)) & mask);
  }
  store<i32>(dst + (<usize>(cr + 1) << 2), acc);
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
