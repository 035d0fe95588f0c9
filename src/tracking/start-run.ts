// startRun: validates the options once, resolves the default tags as MLflow's Python client does (mlflow.user,
// mlflow.source.name, mlflow.source.type = LOCAL, mlflow.runName; user tags may override all but the run name),
// then creates the run in the file store or on the tracking server that the tracking URI names.

import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { basename } from 'node:path';
import type { KeyValue, NewRun, Run, StartRunOptions } from './types.js';
import { RUN_STATUS_CODE } from './types.js';
import { checkExperimentName, checkKey, checkTagValue, checkTimestamp } from './validate.js';
import { resolveTrackingUri } from './uri.js';
import { FileStore } from './file-store.js';
import { FileRun, createRunDirectory } from './file-run.js';
import { RestClient } from './rest-client.js';
import { startRestRun } from './rest-store.js';
import { TrackedRun } from './tracked-run.js';

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** getpass.getuser() with MLflow's fallback (mlflow/tracking/context/default_context.py). */
function defaultUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

function resolveTags(opts: StartRunOptions, user: string): KeyValue[] {
  const tags = new Map<string, string>([
    ['mlflow.user', user],
    ['mlflow.source.name', opts.sourceName ?? (process.argv[1] ? basename(process.argv[1]) : '')],
    ['mlflow.source.type', 'LOCAL'],
  ]);
  for (const [key, value] of Object.entries(opts.tags ?? {})) {
    checkKey('tag', key);
    checkTagValue(key, value);
    if (key === 'mlflow.runName' && value !== opts.runName) {
      throw new Error(`tags["mlflow.runName"] (${JSON.stringify(value)}) differs from runName (${JSON.stringify(opts.runName)})`);
    }
    tags.set(key, value);
  }
  tags.set('mlflow.runName', opts.runName);
  for (const [key, value] of tags) checkTagValue(key, value);
  return [...tags].map(([key, value]) => ({ key, value }));
}

export async function startRun(opts: StartRunOptions): Promise<Run> {
  checkExperimentName(opts.experimentName);
  if (typeof opts.runName !== 'string' || opts.runName === '') throw new Error('runName must be a non-empty string');
  const startTimeMs = opts.startTimeMs ?? Date.now();
  checkTimestamp('startTimeMs', startTimeMs);
  const user = opts.user ?? defaultUser();
  const run: NewRun = { experimentName: opts.experimentName, runName: opts.runName, tags: resolveTags(opts, user), startTimeMs, user };
  const timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new Error(`requestTimeoutMs must be positive, got ${timeoutMs}`);

  const target = resolveTrackingUri(opts.trackingUri);
  if (target.kind === 'rest') return new TrackedRun(await startRestRun(new RestClient(target.baseUrl, timeoutMs), run));

  const store = new FileStore(target.root);
  try {
    store.init();
  } catch (err) {
    throw new Error(`cannot use ${target.root} as an MLflow file store: ${(err as Error).message}`, { cause: err });
  }
  const experiment = store.getOrCreate(run.experimentName);
  const runId = randomUUID().replaceAll('-', '');
  const info = {
    runId,
    experimentId: experiment.id,
    runName: run.runName,
    userId: run.user,
    startTime: run.startTimeMs,
    endTime: null,
    status: RUN_STATUS_CODE.RUNNING,
    artifactUri: `${experiment.artifactLocation.replace(/\/+$/, '')}/${runId}/artifacts`,
  };
  const dir = createRunDirectory(experiment.dir, info, run.tags);
  return new TrackedRun(new FileRun(dir, info));
}
