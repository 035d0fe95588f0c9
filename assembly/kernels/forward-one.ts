// One input row (B = 1) through a dense layer, and a whole MLP forward + softmax + argmax in one call: the live
// path predicts one image at a time, where the batched kernels' packing, strips and per-layer host calls cost more
// than the arithmetic.
//   x (C), W (C × OC) row-major (the training layout: no packed copy to keep in sync), b (OC), y (OC)
//   y[j] = act(b[j] + Σ_{k : x[k] ≠ 0} x[k] · W[k,j]),   act = ReLU or identity
// Dims: C = inputs, OC = outputs (as in matmul.ts / relu.ts). Skipping x's zeros pays twice: a digit is ~80% zero
// pixels, and on MNIST test digits ReLU zeroes ~68% of the default model's first hidden layer and ~58% of its
// second. Equal to the dense product whenever W is finite.
// Not here: batches (matmul.ts, matmul-sparse.ts), training, shape checks (src/nn/mlp.ts checks them once).

import { softmaxForward } from "./softmax-xent";
import { argmax } from "./argmax";

/** Bytes of `work` denseForwardOne and mlpPredictOne need for inputs of up to C values: one index per input. */
export function denseForwardOneWorkBytes(C: i32): usize {
  return (<usize>C + 4) << 2;
}

/** y = act(x·W + b) for one row, skipping x's zeros. Caller: mlpPredictOne, tests. y must not overlap x. */
export function denseForwardOne(y: usize, x: usize, w: usize, bias: usize, C: i32, OC: i32, relu: bool, work: usize): void {
  const n = gatherNonzeros(work, x, C);
  const ldw = <usize>OC << 2;
  const OC4 = OC & ~3;
  // y = b with a plain loop: V8 compiles memory.copy to a call out of wasm code (seen in --print-wasm-code).
  let j = 0;
  for (; j < OC4; j += 4) v128.store(y + (<usize>j << 2), v128.load(bias + (<usize>j << 2)));
  for (; j < OC; j++) store<f32>(y + (<usize>j << 2), load<f32>(bias + (<usize>j << 2)));
  // Four input rows at a time: each f32x4 of y is loaded and stored once per four rows of W, and the four rows are
  // each read front to back (contiguous, so the prefetcher streams them). Measured on (784 → 256), warm caches:
  // register-held 32-column strips of y over the non-zero list (rows read at a stride, 128 bytes each) ran 1.4×
  // slower; 8 columns per step instead of 4 ran the same (TurboFan already unrolls this loop 3×); 8 rows per step ran
  // ~1.1× slower (register pressure).
  let p = 0;
  for (; p + 4 <= n; p += 4) {
    const k0 = load<i32>(work + (<usize>p << 2)), k1 = load<i32>(work + (<usize>p << 2), 4);
    const k2 = load<i32>(work + (<usize>p << 2), 8), k3 = load<i32>(work + (<usize>p << 2), 12);
    const x0 = v128.load32_splat(x + (<usize>k0 << 2)), x1 = v128.load32_splat(x + (<usize>k1 << 2));
    const x2 = v128.load32_splat(x + (<usize>k2 << 2)), x3 = v128.load32_splat(x + (<usize>k3 << 2));
    const w0 = w + <usize>k0 * ldw, w1 = w + <usize>k1 * ldw, w2 = w + <usize>k2 * ldw, w3 = w + <usize>k3 * ldw;
    j = 0;
    for (; j < OC4; j += 4) {
      const o = <usize>j << 2;
      const s01 = f32x4.add(f32x4.mul(x0, v128.load(w0 + o)), f32x4.mul(x1, v128.load(w1 + o)));
      const s23 = f32x4.add(f32x4.mul(x2, v128.load(w2 + o)), f32x4.mul(x3, v128.load(w3 + o)));
      v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.add(s01, s23)));
    }
    for (; j < OC; j++) {
      const o = <usize>j << 2;
      const s01 = f32x4.extract_lane(x0, 0) * load<f32>(w0 + o) + f32x4.extract_lane(x1, 0) * load<f32>(w1 + o);
      const s23 = f32x4.extract_lane(x2, 0) * load<f32>(w2 + o) + f32x4.extract_lane(x3, 0) * load<f32>(w3 + o);
      store<f32>(y + o, load<f32>(y + o) + (s01 + s23));
    }
  }
  // The last 0–3 non-zeros, one row each.
  for (; p < n; p++) {
    const k0 = load<i32>(work + (<usize>p << 2));
    const x0 = v128.load32_splat(x + (<usize>k0 << 2));
    const w0 = w + <usize>k0 * ldw;
    j = 0;
    for (; j < OC4; j += 4) {
      const o = <usize>j << 2;
      v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(x0, v128.load(w0 + o))));
    }
    for (; j < OC; j++) {
      const o = <usize>j << 2;
      store<f32>(y + o, load<f32>(y + o) + f32x4.extract_lane(x0, 0) * load<f32>(w0 + o));
    }
  }
  if (relu) {
    const zero = f32x4.splat(0);
    j = 0;
    for (; j < OC4; j += 4) v128.store(y + (<usize>j << 2), f32x4.max(v128.load(y + (<usize>j << 2)), zero));
    for (; j < OC; j++) store<f32>(y + (<usize>j << 2), max<f32>(load<f32>(y + (<usize>j << 2)), 0));
  }
}

// idx[0..n) = the k with x[k] ≠ 0, ascending; returns n. Branch-free, because a branch per quad mispredicts at every
// stroke edge (measured on MNIST test digits with OC = 4, where this scan dominates: 0.95 µs per call with a skip of
// all-zero quads and per-lane stores, 0.48 µs this way): per quad, the non-zero lanes' indices are packed to the
// front with one swizzle from PACK[mask] and stored whole, and n advances by popcnt(mask). The store writes up to 3
// slots past n (hence C + 4 slots of work); a later quad or the tail overwrites them.
@inline
function gatherNonzeros(idx: usize, x: usize, C: i32): i32 {
  const C4 = C & ~3;
  const zero = f32x4.splat(0);
  const four = i32x4.splat(4);
  let kv = i32x4(0, 1, 2, 3);
  let n = 0;
  let k = 0;
  for (; k < C4; k += 4) {
    const mask = i32x4.bitmask(f32x4.ne(v128.load(x + (<usize>k << 2)), zero));
    v128.store(idx + (<usize>n << 2), i8x16.swizzle(kv, v128.load(PACK + (<usize>mask << 4))));
    n += popcnt(mask);
    kv = i32x4.add(kv, four);
  }
  for (; k < C; k++) {
    store<i32>(idx + (<usize>n << 2), k);
    n += i32(load<f32>(x + (<usize>k << 2)) != 0);
  }
  return n;
}

// PACK[m] (16 bytes each, m = a 4-bit lane mask): the i8x16.swizzle that moves the i32 lanes set in m to the front
// in order; indices ≥ 16 (0x80) give zero bytes for the rest.
const PACK: usize = memory.data<u8>([
  128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  4, 5, 6, 7, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 4, 5, 6, 7, 128, 128, 128, 128, 128, 128, 128, 128,
  8, 9, 10, 11, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 8, 9, 10, 11, 128, 128, 128, 128, 128, 128, 128, 128,
  4, 5, 6, 7, 8, 9, 10, 11, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 128, 128, 128, 128,
  12, 13, 14, 15, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 12, 13, 14, 15, 128, 128, 128, 128, 128, 128, 128, 128,
  4, 5, 6, 7, 12, 13, 14, 15, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 128, 128, 128, 128,
  8, 9, 10, 11, 12, 13, 14, 15, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 128, 128, 128, 128,
  4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 128, 128, 128, 128,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
], 16);

/** Scalar twin of denseForwardOne: the plain double loop with the zero test. */
export function denseForwardOneScalar(y: usize, x: usize, w: usize, bias: usize, C: i32, OC: i32, relu: bool): void {
  memory.copy(y, bias, <usize>OC << 2);
  for (let k = 0; k < C; k++) {
    const xk = load<f32>(x + (<usize>k << 2));
    if (xk == 0) continue;
    for (let j = 0; j < OC; j++) {
      const at = y + (<usize>j << 2);
      store<f32>(at, load<f32>(at) + xk * load<f32>(w + ((<usize>k * OC + j) << 2)));
    }
  }
  if (relu) for (let j = 0; j < OC; j++) store<f32>(y + (<usize>j << 2), max<f32>(load<f32>(y + (<usize>j << 2)), 0));
}

/** Bytes per layer in mlpPredictOne's `plan`: six i32 (y, x, W, b pointers, then C, OC). */
export const PLAN_LAYER_BYTES: i32 = 24;

/** The whole forward pass of one row: for l < L, plan[l] = (y_l, x_l, W_l, b_l, C_l, OC_l) runs denseForwardOne with
 * ReLU on every layer but the last; then probs = softmax(y_{L-1}) and returns its argmax (first index on ties).
 * One host call per prediction. `work` holds denseForwardOneWorkBytes(max C_l) bytes. Caller: Mlp.predictOne. */
export function mlpPredictOne(probs: usize, plan: usize, L: i32, work: usize): i32 {
  let OC = 0, y: usize = 0;
  for (let l = 0; l < L; l++) {
    const at = plan + <usize>l * PLAN_LAYER_BYTES;
    y = <usize>load<i32>(at);
    OC = load<i32>(at, 20);
    denseForwardOne(y, <usize>load<i32>(at, 4), <usize>load<i32>(at, 8), <usize>load<i32>(at, 12),
      load<i32>(at, 16), OC, l + 1 < L, work);
  }
  softmaxForward(probs, y, 1, OC);
  argmax(work, probs, 1, OC);
  return load<i32>(work);
}

