// npm run bench [-- --quick] [--only <part>] [--compare <old.json>] — every benchmark, the same way each time:
// kernels, train, preprocess, inference (with ONNX Runtime), tfjs (TensorFlow.js-WASM training and inference),
// server (each validates its subject before timing it). Runs each part as
// its own process (bundled by the npm script), then merges their JSON with the machine, Node, wasm features and git
// commit into bench/results/bench.json; --compare prints new/old for every figure both files have.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasWasmSimd } from '../src/wasm/simd.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const quick = args.includes('--quick');
const only = flag('--only');
const compare = flag('--compare');

interface Part { name: string; script: string; args: string[]; env: Record<string, string>; results: string }
const PARTS: Part[] = [
  { name: 'kernels', script: 'build/bench/kernels.bench.mjs', args: [], env: quick ? { BENCH_BUDGET_MS: '40', BENCH_SHAPES: 'quick' } : {}, results: 'kernels.json' },
  { name: 'train', script: 'build/bench/train.bench.mjs', args: [], env: quick ? { BENCH_REPEATS: '1', BENCH_VARIANTS: 'sparse' } : {}, results: 'train.json' },
  { name: 'preprocess', script: 'build/bench/preprocess.bench.mjs', args: quick ? ['--quick'] : [], env: {}, results: 'preprocess.json' },
  { name: 'inference', script: 'build/bench/inference.bench.mjs', args: quick ? ['--quick'] : [], env: {}, results: 'inference.json' },
  { name: 'tfjs', script: 'build/bench/tfjs.bench.mjs', args: quick ? ['--quick'] : [], env: {}, results: 'tfjs.json' },
  { name: 'server', script: 'build/bench/server.bench.mjs', args: quick ? ['--quick', '--seconds', '1'] : ['--seconds', '5'], env: {}, results: 'server.json' },
];

if (only !== undefined && !PARTS.some((p) => p.name === only)) {
  console.error(`error: --only takes one of ${PARTS.map((p) => p.name).join(', ')}, got "${only}"`);
  process.exit(2);
}
// The model the parts measure: the registry's current one. A fresh clone has none: then make a small one in
// build/bench-models/ (never in models/, where it would become what `npm start` serves; its run is tracked in
// build/bench-mlruns/, never among the user's runs in mlruns/), so that
// `npm ci && npm run bench -- --quick` works end to end. Figures worth publishing need the default model (`npm start`).
let modelsDir = join(root, 'models');
if (!existsSync(join(modelsDir, 'current'))) {
  modelsDir = join(root, 'build', 'bench-models');
  if (!existsSync(join(modelsDir, 'current'))) {
    console.log('no trained model yet: ingesting MNIST and training a 1-epoch model into build/bench-models/');
    for (const [cli, cliArgs] of [['data.js', []], ['train.js', ['--epochs', '1', '--limit', '6000', '--run-name', 'bench-bootstrap', '--models', modelsDir]]] as const) {
      const r = spawnSync(process.execPath, [join(root, 'build', 'cli', cli), ...cliArgs], { cwd: root, stdio: 'inherit',
        env: { ...process.env, MLFLOW_TRACKING_URI: join(root, 'build', 'bench-mlruns') } });
      if (r.status !== 0) {
        console.error(`error: ${cli.replace('.js', '')} failed while preparing a model for the benchmark`);
        process.exit(1);
      }
    }
  }
}

// A quick run is a smoke test: its figures go to build/ and never replace the committed full results.
const resultsDir = quick ? join(root, 'build', 'bench-results') : join(root, 'bench', 'results');
const out = join(resultsDir, 'bench.json');
// --only refreshes one part of an existing results file and keeps the others.
const previous = only !== undefined && existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { parts?: Record<string, unknown> }).parts : undefined;
const merged: Record<string, unknown> = { ...(previous ?? {}) };
for (const part of PARTS.filter((p) => only === undefined || p.name === only)) {
  console.log(`\n=== ${part.name} ===`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(root, part.script), ...part.args], { cwd: root, stdio: 'inherit', env: { ...process.env, ...part.env, BENCH_RESULTS_DIR: resultsDir, BENCH_MODELS_DIR: modelsDir } });
  if (r.status !== 0) {
    console.error(`error: the ${part.name} benchmark failed (exit ${r.status})`);
    process.exit(1);
  }
  merged[part.name] = JSON.parse(readFileSync(join(resultsDir, part.results), 'utf8'));
  console.log(`(${part.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim() || 'unknown';
const doc = {
  date: new Date().toISOString(), commit, quick,
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryBytes: totalmem() }, node: process.versions.node,
  wasmFeatures: { simd: hasWasmSimd() }, parts: merged,
};
mkdirSync(resultsDir, { recursive: true });
writeFileSync(`${out}.tmp`, JSON.stringify(doc, null, 2) + '\n');
renameSync(`${out}.tmp`, out);
console.log(`\nwrote ${out} (commit ${commit})`);

if (compare !== undefined) {
  const old = JSON.parse(readFileSync(compare, 'utf8')) as { parts?: unknown; commit?: string };
  const flat = (v: unknown, path: string, acc: Map<string, number>): Map<string, number> => {
    if (typeof v === 'number' && Number.isFinite(v)) acc.set(path, v);
    else if (Array.isArray(v)) v.forEach((x, i) => flat(x, `${path}[${i}]`, acc));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) flat(x, path ? `${path}.${k}` : k, acc);
    return acc;
  };
  const a = flat(old.parts, '', new Map()), b = flat(doc.parts, '', new Map());
  console.log(`\nnew / old (old: ${compare}, commit ${old.commit ?? '?'})`);
  for (const [k, v] of b) {
    const o = a.get(k);
    if (o === undefined || o === 0 || /date|machine|runs\[|cores|memory|seed|budget|\.M$|\.K$|\.N$|flops/.test(k)) continue;
    console.log(`${(v / o).toFixed(2)}×  ${k}  ${o.toPrecision(4)} → ${v.toPrecision(4)}`);
  }
}
