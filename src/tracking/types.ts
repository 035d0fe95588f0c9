// The public types of the tracking module (what the trainer codes against) and the one internal seam below them:
// a RunBackend writes already-validated data to MLflow's file store or to an MLflow server.
// Not here: validation (validate.ts), ordering and idempotence (tracked-run.ts), any I/O.

export type RunStatus = 'FINISHED' | 'FAILED' | 'KILLED';

export interface Run {
  /** 32 lowercase hex chars (a uuid4 without dashes, as MLflow makes them). */
  readonly runId: string;
  readonly experimentId: string;
  logParams(params: Record<string, string | number | boolean>): Promise<void>;
  logMetrics(metrics: Record<string, number>, step: number, timestampMs?: number): Promise<void>;
  setTags(tags: Record<string, string>): Promise<void>;
  /** Copies one file to artifacts/<artifactPath>/<basename of localPath>. */
  logArtifact(localPath: string, artifactPath?: string): Promise<void>;
  /** Sets status and end_time. A second call (or one while the first is under way) is a no-op. */
  end(status: RunStatus): Promise<void>;
}

// Optional fields also accept an explicit undefined (exactOptionalPropertyTypes), so callers can pass options through.
export interface StartRunOptions {
  /** undefined or '' → ./mlruns; a path or file:// URI → MLflow file store there; http(s):// → MLflow REST API. */
  trackingUri?: string | undefined;
  /** Created if missing, reused if present. */
  experimentName: string;
  /** Recorded as run_name in meta.yaml and as tag mlflow.runName. */
  runName: string;
  tags?: Record<string, string> | undefined;
  startTimeMs?: number | undefined;
  /** Default: os.userInfo().username ('unknown' where that fails, as MLflow does). */
  user?: string | undefined;
  /** Tag mlflow.source.name. Default: basename of process.argv[1], or ''. */
  sourceName?: string | undefined;
  /** REST only: per-request timeout. Default 10 000 ms. */
  requestTimeoutMs?: number | undefined;
}

/** MLflow's RunStatus enum as stored in meta.yaml (see: mlflow/entities/run_status.py). */
export const RUN_STATUS_CODE = { RUNNING: 1, SCHEDULED: 2, FINISHED: 3, FAILED: 4, KILLED: 5 } as const;

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

export interface MetricPoint {
  readonly key: string;
  readonly value: number;
  readonly timestamp: number;
  readonly step: number;
}

/** What one log call hands to a backend; keys and values are already valid for MLflow. */
export interface LogBatch {
  readonly params: readonly KeyValue[];
  readonly metrics: readonly MetricPoint[];
  readonly tags: readonly KeyValue[];
}

/** Everything needed to create a run; `tags` already holds the mlflow.* system tags. */
export interface NewRun {
  readonly experimentName: string;
  readonly runName: string;
  readonly tags: readonly KeyValue[];
  readonly startTimeMs: number;
  readonly user: string;
}

export interface RunBackend {
  readonly runId: string;
  readonly experimentId: string;
  logBatch(batch: LogBatch): Promise<void>;
  logArtifact(localPath: string, artifactPath: string | undefined): Promise<void>;
  end(status: RunStatus, endTimeMs: number): Promise<void>;
}

/**
 * A run whose artifact store this client cannot write (s3:, gs:, …): a configuration, not a failure of the moment,
 * so a caller may skip the artifacts and still call the run complete.
 */
export class UnsupportedArtifactStoreError extends Error {
  override name = 'UnsupportedArtifactStoreError';
}
