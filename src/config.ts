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
}

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const uri = env.MLFLOW_TRACKING_URI?.trim();
  const portText = env.PORT?.trim();
  const port = portText === undefined || portText === '' ? 3000 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be an integer in [0, 65535], got "${portText}"`);
  const workersText = env.WORKERS?.trim();
  const workers = workersText === undefined || workersText === '' ? availableParallelism() : Number(workersText);
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new Error(`WORKERS must be an integer in [1, 256], got "${workersText}"`);
  return Object.freeze({
    workers,
    mlflowTrackingUri: uri === '' ? undefined : uri,
    port,
    host: env.HOST?.trim() || '127.0.0.1',
  });
}
