// Central finite-difference checks of every backward path: softmax-cross-entropy alone, then a whole two-layer
// network (matmul NN/NT/TN, bias, ReLU, softmax-xent backward) on a tiny batch. The analytic gradients come from the
// wasm kernels; the numerical ones from the f64 reference forward pass (eps = 1e-4: truncation error O(eps²) ≈ 1e-8,
// rounding error ≈ 1e-16/eps — both far below the f32 noise of the kernels), and once more from the wasm forward
// pass itself in f32 (eps = 1e-2, looser) so that forward and backward of the same code are checked against each other.

import { beforeAll, describe, expect, it } from 'vitest';
import { loadCore, type CoreExports } from '../../src/wasm/core.js';
import { Arena } from '../../src/wasm/arena.js';
import { Mlp } from '../../src/nn/mlp.js';
import { Random } from '../../src/random.js';
import { softmaxXentRef } from '../reference/kernels.js';
import { mlpLossRef } from '../reference/mlp.js';

let core: CoreExports;
beforeAll(async () => {
  core = await loadCore();
});

function centralDifference(f: (x: Float64Array) => number, x: Float64Array, eps: number): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i]!;
    x[i] = keep + eps;
    const up = f(x);
    x[i] = keep - eps;
    const down = f(x);
    x[i] = keep;
    g[i] = (up - down) / (2 * eps);
  }
  return g;
}

function expectGradClose(name: string, analytic: ArrayLike<number>, numeric: ArrayLike<number>, atol: number, rtol: number): void {
  expect(analytic.length).toBe(numeric.length);
  const bad: string[] = [];
  for (let i = 0; i < numeric.length; i++) {
    const err = Math.abs(analytic[i]! - numeric[i]!);
    if (!(err <= atol + rtol * Math.abs(numeric[i]!))) bad.push(`[${i}] analytic ${analytic[i]} numeric ${numeric[i]} |err| ${err.toExponential(2)}`);
  }
  if (bad.length > 0) throw new Error(`${name}: ${bad.length} of ${numeric.length} gradients differ; first: ${bad.slice(0, 8).join('; ')}`);
}

describe('softmax cross-entropy gradient', () => {
  for (const [B, C] of [[1, 10], [4, 3], [5, 17]] as const) {
    it(`matches central differences of the f64 loss (B=${B}, C=${C})`, () => {
      const arena = new Arena(core);
      const rng = new Random(B * 100 + C);
      const logits = arena.f32(B * C), probs = arena.f32(B * C), losses = arena.f32(B), grad = arena.f32(B * C);
      const targets = arena.i32(B);
      rng.fillUniform(logits.data, -4, 4);
      for (let b = 0; b < B; b++) targets.data[b] = rng.int(C);
      core.softmaxCrossEntropyForward(probs.ptr, losses.ptr, logits.ptr, targets.ptr, B, C);
      core.softmaxCrossEntropyBackward(grad.ptr, probs.ptr, targets.ptr, B, C, 1 / B);
      const t = Array.from(targets.data);
      const numeric = centralDifference((z) => softmaxXentRef(z, B, C, t).meanLoss, Float64Array.from(logits.data), 1e-4);
      expectGradClose('dlogits', grad.data, numeric, 1e-6, 1e-4);
      // And against differences of the wasm forward pass itself.
      const wasmLoss = (z: Float64Array): number => {
        logits.data.set(z);
        return core.softmaxCrossEntropyForward(probs.ptr, losses.ptr, logits.ptr, targets.ptr, B, C);
      };
      expectGradClose('dlogits (f32 forward)', grad.data, centralDifference(wasmLoss, Float64Array.from(logits.data), 1e-2), 2e-4, 2e-2);
    });
  }

  it('stays finite and exact at logits of ±1e4', () => {
    const arena = new Arena(core);
    const B = 2, C = 4;
    const logits = arena.f32(B * C), probs = arena.f32(B * C), losses = arena.f32(B), grad = arena.f32(B * C);
    const targets = arena.i32(B);
    logits.data.set([1e4, -1e4, 1e4, 0, -1e4, -1e4, 1e4, -1e4]);
    targets.data.set([1, 2]);
    const mean = core.softmaxCrossEntropyForward(probs.ptr, losses.ptr, logits.ptr, targets.ptr, B, C);
    core.softmaxCrossEntropyBackward(grad.ptr, probs.ptr, targets.ptr, B, C, 1 / B);
    // The f32 result is the correctly rounded true loss: log(1 + 1) − (−1e4 − 1e4).
    expect(Array.from(losses.data)).toEqual([Math.fround(2e4 + Math.log(2)), 0]);
    expect(mean).toBeCloseTo((2e4 + Math.log(2)) / 2, 2);
    expect(Array.from(grad.data).every(Number.isFinite)).toBe(true);
    expect(Array.from(grad.data)).toEqual([0.25, -0.5, 0.25, 0, 0, 0, 0, 0]);
  });
});

describe('two-layer network backward pass', () => {
  for (const sparseInput of [false, true]) {
    it(`matches central differences of the f64 network loss for every parameter (sparseInput=${sparseInput})`, () => {
      const arena = new Arena(core);
      const B = 4;
      const mlp = new Mlp(core, arena, [7, 5, 3], 8, { sparseInput });
      const rng = new Random(42);
      mlp.init(rng);
      // Non-zero biases, so bias gradients and ReLU masks are exercised away from the trivial init.
      for (const layer of mlp.layers) {
        for (let i = 0; i < layer.outputs; i++) mlp.params.data[layer.biasOffset + i] = rng.uniform(-0.3, 0.3);
      }
      rng.fillUniform(mlp.acts[0]!.data.subarray(0, B * 7), -1, 1);
      // Like a digit: most inputs exactly zero (the sparse path must give the same gradients as the dense one).
      for (let i = 0; i < B * 7; i++) if (rng.next() < 0.6) mlp.acts[0]!.data[i] = 0;
      for (let b = 0; b < B; b++) mlp.targets.data[b] = rng.int(3);
      const x = Array.from(mlp.acts[0]!.data.subarray(0, B * 7));
      const t = Array.from(mlp.targets.data.subarray(0, B));

      const loss = mlp.loss(B);
      mlp.backward(B);
      const analytic = Float64Array.from(mlp.grads.data);
      // The hidden layer must have both live and dead ReLUs, or the mask is not really being tested.
      const hidden = Array.from(mlp.acts[1]!.data.subarray(0, B * 5));
      expect(hidden.some((v) => v === 0)).toBe(true);
      expect(hidden.some((v) => v > 0)).toBe(true);

      expect(loss).toBeCloseTo(mlpLossRef(Float64Array.from(mlp.params.data), mlp.layers, x, t, B), 5);
      const numeric = centralDifference((p) => mlpLossRef(p, mlp.layers, x, t, B), Float64Array.from(mlp.params.data), 1e-4);
      expectGradClose('dparams', analytic, numeric, 1e-6, 1e-3);
      expect(analytic.some((g) => g !== 0)).toBe(true);

      // Forward and backward of the wasm network agree with each other (f32 differences, so looser).
      const wasmLoss = (p: Float64Array): number => {
        mlp.params.data.set(p);
        return mlp.loss(B);
      };
      expectGradClose('dparams (f32 forward)', analytic, centralDifference(wasmLoss, Float64Array.from(mlp.params.data), 1e-2), 5e-4, 5e-2);
    });
  }

  it('a few SGD steps on a fixed batch drive the loss down', async () => {
    const { SgdMomentum } = await import('../../src/nn/optimizer.js');
    const arena = new Arena(core);
    const mlp = new Mlp(core, arena, [20, 16, 4], 16);
    const rng = new Random(7);
    mlp.init(rng);
    rng.fillUniform(mlp.acts[0]!.data, -1, 1);
    for (let b = 0; b < 16; b++) mlp.targets.data[b] = b % 4;
    const opt = new SgdMomentum(core, arena, mlp, { momentum: 0.9, weightDecay: 0 });
    const first = mlp.loss(16);
    const used = arena.used;
    const buffer = core.memory.buffer;
    let last = first;
    for (let i = 0; i < 50; i++) {
      last = mlp.loss(16);
      mlp.backward(16);
      opt.step(0.1);
    }
    expect(last).toBeLessThan(first * 0.2);
    // Training steps allocate nothing: the arena did not move and linear memory never grew.
    expect(arena.used).toBe(used);
    expect(core.memory.buffer).toBe(buffer);
  });
});
