// Optimizer updates over n parameters, element-wise (the layout of the parameter block does not matter).
// SGD with momentum (PyTorch convention, L2 weight decay folded into the gradient):
//   g' = g + λ·w;  v ← μ·v + g';  w ← w − η·v
// Adam with decoupled weight decay (AdamW; see: Loshchilov & Hutter, "Decoupled Weight Decay Regularization"):
//   w ← w − η·λ·w;  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  w ← w − η·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε)
// λ = 0 disables weight decay. t is the 1-based step count (the host keeps it). Not here: learning-rate schedules.

/** SGD with momentum: updates param and velocity in place. Caller: training (after backward). */
export function sgdMomentumStep(param: usize, grad: usize, velocity: usize, n: i32,
                                lr: f32, momentum: f32, weightDecay: f32): void {
  const n4 = n & ~3;
  const lrv = f32x4.splat(lr), mu = f32x4.splat(momentum), wd = f32x4.splat(weightDecay);
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    const w = v128.load(param + o);
    const g = f32x4.add(v128.load(grad + o), f32x4.mul(wd, w));
    const v = f32x4.add(f32x4.mul(mu, v128.load(velocity + o)), g);
    v128.store(velocity + o, v);
    v128.store(param + o, f32x4.sub(w, f32x4.mul(lrv, v)));
  }
  for (; i < n; i++) sgdOne(param, grad, velocity, i, lr, momentum, weightDecay);
}

/** Scalar twin of sgdMomentumStep. */
export function sgdMomentumStepScalar(param: usize, grad: usize, velocity: usize, n: i32,
                                      lr: f32, momentum: f32, weightDecay: f32): void {
  for (let i = 0; i < n; i++) sgdOne(param, grad, velocity, i, lr, momentum, weightDecay);
}

@inline
function sgdOne(param: usize, grad: usize, velocity: usize, i: i32, lr: f32, momentum: f32, weightDecay: f32): void {
  const o = <usize>i << 2;
  const w = load<f32>(param + o);
  const v = momentum * load<f32>(velocity + o) + (load<f32>(grad + o) + weightDecay * w);
  store<f32>(velocity + o, v);
  store<f32>(param + o, w - lr * v);
}

/** Adam(W) step t ≥ 1: updates param, m and v in place. Caller: training (after backward). */
export function adamStep(param: usize, grad: usize, m: usize, v: usize, n: i32, lr: f32, beta1: f32, beta2: f32,
                         eps: f32, weightDecay: f32, t: i32): void {
  // Bias corrections once per call, in f64: 1 − β2ᵗ is tiny early on and f32 powers of 0.999 drift.
  const c1 = <f32>(1 / (1 - Math.pow(<f64>beta1, <f64>t)));
  const c2 = <f32>(1 / (1 - Math.pow(<f64>beta2, <f64>t)));
  const n4 = n & ~3;
  const b1 = f32x4.splat(beta1), b2 = f32x4.splat(beta2);
  const ob1 = f32x4.splat(1 - beta1), ob2 = f32x4.splat(1 - beta2);
  const decay = f32x4.splat(1 - lr * weightDecay), lrv = f32x4.splat(lr);
  const c1v = f32x4.splat(c1), c2v = f32x4.splat(c2), epsv = f32x4.splat(eps);
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    const g = v128.load(grad + o);
    const mi = f32x4.add(f32x4.mul(b1, v128.load(m + o)), f32x4.mul(ob1, g));
    const vi = f32x4.add(f32x4.mul(b2, v128.load(v + o)), f32x4.mul(ob2, f32x4.mul(g, g)));
    v128.store(m + o, mi);
    v128.store(v + o, vi);
    const step = f32x4.div(f32x4.mul(mi, c1v), f32x4.add(f32x4.sqrt(f32x4.mul(vi, c2v)), epsv));
    v128.store(param + o, f32x4.sub(f32x4.mul(v128.load(param + o), decay), f32x4.mul(lrv, step)));
  }
  for (; i < n; i++) adamOne(param, grad, m, v, i, lr, beta1, beta2, eps, weightDecay, c1, c2);
}

/** Scalar twin of adamStep. */
export function adamStepScalar(param: usize, grad: usize, m: usize, v: usize, n: i32, lr: f32, beta1: f32,
                               beta2: f32, eps: f32, weightDecay: f32, t: i32): void {
  const c1 = <f32>(1 / (1 - Math.pow(<f64>beta1, <f64>t)));
  const c2 = <f32>(1 / (1 - Math.pow(<f64>beta2, <f64>t)));
  for (let i = 0; i < n; i++) adamOne(param, grad, m, v, i, lr, beta1, beta2, eps, weightDecay, c1, c2);
}

@inline
function adamOne(param: usize, grad: usize, m: usize, v: usize, i: i32, lr: f32, beta1: f32, beta2: f32,
                 eps: f32, weightDecay: f32, c1: f32, c2: f32): void {
  const o = <usize>i << 2;
  const g = load<f32>(grad + o);
  const mi = beta1 * load<f32>(m + o) + (1 - beta1) * g;
  const vi = beta2 * load<f32>(v + o) + (1 - beta2) * (g * g);
  store<f32>(m + o, mi);
  store<f32>(v + o, vi);
  store<f32>(param + o, load<f32>(param + o) * (1 - lr * weightDecay) - lr * ((mi * c1) / (Mathf.sqrt(vi * c2) + eps)));
}
