// The only reader of process.env. Each setting is parsed and validated here, once.

import { availableParallelism } from 'node:os';

export interface Environment {
  /** MLFLOW_TRACKING_URI: unset → ./mlruns (file store); http(s):// → an MLflow tracking server. */
  readonly mlflowTrackingUri: string | undefined;
  /** PORT (default 3000). */
  readonly port: number;
  /** HOST (default 127.0.0.1: this machine only; HOST=0.0.0.0 serves every interface). */
  readonly host: string;
  /** WORKERS: server threads (default: the number of cores). */
  readonly workers: number;
  /** MODEL_URI: serve models:/<name>@<alias> or models:/<name>/<version> from the MLflow registry (checked by the CLI). */
  readonly modelUri: string | undefined;
  /** MODEL_POLL_SECONDS: how often a server following an alias asks the registry (default 10, at least 0.1). */
  readonly modelPollSeconds: number;
}

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const uri = env.MLFLOW_TRACKING_URI?.trim();
  const portText = env.PORT?.trim();
  const port = portText === undefined || portText === '' ? 3000 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be an integer in [0, 65535], got "${portText}"`);
  const workersText = env.WORKERS?.trim();
  const workers = workersText === undefined || workersText === '' ? availableParallelism() : Number(workersText);
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new Error(`WORKERS must be an integer in [1, 256], got "${workersText}"`);
  const modelUri = env.MODEL_URI?.trim();
  const pollText = env.MODEL_POLL_SECONDS?.trim();
  const modelPollSeconds = pollText === undefined || pollText === '' ? 10 : Number(pollText);
  if (!(modelPollSeconds >= 0.1 && modelPollSeconds <= 86_400)) {
    throw new Error(`MODEL_POLL_SECONDS must be a number of seconds in [0.1, 86400], got "${pollText}"`);
  }
  return Object.freeze({
    workers,
    mlflowTrackingUri: uri === '' ? undefined : uri,
    port,
    host: env.HOST?.trim() || '127.0.0.1',
    modelUri: modelUri === '' ? undefined : modelUri,
    modelPollSeconds,
  });
}
