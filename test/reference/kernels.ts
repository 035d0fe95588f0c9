// Plain-TypeScript oracles for every kernel in assembly/kernels/, written from the formulas alone, independently of
// the wasm code: straightforward loops accumulating in f64 (JS numbers). Inputs are read as given (f32 values);
// outputs are f64 arrays, so comparisons measure the kernels' f32 rounding and nothing else.

export type Layout = 'NN' | 'NT' | 'TN';

/** C(M×N) = op(A)·op(B) [+ C0]. NN: A M×K, B K×N. NT: B is N×K. TN: A is K×M. */
export function matmulRef(
  layout: Layout, a: ArrayLike<number>, b: ArrayLike<number>, M: number, K: number, N: number,
  c0?: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = c0 ? c0[i * N + j]! : 0;
      for (let k = 0; k < K; k++) {
        const x = layout === 'TN' ? a[k * M + i]! : a[i * K + k]!;
        const y = layout === 'NT' ? b[j * K + k]! : b[k * N + j]!;
        s += x * y;
      }
      out[i * N + j] = s;
    }
  }
  return out;
}

/** out[b,c] = inp[b,c] + bias[c], then max(0, ·) when relu. */
export function biasReluForwardRef(inp: ArrayLike<number>, bias: ArrayLike<number>, B: number, C: number, relu: boolean): Float64Array {
  const out = new Float64Array(B * C);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const x = inp[b * C + c]! + bias[c]!;
      out[b * C + c] = relu ? Math.max(0, x) : x;
    }
  }
  return out;
}

/** dinp = dout where the forward output was positive, else 0. */
export function reluBackwardRef(dout: ArrayLike<number>, out: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: dout.length }, (_, i) => (out[i]! > 0 ? dout[i]! : 0));
}

/** dbias[c] = (dbias0[c]) + Σ_b dout[b,c]. */
export function biasBackwardRef(dout: ArrayLike<number>, B: number, C: number, dbias0?: ArrayLike<number>): Float64Array {
  const out = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let s = dbias0 ? dbias0[c]! : 0;
    for (let b = 0; b < B; b++) s += dout[b * C + c]!;
    out[c] = s;
  }
  return out;
}

/** Row-wise softmax and per-row loss −log p[t] (targets optional), computed as logsumexp in f64. */
export function softmaxXentRef(
  logits: ArrayLike<number>, B: number, C: number, targets?: ArrayLike<number>,
): { probs: Float64Array; losses: Float64Array; meanLoss: number } {
  const probs = new Float64Array(B * C);
  const losses = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, logits[b * C + c]!);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(logits[b * C + c]! - m);
    for (let c = 0; c < C; c++) probs[b * C + c] = Math.exp(logits[b * C + c]! - m) / s;
    // log s − (z_t − m), not logsumexp − z_t: stays exact when |m| is so large that m + log s rounds to m.
    if (targets) losses[b] = Math.log(s) - (logits[b * C + targets[b]!]! - m);
  }
  const meanLoss = B > 0 ? losses.reduce((x, y) => x + y, 0) / B : 0;
  return { probs, losses, meanLoss };
}

/** dlogits[b,c] = scale·(p[b,c] − [c = t_b]). */
export function softmaxXentBackwardRef(
  probs: ArrayLike<number>, targets: ArrayLike<number>, B: number, C: number, scale: number,
): Float64Array {
  const out = new Float64Array(B * C);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) out[b * C + c] = scale * (probs[b * C + c]! - (c === targets[b] ? 1 : 0));
  }
  return out;
}

/** One SGD-with-momentum step; returns the new (param, velocity). */
export function sgdMomentumRef(
  param: ArrayLike<number>, grad: ArrayLike<number>, velocity: ArrayLike<number>,
  lr: number, momentum: number, weightDecay: number,
): { param: Float64Array; velocity: Float64Array } {
  const n = param.length;
  const p = new Float64Array(n);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    v[i] = momentum * velocity[i]! + grad[i]! + weightDecay * param[i]!;
    p[i] = param[i]! - lr * v[i]!;
  }
  return { param: p, velocity: v };
}

/** One AdamW step t ≥ 1 (decoupled weight decay); returns the new (param, m, v). */
export function adamRef(
  param: ArrayLike<number>, grad: ArrayLike<number>, m0: ArrayLike<number>, v0: ArrayLike<number>,
  lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, t: number,
): { param: Float64Array; m: Float64Array; v: Float64Array } {
  const n = param.length;
  const p = new Float64Array(n);
  const m = new Float64Array(n);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const g = grad[i]!;
    m[i] = beta1 * m0[i]! + (1 - beta1) * g;
    v[i] = beta2 * v0[i]! + (1 - beta2) * g * g;
    const mHat = m[i]! / (1 - beta1 ** t);
    const vHat = v[i]! / (1 - beta2 ** t);
    p[i] = param[i]! * (1 - lr * weightDecay) - lr * mHat / (Math.sqrt(vHat) + eps);
  }
  return { param: p, m, v };
}

/** First index of the row maximum (NaN never wins; an all-NaN row gives 0). */
export function argmaxRef(x: ArrayLike<number>, B: number, C: number): Int32Array {
  const out = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    let best = -1;
    for (let c = 0; c < C; c++) {
      const v = x[b * C + c]!;
      if (Number.isNaN(v)) continue;
      if (best < 0 || v > x[b * C + best]!) best = c;
    }
    out[b] = Math.max(best, 0);
  }
  return out;
}
