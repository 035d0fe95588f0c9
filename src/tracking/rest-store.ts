// A run on an MLflow tracking server through REST API 2.0: experiments/get-by-name (→ experiments/create when
// missing), runs/create, runs/log-batch within MLflow's batch limits, runs/update to end. Artifacts go where the
// run's artifact_uri says, as MLflow's client does: mlflow-artifacts:/… through the server's proxy (PUT
// /api/2.0/mlflow-artifacts/artifacts/<artifact_uri path>/<artifactPath>/<file>), file:///… (a server started with
// --no-serve-artifacts) copied into that folder; any other store (s3:, gs:, …) is UnsupportedArtifactStoreError.
// see: https://mlflow.org/docs/latest/rest-api.html, mlflow/utils/validation.py (MAX_*_PER_BATCH),
// mlflow/store/artifact/mlflow_artifacts_repo.py (resolve_uri), artifact_repository_registry.py.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { MlflowRestError, type RestClient } from './rest-client.js';
import { UnsupportedArtifactStoreError, type KeyValue, type LogBatch, type MetricPoint, type NewRun, type RunBackend, type RunStatus } from './types.js';
import { copyArtifact, localArtifactRoot } from './local-artifacts.js';

/** MLflow's log-batch limits (validation.py) and a byte budget under its 1 MB request limit. */
export const BATCH_LIMITS = { metrics: 1000, params: 100, tags: 100, entities: 1000, bytes: 900_000 } as const;

function isMissing(err: unknown): boolean {
  return err instanceof MlflowRestError && (err.status === 404 || err.errorCode === 'RESOURCE_DOES_NOT_EXIST');
}

function field(obj: unknown, name: string, endpoint: string): string {
  const value = obj !== null && typeof obj === 'object' ? (obj as Record<string, unknown>)[name] : undefined;
  if (typeof value !== 'string' || value === '') {
    throw new Error(`MLflow ${endpoint}: the reply has no ${name} (is this an MLflow tracking server?)`);
  }
  return value;
}

async function experimentByName(client: RestClient, name: string): Promise<string | undefined> {
  let reply: Record<string, unknown>;
  try {
    reply = await client.json('GET', 'experiments/get-by-name', { experiment_name: name });
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
  const experiment = reply['experiment'];
  // get-by-name also returns deleted experiments, whose name cannot be reused until restored or purged.
  if ((experiment as { lifecycle_stage?: unknown } | undefined)?.lifecycle_stage === 'deleted') {
    throw new Error(`experiment "${name}" is deleted on the MLflow server: restore it (or purge it with \`mlflow gc\`) to use the name`);
  }
  return field(experiment, 'experiment_id', 'experiments/get-by-name');
}

export async function getOrCreateExperiment(client: RestClient, name: string): Promise<string> {
  const found = await experimentByName(client, name);
  if (found !== undefined) return found;
  try {
    return field(await client.json('POST', 'experiments/create', { name }), 'experiment_id', 'experiments/create');
  } catch (err) {
    // Another process created it between our two calls.
    if (err instanceof MlflowRestError && err.errorCode === 'RESOURCE_ALREADY_EXISTS') {
      const again = await experimentByName(client, name);
      if (again !== undefined) return again;
    }
    throw err;
  }
}

export async function startRestRun(client: RestClient, run: NewRun): Promise<RestRun> {
  const experimentId = await getOrCreateExperiment(client, run.experimentName);
  const reply = await client.json('POST', 'runs/create', {
    experiment_id: experimentId,
    user_id: run.user,
    start_time: run.startTimeMs,
    run_name: run.runName,
    tags: run.tags,
  });
  const info = (reply['run'] as { info?: unknown } | undefined)?.info;
  const runId = field(info, 'run_id', 'runs/create');
  const artifactUri = (info as { artifact_uri?: unknown }).artifact_uri;
  return new RestRun(client, runId, experimentId, run.runName, typeof artifactUri === 'string' ? artifactUri : undefined);
}

/** JSON has no NaN or Infinity; protobuf's JSON mapping, which the server parses, spells them as strings. */
function metricJson(m: MetricPoint): Record<string, unknown> {
  const value = Number.isFinite(m.value) ? m.value : Number.isNaN(m.value) ? 'NaN' : m.value > 0 ? 'Infinity' : '-Infinity';
  return { key: m.key, value, timestamp: m.timestamp, step: m.step };
}

type Body = { params: KeyValue[]; metrics: Record<string, unknown>[]; tags: KeyValue[] };

/** Splits one kind of item into requests of at most `limit` items and BATCH_LIMITS.bytes of JSON. */
function chunk<T>(items: readonly T[], limit: number): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (current.length > 0 && (current.length === limit || bytes + size > BATCH_LIMITS.bytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** The log-batch request bodies for one batch: params first, then metrics, then tags, each kind in order. */
export function logBatchBodies(batch: LogBatch): Body[] {
  return [
    ...chunk(batch.params, BATCH_LIMITS.params).map((params) => ({ params, metrics: [], tags: [] })),
    ...chunk(batch.metrics.map(metricJson), BATCH_LIMITS.metrics).map((metrics) => ({ params: [], metrics, tags: [] })),
    ...chunk(batch.tags, BATCH_LIMITS.tags).map((tags) => ({ params: [], metrics: [], tags })),
  ];
}

export class RestRun implements RunBackend {
  constructor(
    private readonly client: RestClient,
    readonly runId: string,
    readonly experimentId: string,
    private runName: string,
    readonly artifactUri: string | undefined,
  ) {}

  async logBatch(batch: LogBatch): Promise<void> {
    for (const body of logBatchBodies(batch)) {
      await this.client.json('POST', 'runs/log-batch', { run_id: this.runId, ...body });
    }
    for (const tag of batch.tags) if (tag.key === 'mlflow.runName') this.runName = tag.value;
  }

  async logArtifact(localPath: string, artifactPath: string | undefined): Promise<void> {
    const uri = this.artifactUri ?? `mlflow-artifacts:/${this.experimentId}/${this.runId}/artifacts`;
    const local = localArtifactRoot(uri);
    if (local !== undefined) {
      copyArtifact(local, localPath, artifactPath);
      return;
    }
    const segments = [...proxyPrefix(this.runId, uri), ...(artifactPath?.split('/') ?? []), basename(localPath)];
    await this.client.putArtifact(segments.map(encodeURIComponent).join('/'), readFileSync(localPath));
  }

  async end(status: RunStatus, endTimeMs: number): Promise<void> {
    await this.client.json('POST', 'runs/update', {
      run_id: this.runId, status, end_time: endTimeMs, run_name: this.runName,
    });
  }
}

/** The path segments of a run's artifact root inside the proxy: mlflow-artifacts:/<exp>/<run>/artifacts → […]. */
function proxyPrefix(runId: string, uri: string): string[] {
  const m = /^mlflow-artifacts:(?:\/\/([^/]*))?(\/.*)?$/i.exec(uri);
  if (m === null || (m[1] ?? '') !== '') {
    throw new UnsupportedArtifactStoreError(
      `run ${runId} stores artifacts at ${uri}, an artifact store this client does not support: it writes ` +
        'mlflow-artifacts:/ URIs through the server\'s proxy (`mlflow server --serve-artifacts`, the default since ' +
        'MLflow 2.0) and file:// roots directly (`--no-serve-artifacts --default-artifact-root file:///…`)',
    );
  }
  return (m[2] ?? '').split('/').filter((s) => s !== '').map(decodeURIComponent);
}
