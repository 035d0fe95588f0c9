// Softmax, cross-entropy loss and its fused gradient over (B,C) logits; targets are (B) i32 class indices.
//   m_b = max_c z[b,c];  s_b = Σ_c exp(z[b,c] − m_b);  p[b,c] = exp(z[b,c] − m_b) / s_b
//   loss_b = −log p[b,t_b] = log s_b − (z[b,t_b] − m_b)
//   ∂(scale·Σ_b loss_b)/∂z[b,c] = scale · (p[b,c] − [c = t_b])
// Subtracting the row max makes every exponent ≤ 0, so s_b ∈ [1, C] and nothing overflows for logits of ±1e4.
// exp is a Cephes-style polynomial (≈1 ulp) vectorised with f32x4; the scalar twins use libm's Mathf.exp.
// Not here: validation of targets (the host checks labels once, when data is loaded).

// ln 2 split in a short high part (exact in f32 when multiplied by n ≤ 2^8) and a low correction.
const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
// Below this, exp(x) is under f32's smallest normal: return 0 rather than build a bogus exponent.
const EXP_MIN: f32 = -87.33654;
const EXP_MAX: f32 = 88.37626;
// see: Cephes library, expf.c (S. L. Moshier): minimax polynomial for e^r − 1 − r on |r| ≤ ln2/2.
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;

// e^x = 2^n · e^r with n = round(x·log2 e), r = x − n·ln 2; 2^n is built in the exponent bits.
@inline
function exp4(x: v128): v128 {
  const tiny = f32x4.lt(x, f32x4.splat(EXP_MIN));
  x = f32x4.min(f32x4.max(x, f32x4.splat(EXP_MIN)), f32x4.splat(EXP_MAX));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI))), f32x4.mul(n, f32x4.splat(LN2_LO)));
  let y = f32x4.add(f32x4.mul(f32x4.splat(P0), r), f32x4.splat(P1));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(P2));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(P3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(P4));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(P5));
  y = f32x4.add(f32x4.add(f32x4.mul(y, f32x4.mul(r, r)), r), f32x4.splat(1));
  const pow2n = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return v128.andnot(f32x4.mul(y, pow2n), tiny);
}

// The same polynomial for one lane, so SIMD chunks and scalar tails of a row agree bit for bit.
@inline
function exp1(x: f32): f32 {
  if (x < EXP_MIN) return 0;
  x = min(x, EXP_MAX);
  const n = nearest(x * LOG2E);
  const r = x - n * LN2_HI - n * LN2_LO;
  let y = P0 * r + P1;
  y = y * r + P2;
  y = y * r + P3;
  y = y * r + P4;
  y = y * r + P5;
  y = y * (r * r) + r + 1;
  return y * reinterpret<f32>((<i32>n + 127) << 23);
}

// p[0..C) = softmax(z[0..C)); returns the loss log s − (z[t] − m) for target t (pass t = −1 for no loss).
// Written as log s − (z_t − m) rather than logsumexp − z_t: z_t − m is exact when z_t is near m, so the loss keeps
// its precision at logits of ±1e4 where logsumexp itself would round to 1e-3.
@inline
function softmaxRow(p: usize, z: usize, C: i32, t: i32): f32 {
  const C4 = C & ~3;
  let m: f32 = -Infinity;
  let c = 0;
  if (C4 > 0) {
    let mv = f32x4.splat(-Infinity);
    for (; c < C4; c += 4) mv = f32x4.max(mv, v128.load(z + (<usize>c << 2)));
    m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)),
            max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  }
  for (; c < C; c++) m = max(m, load<f32>(z + (<usize>c << 2)));
  const mv = f32x4.splat(m);
  let sv = f32x4.splat(0);
  let s: f32 = 0;
  c = 0;
  for (; c < C4; c += 4) {
    const e = exp4(f32x4.sub(v128.load(z + (<usize>c << 2)), mv));
    v128.store(p + (<usize>c << 2), e);
    sv = f32x4.add(sv, e);
  }
  for (; c < C; c++) {
    const e = exp1(load<f32>(z + (<usize>c << 2)) - m);
    store<f32>(p + (<usize>c << 2), e);
    s += e;
  }
  s += (f32x4.extract_lane(sv, 0) + f32x4.extract_lane(sv, 1)) + (f32x4.extract_lane(sv, 2) + f32x4.extract_lane(sv, 3));
  const inv = f32x4.splat(1 / s);
  c = 0;
  for (; c < C4; c += 4) v128.store(p + (<usize>c << 2), f32x4.mul(v128.load(p + (<usize>c << 2)), inv));
  for (; c < C; c++) store<f32>(p + (<usize>c << 2), load<f32>(p + (<usize>c << 2)) / s);
  return t < 0 ? 0 : Mathf.log(s) - (load<f32>(z + (<usize>t << 2)) - m);
}

/** probs = softmax(logits) row-wise. Shapes (B,C). probs may alias logits. Caller: inference. */
export function softmaxForward(probs: usize, logits: usize, B: i32, C: i32): void {
  for (let b = 0; b < B; b++) {
    const o = (<usize>b * C) << 2;
    softmaxRow(probs + o, logits + o, C, -1);
  }
}

/** probs = softmax(logits); losses[b] = −log probs[b, targets[b]]; returns Σ_b losses[b] / B (accumulated in f64).
 * probs must not alias logits (the loss reads the target's logit after probs is written). Caller: training. */
export function softmaxCrossEntropyForward(probs: usize, losses: usize, logits: usize, targets: usize,
                                           B: i32, C: i32): f64 {
  let total: f64 = 0;
  for (let b = 0; b < B; b++) {
    const o = (<usize>b * C) << 2;
    const loss = softmaxRow(probs + o, logits + o, C, load<i32>(targets + (<usize>b << 2)));
    store<f32>(losses + (<usize>b << 2), loss);
    total += <f64>loss;
  }
  return B > 0 ? total / <f64>B : 0;
}

/** dlogits[b,c] = scale · (probs[b,c] − [c = targets[b]]): the gradient of scale · Σ_b loss_b (scale = 1/B for the
 * mean loss). dlogits may alias probs. Caller: training. */
export function softmaxCrossEntropyBackward(dlogits: usize, probs: usize, targets: usize, B: i32, C: i32,
                                            scale: f32): void {
  const n = B * C;
  const n4 = n & ~3;
  const sv = f32x4.splat(scale);
  let i = 0;
  for (; i < n4; i += 4) v128.store(dlogits + (<usize>i << 2), f32x4.mul(v128.load(probs + (<usize>i << 2)), sv));
  for (; i < n; i++) store<f32>(dlogits + (<usize>i << 2), load<f32>(probs + (<usize>i << 2)) * scale);
  for (let b = 0; b < B; b++) {
    const at = dlogits + ((<usize>b * C + load<i32>(targets + (<usize>b << 2))) << 2);
    store<f32>(at, load<f32>(at) - scale);
  }
}

/** Scalar twin of softmaxForward (libm exp). */
export function softmaxForwardScalar(probs: usize, logits: usize, B: i32, C: i32): void {
  for (let b = 0; b < B; b++) {
    const o = (<usize>b * C) << 2;
    softmaxRowScalar(probs + o, logits + o, C, -1);
  }
}

/** Scalar twin of softmaxCrossEntropyForward (libm exp/log, one element at a time). */
export function softmaxCrossEntropyForwardScalar(probs: usize, losses: usize, logits: usize, targets: usize,
                                                 B: i32, C: i32): f64 {
  let total: f64 = 0;
  for (let b = 0; b < B; b++) {
    const o = (<usize>b * C) << 2;
    const loss = softmaxRowScalar(probs + o, logits + o, C, load<i32>(targets + (<usize>b << 2)));
    store<f32>(losses + (<usize>b << 2), loss);
    total += <f64>loss;
  }
  return B > 0 ? total / <f64>B : 0;
}

// softmaxRow one element at a time with libm's exp and log.
@inline
function softmaxRowScalar(p: usize, z: usize, C: i32, t: i32): f32 {
  let m: f32 = -Infinity;
  for (let c = 0; c < C; c++) m = max(m, load<f32>(z + (<usize>c << 2)));
  let s: f32 = 0;
  for (let c = 0; c < C; c++) {
    const e = Mathf.exp(load<f32>(z + (<usize>c << 2)) - m);
    store<f32>(p + (<usize>c << 2), e);
    s += e;
  }
  for (let c = 0; c < C; c++) store<f32>(p + (<usize>c << 2), load<f32>(p + (<usize>c << 2)) / s);
  return t < 0 ? 0 : Mathf.log(s) - (load<f32>(z + (<usize>t << 2)) - m);
}

/** Scalar twin of softmaxCrossEntropyBackward. */
export function softmaxCrossEntropyBackwardScalar(dlogits: usize, probs: usize, targets: usize, B: i32, C: i32,
                                                  scale: f32): void {
  for (let b = 0; b < B; b++) {
    const t = load<i32>(targets + (<usize>b << 2));
    for (let c = 0; c < C; c++) {
      const o = (<usize>b * C + c) << 2;
      store<f32>(dlogits + o, scale * (load<f32>(probs + o) - (c == t ? <f32>1 : <f32>0)));
    }
  }
}
