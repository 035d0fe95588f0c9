// Runs the server for real, the top-level flow shared by `npm run serve` and `npm start`: probe the port, then serve
// on this thread (workers = 1) or on N worker threads (workers.ts), print where, and wire the signals: SIGHUP
// reloads the model, SIGINT/SIGTERM shut down gracefully.

import { createMetrics } from '../metrics/metrics.js';
import { probePort } from './probe-port.js';
import { reloadOnSignal, serveThread, type MlflowModelOptions } from './thread.js';
import { startWorkers } from './workers.js';
import { sweepStaleTemps, sweptLine } from '../util/stale-temps.js';
import { DEFAULT_FEEDBACK_DIR } from '../feedback/store.js';

export { webDirs, type MlflowModelOptions } from './thread.js';
export { runAsServeWorker } from './workers.js';

export interface ServeOptions {
  readonly port: number;
  readonly host: string;
  readonly modelsDir: string;
  /** Serve the MLflow registry's models:/ URI instead of the local registry's current model. */
  readonly mlflowModel?: MlflowModelOptions | undefined;
  /** Where corrections from the web client are stored (default `feedback`). */
  readonly feedbackDir?: string;
  /** Open WebSocket drawers per thread, and the memory their drawings may hold (bytes; defaults in LIMITS). */
  readonly maxDrawers?: number | undefined;
  readonly drawingMemoryBytes?: number | undefined;
  /** Worker threads (1 = serve on this thread). */
  readonly workers?: number;
  readonly log: (line: string) => void;
  /** Every worker thread died for good: the caller decides the exit code (the process ends on its own). */
  readonly onExhausted?: () => void;
}

/** The address as a URL (IPv6 in brackets); 0.0.0.0 and :: are named as what they are, all interfaces. */
export function shownAddress(host: string, port: number): string {
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return host === '0.0.0.0' || host === '::' ? `${url} (all interfaces)` : url;
}

export async function serve(o: ServeOptions): Promise<void> {
  const workers = o.workers ?? 1;
  // Before any uWS listener exists: uWS shares a named port (SO_REUSEPORT) with anyone, a plain listen does not.
  // Port 0 gets the kernel's choice here, so that every worker thread names the same one.
  const port = await probePort(o.host, o.port);
  // What a process killed mid-write left in the folders this one writes (never a live writer's: names carry pids).
  const swept = [...sweepStaleTemps(o.modelsDir), ...sweepStaleTemps(o.feedbackDir ?? DEFAULT_FEEDBACK_DIR)];
  if (swept.length > 0) o.log(sweptLine(swept));
  const thread = { host: o.host, port, modelsDir: o.modelsDir, mlflowModel: o.mlflowModel, feedbackDir: o.feedbackDir,
    maxDrawers: o.maxDrawers, drawingMemoryBytes: o.drawingMemoryBytes, log: o.log };
  const m = o.mlflowModel;
  if (m !== undefined) {
    const follows = /@/.test(m.uri) ? `, asking every ${m.pollSeconds} s whether the alias moved` : ' (a fixed version)';
    o.log(`model source: ${m.uri} on the MLflow tracking server ${new URL(m.trackingUri).host}${follows}`);
  }
  let stopping = false;
  const onStop = (stop: () => void) => (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    o.log(`${signal}: shutting down`);
    stop();
  };

  if (workers <= 1) {
    const { holder, server } = await serveThread(thread, createMetrics());
    o.log(`serving model ${holder.version} on ${shownAddress(o.host, server.port)} (Ctrl-C stops)`);
    process.on('SIGHUP', () => void reloadOnSignal(holder, o.log));
    const stop = onStop(() => { holder.stop(); void server.close(); });
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return;
  }

  const pool = await startWorkers(thread, workers, o.onExhausted);
  o.log(`serving model ${pool.version} on ${shownAddress(o.host, pool.port)} with ${workers} worker threads (Ctrl-C stops)`);
  process.on('SIGHUP', () => pool.reload());
  const stop = onStop(() => pool.stop());
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
