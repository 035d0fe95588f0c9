// One complete training run, as `npm run train` and `npm start` (first start) do it: load MNIST, record an MLflow
// run, train with a progress display, save the model into the registry (promoted only when at least as accurate as
// the current one, unless forced) and optionally to a file, attach the model, metrics.json, the confusion matrix and
// the ONNX export to the run. Tracking is best effort (BestEffortRun): a tracking failure is a warning naming what was
// not logged, never a failed training. An exception ends the run as FAILED, an interruption (`interrupted()`) as
// KILLED with no model saved, a finished training as FINISHED (FAILED when the MLflow record is incomplete). The
// output folders (registry, --out) are checked writable before the run starts, so a bad path fails in a second, not
// after the training it would lose.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CoreExports } from '../wasm/core.js';
import { loadTrainingData } from '../data/load.js';
import type { ParquetDatasetInfo } from '../data/parquet.js';
import { encodeModel, loadModel } from '../model/model-file.js';
import { encodeOnnx } from '../model/onnx.js';
import { ModelRegistry, type VersionInfo } from '../model/registry.js';
import { BestEffortRun, gitCommit, registerChampion, sweepTrackingStore, type Warn } from '../tracking/index.js';
import { sweepStaleTemps, sweptLine } from '../util/stale-temps.js';
import { ensureWritableDir, ensureWritableFile, removeDirs, writeFileAtomic } from '../util/atomic-write.js';
import { train, type TrainConfig, type TrainResult } from './trainer.js';
import { Progress, type ProgressStream } from './progress.js';
import { CONFUSION_TABLE_TAG, confusionTable, metricsDocument } from './metrics-file.js';
import { PREPROCESSING_VERSION } from '../preprocess/index.js';

/** Version of the input normalisation the model expects (MNIST-style 28×28, ink 1.0 on 0.0). */
export const PREPROCESSING = PREPROCESSING_VERSION;
export const EXPERIMENT = 'MNIST_Digit_Classification';

export interface RunOptions {
  readonly config: TrainConfig;
  /** An IDX folder, or `parquet:<dir>` (src/data/load.ts). */
  readonly dataDir: string;
  /** Parquet sources whose train rows join MNIST's (e.g. feedback). */
  readonly include?: readonly string[] | undefined;
  readonly modelsDir: string;
  readonly out?: string | undefined;
  readonly force?: boolean | undefined;
  readonly runName?: string | undefined;
  readonly trackingUri?: string | undefined;
  readonly stream: ProgressStream;
  /** Polled between batches. */
  readonly interrupted: () => boolean;
  /** Called once the run is set up, tracked or not (e.g. to end it as KILLED on a signal). */
  readonly onRunStarted?: (run: BestEffortRun) => void;
  /** Tracking warnings, one line each (default: "warning: …" on `stream`). */
  readonly warn?: Warn | undefined;
}

export interface RunOutcome {
  readonly result: TrainResult;
  /** undefined when tracking could not start. */
  readonly runId: string | undefined;
  readonly model?: { info: VersionInfo; promoted: boolean; reason: string };
}

export async function runTraining(core: CoreExports, o: RunOptions): Promise<RunOutcome> {
  const { config } = o;
  const data = await loadTrainingData(o.dataDir, o.include);
  const created = ensureWritableDir(o.modelsDir);
  // What an earlier training killed mid-write left behind (never a live process's: the names carry their pid).
  const swept = [...new ModelRegistry(o.modelsDir).sweepStale(), ...sweepTrackingStore(o.trackingUri), ...sweepStaleTemps(tmpdir()),
    ...(o.out ? sweepStaleTemps(dirname(o.out)) : [])];
  try {
    if (o.out) ensureWritableFile(o.out);
  } catch (err) {
    removeDirs(created); // leave no empty registry behind a failed start
    throw err;
  }
  const say = (line: string): void => void o.stream.write(`${line}\n`);
  if (swept.length > 0) say(sweptLine(swept));
  if (data.dataset !== undefined) {
    const used = Object.entries(data.dataset.used).map(([s, bySplit]) => Object.entries(bySplit).map(([sp, n]) => `${s} ${sp} ${n}`).join(', ')).join(', ');
    say(`data: Parquet dataset ${data.dataset.version} (${used})`);
  }
  const runName = o.runName ?? `mlp-${config.sizes.join('-')}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const warn = o.warn ?? ((line: string): void => void o.stream.write(`warning: ${line}\n`));
  const commit = gitCommit(dirname(process.argv[1] ?? '.'));
  const run = await BestEffortRun.start({
    trackingUri: o.trackingUri, experimentName: EXPERIMENT, runName,
    tags: { model_type: 'mlp', framework: 'doodle-digits-wasm', preprocessing: PREPROCESSING,
      ...datasetTags(data.dataset),
      ...(commit === undefined ? {} : { 'mlflow.source.git.commit': commit }) },
  }, warn);
  o.onRunStarted?.(run);
  const summarize = (): void => {
    const missing = run.summary();
    if (missing !== undefined) warn(missing);
  };
  try {
    void run.logParams(flattenConfig(config));
    say(`training ${config.sizes.join('-')} for ${config.epochs} epoch${config.epochs === 1 ? '' : 's'} (batch ${config.batchSize}, ${config.optimizer} ` +
      `lr ${config.lr} ${config.schedule}, augmentation ${config.augment ? 'on' : 'off'}, seed ${config.seed}); ` +
      (run.runId === undefined ? 'MLflow tracking off' : `MLflow run ${run.runId}`));
    const progress = new Progress(o.stream);
    const result = await train(core, data.train, data.test, config, {
      onStep: (p) => progress.step(p),
      onEpoch: (r) => {
        progress.epoch(r, config.epochs);
        // Not awaited: a slow tracking server must not slow the training (the run keeps the calls in order).
        void run.logMetrics({ loss: r.loss, train_accuracy: r.trainAccuracy, test_accuracy: r.test.accuracy,
          test_loss: r.test.meanLoss, samples_per_sec: r.samplesPerSec, lr: r.lr }, r.epoch);
      },
      shouldStop: o.interrupted,
    });
    if (result.stopped) {
      await run.end('KILLED');
      summarize();
      return { result, runId: run.runId };
    }

    const { bytes, contentHash } = encodeModel(result.mlp.exportLayers(), {
      architecture: { sizes: [...config.sizes], activation: 'relu', output: 'softmax' },
      preprocessing: PREPROCESSING,
      testAccuracy: result.final.accuracy,
      trainingParams: flattenConfig(config),
      dataChecksums: data.checksums,
      createdAt: new Date().toISOString(),
    });
    const metrics = metricsDocument(result.final, { trainingSeconds: result.seconds, runId: run.runId, contentHash });
    const model = new ModelRegistry(o.modelsDir).addAndMaybePromote(bytes, contentHash, metrics, { force: o.force ?? false });
    if (o.out) writeFileAtomic(o.out, bytes);

    const staging = mkdtempSync(join(tmpdir(), `doodle-artifacts-${process.pid}-`));
    try {
      writeFileAtomic(join(staging, 'model.safetensors'), bytes);
      writeFileAtomic(join(staging, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n');
      writeFileAtomic(join(staging, 'confusion_matrix.json'), JSON.stringify(confusionTable(result.final)));
      // The registry's copy, as `npm run export:onnx -- --model <version>` exports it (byte for byte).
      writeFileAtomic(join(staging, 'model.onnx'), encodeOnnx(loadModel(model.info.path)));
      for (const name of ['model.safetensors', 'metrics.json', 'confusion_matrix.json', 'model.onnx']) {
        await run.logArtifact(join(staging, name));
      }
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    void run.setTags({ model_version: model.info.version, promoted: String(model.promoted), 'mlflow.loggedArtifacts': CONFUSION_TABLE_TAG });
    void run.logMetrics({ final_test_accuracy: result.final.accuracy, training_seconds: result.seconds }, config.epochs);
    await run.finish();
    if (model.promoted && run.runId !== undefined) {
      // The MLflow Model Registry follows the local promotion (an http(s) tracking server only; never throws).
      if (run.summary() !== undefined) {
        warn('MLflow registry: the model was not registered there (its run is incomplete); the local registry has it');
      } else {
        const champion = await registerChampion({ trackingUri: o.trackingUri, runId: run.runId, contentHash, trainingSeconds: result.seconds });
        if (champion.kind === 'failed') warn(champion.message);
        else if (champion.kind === 'registered') say(champion.message);
      }
    }
    say(`test accuracy ${(100 * result.final.accuracy).toFixed(2)}% after ${result.seconds.toFixed(1)} s of training`);
    say(`model ${model.info.version} → ${model.info.path}${o.out ? ` and ${o.out}` : ''}`);
    say(model.promoted ? `promoted to current (${model.reason})` : `not promoted: ${model.reason} (--force promotes anyway)`);
    summarize();
    return { result, runId: run.runId, model };
  } catch (err) {
    await run.end('FAILED');
    throw err;
  }
}

/** MLflow tags naming the training data: MNIST's IDX files, or a Parquet dataset's version and the rows it gave. */
function datasetTags(d: ParquetDatasetInfo | undefined): Record<string, string> {
  if (d === undefined) return { dataset: 'mnist' };
  const sources = Object.entries(d.used).map(([s, bySplit]) => `${s}:${Object.values(bySplit).reduce((a, n) => a + (n ?? 0), 0)}`).join(',');
  return { dataset: 'parquet', dataset_version: d.version, dataset_sources: sources, dataset_manifest_sha256: d.manifestSha256 };
}

export function flattenConfig(c: TrainConfig): Record<string, string | number | boolean> {
  return {
    layers: c.sizes.join(','), epochs: c.epochs, batch_size: c.batchSize, optimizer: c.optimizer, lr: c.lr,
    schedule: c.schedule, warmup_epochs: c.warmupEpochs, momentum: c.momentum, weight_decay: c.weightDecay,
    seed: c.seed, augment: c.augment, limit: c.limit,
  };
}
