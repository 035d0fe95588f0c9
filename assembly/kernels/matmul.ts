// Matrix multiply in the three layouts backprop needs, on f32 row-major buffers in linear memory.
//   NN: C(M×N) = A(M×K) · B(K×N)        forward       Y  = X · W
//   NT: C(M×N) = A(M×K) · Bᵀ, B is N×K  input grad    dX = dY · Wᵀ
//   TN: C(M×N) = Aᵀ · B,  A is K×M      weight grad   dW = Xᵀ · dY
// C[i,j] = (accumulate ? C[i,j] : 0) + Σ_k op(A)[i,k] · op(B)[k,j]
// All buffers are dense (leading dimension = row length) and must not overlap C.
// Fast path (GotoBLAS scheme, see: Goto & van de Geijn, "Anatomy of high-performance matrix multiplication"):
//   for each KC-deep slab of k: pack op(B) into NR-wide column panels (zero-padded), then for each MC block of
//   rows, for each panel, run the MR×NR register-blocked micro-kernel straight off A's rows (A needs no packing:
//   both layouts give the micro-kernel a constant row stride and a constant k stride). Partial tiles at the
//   edges read a zero-padded copy of A's last rows and store through a scratch tile, so every shape works.
// Not here: threads, shape validation (the host checks shapes once), and any allocation (callers pass `work`).

/** Rows per micro-tile: 4 rows × 2 f32x4 = 8 accumulators, leaving x64 V8 enough xmm registers for loads. */
export const MR: i32 = 4;
/** Columns per micro-tile (two f32x4). */
export const NR: i32 = 8;
/** k-slab depth: one packed B panel (KC×NR×4 = 8 KiB) stays in L1 while a whole MC block streams past it. */
export const KC: i32 = 256;
/** Rows per block: an MC×KC block of A (128 KiB) stays in L2 while every B panel of the slab uses it. */
export const MC: i32 = 128;

/** Bytes of scratch `work` that matmul needs for these dims (packed B slab + packed A block + one C tile). */
export function matmulWorkBytes(M: i32, K: i32, N: i32): usize {
  const kc = min(K, KC);
  const panels = (N + NR - 1) / NR;
  return (<usize>kc * <usize>(panels * NR) + <usize>(MC * kc) + <usize>(MR * NR)) * 4;
}

// ---------------------------------------------------------------------------------------------------------------
// Scalar twins: the plain triple loop, used as the baseline in the benchmark and as an in-wasm cross-check.

/** Scalar twin of matmulNN. Caller: tests and bench (baseline). */
export function matmulNNScalar(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, accumulate: bool): void {
  matmulScalar(c, a, K, 1, b, N, 1, M, K, N, accumulate);
}

/** Scalar twin of matmulNT. */
export function matmulNTScalar(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, accumulate: bool): void {
  matmulScalar(c, a, K, 1, b, 1, K, M, K, N, accumulate);
}

/** Scalar twin of matmulTN. */
export function matmulTNScalar(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, accumulate: bool): void {
  matmulScalar(c, a, 1, M, b, N, 1, M, K, N, accumulate);
}

// The plain triple loop over element strides: op(A)[i,k] = a[i·ai + k·ak], op(B)[k,j] = b[k·bk + j·bj].
@inline
function matmulScalar(c: usize, a: usize, ai: i32, ak: i32, b: usize, bk: i32, bj: i32,
                      M: i32, K: i32, N: i32, accumulate: bool): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      const at = c + ((<usize>i * N + j) << 2);
      let s: f32 = accumulate ? load<f32>(at) : 0;
      for (let k = 0; k < K; k++) {
        s += load<f32>(a + (<usize>(i * ai + k * ak) << 2)) * load<f32>(b + (<usize>(k * bk + j * bj) << 2));
      }
      store<f32>(at, s);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// SIMD path.

/** C = A·B (A: M×K, B: K×N). Caller: nn forward. `work` holds matmulWorkBytes(M,K,N) bytes, 16-byte aligned. */
export function matmulNN(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, accumulate: bool, work: usize): void {
  if (M < MR) rowsNN(c, a, <usize>K << 2, 4, b, M, K, N, accumulate);
  else gemm(c, a, <usize>K << 2, 4, b, false, M, K, N, accumulate, work);
}

/** C = A·Bᵀ (A: M×K, B: N×K). Caller: nn backward (input gradient). */
export function matmulNT(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, accumulate: bool, work: usize): void {
  if (M < MR) rowsNT(c, a, b, M, K, N, accumulate);
  else gemm(c, a, <usize>K << 2, 4, b, true, M, K, N, accumulate, work);
}

/** C = Aᵀ·B (A: K×M, B: K×N). Caller: nn backward (weight gradient). */
export function matmulTN(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, accumulate: bool, work: usize): void {
  if (M < MR) rowsNN(c, a, 4, <usize>M << 2, b, M, K, N, accumulate);
  else gemm(c, a, 4, <usize>M << 2, b, false, M, K, N, accumulate, work);
}

// A is addressed as A'[i,k] = A + i·rs + k·ks (bytes): NN has (rs, ks) = (4K, 4), TN has (4, 4M).
function gemm(c: usize, a: usize, rs: usize, ks: usize, b: usize, transB: bool,
              M: i32, K: i32, N: i32, accumulate: bool, work: usize): void {
  const panels = (N + NR - 1) / NR;
  const kcMax = min(K, KC);
  // work layout (matches matmulWorkBytes): packed B slab | packed A block | scratch tile.
  const packB = work;
  const packA = packB + ((<usize>kcMax * <usize>(panels * NR)) << 2);
  const tile = packA + ((<usize>kcMax * <usize>MC) << 2);
  const ldc = <usize>N << 2;
  for (let p0 = 0; p0 < K; p0 += KC) {
    const kc = min(KC, K - p0);
    const acc = accumulate || p0 > 0;
    if (transB) packPanelsT(packB, b + (<usize>p0 << 2), K, N, kc);
    else packPanels(packB, b + ((<usize>p0 * N) << 2), N, kc);
    const aSlab = a + <usize>p0 * ks;
    for (let i0 = 0; i0 < M; i0 += MC) {
      const mc = min(MC, M - i0);
      packBlockA(packA, aSlab + <usize>i0 * rs, rs, ks, mc, kc);
      for (let jp = 0; jp < panels; jp++) {
        const j0 = jp * NR;
        const pb = packB + ((<usize>jp * kc * NR) << 2);
        const cols = min(NR, N - j0);
        for (let i = 0; i < mc; i += MR) {
          micro(packA + ((<usize>i * kc) << 2), pb, kc, c + <usize>(i0 + i) * ldc + (<usize>j0 << 2), ldc, acc,
                min(MR, mc - i), cols, tile);
        }
      }
    }
  }
}

// Pack an mc×kc block of A' into MR-row panels, k-major: panel q holds, for each k, A'[q·MR .. q·MR+MR, k], zero
// beyond mc. The micro-kernel then reads A with one pointer and constant offsets. Row-major A (ks = 4) is
// transposed 4×4 in registers; column-major A (rs = 4) copies one f32x4 per k.
function packBlockA(dst: usize, a: usize, rs: usize, ks: usize, mc: i32, kc: i32): void {
  const kc4 = kc & ~3;
  for (let i = 0; i < mc; i += MR) {
    const rows = min(MR, mc - i);
    const d0 = dst + ((<usize>i * kc) << 2);
    const src = a + <usize>i * rs;
    if (rows == MR && rs == 4) {
      for (let k = 0; k < kc; k++) v128.store(d0 + (<usize>k << 4), v128.load(src + <usize>k * ks));
    } else if (rows == MR && ks == 4) {
      const r0 = src, r1 = r0 + rs, r2 = r1 + rs, r3 = r2 + rs;
      for (let k = 0; k < kc4; k += 4) {
        const o = <usize>k << 2;
        transpose4(d0 + (<usize>k << 4), v128.load(r0 + o), v128.load(r1 + o), v128.load(r2 + o), v128.load(r3 + o), 16);
      }
      for (let k = kc4; k < kc; k++) {
        const o = <usize>k << 2;
        const d = d0 + (<usize>k << 4);
        store<f32>(d, load<f32>(r0 + o));
        store<f32>(d, load<f32>(r1 + o), 4);
        store<f32>(d, load<f32>(r2 + o), 8);
        store<f32>(d, load<f32>(r3 + o), 12);
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let r = 0; r < MR; r++) {
          const v: f32 = r < rows ? load<f32>(src + <usize>r * rs + <usize>k * ks) : 0;
          store<f32>(d0 + ((<usize>(k * MR + r)) << 2), v);
        }
      }
    }
  }
}

// Stores the transpose of the 4×4 block whose rows are x0..x3: column j goes to d + j·stride.
@inline
function transpose4(d: usize, x0: v128, x1: v128, x2: v128, x3: v128, stride: usize): void {
  const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
  v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(d + stride, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(d + 2 * stride, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(d + 3 * stride, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

// Pack B[k, j] (row-major K×N slab of kc rows starting at b) into panels: panel jp holds, for each k, the NR values
// B[k, jp·NR .. jp·NR+NR), zero beyond N. Full panels copy two f32x4 per k.
function packPanels(dst: usize, b: usize, N: i32, kc: i32): void {
  const full = N / NR;
  const ldb = <usize>N << 2;
  for (let jp = 0; jp < full; jp++) {
    let src = b + (<usize>(jp * NR) << 2);
    let d = dst + ((<usize>jp * kc * NR) << 2);
    for (let k = 0; k < kc; k++) {
      v128.store(d, v128.load(src));
      v128.store(d, v128.load(src, 16), 16);
      src += ldb;
      d += NR << 2;
    }
  }
  if (full * NR < N) {
    const j0 = full * NR;
    let d = dst + ((<usize>full * kc * NR) << 2);
    for (let k = 0; k < kc; k++) {
      for (let j = 0; j < NR; j++) {
        store<f32>(d + (<usize>j << 2), j0 + j < N ? load<f32>(b + ((<usize>k * N + j0 + j) << 2)) : 0);
      }
      d += NR << 2;
    }
  }
}

// Pack Bᵀ: the logical B[k, j] is stored at b[j·K + k] (B is N×K; `b` already offset to the slab's first k).
// Full 4×4 blocks are transposed in registers: 4 rows of B (4 consecutive j) × 4 consecutive k.
function packPanelsT(dst: usize, b: usize, K: i32, N: i32, kc: i32): void {
  const panels = (N + NR - 1) / NR;
  const ldb = <usize>K << 2;
  const kc4 = kc & ~3;
  for (let jp = 0; jp < panels; jp++) {
    const j0 = jp * NR;
    const d0 = dst + ((<usize>jp * kc * NR) << 2);
    for (let h = 0; h < NR; h += 4) {
      const jh = j0 + h;
      if (jh + 4 <= N) {
        const r0 = b + <usize>jh * ldb;
        const r1 = r0 + ldb, r2 = r1 + ldb, r3 = r2 + ldb;
        for (let k = 0; k < kc4; k += 4) {
          const o = <usize>k << 2;
          transpose4(d0 + ((<usize>(k * NR + h)) << 2), v128.load(r0 + o), v128.load(r1 + o), v128.load(r2 + o),
                     v128.load(r3 + o), NR << 2);
        }
        for (let k = kc4; k < kc; k++) {
          const o = <usize>k << 2;
          const d = d0 + ((<usize>(k * NR + h)) << 2);
          store<f32>(d, load<f32>(r0 + o));
          store<f32>(d, load<f32>(r1 + o), 4);
          store<f32>(d, load<f32>(r2 + o), 8);
          store<f32>(d, load<f32>(r3 + o), 12);
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let j = 0; j < 4; j++) {
            const v: f32 = jh + j < N ? load<f32>(b + <usize>(jh + j) * ldb + (<usize>k << 2)) : 0;
            store<f32>(d0 + ((<usize>(k * NR + h + j)) << 2), v);
          }
        }
      }
    }
  }
}

// The MR×NR micro-kernel: acc[r][0..8) = Σ_k Ap[k,r] · Bp[k, 0..8) over one packed A panel (MR floats per k)
// and one packed B panel (NR floats per k); then C[r, 0..cols) (+)= acc for r < rows. Each k step is 2 loads of B,
// 4 broadcast loads of A and 8 mul+add pairs (no FMA in baseline wasm SIMD): 16 flops per pointer update and branch.
@inline
function micro(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, accumulate: bool,
               rows: i32, cols: i32, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let x = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(x, b0)); c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(x, b0)); c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(x, b0)); c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(x, b0)); c31 = f32x4.add(c31, f32x4.mul(x, b1));
    pa += 16;
    pb += 32;
  }
  if (rows == MR && cols == NR) {
    storeRow(c, c00, c01, accumulate);
    storeRow(c + ldc, c10, c11, accumulate);
    storeRow(c + 2 * ldc, c20, c21, accumulate);
    storeRow(c + 3 * ldc, c30, c31, accumulate);
  } else {
    // Edge tile: spill the accumulators to the scratch tile, copy the valid part.
    v128.store(tile, c00); v128.store(tile, c01, 16);
    v128.store(tile, c10, 32); v128.store(tile, c11, 48);
    v128.store(tile, c20, 64); v128.store(tile, c21, 80);
    v128.store(tile, c30, 96); v128.store(tile, c31, 112);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) {
        const dst = c + <usize>r * ldc + (<usize>j << 2);
        const v = load<f32>(tile + ((<usize>(r * NR + j)) << 2));
        store<f32>(dst, accumulate ? load<f32>(dst) + v : v);
      }
    }
  }
}

@inline
function storeRow(c: usize, x0: v128, x1: v128, accumulate: bool): void {
  if (accumulate) {
    x0 = f32x4.add(x0, v128.load(c));
    x1 = f32x4.add(x1, v128.load(c, 16));
  }
  v128.store(c, x0);
  v128.store(c, x1, 16);
}

// Few rows (M < MR, e.g. batch-1 inference): packing B would cost as much as the product itself, so stream B's rows
// directly. For each row i and each 16-column strip: acc[0..4) = Σ_k A'[i,k] · B[k, j..j+16) — one broadcast and
// four loads per 4 mul+add pairs, B read in one 64-byte line per row. Measured: 16-column strips run ~1.7× faster
// than 8- or 32-column ones (and than unrolling k) under V8 on (1,784,256). Column tails: 4-wide, then scalar.
function rowsNN(c: usize, a: usize, rs: usize, ks: usize, b: usize, M: i32, K: i32, N: i32, accumulate: bool): void {
  const ldb = <usize>N << 2;
  for (let i = 0; i < M; i++) {
    const ai = a + <usize>i * rs;
    const ci = c + <usize>i * ldb;
    let j = 0;
    for (; j + 16 <= N; j += 16) {
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      let pa = ai;
      let pb = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        const x = v128.load32_splat(pa);
        s0 = f32x4.add(s0, f32x4.mul(x, v128.load(pb)));
        s1 = f32x4.add(s1, f32x4.mul(x, v128.load(pb, 16)));
        s2 = f32x4.add(s2, f32x4.mul(x, v128.load(pb, 32)));
        s3 = f32x4.add(s3, f32x4.mul(x, v128.load(pb, 48)));
        pa += ks;
        pb += ldb;
      }
      const cj = ci + (<usize>j << 2);
      storeRow(cj, s0, s1, accumulate);
      storeRow(cj + 32, s2, s3, accumulate);
    }
    for (; j + 4 <= N; j += 4) {
      let s = f32x4.splat(0);
      let pa = ai;
      let pb = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        s = f32x4.add(s, f32x4.mul(v128.load32_splat(pa), v128.load(pb)));
        pa += ks;
        pb += ldb;
      }
      const cj = ci + (<usize>j << 2);
      v128.store(cj, accumulate ? f32x4.add(s, v128.load(cj)) : s);
    }
    for (; j < N; j++) {
      let s: f32 = 0;
      let pa = ai;
      let pb = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        s += load<f32>(pa) * load<f32>(pb);
        pa += ks;
        pb += ldb;
      }
      const cj = ci + (<usize>j << 2);
      store<f32>(cj, accumulate ? load<f32>(cj) + s : s);
    }
  }
}

// Few rows of A·Bᵀ: both operands run along k, so each C[i,j] is a dot product of two contiguous rows. Four rows of B
// at a time share each f32x4 load of A; the four lane-wise partial sums are reduced once at the end.
function rowsNT(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, accumulate: bool): void {
  const lda = <usize>K << 2;
  const K4 = K & ~3;
  for (let i = 0; i < M; i++) {
    const ai = a + <usize>i * lda;
    const ci = c + ((<usize>i * N) << 2);
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const b0 = b + <usize>j * lda, b1 = b0 + lda, b2 = b1 + lda, b3 = b2 + lda;
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const o = <usize>k << 2;
        const x = v128.load(ai + o);
        s0 = f32x4.add(s0, f32x4.mul(x, v128.load(b0 + o)));
        s1 = f32x4.add(s1, f32x4.mul(x, v128.load(b1 + o)));
        s2 = f32x4.add(s2, f32x4.mul(x, v128.load(b2 + o)));
        s3 = f32x4.add(s3, f32x4.mul(x, v128.load(b3 + o)));
      }
      // Transpose-and-add: lane r of the result is the full sum of s_r.
      const t0 = f32x4.add(v128.shuffle<f32>(s0, s1, 0, 4, 1, 5), v128.shuffle<f32>(s0, s1, 2, 6, 3, 7));
      const t1 = f32x4.add(v128.shuffle<f32>(s2, s3, 0, 4, 1, 5), v128.shuffle<f32>(s2, s3, 2, 6, 3, 7));
      let sum = f32x4.add(v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
      for (let k = K4; k < K; k++) {
        const o = <usize>k << 2;
        const x = load<f32>(ai + o);
        sum = f32x4.add(sum, f32x4(x * load<f32>(b0 + o), x * load<f32>(b1 + o), x * load<f32>(b2 + o), x * load<f32>(b3 + o)));
      }
      const cj = ci + (<usize>j << 2);
      v128.store(cj, accumulate ? f32x4.add(sum, v128.load(cj)) : sum);
    }
    for (; j < N; j++) {
      const bj = b + <usize>j * lda;
      let s = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const o = <usize>k << 2;
        s = f32x4.add(s, f32x4.mul(v128.load(ai + o), v128.load(bj + o)));
      }
      let t: f32 = (f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
      for (let k = K4; k < K; k++) t += load<f32>(ai + (<usize>k << 2)) * load<f32>(bj + (<usize>k << 2));
      const cj = ci + (<usize>j << 2);
      store<f32>(cj, accumulate ? load<f32>(cj) + t : t);
    }
  }
}
