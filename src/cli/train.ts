// `npm run train -- [flags]`: train the MLP on MNIST, record the run for MLflow, save the model to the registry
// (promoted only if at least as accurate as the current one, unless --force) and optionally to --out.
// Exit codes: 0 done, 1 error, 2 usage, 130/143 interrupted by SIGINT/SIGTERM (the MLflow run ends as KILLED).

import { badValue, EXIT_CODES, parseFlags, runCli } from './args.js';
import { loadCore } from '../wasm/core.js';
import type { TrainConfig } from '../train/trainer.js';
import { readParams, resolveConfig, OptionsError, type TrainFlags } from '../train/options.js';
import { runTraining } from '../train/run.js';
import { installRunGuards } from '../tracking/index.js';
import { readEnvironment } from '../config.js';

const USAGE = `Usage: npm run train -- [flags]

Trains the 784-…-10 MLP on MNIST with the WebAssembly kernels. Defaults come from params.yaml.
  --layers <a,b,…>        layer sizes, first 784, last 10 (default from params.yaml: 784,256,128,10)
  --epochs <n>            passes over the 60k training images
  --batch-size <n>        images per step
  --optimizer <sgd|adam>  SGD with momentum, or AdamW
  --lr <x>                peak learning rate
  --schedule <name>       constant | cosine | step
  --warmup-epochs <x>     linear warm-up before the cosine decay
  --momentum <x>          SGD momentum
  --weight-decay <x>      L2 (SGD) / decoupled (AdamW) weight decay on weights
  --seed <n>              seed for init, shuffling and augmentation (same seed → identical weights)
  --augment, --no-augment shifts, rotations, scale and stroke-thickness changes (default on)
  --limit <n>             train on the first n images only (quick runs)
  --out <file>            also write the model file here (e.g. for DVC)
  --force                 promote the new model even if less accurate than the current one
  --data <dir>            MNIST folder (default from params.yaml: mnist), or parquet:<dir> for the Parquet dataset
                          of \`npm run ingest:spark\` (its current version, or a version folder)
  --include <sources>     with parquet: also train on these sources' train rows (comma-separated, e.g. feedback)
  --models <dir>          model registry (default models)
  --params <file>         hyperparameter defaults (default params.yaml)
  --run-name <name>       MLflow run name (default mlp-<layers>-<timestamp>)
  -h, --help              this text
Tracking: runs go to ./mlruns (MLflow file store), or to MLFLOW_TRACKING_URI when it is an http(s):// URL.
${EXIT_CODES}
130/143: interrupted by SIGINT/SIGTERM (no model saved; the MLflow run ends as KILLED).`;

async function main(): Promise<number> {
  const args = parseFlags({
    layers: { type: 'string' }, epochs: { type: 'string' }, 'batch-size': { type: 'string' },
    optimizer: { type: 'string' }, lr: { type: 'string' }, schedule: { type: 'string' },
    'warmup-epochs': { type: 'string' }, momentum: { type: 'string' }, 'weight-decay': { type: 'string' },
    seed: { type: 'string' }, augment: { type: 'boolean' }, 'no-augment': { type: 'boolean' },
    limit: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' }, data: { type: 'string' },
    models: { type: 'string' }, params: { type: 'string' }, 'run-name': { type: 'string' }, include: { type: 'string' },
  });
  const v = args.values;
  let config: TrainConfig;
  let dataDir: string;
  try {
    const params = readParams(v.params ?? 'params.yaml');
    const flags: TrainFlags = { ...pick(v) };
    if (v['no-augment']) flags.augment = false;
    else if (v.augment) flags.augment = true;
    config = resolveConfig(params.train, flags);
    dataDir = v.data ?? params.data.dir;
  } catch (err) {
    // A bad value is a usage error (exit 2) but its message is enough without the whole usage text.
    throw err instanceof OptionsError ? badValue(err.message) : err;
  }

  const core = await loadCore();
  let interrupted: NodeJS.Signals | undefined;
  let removeGuards: (() => void) | undefined;
  try {
    const outcome = await runTraining(core, {
      config, dataDir, include: splitList(v.include), modelsDir: v.models ?? 'models', out: v.out, force: v.force, runName: v['run-name'],
      trackingUri: readEnvironment().mlflowTrackingUri, stream: process.stdout,
      warn: (line) => console.error(`warning: ${line}`), // tracking problems: the training still succeeds (exit 0)
      interrupted: () => interrupted !== undefined,
      onRunStarted: (run) => { removeGuards = installRunGuards(run, (signal) => { interrupted = signal; }); },
    });
    if (outcome.result.stopped) {
      console.error('interrupted: no model saved; the MLflow run ends as KILLED');
      return 128 + (interrupted === 'SIGTERM' ? 15 : 2); // the shell's convention: 128 + signal number
    }
    return 0;
  } finally {
    removeGuards?.();
  }
}

/** "a,b" → ["a", "b"]; undefined → []. */
function splitList(value: string | undefined): string[] {
  if (value === undefined) return [];
  const list = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw badValue('--include needs at least one source name (e.g. --include feedback)');
  return list;
}

function pick(v: Record<string, string | boolean | undefined>): TrainFlags {
  const out: Record<string, string> = {};
  for (const k of ['layers', 'epochs', 'batch-size', 'optimizer', 'lr', 'schedule', 'warmup-epochs', 'momentum',
    'weight-decay', 'seed', 'limit']) {
    const value = v[k];
    if (typeof value === 'string') out[k] = value;
  }
  return out as TrainFlags;
}

runCli(main, USAGE);
