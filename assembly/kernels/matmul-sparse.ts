// Products that skip the zeros of A: the first layer's input is a normalised digit, ~80% exact zeros, so its
// forward product and its weight gradient do ~5× fewer multiply-adds this way.
//   SparseNN: C(M×N) = A(M×K) · B(K×N), A sparse      forward       Y  = X · W
//   SparseTN: C(M×N) = Aᵀ · B,  A is K×M and sparse    weight grad   dW = Xᵀ · dY
// C[i,j] = (accumulate ? C[i,j] : 0) + Σ_{k : A'[i,k] ≠ 0} A'[i,k] · B[k,j]
// Equal to the dense product whenever B is finite (0·Inf = NaN is the only difference). Each row of C is built
// from a list of (k, A'[i,k]) pairs: for NN gathered per row of A; for TN gathered per column of A with a counting
// sort (CSC). Then, strip by strip of 16 columns, each row of C is summed in registers while it walks its list.
// Not here: deciding when sparsity pays (the host measures density), allocation (callers pass `work`).

/** Bytes of `work` matmulSparseNN/TN need: an index and a value per potential non-zero, plus column offsets. */
export function matmulSparseWorkBytes(M: i32, K: i32, N: i32): usize {
  return (<usize>K * <usize>M * 2 + <usize>M + 1 + <usize>K) << 2;
}

/** C = A·B skipping A's zeros (A: M×K, B: K×N). Caller: nn forward of the input layer. */
export function matmulSparseNN(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, accumulate: bool, work: usize): void {
  // CSR of A: start[i] .. start[i+1] are row i's non-zeros in k order.
  const start = work;
  const idx = start + ((<usize>M + 1) << 2);
  const val = idx + ((<usize>K * M) << 2);
  const K4 = K & ~3;
  const ldb = N << 2;
  const zero = f32x4.splat(0);
  let n = 0;
  store<i32>(start, 0);
  for (let i = 0; i < M; i++) {
    const row = a + ((<usize>i * K) << 2);
    // A bitmask per 4 lanes skips all-zero quads (the common case) with one test.
    let k = 0;
    for (; k < K4; k += 4) {
      let mask = i32x4.bitmask(f32x4.ne(v128.load(row + (<usize>k << 2)), zero));
      while (mask != 0) {
        const kk = k + ctz(mask);
        store<i32>(idx + (<usize>n << 2), kk * ldb);
        store<f32>(val + (<usize>n << 2), load<f32>(row + (<usize>kk << 2)));
        n++;
        mask &= mask - 1;
      }
    }
    for (; k < K; k++) {
      const x = load<f32>(row + (<usize>k << 2));
      if (x != 0) {
        store<i32>(idx + (<usize>n << 2), k * ldb);
        store<f32>(val + (<usize>n << 2), x);
        n++;
      }
    }
    store<i32>(start + (<usize>(i + 1) << 2), n);
  }
  sparseProduct(c, start, idx, val, M, b, N, accumulate);
}

/** C = Aᵀ·B skipping A's zeros (A: K×M, B: K×N). Caller: nn backward of the input layer (weight gradient). */
export function matmulSparseTN(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, accumulate: bool, work: usize): void {
  // CSC of A by counting sort: count each column's non-zeros into start[i+1], prefix-sum, then fill using start[i]
  // as a cursor (which leaves start[i] at the end of column i) and shift back.
  const start = work;
  const idx = start + ((<usize>M + 1) << 2);
  const val = idx + ((<usize>K * M) << 2);
  memory.fill(start, 0, (<usize>M + 1) << 2);
  for (let k = 0; k < K; k++) {
    const row = a + ((<usize>k * M) << 2);
    for (let i = 0; i < M; i++) {
      if (load<f32>(row + (<usize>i << 2)) != 0) {
        const at = start + (<usize>(i + 1) << 2);
        store<i32>(at, load<i32>(at) + 1);
      }
    }
  }
  for (let i = 0; i < M; i++) {
    const at = start + (<usize>(i + 1) << 2);
    store<i32>(at, load<i32>(at) + load<i32>(at - 4));
  }
  for (let k = 0; k < K; k++) {
    const row = a + ((<usize>k * M) << 2);
    for (let i = 0; i < M; i++) {
      const x = load<f32>(row + (<usize>i << 2));
      if (x != 0) {
        const at = start + (<usize>i << 2);
        const slot = load<i32>(at);
        store<i32>(idx + (<usize>slot << 2), k * (N << 2));
        store<f32>(val + (<usize>slot << 2), x);
        store<i32>(at, slot + 1);
      }
    }
  }
  for (let i = M; i > 0; i--) store<i32>(start + (<usize>i << 2), load<i32>(start + (<usize>(i - 1) << 2)));
  store<i32>(start, 0);
  sparseProduct(c, start, idx, val, M, b, N, accumulate);
}

// C[i, 0..N) (+)= Σ_{p ∈ [start[i], start[i+1])} val[p] · B[k_p, 0..N) for every row i, where idx[p] = k_p·4N is
// the byte offset of B's row k_p (stored pre-multiplied: it saves a multiply on the hot path). Column strips are the
// outer loop so that one 16-column strip of B (64 bytes per row) stays in L1 while every row of C walks its list;
// within a strip, 4 accumulators take one broadcast and four loads per pair. Then 4-wide and scalar column tails.
function sparseProduct(c: usize, start: usize, idx: usize, val: usize, M: i32, b: usize, N: i32, accumulate: bool): void {
  let j = 0;
  for (; j + 16 <= N; j += 16) {
    const bj = b + (<usize>j << 2);
    for (let i = 0; i < M; i++) {
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      const end = load<i32>(start + (<usize>(i + 1) << 2));
      for (let p = load<i32>(start + (<usize>i << 2)); p < end; p++) {
        const x = v128.load32_splat(val + (<usize>p << 2));
        const pb = bj + <usize>load<i32>(idx + (<usize>p << 2));
        s0 = f32x4.add(s0, f32x4.mul(x, v128.load(pb)));
        s1 = f32x4.add(s1, f32x4.mul(x, v128.load(pb, 16)));
        s2 = f32x4.add(s2, f32x4.mul(x, v128.load(pb, 32)));
        s3 = f32x4.add(s3, f32x4.mul(x, v128.load(pb, 48)));
      }
      const cj = c + ((<usize>i * N + j) << 2);
      if (accumulate) {
        s0 = f32x4.add(s0, v128.load(cj)); s1 = f32x4.add(s1, v128.load(cj, 16));
        s2 = f32x4.add(s2, v128.load(cj, 32)); s3 = f32x4.add(s3, v128.load(cj, 48));
      }
      v128.store(cj, s0); v128.store(cj, s1, 16); v128.store(cj, s2, 32); v128.store(cj, s3, 48);
    }
  }
  for (; j + 4 <= N; j += 4) {
    const bj = b + (<usize>j << 2);
    for (let i = 0; i < M; i++) {
      let s = f32x4.splat(0);
      const end = load<i32>(start + (<usize>(i + 1) << 2));
      for (let p = load<i32>(start + (<usize>i << 2)); p < end; p++) {
        s = f32x4.add(s, f32x4.mul(v128.load32_splat(val + (<usize>p << 2)), v128.load(bj + <usize>load<i32>(idx + (<usize>p << 2)))));
      }
      const cj = c + ((<usize>i * N + j) << 2);
      v128.store(cj, accumulate ? f32x4.add(s, v128.load(cj)) : s);
    }
  }
  for (; j < N; j++) {
    const bj = b + (<usize>j << 2);
    for (let i = 0; i < M; i++) {
      let s: f32 = 0;
      const end = load<i32>(start + (<usize>(i + 1) << 2));
      for (let p = load<i32>(start + (<usize>i << 2)); p < end; p++) {
        s += load<f32>(val + (<usize>p << 2)) * load<f32>(bj + <usize>load<i32>(idx + (<usize>p << 2)));
      }
      const cj = c + ((<usize>i * N + j) << 2);
      store<f32>(cj, accumulate ? load<f32>(cj) + s : s);
    }
  }
}

/** Scalar twin of matmulSparseNN: the triple loop with the zero test. */
export function matmulSparseNNScalar(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, accumulate: bool): void {
  for (let i = 0; i < M; i++) {
    const ci = c + ((<usize>i * N) << 2);
    if (!accumulate) memory.fill(ci, 0, <usize>N << 2);
    for (let k = 0; k < K; k++) {
      const x = load<f32>(a + ((<usize>i * K + k) << 2));
      if (x == 0) continue;
      for (let j = 0; j < N; j++) {
        const at = ci + (<usize>j << 2);
        store<f32>(at, load<f32>(at) + x * load<f32>(b + ((<usize>k * N + j) << 2)));
      }
    }
  }
}

/** Scalar twin of matmulSparseTN. */
export function matmulSparseTNScalar(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, accumulate: bool): void {
  if (!accumulate) memory.fill(c, 0, (<usize>M * N) << 2);
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < M; i++) {
      const x = load<f32>(a + ((<usize>k * M + i) << 2));
      if (x == 0) continue;
      const ci = c + ((<usize>i * N) << 2);
      for (let j = 0; j < N; j++) {
        const at = ci + (<usize>j << 2);
        store<f32>(at, load<f32>(at) + x * load<f32>(b + ((<usize>k * N + j) << 2)));
      }
    }
  }
}
