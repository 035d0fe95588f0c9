// Bias add + ReLU forward, ReLU backward and the bias gradient, on row-major (B,C) activations.
// Shapes: B = rows (batch), C = channels. `bias`/`dbias` are (C). In-place use (out == inp, dinp == dout) is safe:
// every element is read before it is written and no other element depends on it.
// Not here: the matmul (see matmul.ts) or any allocation.

/** out[b,c] = max(0, inp[b,c] + bias[c]) when relu, else inp[b,c] + bias[c]. Caller: nn forward (every layer). */
export function biasReluForward(out: usize, inp: usize, bias: usize, B: i32, C: i32, relu: bool): void {
  const C4 = C & ~3;
  const zero = f32x4.splat(0);
  for (let b = 0; b < B; b++) {
    const row = <usize>b * C << 2;
    let c = 0;
    for (; c < C4; c += 4) {
      const o = <usize>c << 2;
      let x = f32x4.add(v128.load(inp + row + o), v128.load(bias + o));
      if (relu) x = f32x4.max(x, zero);
      v128.store(out + row + o, x);
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      const x = load<f32>(inp + row + o) + load<f32>(bias + o);
      store<f32>(out + row + o, relu ? max<f32>(x, 0) : x);
    }
  }
}

/** Scalar twin of biasReluForward. */
export function biasReluForwardScalar(out: usize, inp: usize, bias: usize, B: i32, C: i32, relu: bool): void {
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const o = (<usize>b * C + c) << 2;
      const x = load<f32>(inp + o) + load<f32>(bias + (<usize>c << 2));
      store<f32>(out + o, relu ? max<f32>(x, 0) : x);
    }
  }
}

/** dinp[i] = out[i] > 0 ? dout[i] : 0 over n elements, where out = relu(z) is the forward output.
 * d relu(z)/dz = [z > 0] and out > 0 ⇔ z > 0, so the forward output is all backward needs. Caller: nn backward. */
export function reluBackward(dinp: usize, dout: usize, out: usize, n: i32): void {
  const n4 = n & ~3;
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    const mask = f32x4.gt(v128.load(out + o), zero);
    v128.store(dinp + o, v128.and(v128.load(dout + o), mask));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dinp + o, load<f32>(out + o) > 0 ? load<f32>(dout + o) : 0);
  }
}

/** Scalar twin of reluBackward. */
export function reluBackwardScalar(dinp: usize, dout: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dinp + o, load<f32>(out + o) > 0 ? load<f32>(dout + o) : 0);
  }
}

/** dbias[c] = (accumulate ? dbias[c] : 0) + Σ_b dout[b,c]. Caller: nn backward. */
export function biasBackward(dbias: usize, dout: usize, B: i32, C: i32, accumulate: bool): void {
  const C4 = C & ~3;
  let c = 0;
  // Four column-vectors at a time: 4 independent add chains hide the add latency.
  for (; c + 16 <= C; c += 16) {
    const o = <usize>c << 2;
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    let p = dout + o;
    const ld = <usize>C << 2;
    for (let b = 0; b < B; b++) {
      s0 = f32x4.add(s0, v128.load(p)); s1 = f32x4.add(s1, v128.load(p, 16));
      s2 = f32x4.add(s2, v128.load(p, 32)); s3 = f32x4.add(s3, v128.load(p, 48));
      p += ld;
    }
    if (accumulate) {
      s0 = f32x4.add(s0, v128.load(dbias + o)); s1 = f32x4.add(s1, v128.load(dbias + o, 16));
      s2 = f32x4.add(s2, v128.load(dbias + o, 32)); s3 = f32x4.add(s3, v128.load(dbias + o, 48));
    }
    v128.store(dbias + o, s0); v128.store(dbias + o, s1, 16);
    v128.store(dbias + o, s2, 32); v128.store(dbias + o, s3, 48);
  }
  for (; c < C4; c += 4) {
    const o = <usize>c << 2;
    let s = f32x4.splat(0);
    for (let b = 0; b < B; b++) s = f32x4.add(s, v128.load(dout + ((<usize>b * C) << 2) + o));
    v128.store(dbias + o, accumulate ? f32x4.add(s, v128.load(dbias + o)) : s);
  }
  for (; c < C; c++) {
    const o = <usize>c << 2;
    let s: f32 = 0;
    for (let b = 0; b < B; b++) s += load<f32>(dout + ((<usize>b * C) << 2) + o);
    store<f32>(dbias + o, accumulate ? load<f32>(dbias + o) + s : s);
  }
}

/** Scalar twin of biasBackward. */
export function biasBackwardScalar(dbias: usize, dout: usize, B: i32, C: i32, accumulate: bool): void {
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    let s: f32 = accumulate ? load<f32>(dbias + o) : 0;
    for (let b = 0; b < B; b++) s += load<f32>(dout + ((<usize>b * C) << 2) + o);
    store<f32>(dbias + o, s);
  }
}
