// A multilayer perceptron on the wasm kernels: Linear → ReLU → … → Linear → softmax cross-entropy.
// Memory plan (see: karpathy/llm.c train_gpt2.c): parameters are named offsets into ONE f32 block, gradients mirror
// it in a second block, activations are sized once for `maxBatch` rows. A forward/backward pass allocates nothing.
//   layer l: W_l is (C_l × C_{l+1}) row-major, b_l is (C_{l+1});  a_{l+1} = relu(a_l · W_l + b_l), no relu on the last
//   backward: dz_L = (p − onehot)/B;  dW_l = a_lᵀ · dz_{l+1};  db_l = Σ_rows dz_{l+1};  da_l = dz_{l+1} · W_lᵀ,
//             dz_l = da_l ⊙ [a_l > 0]
// With `sparseInput`, the input layer's product and weight gradient skip the input's zeros (a normalised digit is ~80%
// zeros; see assembly/kernels/matmul-sparse.ts): same results, a fraction of the work. predictOne is the B = 1
// inference path: every layer skips its input's zeros, all in one core call (assembly/kernels/forward-one.ts).
// Not here: optimizers (optimizer.ts), data loading, or the model file format.

import type { CoreExports } from '../wasm/core.js';
import type { Arena, F32Buffer, I32Buffer } from '../wasm/arena.js';
import type { Random } from '../random.js';

/** Where one layer's tensors live: element offsets into the params/grads blocks. */
export interface LayerPlan {
  readonly inputs: number;
  readonly outputs: number;
  readonly weightOffset: number;
  readonly biasOffset: number;
}

/** Lays out the parameter block for `sizes` = [inputs, hidden…, classes]: W0, b0, W1, b1, … */
export function planLayers(sizes: readonly number[]): { layers: LayerPlan[]; paramCount: number } {
  if (sizes.length < 2) throw new RangeError(`an MLP needs at least 2 sizes (inputs and classes), got [${sizes.join(', ')}]`);
  for (const s of sizes) {
    if (!Number.isInteger(s) || s < 1) throw new RangeError(`layer sizes must be positive integers, got [${sizes.join(', ')}]`);
  }
  const layers: LayerPlan[] = [];
  let offset = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inputs = sizes[l]!, outputs = sizes[l + 1]!;
    layers.push({ inputs, outputs, weightOffset: offset, biasOffset: offset + inputs * outputs });
    offset += inputs * outputs + outputs;
  }
  return { layers, paramCount: offset };
}

export interface MlpOptions {
  /** Skip zeros of the input in the first layer's forward product and weight gradient. */
  readonly sparseInput?: boolean;
}

export class Mlp {
  readonly layers: readonly LayerPlan[];
  readonly paramCount: number;
  /** All weights and biases (see planLayers). */
  readonly params: F32Buffer;
  /** Gradients, same layout as params. */
  readonly grads: F32Buffer;
  /** acts[0] is the input batch (maxBatch × sizes[0]); acts[l+1] is layer l's output (post-ReLU; logits for the last). */
  readonly acts: readonly F32Buffer[];
  /** Scratch for backward: gradients w.r.t. acts[l] for l ≥ 1. */
  private readonly dacts: readonly F32Buffer[];
  readonly probs: F32Buffer;
  readonly losses: F32Buffer;
  readonly targets: I32Buffer;
  readonly predictions: I32Buffer;
  private readonly work: number;
  private readonly sparseWork: number;
  readonly sparseInput: boolean;
  /** predictOne's layer table for the core (see assembly/kernels/forward-one.ts) and its index scratch. */
  private readonly onePlan: I32Buffer;
  private readonly oneWork: number;

  constructor(
    private readonly core: CoreExports,
    arena: Arena,
    readonly sizes: readonly number[],
    readonly maxBatch: number,
    options: MlpOptions = {},
  ) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
    const plan = planLayers(sizes);
    this.layers = plan.layers;
    this.paramCount = plan.paramCount;
    this.params = arena.f32(plan.paramCount);
    this.grads = arena.f32(plan.paramCount);
    this.acts = sizes.map((s) => arena.f32(maxBatch * s));
    this.dacts = sizes.map((s, l) => arena.f32(l === 0 ? 0 : maxBatch * s));
    const classes = sizes[sizes.length - 1]!;
    this.probs = arena.f32(maxBatch * classes);
    this.losses = arena.f32(maxBatch);
    this.targets = arena.i32(maxBatch);
    this.predictions = arena.i32(maxBatch);
    // One scratch area big enough for every product of a forward and backward pass.
    let work = 0;
    for (const { inputs: C, outputs: OC } of this.layers) {
      work = Math.max(work, core.matmulWorkBytes(maxBatch, C, OC), core.matmulWorkBytes(maxBatch, OC, C),
        core.matmulWorkBytes(C, maxBatch, OC));
    }
    this.work = arena.bytes(work);
    this.sparseInput = options.sparseInput ?? false;
    const first = this.layers[0]!;
    this.sparseWork = this.sparseInput
      ? arena.bytes(Math.max(core.matmulSparseWorkBytes(maxBatch, first.inputs, first.outputs),
        core.matmulSparseWorkBytes(first.inputs, maxBatch, first.outputs)))
      : 0;
    // Row 0 of each activation buffer: (y, x, W, b, C, OC) per layer, fixed for the life of the model.
    this.onePlan = arena.i32(this.layers.length * 6);
    this.onePlan.data.set(this.layers.flatMap((layer, l) => [this.acts[l + 1]!.ptr, this.acts[l]!.ptr,
      this.weightPtr(layer), this.biasPtr(layer), layer.inputs, layer.outputs]));
    this.oneWork = arena.bytes(core.denseForwardOneWorkBytes(Math.max(...sizes)));
  }

  get classes(): number {
    return this.sizes[this.sizes.length - 1]!;
  }

  /** He-normal weights (std √(2/fan_in)), zero biases: keeps ReLU activations' variance steady with depth. */
  init(rng: Random): void {
    const p = this.params.data;
    p.fill(0);
    for (const { inputs, outputs, weightOffset } of this.layers) {
      const std = Math.sqrt(2 / inputs);
      for (let i = 0; i < inputs * outputs; i++) p[weightOffset + i] = rng.normal() * std;
    }
  }

  /** Logits for the first B rows of acts[0] into acts[L]; returns that buffer. */
  forward(B: number): F32Buffer {
    this.checkBatch(B);
    const k = this.core;
    const last = this.layers.length - 1;
    // A plain loop: forEach's closure was allocated on every prediction.
    for (let l = 0; l <= last; l++) {
      const layer = this.layers[l]!;
      const inp = this.acts[l]!.ptr, out = this.acts[l + 1]!.ptr;
      if (l === 0 && this.sparseInput) {
        k.matmulSparseNN(out, inp, this.weightPtr(layer), B, layer.inputs, layer.outputs, false, this.sparseWork);
      } else {
        k.matmulNN(out, inp, this.weightPtr(layer), B, layer.inputs, layer.outputs, false, this.work);
      }
      k.biasReluForward(out, out, this.biasPtr(layer), B, layer.outputs, l !== last);
    }
    return this.acts[this.layers.length]!;
  }

  /** forward + softmax: class probabilities for the first B rows into `probs`. */
  predict(B: number): F32Buffer {
    const logits = this.forward(B);
    this.core.softmaxForward(this.probs.ptr, logits.ptr, B, this.classes);
    this.core.argmax(this.predictions.ptr, this.probs.ptr, B, this.classes);
    return this.probs;
  }

  /** predict(1) for one row, in one core call: `input` (sizes[0] values) is copied into row 0 of acts[0] (omit it
   * when that row was written in place); class probabilities land in row 0 of `probs` and row 0 of every acts[l];
   * returns the predicted class. Skips zeros of every layer's input (pixels and ReLU outputs). */
  predictOne(input?: ArrayLike<number>): number {
    if (input !== undefined) {
      if (input.length !== this.sizes[0]) throw new RangeError(`input has ${input.length} values, this network takes ${this.sizes[0]}`);
      this.acts[0]!.data.set(input);
    }
    return this.core.mlpPredictOne(this.probs.ptr, this.onePlan.ptr, this.layers.length, this.oneWork);
  }

  /** forward + mean cross-entropy against `targets` (labels must be in [0, classes): checked where data enters). */
  loss(B: number): number {
    const logits = this.forward(B);
    return this.core.softmaxCrossEntropyForward(this.probs.ptr, this.losses.ptr, logits.ptr, this.targets.ptr, B, this.classes);
  }

  /** Gradients of the last `loss(B)` w.r.t. every parameter into `grads` (overwritten, not accumulated). */
  backward(B: number): void {
    this.checkBatch(B);
    const k = this.core;
    const L = this.layers.length;
    // dz for the logits; dacts[L] holds it.
    k.softmaxCrossEntropyBackward(this.dacts[L]!.ptr, this.probs.ptr, this.targets.ptr, B, this.classes, 1 / B);
    for (let l = L - 1; l >= 0; l--) {
      const layer = this.layers[l]!;
      const dout = this.dacts[l + 1]!.ptr;
      const inp = this.acts[l]!.ptr;
      const dW = this.grads.ptr + layer.weightOffset * 4;
      if (l === 0 && this.sparseInput) k.matmulSparseTN(dW, inp, dout, layer.inputs, B, layer.outputs, false, this.sparseWork);
      else k.matmulTN(dW, inp, dout, layer.inputs, B, layer.outputs, false, this.work);
      k.biasBackward(this.grads.ptr + layer.biasOffset * 4, dout, B, layer.outputs, false);
      if (l > 0) {
        const dinp = this.dacts[l]!.ptr;
        k.matmulNT(dinp, dout, this.weightPtr(layer), B, layer.outputs, layer.inputs, false, this.work);
        k.reluBackward(dinp, dinp, inp, B * layer.inputs);
      }
    }
  }

  /** Argmax of `probs` for the first B rows into `predictions`; returns how many equal `targets`. */
  countCorrect(B: number): number {
    this.checkBatch(B);
    this.core.argmax(this.predictions.ptr, this.probs.ptr, B, this.classes);
    const predictions = this.predictions.data, targets = this.targets.data;
    let correct = 0;
    for (let b = 0; b < B; b++) if (predictions[b] === targets[b]) correct++;
    return correct;
  }

  /** Copies of each layer's weight (inputs × outputs, row-major) and bias, e.g. to save a model file. */
  exportLayers(): Array<{ inputs: number; outputs: number; weight: Float32Array; bias: Float32Array }> {
    const p = this.params.data;
    return this.layers.map(({ inputs, outputs, weightOffset, biasOffset }) => ({
      inputs, outputs,
      weight: p.slice(weightOffset, weightOffset + inputs * outputs),
      bias: p.slice(biasOffset, biasOffset + outputs),
    }));
  }

  /** Loads layers of the same architecture (e.g. from a model file); shapes must match exactly. */
  importLayers(layers: ReadonlyArray<{ inputs: number; outputs: number; weight: Float32Array; bias: Float32Array }>): void {
    if (layers.length !== this.layers.length) {
      throw new RangeError(`model has ${layers.length} layers, this network ${this.layers.length}`);
    }
    const p = this.params.data;
    this.layers.forEach((plan, l) => {
      const layer = layers[l]!;
      if (layer.inputs !== plan.inputs || layer.outputs !== plan.outputs ||
          layer.weight.length !== plan.inputs * plan.outputs || layer.bias.length !== plan.outputs) {
        throw new RangeError(`layer ${l} is ${layer.inputs}→${layer.outputs}, this network's is ${plan.inputs}→${plan.outputs}`);
      }
      p.set(layer.weight, plan.weightOffset);
      p.set(layer.bias, plan.biasOffset);
    });
  }

  weightPtr(layer: LayerPlan): number {
    return this.params.ptr + layer.weightOffset * 4;
  }

  biasPtr(layer: LayerPlan): number {
    return this.params.ptr + layer.biasOffset * 4;
  }

  private checkBatch(B: number): void {
    if (!Number.isInteger(B) || B < 1 || B > this.maxBatch) {
      throw new RangeError(`batch size ${B} is outside [1, ${this.maxBatch}] (the size this model's memory was planned for)`);
    }
  }
}
