// `npm run eval -- [--model <version|prefix|current|path>] [--out metrics.json]`: test accuracy, per-class accuracy
// and the confusion matrix of a model on the 10k MNIST test images; writes metrics.json atomically (its folder is
// checked writable before the evaluation starts).

import { EXIT_CODES, parseFlags, runCli } from './args.js';
import { loadCore } from '../wasm/core.js';
import { Arena } from '../wasm/arena.js';
import { Mlp } from '../nn/mlp.js';
import { loadMnist } from '../data/mnist.js';
import { loadModel } from '../model/model-file.js';
import { ModelRegistry } from '../model/registry.js';
import { evaluate } from '../train/evaluate.js';
import { metricsDocument } from '../train/metrics-file.js';
import { readParams } from '../train/options.js';
import { ensureWritableFile, writeFileAtomic } from '../util/atomic-write.js';
import { isAbsolute, relative, sep } from 'node:path';

const USAGE = `Usage: npm run eval -- [flags]
  --model <ref>    a version id, a unique prefix of one, "current" (default), or a path to a .safetensors file
  --out <file>     where to write the metrics (default metrics.json)
  --data <dir>     MNIST folder (default from params.yaml: mnist)
  --models <dir>   model registry (default models)
  -h, --help       this text
${EXIT_CODES}`;

async function main(): Promise<number> {
  const { values } = parseFlags({ model: { type: 'string' }, out: { type: 'string' }, data: { type: 'string' },
    models: { type: 'string' } });
  const registry = new ModelRegistry(values.models ?? 'models');
  const path = registry.resolve(values.model ?? 'current');
  const model = loadModel(path);
  const out = values.out ?? 'metrics.json';
  ensureWritableFile(out); // before the evaluation, not after it
  const dataDir = values.data ?? readParams('params.yaml').data.dir;
  const { test } = loadMnist(dataDir);
  const core = await loadCore();
  const sizes = [model.layers[0]!.inputs, ...model.layers.map((l) => l.outputs)];
  const mlp = new Mlp(core, new Arena(core), sizes, 500);
  mlp.importLayers(model.layers);
  const result = evaluate(mlp, test);
  writeFileAtomic(out, JSON.stringify(metricsDocument(result, { model: shownPath(path), contentHash: model.metadata.contentHash }), null, 2) + '\n');

  console.log(`model ${path}`);
  console.log(`test accuracy ${(100 * result.accuracy).toFixed(2)}% (${result.correct}/${result.count}), mean loss ${result.meanLoss.toFixed(4)}`);
  console.log(`per class: ${result.perClassAccuracy.map((a, d) => `${d}: ${(100 * a).toFixed(1)}%`).join('  ')}`);
  console.log('confusion matrix (rows: true digit, columns: predicted)');
  console.log(`      ${Array.from({ length: 10 }, (_, d) => String(d).padStart(5)).join('')}`);
  result.confusion.forEach((row, t) => console.log(`  ${t}   ${row.map((n) => String(n).padStart(5)).join('')}`));
  console.log(`wrote ${out}`);
  return 0;
}

runCli(main, USAGE);

/** The model's path as metrics.json records it: relative to the working directory when inside it, so the file (which
 * DVC users commit) is the same on every machine. */
function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : path;
}
