// f64 oracle for the MLP's loss: the same network as src/nn/mlp.ts, written directly from its formulas with the
// f64 references of each op. Used for central finite differences of the full network.

import { matmulRef, biasReluForwardRef, softmaxXentRef } from './kernels.js';

export interface LayerShape { inputs: number; outputs: number; weightOffset: number; biasOffset: number }

/** Mean cross-entropy of the MLP with parameters `params` (f64) on inputs x (B × layers[0].inputs). */
export function mlpLossRef(params: ArrayLike<number>, layers: readonly LayerShape[], x: ArrayLike<number>,
  targets: ArrayLike<number>, B: number): number {
  let a: ArrayLike<number> = x;
  layers.forEach((layer, l) => {
    const w = Array.prototype.slice.call(params, layer.weightOffset, layer.weightOffset + layer.inputs * layer.outputs) as number[];
    const b = Array.prototype.slice.call(params, layer.biasOffset, layer.biasOffset + layer.outputs) as number[];
    const z = matmulRef('NN', a, w, B, layer.inputs, layer.outputs);
    a = biasReluForwardRef(z, b, B, layer.outputs, l !== layers.length - 1);
  });
  return softmaxXentRef(a, B, layers[layers.length - 1]!.outputs, targets).meanLoss;
}
