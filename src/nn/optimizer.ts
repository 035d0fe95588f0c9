// Optimizers over an Mlp's parameter block: state buffers are allocated once; a step is one kernel call per tensor.
// Weight decay applies to weights only (decaying biases only shrinks the offsets ReLUs need).
// Formulas: assembly/kernels/optim.ts. Not here: learning-rate schedules (the trainer passes lr per step).

import type { CoreExports } from '../wasm/core.js';
import type { Arena, F32Buffer } from '../wasm/arena.js';
import type { Mlp } from './mlp.js';

export interface Optimizer {
  /** Applies the gradients in `mlp.grads` to `mlp.params` with learning rate `lr`. */
  step(lr: number): void;
}

export interface SgdOptions { momentum: number; weightDecay: number }
export interface AdamOptions { beta1: number; beta2: number; eps: number; weightDecay: number }

export class SgdMomentum implements Optimizer {
  private readonly velocity: F32Buffer;
  constructor(private readonly core: CoreExports, arena: Arena, private readonly mlp: Mlp, private readonly opts: SgdOptions) {
    this.velocity = arena.f32(mlp.paramCount);
  }

  step(lr: number): void {
    const { momentum, weightDecay } = this.opts;
    forEachTensor(this.mlp, (offset, n, isWeight) => {
      const o = offset * 4;
      this.core.sgdMomentumStep(this.mlp.params.ptr + o, this.mlp.grads.ptr + o, this.velocity.ptr + o, n, lr, momentum,
        isWeight ? weightDecay : 0);
    });
  }
}

export class Adam implements Optimizer {
  private readonly m: F32Buffer;
  private readonly v: F32Buffer;
  private t = 0;
  constructor(private readonly core: CoreExports, arena: Arena, private readonly mlp: Mlp, private readonly opts: AdamOptions) {
    this.m = arena.f32(mlp.paramCount);
    this.v = arena.f32(mlp.paramCount);
  }

  step(lr: number): void {
    this.t++;
    const { beta1, beta2, eps, weightDecay } = this.opts;
    forEachTensor(this.mlp, (offset, n, isWeight) => {
      const o = offset * 4;
      this.core.adamStep(this.mlp.params.ptr + o, this.mlp.grads.ptr + o, this.m.ptr + o, this.v.ptr + o, n, lr, beta1,
        beta2, eps, isWeight ? weightDecay : 0, this.t);
    });
  }
}

function forEachTensor(mlp: Mlp, fn: (offset: number, n: number, isWeight: boolean) => void): void {
  for (const layer of mlp.layers) {
    fn(layer.weightOffset, layer.inputs * layer.outputs, true);
    fn(layer.biasOffset, layer.outputs, false);
  }
}
