// One thread's server: a model holder (loaded, watched) and the uWebSockets.js app, with the holder's events turned
// into metrics and log lines. Used as is by a single-threaded serve() and by each worker thread of workers.ts.
// Not here: choosing threads, the port probe, signals (serve.ts), the main thread's coordination (workers.ts).

import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { ModelRegistry } from '../model/registry.js';
import type { ServerMetrics } from '../metrics/metrics.js';
import { ModelHolder } from './model-holder.js';
import { startServer, type RunningServer } from './app.js';

export interface ThreadOptions {
  readonly port: number;
  readonly host: string;
  readonly modelsDir: string;
  /** Where corrections from the web client are stored (default `feedback`). */
  readonly feedbackDir?: string | undefined;
  readonly log: (line: string) => void;
}

/** The web client's folders: web/ (sources) and build/web/ (the bundle), found from the project root. */
export function webDirs(): string[] {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return [join(dir, 'web'), join(dir, 'build', 'web')];
}

export async function serveThread(o: ThreadOptions, metrics: ServerMetrics,
  metricsText?: () => Promise<{ text: string; contentType: string }>): Promise<{ holder: ModelHolder; server: RunningServer }> {
  const holder = new ModelHolder(new ModelRegistry(o.modelsDir), {
    onSwap: (version, previous) => {
      metrics.modelLoads.inc({ result: 'ok' });
      if (previous !== undefined) o.log(`model ${previous} → ${version}`);
    },
    onError: (err) => {
      metrics.modelLoads.inc({ result: 'error' });
      o.log(`model reload failed, still serving ${holder.version}: ${err.message}`);
    },
  });
  await holder.load();
  holder.watch();
  const server = await startServer({ host: o.host, port: o.port, holder, metrics, staticDirs: webDirs(),
    feedbackDir: o.feedbackDir ?? 'feedback', ...(metricsText ? { metricsText } : {}) });
  return { holder, server };
}

/** SIGHUP: reload, and say what happened even when nothing changed (the swap and failure lines come from the holder). */
export async function reloadOnSignal(holder: ModelHolder, log: (line: string) => void): Promise<void> {
  const outcome = await holder.reload();
  if (outcome.kind === 'unchanged') log(`SIGHUP: models/current is still ${outcome.version}: model unchanged, nothing to reload`);
  else if (outcome.kind === 'no-current') log(`SIGHUP: the registry names no current model: still serving ${holder.version}`);
}
