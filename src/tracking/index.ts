// MLflow-compatible experiment tracking: a run written to MLflow's file store (./mlruns, readable by `mlflow ui`) or
// sent to an MLflow tracking server over REST, chosen by the tracking URI the caller passes. The trainer uses
// startRun and the Run it returns; the CLI adds installRunGuards. Exports only; see docs/mlflow.md.

export type { Run, RunStatus, StartRunOptions } from './types.js';
export { startRun, DEFAULT_REQUEST_TIMEOUT_MS } from './start-run.js';
export { installRunGuards, runWithStatus, type OnSignal } from './guards.js';
export { MlflowRestError } from './rest-client.js';
// The MLflow Model Registry (docs/model-registry.md): registerChampion is what a promotion calls; the server follows
// models:/ URIs through MlflowModelSource.
export { registerChampion, type ChampionResult, type RegisterChampionOptions } from './champion.js';
export { MlflowModelRegistry, MlflowRegistryError, REGISTERED_MODEL, CHAMPION_ALIAS, type MlflowModelVersion } from './model-registry.js';
export { MlflowModelSource, DEFAULT_POLL_SECONDS } from './model-source.js';
export { parseModelUri, formatModelUri, type ModelUri } from './model-uri.js';
