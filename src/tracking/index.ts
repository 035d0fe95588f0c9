// MLflow-compatible experiment tracking: a run written to MLflow's file store (./mlruns, readable by `mlflow ui`) or
// sent to an MLflow tracking server over REST, chosen by the tracking URI the caller passes. startRun gives a Run
// that throws on failure; the trainer uses BestEffortRun.start, whose run never throws into the training and names
// what did not reach MLflow. The CLI adds installRunGuards. Exports only; see docs/mlflow.md.

export type { Run, RunStatus, StartRunOptions } from './types.js';
export { startRun, DEFAULT_REQUEST_TIMEOUT_MS } from './start-run.js';
export { installRunGuards, runWithStatus, type OnSignal } from './guards.js';
export { MlflowRestError } from './rest-client.js';
export { BestEffortRun, MAX_UNANSWERED, type Warn } from './best-effort-run.js';
export { UnsupportedArtifactStoreError } from './types.js';
export { gitCommit } from './git-commit.js';
export { sweepTrackingStore } from './sweep.js';
// The MLflow Model Registry (docs/model-registry.md): registerChampion is what a promotion calls; the server follows
// models:/ URIs through MlflowModelSource.
export { registerChampion, type ChampionResult, type RegisterChampionOptions } from './champion.js';
export { MlflowModelRegistry, MlflowRegistryError, REGISTERED_MODEL, CHAMPION_ALIAS, type MlflowModelVersion } from './model-registry.js';
export { MlflowModelSource, DEFAULT_POLL_SECONDS } from './model-source.js';
export { parseModelUri, formatModelUri, type ModelUri } from './model-uri.js';
