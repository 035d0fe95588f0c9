// The training loop: seeded shuffling and augmentation, mini-batch forward/backward on the wasm kernels, an
// optimizer step per batch on a learning-rate schedule, and an evaluation on the test set after every epoch.
// Deterministic: the same config, data and seed give bit-identical weights (single thread, fixed reduction order).
// Not here: files, tracking or the terminal (the CLI wires those in through the callbacks).

import type { CoreExports } from '../wasm/core.js';
import { Arena } from '../wasm/arena.js';
import { Mlp } from '../nn/mlp.js';
import { Adam, SgdMomentum, type Optimizer } from '../nn/optimizer.js';
import { Random } from '../random.js';
import { augmentImage, toUnit, DEFAULT_AUGMENT } from './augment.js';
import { learningRate, type ScheduleName } from './schedule.js';
import { evaluate, type Evaluation, type LabelledImages } from './evaluate.js';

export interface TrainConfig {
  readonly sizes: readonly number[];
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer: 'sgd' | 'adam';
  readonly lr: number;
  readonly schedule: ScheduleName;
  readonly warmupEpochs: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly seed: number;
  readonly augment: boolean;
  /** Train on at most this many images (0 = all): for quick runs and tests. */
  readonly limit: number;
  /** Skip the input's zero pixels in the first layer (same result, less work; default true). */
  readonly sparseInput?: boolean;
  /** Evaluate on the test set after every epoch (default true; the final evaluation always runs). */
  readonly evaluateEachEpoch?: boolean;
}

export interface StepProgress {
  readonly epoch: number;       // 1-based
  readonly epochs: number;
  readonly step: number;        // 1-based within the epoch
  readonly steps: number;
  readonly loss: number;        // running mean over the epoch so far
  readonly samplesPerSec: number;
  readonly etaSec: number;
}

export interface EpochResult {
  readonly epoch: number;
  readonly loss: number;
  readonly trainAccuracy: number;
  readonly test: Evaluation;
  readonly samplesPerSec: number;
  readonly seconds: number;
  readonly lr: number;
}

export interface TrainHooks {
  onStep?(p: StepProgress): void;
  onEpoch?(r: EpochResult): void | Promise<void>;
  /** Checked between batches: return true to stop early (e.g. after SIGINT). */
  shouldStop?(): boolean;
}

export interface TrainResult {
  readonly mlp: Mlp;
  readonly epochs: EpochResult[];
  readonly final: Evaluation;
  readonly stopped: boolean;
  readonly seconds: number;
}

export async function train(core: CoreExports, trainSet: LabelledImages, testSet: LabelledImages, config: TrainConfig,
  hooks: TrainHooks = {}): Promise<TrainResult> {
  validate(config, trainSet);
  const arena = new Arena(core);
  const pixels = config.sizes[0]!;
  const mlp = new Mlp(core, arena, config.sizes, config.batchSize, { sparseInput: config.sparseInput ?? true });
  const rng = new Random(config.seed);
  mlp.init(rng);
  const optimizer: Optimizer = config.optimizer === 'adam'
    ? new Adam(core, arena, mlp, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: config.weightDecay })
    : new SgdMomentum(core, arena, mlp, { momentum: config.momentum, weightDecay: config.weightDecay });

  const n = config.limit > 0 ? Math.min(config.limit, trainSet.count) : trainSet.count;
  const steps = Math.ceil(n / config.batchSize);
  const schedule = {
    name: config.schedule, lr: config.lr, totalSteps: steps * config.epochs, stepsPerEpoch: steps,
    warmupSteps: Math.round(config.warmupEpochs * steps),
  };
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  const scratch = new Float32Array(pixels);
  const results: EpochResult[] = [];
  const t0 = performance.now();
  let globalStep = 0;
  let stopped = false;
  // The 100 ms clock spans epochs: short epochs (small --limit) must yield too, or signals are never handled.
  let lastYield = performance.now();

  for (let epoch = 1; epoch <= config.epochs && !stopped; epoch++) {
    shuffle(order, rng);
    const tEpoch = performance.now();
    let lossSum = 0, correct = 0, seen = 0, lr = config.lr;
    for (let step = 0; step < steps; step++) {
      // Let the event loop run now and then (signal handlers, progress output, tracking I/O): a batch never yields.
      if (performance.now() - lastYield > 100) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
      if (hooks.shouldStop?.()) { stopped = true; break; }
      const start = step * config.batchSize;
      const B = Math.min(config.batchSize, n - start);
      const input = mlp.acts[0]!.data;
      const targets = mlp.targets.data;
      for (let b = 0; b < B; b++) {
        const idx = order[start + b]!;
        const row = input.subarray(b * pixels, (b + 1) * pixels);
        if (config.augment) augmentImage(row, trainSet.images, idx * pixels, rng, DEFAULT_AUGMENT, scratch);
        else toUnit(row, trainSet.images, idx * pixels);
        targets[b] = trainSet.labels[idx]!;
      }
      lossSum += mlp.loss(B) * B;
      correct += mlp.countCorrect(B);
      seen += B;
      mlp.backward(B);
      lr = learningRate(schedule, globalStep++);
      optimizer.step(lr);
      if (hooks.onStep) {
        const elapsed = (performance.now() - tEpoch) / 1000;
        const rate = seen / Math.max(elapsed, 1e-9);
        const remaining = (steps - step - 1) * config.batchSize + (config.epochs - epoch) * n;
        hooks.onStep({ epoch, epochs: config.epochs, step: step + 1, steps, loss: lossSum / seen, samplesPerSec: rate,
          etaSec: remaining / rate });
      }
    }
    if (stopped || seen === 0) break; // a partial epoch is neither evaluated nor reported
    const seconds = (performance.now() - tEpoch) / 1000;
    const test = config.evaluateEachEpoch === false && epoch < config.epochs ? NOT_EVALUATED : evaluate(mlp, testSet);
    const result: EpochResult = { epoch, loss: lossSum / seen, trainAccuracy: correct / seen, test,
      samplesPerSec: seen / seconds, seconds, lr };
    results.push(result);
    await hooks.onEpoch?.(result);
  }
  const last = results[results.length - 1];
  const final = last ? last.test : evaluate(mlp, testSet);
  return { mlp, epochs: results, final, stopped, seconds: (performance.now() - t0) / 1000 };
}

const NOT_EVALUATED: Evaluation = { accuracy: NaN, count: 0, correct: 0, perClassAccuracy: [], confusion: [], meanLoss: NaN };

function validate(c: TrainConfig, set: LabelledImages): void {
  const classes = c.sizes[c.sizes.length - 1]!;
  if (c.sizes[0] !== 784) throw new RangeError(`the input layer must have 784 units (28×28 pixels), got ${c.sizes[0]}`);
  for (let i = 0; i < set.count; i++) {
    if (set.labels[i]! >= classes) throw new RangeError(`label ${set.labels[i]} at index ${i} is not below ${classes} classes`);
  }
}

// Fisher–Yates with the seeded generator.
function shuffle(a: Uint32Array, rng: Random): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}
