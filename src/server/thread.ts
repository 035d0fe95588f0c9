// One thread's server: a model holder (loaded, watched) over its model source (the local registry, or an MLflow
// registry URI) and the uWebSockets.js app, with the holder's events turned into metrics and log lines. Used as is
// by a single-threaded serve() and by each worker thread of workers.ts.
// Not here: choosing threads, the port probe, signals (serve.ts), the main thread's coordination (workers.ts).

import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { ModelRegistry } from '../model/registry.js';
import type { ServerMetrics } from '../metrics/metrics.js';
import { MlflowModelSource } from '../tracking/model-source.js';
import { parseModelUri } from '../tracking/model-uri.js';
import { ModelHolder, type ModelSource } from './model-holder.js';
import { startServer, type RunningServer } from './app.js';
import { DEFAULT_FEEDBACK_DIR } from '../feedback/store.js';

export interface ThreadOptions {
  readonly port: number;
  readonly host: string;
  readonly modelsDir: string;
  /** Serve from the MLflow Model Registry instead of the local registry (plain data: it crosses to worker threads). */
  readonly mlflowModel?: MlflowModelOptions | undefined;
  /** Where corrections from the web client are stored (default `feedback`). */
  readonly feedbackDir?: string | undefined;
  /** Open WebSocket drawers per thread (default LIMITS.maxDrawers). */
  readonly maxDrawers?: number | undefined;
  /** Memory for live drawings per thread, bytes (default LIMITS.drawingMemoryBytes). */
  readonly drawingMemoryBytes?: number | undefined;
  readonly log: (line: string) => void;
}

export interface MlflowModelOptions {
  /** models:/<name>@<alias> (followed) or models:/<name>/<version> (fixed). */
  readonly uri: string;
  /** The http(s):// tracking server. */
  readonly trackingUri: string;
  /** How often the alias is asked for. */
  readonly pollSeconds: number;
  /** Downloaded model files, by content hash (default <modelsDir>/.mlflow-cache). */
  readonly cacheDir?: string | undefined;
}

/** The holder's source: the local registry, or the MLflow registry URI (its files cached under the registry folder). */
export function modelSource(o: Pick<ThreadOptions, 'modelsDir' | 'mlflowModel' | 'log'>): ModelSource | ModelRegistry {
  const m = o.mlflowModel;
  if (m === undefined) return new ModelRegistry(o.modelsDir);
  return new MlflowModelSource({ trackingUri: m.trackingUri, uri: parseModelUri(m.uri), pollMs: m.pollSeconds * 1000,
    cacheDir: m.cacheDir ?? join(o.modelsDir, '.mlflow-cache'), log: o.log });
}

/** The web client's folders: web/ (sources) and build/web/ (the bundle), found from the project root. */
export function webDirs(): string[] {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return [join(dir, 'web'), join(dir, 'build', 'web')];
}

export async function serveThread(o: ThreadOptions, metrics: ServerMetrics,
  metricsText?: () => Promise<{ text: string; contentType: string }>): Promise<{ holder: ModelHolder; server: RunningServer }> {
  const holder = new ModelHolder(modelSource(o), {
    onSwap: (version, previous) => {
      metrics.modelLoads.inc({ result: 'ok' });
      if (previous !== undefined) o.log(`model ${previous} → ${version}`);
    },
    onError: (err, repeated) => {
      metrics.modelLoads.inc({ result: 'error' });
      // Once per streak: a tracking server that is down fails every poll the same way.
      if (!repeated) o.log(`model reload failed, still serving ${holder.version} (retrying): ${err.message}`);
    },
    onRecovered: () => o.log(`model source answers again; serving ${holder.version}`),
  });
  await holder.load();
  holder.watch();
  const server = await startServer({ host: o.host, port: o.port, holder, metrics, staticDirs: webDirs(),
    feedbackDir: o.feedbackDir ?? DEFAULT_FEEDBACK_DIR, maxDrawers: o.maxDrawers, drawingMemoryBytes: o.drawingMemoryBytes,
    ...(metricsText ? { metricsText } : {}) });
  return { holder, server };
}

/** SIGHUP: reload, and say what happened even when nothing changed (the swap and failure lines come from the holder). */
export async function reloadOnSignal(holder: ModelHolder, log: (line: string) => void): Promise<void> {
  const outcome = await holder.reload();
  if (outcome.kind === 'unchanged') log(`SIGHUP: ${holder.sourceName} is still ${outcome.version}: model unchanged, nothing to reload`);
  else if (outcome.kind === 'failed' && outcome.repeated) log(`SIGHUP: reload failed again, still serving ${holder.version}: ${outcome.error.message}`);
  else if (outcome.kind === 'no-current') log(`SIGHUP: the registry names no current model: still serving ${holder.version}`);
}
