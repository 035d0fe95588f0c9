// `npm run eval -- [--model <version|prefix|current|path>] [--out metrics.json] [--via tensor|png]`: test accuracy,
// per-class accuracy and the confusion matrix of a model on the 10k MNIST test images — as 28×28 tensors straight into
// the model (the default, as training evaluates), or each as a PNG through the server's whole inference pipeline
// (decode → ink → wasm preprocessing → forward); writes metrics.json atomically (its folder is checked writable
// before the evaluation starts).

import { EXIT_CODES, badValue, parseFlags, runCli } from './args.js';
import { loadCore } from '../wasm/core.js';
import { Arena } from '../wasm/arena.js';
import { Mlp } from '../nn/mlp.js';
import { loadMnist } from '../data/mnist.js';
import { loadModel } from '../model/model-file.js';
import { ModelRegistry } from '../model/registry.js';
import { evaluate, evaluatePredictions, type Evaluation } from '../train/evaluate.js';
import { InferencePipeline, Predictor } from '../inference/index.js';
import { encodeGrayPng } from '../image/index.js';
import { metricsDocument } from '../train/metrics-file.js';
import { readParams } from '../train/options.js';
import { ensureWritableFile, writeFileAtomic } from '../util/atomic-write.js';
import { isAbsolute, relative, sep } from 'node:path';

const USAGE = `Usage: npm run eval -- [flags]
  --model <ref>    a version id, a unique prefix of one, "current" (default), or a path to a .safetensors file
  --out <file>     where to write the metrics (default metrics.json)
  --data <dir>     MNIST folder (default from params.yaml: mnist)
  --models <dir>   model registry (default models)
  --via <path>     tensor (default): the test images as they are, straight into the model; png: each image as a
                   PNG through the server's inference pipeline (src/inference/), as POST /predict would see it
  -h, --help       this text
${EXIT_CODES}`;

async function main(): Promise<number> {
  const { values } = parseFlags({ model: { type: 'string' }, out: { type: 'string' }, data: { type: 'string' },
    models: { type: 'string' }, via: { type: 'string' } });
  const via = values.via ?? 'tensor';
  if (via !== 'tensor' && via !== 'png') throw badValue(`--via must be tensor or png, got "${via}"`);
  const registry = new ModelRegistry(values.models ?? 'models');
  const path = registry.resolve(values.model ?? 'current');
  const model = loadModel(path);
  const out = values.out ?? 'metrics.json';
  ensureWritableFile(out); // before the evaluation, not after it
  const dataDir = values.data ?? readParams('params.yaml').data.dir;
  const { test } = loadMnist(dataDir);
  let result: Evaluation;
  if (via === 'tensor') {
    const core = await loadCore();
    const sizes = [model.layers[0]!.inputs, ...model.layers.map((l) => l.outputs)];
    const mlp = new Mlp(core, new Arena(core), sizes, 500);
    mlp.importLayers(model.layers);
    result = evaluate(mlp, test);
  } else {
    const pipeline = await InferencePipeline.create();
    const predictor = await Predictor.create(model, 'eval');
    const image = new Float32Array(784);
    result = evaluatePredictions(test.labels, test.count, 10, (i) => {
      for (let k = 0; k < 784; k++) image[k] = test.images[i * 784 + k]! / 255;
      return pipeline.predictPng(predictor, encodeGrayPng(image, 28, 28));
    });
  }
  writeFileAtomic(out, JSON.stringify(metricsDocument(result, { model: shownPath(path), contentHash: model.metadata.contentHash, ...(via === 'png' ? { via } : {}) }), null, 2) + '\n');

  console.log(`model ${path}${via === 'png' ? ' (each test image as a PNG through the inference pipeline)' : ''}`);
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
