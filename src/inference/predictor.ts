// A loaded model on its own wasm instance, fed MNIST-style 28×28 inputs, answering digits and probabilities: the
// forward stage of the pipeline (pipeline.ts). Buffers are planned once (maxBatch rows); a prediction allocates only
// its result. Each Predictor owns a fresh core instance, so a reloaded model never shares (or leaks) the old one's
// memory. Not here: turning strokes or images into 28×28 (the pipeline's preprocessing stage), transports (src/server).

import { loadCore } from '../wasm/core.js';
import { Arena } from '../wasm/arena.js';
import { Mlp } from '../nn/mlp.js';
import type { LoadedModel } from '../model/model-file.js';

export const INPUT_SIZE = 784;
export const CLASSES = 10;

export interface Prediction {
  /** Argmax of probs; null when there was no ink. */
  readonly digit: number | null;
  readonly probs: number[];
}

/** What the server reports about the served model (as metrics). */
export interface ModelFacts {
  readonly testAccuracy: number;
  readonly createdAt: string;
  /** From the registry's metrics.json, when the model was trained here. */
  readonly trainingSeconds?: number | undefined;
}

export class Predictor {
  private constructor(private readonly mlp: Mlp, readonly version: string, readonly maxBatch: number, readonly facts: ModelFacts) {}

  static async create(model: LoadedModel, version: string, maxBatch = 64, trainingSeconds?: number): Promise<Predictor> {
    const core = await loadCore();
    const sizes = [model.layers[0]!.inputs, ...model.layers.map((l) => l.outputs)];
    if (sizes[0] !== INPUT_SIZE || sizes[sizes.length - 1] !== CLASSES) {
      throw new Error(`model ${version} maps ${sizes[0]} inputs to ${sizes[sizes.length - 1]} classes; this server needs 784 → 10`);
    }
    // The first layer skips zero pixels (a digit is ~80% zeros): same result, a fraction of the work.
    const mlp = new Mlp(core, new Arena(core), sizes, maxBatch, { sparseInput: true });
    mlp.importLayers(model.layers);
    return new Predictor(mlp, version, maxBatch,
      { testAccuracy: model.metadata.testAccuracy, createdAt: model.metadata.createdAt, trainingSeconds });
  }

  /** One 28×28 image (784 values, ink 1 on 0). */
  predict(input: ArrayLike<number>): Prediction {
    const digit = this.mlp.predictOne(input); // the one-row path: every layer skips its input's zeros, one core call
    const p = this.mlp.probs.data; // re-read per call: a view made before memory.grow is detached
    const probs = new Array<number>(CLASSES);
    for (let c = 0; c < CLASSES; c++) probs[c] = p[c]!;
    return { digit, probs };
  }

  /** n images back to back in `inputs` (n·784 values): probabilities (n·10) and digits (n), in chunks of maxBatch. */
  predictBatch(inputs: Float32Array, n: number): { probs: Float32Array; digits: Int32Array } {
    const probs = new Float32Array(n * CLASSES);
    const digits = new Int32Array(n);
    for (let start = 0; start < n; start += this.maxBatch) {
      const B = Math.min(this.maxBatch, n - start);
      this.mlp.acts[0]!.data.set(inputs.subarray(start * INPUT_SIZE, (start + B) * INPUT_SIZE), 0);
      probs.set(this.mlp.predict(B).data.subarray(0, B * CLASSES), start * CLASSES);
      digits.set(this.mlp.predictions.data.subarray(0, B), start);
    }
    return { probs, digits };
  }
}

/** The answer for an empty canvas: no digit, all probabilities 0. */
export const NO_INK: Prediction = Object.freeze({ digit: null, probs: new Array<number>(CLASSES).fill(0) });
