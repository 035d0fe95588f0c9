// Runs the server for real: metrics registry, model holder (load, watch, SIGHUP reload), listen, and graceful
// shutdown on SIGINT/SIGTERM. Shared by `npm run serve` and `npm start`.
// With workers > 1, N worker threads each run their own wasm instance, model holder and uWebSockets.js app on the
// same port (the kernel spreads connections across them, SO_REUSEPORT); the main thread only coordinates: it forwards
// SIGHUP, stops them on SIGINT/SIGTERM, and answers /metrics requests with the sum of every worker's registry.

import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ModelRegistry } from '../model/registry.js';
import { freePort } from '../util/free-port.js';
import { aggregateMetrics, createMetrics, type ServerMetrics } from '../metrics/metrics.js';
import { ModelHolder } from './model-holder.js';
import { startServer, type RunningServer } from './app.js';

export interface ServeOptions {
  readonly port: number;
  readonly host: string;
  readonly modelsDir: string;
  /** Where corrections from the web client are stored (default `feedback`). */
  readonly feedbackDir?: string;
  /** Worker threads (1 = serve on this thread). */
  readonly workers?: number;
  readonly log: (line: string) => void;
}

/** The web client's folders: web/ (sources) and build/web/ (the bundle), found from the project root. */
export function webDirs(): string[] {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return [join(dir, 'web'), join(dir, 'build', 'web')];
}

/** One thread's server: model holder + metrics + app. */
async function serveHere(o: ServeOptions, metrics: ServerMetrics, metricsText?: () => Promise<{ text: string; contentType: string }>) {
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

export async function serve(o: ServeOptions): Promise<void> {
  const workers = o.workers ?? 1;
  const shown = (port: number): string => `http://${o.host === '0.0.0.0' ? 'localhost' : o.host}:${port}`;
  if (workers <= 1) {
    const { holder, server } = await serveHere(o, createMetrics());
    o.log(`serving model ${holder.version} on ${shown(server.port)} (Ctrl-C stops)`);
    process.on('SIGHUP', () => void holder.reload());
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      o.log(`${signal}: shutting down`);
      holder.stop();
      void server.close();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return;
  }

  // Worker threads: the first one picks the port (it may be 0), the others join it.
  const entry = fileURLToPath(import.meta.url);
  const threads: Worker[] = [];
  const spawn = (port: number, index: number): Promise<{ port: number; version: string }> => new Promise((resolve, reject) => {
    const w = new Worker(entry, { workerData: { role: 'doodle-server-worker', index, options: { ...o, port, log: undefined } } });
    threads.push(w);
    w.on('message', (msg: WorkerMessage) => {
      if (msg.kind === 'listening') resolve({ port: msg.port, version: msg.version });
      else if (msg.kind === 'log') o.log(msg.line);
      else if (msg.kind === 'metrics-request') void gather().then((text) => w.postMessage({ kind: 'metrics-reply', id: msg.id, ...text }));
    });
    w.once('error', reject);
    w.once('exit', (code) => { if (code !== 0) reject(new Error(`worker ${index} exited with code ${code}`)); });
  });
  let nextId = 0;
  const pending = new Map<number, (json: unknown) => void>();
  const gather = async (): Promise<{ text: string; contentType: string }> => {
    const parts = await Promise.all(threads.map((w) => new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      w.postMessage({ kind: 'collect', id });
    })));
    return aggregateMetrics(parts as Parameters<typeof aggregateMetrics>[0]);
  };
  // uWebSockets.js shares a port between threads with SO_REUSEPORT, which it does not set for port 0: name one first.
  const first = await spawn(o.port === 0 ? await freePort(o.host) : o.port, 0);
  for (let i = 1; i < workers; i++) await spawn(first.port, i);
  for (const w of threads) {
    w.on('message', (msg: WorkerMessage) => {
      if (msg.kind === 'collected') { pending.get(msg.id)?.(msg.json); pending.delete(msg.id); }
    });
  }
  o.log(`serving model ${first.version} on ${shown(first.port)} with ${workers} worker threads (Ctrl-C stops)`);
  process.on('SIGHUP', () => { for (const w of threads) w.postMessage({ kind: 'reload' }); });
  const stop = (signal: NodeJS.Signals): void => {
    o.log(`${signal}: shutting down`);
    for (const w of threads) w.postMessage({ kind: 'stop' });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

type WorkerMessage =
  | { kind: 'listening'; port: number; version: string }
  | { kind: 'log'; line: string }
  | { kind: 'metrics-request'; id: number }
  | { kind: 'collected'; id: number; json: unknown };

/** True (and the worker started) when this module runs as one of serve()'s worker threads. */
export function runAsServeWorker(): boolean {
  const data = workerData as { role?: string; index?: number; options?: ServeOptions } | null;
  if (isMainThread || data?.role !== 'doodle-server-worker' || !parentPort) return false;
  const port = parentPort;
  const log = (line: string): void => port.postMessage({ kind: 'log', line: `[worker ${data.index}] ${line}` });
  const replies = new Map<number, (v: { text: string; contentType: string }) => void>();
  let next = 0;
  const metrics = createMetrics(undefined, { labels: {} });
  const askMain = (): Promise<{ text: string; contentType: string }> => new Promise((resolve) => {
    const id = next++;
    replies.set(id, resolve);
    port.postMessage({ kind: 'metrics-request', id });
  });
  void serveHere({ ...data.options!, log }, metrics, askMain).then(({ holder, server }) => {
    port.on('message', (msg: { kind: string; id: number; text: string; contentType: string }) => {
      if (msg.kind === 'collect') void metrics.registry.getMetricsAsJSON().then((json) => port.postMessage({ kind: 'collected', id: msg.id, json }));
      else if (msg.kind === 'metrics-reply') { replies.get(msg.id)?.({ text: msg.text, contentType: msg.contentType }); replies.delete(msg.id); }
      else if (msg.kind === 'reload') void holder.reload();
      else if (msg.kind === 'stop') { holder.stop(); void server.close().then(() => port.close()); }
    });
    port.postMessage({ kind: 'listening', port: server.port, version: holder.version });
  }, (err: Error) => { log(`failed: ${err.message}`); process.exitCode = 1; port.close(); });
  return true;
}
