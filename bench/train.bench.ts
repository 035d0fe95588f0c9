// npm run bench:train — the reference training workload W2: MLP 784-256-128-10, batch 128, SGD momentum 0.9,
// lr 0.05, f32, one epoch over the 60k MNIST training images (~60.5 GFLOP dense). Measures seconds per epoch and
// samples/s for the dense first layer and the zero-skipping one (same run, same seed), plus the default training
// (with augmentation). Validates first: every variant must reach a sane test accuracy after its epoch.
// Writes bench/results/train.json.

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCore } from '../src/wasm/core.js';
import { loadMnist } from '../src/data/mnist.js';
import { train, type TrainConfig } from '../src/train/trainer.js';

// Figures quoted by the project for the same workload on this machine class (not measured by this script).
const NUMPY_1_THREAD_S = 0.36;
const W2_GFLOP = 60.5;

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const data = loadMnist(join(root, 'mnist'));
const core = await loadCore();
const base: TrainConfig = {
  sizes: [784, 256, 128, 10], epochs: 1, batchSize: 128, optimizer: 'sgd', lr: 0.05, schedule: 'constant',
  warmupEpochs: 0, momentum: 0.9, weightDecay: 0, seed: 1, augment: false, limit: 0,
};
const allVariants: Array<[string, TrainConfig]> = [
  ['W2 dense first layer', { ...base, sparseInput: false }],
  ['W2 zero-skipping first layer', { ...base, sparseInput: true }],
  ['W2 + augmentation (default training)', { ...base, sparseInput: true, augment: true }],
];
// BENCH_VARIANTS=sparse (npm run bench -- --quick): only the zero-skipping W2 epoch.
const variants = process.env.BENCH_VARIANTS === 'sparse' ? allVariants.slice(1, 2) : allVariants;
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const rows: Record<string, unknown>[] = [];
console.log(`training, one epoch of 60k images, single thread — ${cpus()[0]?.model}, Node ${process.versions.node}`);
console.log(['variant', 's/epoch (median of ' + repeats + ')', 'samples/s', 'test acc after 1 epoch', 'vs NumPy 0.36 s (quoted)'].join(' | '));
// TensorFlow.js-WASM is measured on the same workload in the same `npm run bench` run (bench/tfjs.bench.ts).
for (const [name, config] of variants) {
  const times: number[] = [];
  let accuracy = 0;
  for (let r = 0; r < repeats; r++) {
    const result = await train(core, data.train, data.test, config);
    if (!(result.final.accuracy > 0.9)) throw new Error(`${name}: test accuracy ${result.final.accuracy} after one epoch: broken training`);
    times.push(result.epochs[0]!.seconds);
    accuracy = result.final.accuracy;
  }
  times.sort((a, b) => a - b);
  const s = times[times.length >> 1]!;
  const row = { variant: name, secondsPerEpoch: s, samplesPerSec: data.train.count / s, testAccuracy: accuracy,
    effectiveGflops: W2_GFLOP / s, vsNumpy: NUMPY_1_THREAD_S / s, runs: times };
  rows.push(row);
  console.log([name, s.toFixed(2), Math.round(row.samplesPerSec).toLocaleString('en-US'), `${(100 * accuracy).toFixed(2)}%`,
    `${row.vsNumpy.toFixed(2)}×`].join(' | '));
}
const dir = process.env.BENCH_RESULTS_DIR ?? join(root, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, 'train.json');
writeFileSync(`${file}.tmp`, JSON.stringify({
  date: new Date().toISOString(), machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryBytes: totalmem() },
  node: process.versions.node, references: { numpy1ThreadSeconds: NUMPY_1_THREAD_S },
  peakRssBytes: process.memoryUsage().rss, variants: rows,
}, null, 2) + '\n');
renameSync(`${file}.tmp`, file);
console.log(`wrote ${file}`);
