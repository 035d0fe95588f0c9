// The only reader of process.env. Each setting is parsed and validated here, once.

import { availableParallelism } from 'node:os';
import { LIMITS } from './protocol.js';

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
  /** MAX_DRAWERS: open WebSocket drawers per server thread (default 10,000; 503 beyond). */
  readonly maxDrawers: number;
  /** DRAWING_MEMORY_MB: memory all live drawings of a server thread may hold, MiB (default 512). */
  readonly drawingMemoryMb: number;
}

/** Bounds of the drawer settings: file descriptors (a Linux process's usual hard limit is far below 1M) and wasm32's
 * 4 GiB address space, of which the drawings' budget may take at most 3 GiB. */
export const MAX_DRAWERS = 1_000_000;
export const MAX_DRAWING_MEMORY_MB = 3072;

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
  const drawersText = env.MAX_DRAWERS?.trim();
  const maxDrawers = drawersText === undefined || drawersText === '' ? LIMITS.maxDrawers : Number(drawersText);
  if (!Number.isInteger(maxDrawers) || maxDrawers < 1 || maxDrawers > MAX_DRAWERS) {
    throw new Error(`MAX_DRAWERS must be an integer in [1, ${MAX_DRAWERS}], got "${drawersText}"`);
  }
  const memoryText = env.DRAWING_MEMORY_MB?.trim();
  const drawingMemoryMb = memoryText === undefined || memoryText === '' ? LIMITS.drawingMemoryBytes / 2 ** 20 : Number(memoryText);
  if (!(drawingMemoryMb >= 1 && drawingMemoryMb <= MAX_DRAWING_MEMORY_MB)) {
    throw new Error(`DRAWING_MEMORY_MB must be a number of MiB in [1, ${MAX_DRAWING_MEMORY_MB}], got "${memoryText}"`);
  }
  return Object.freeze({
    maxDrawers,
    drawingMemoryMb,
    workers,
    mlflowTrackingUri: uri === '' ? undefined : uri,
    port,
    host: env.HOST?.trim() || '127.0.0.1',
    modelUri: modelUri === '' ? undefined : modelUri,
    modelPollSeconds,
  });
}
