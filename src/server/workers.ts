// Worker threads serving one port: each runs serveThread() (its own wasm instance, model holder and uWebSockets.js
// app) on the same named port, and the kernel spreads connections across them (SO_REUSEPORT). The main thread only
// coordinates, over the message protocol below: it relays log lines, forwards reload and stop, answers /metrics
// with the sum of every live worker's registry, and restarts a worker that dies.
// Not here: the port probe, the single-threaded path and signals (serve.ts); what one thread serves (thread.ts).

import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { aggregateMetrics, createMetrics } from '../metrics/metrics.js';
import { reloadOnSignal, serveThread, type ThreadOptions } from './thread.js';

/** How long a /metrics scrape waits for one worker's registry before answering without it: a stuck worker must not
 * make every scrape hang (prometheus.yml's scrape timeout is 1 s). */
export const COLLECT_TIMEOUT_MS = 500;
/** A worker that dies more than MAX_RESTARTS times within RESTART_WINDOW_MS is left dead (a crash loop, not bad luck). */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
const ROLE = 'doodle-server-worker';

type MetricsJson = Parameters<typeof aggregateMetrics>[0][number];
interface MetricsText { text: string; contentType: string }

/** main → worker. */
type ToWorker =
  | { kind: 'collect'; id: number } // answer with your registry as JSON ('collected')
  | ({ kind: 'metrics-reply'; id: number } & MetricsText) // the aggregate a 'metrics-request' asked for
  | { kind: 'reload' } // SIGHUP
  | { kind: 'stop' }; // SIGINT/SIGTERM: close and exit
/** worker → main. */
type FromWorker =
  | { kind: 'listening'; port: number; version: string }
  | { kind: 'failed'; message: string } // start-up failed; the worker exits
  | { kind: 'log'; line: string }
  | { kind: 'metrics-request'; id: number } // a client scraped /metrics on this worker
  | { kind: 'collected'; id: number; json: MetricsJson };

interface Thread { readonly index: number; readonly worker: Worker; listening: boolean }

export interface WorkerPool {
  readonly port: number;
  /** The model the first worker serves. */
  readonly version: string;
  reload(): void;
  stop(): void;
}

/** Starts `count` workers one after another on `o.port` (a named port: uWS sets SO_REUSEPORT only for those).
 * Rejects with the first start-up failure (e.g. no model), after stopping the workers already started. */
export async function startWorkers(o: ThreadOptions, count: number, onExhausted: () => void = () => {}): Promise<WorkerPool> {
  // The worker's entry is this module's file: in the CLI bundle that is the bundle, whose top level calls
  // runAsServeWorker() before anything else.
  const pool = new Pool(o, fileURLToPath(import.meta.url), onExhausted);
  let first: { port: number; version: string } | undefined;
  try {
    for (let i = 0; i < count; i++) {
      const started = await pool.spawn(i);
      first ??= started;
    }
  } catch (err) {
    pool.stop();
    throw err;
  }
  return { port: first!.port, version: first!.version, reload: () => pool.reload(), stop: () => pool.stop() };
}

class Pool {
  /** Live threads by index (a restarted worker keeps its index). */
  private readonly threads = new Map<number, Thread>();
  /** Metrics requests sent to a worker and not yet answered: settled by the answer, the worker's exit or a timeout. */
  private readonly pending = new Map<number, { index: number; settle: (json: MetricsJson | undefined, why?: string) => void }>();
  private readonly deaths = new Map<number, number[]>();
  private nextId = 0;
  private restarts = 0;
  private stopping = false;

  /** `onExhausted`: every worker died for good (the process then ends: nothing keeps it alive). */
  constructor(private readonly o: ThreadOptions, private readonly entry: string, private readonly onExhausted: () => void) {}

  /** Resolves when the worker listens; rejects if it exits first. Every listener is attached here, at spawn. */
  spawn(index: number): Promise<{ port: number; version: string }> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(this.entry, { workerData: { role: ROLE, index, options: { ...this.o, log: undefined } } });
      const t: Thread = { index, worker, listening: false };
      this.threads.set(index, t);
      let failure: string | undefined;
      worker.on('message', (msg: FromWorker) => {
        switch (msg.kind) {
          case 'listening':
            t.listening = true;
            resolve({ port: msg.port, version: msg.version });
            break;
          case 'failed': failure = msg.message; break;
          case 'log': this.o.log(msg.line); break;
          case 'metrics-request':
            void this.gather().then((m) => worker.postMessage({ kind: 'metrics-reply', id: msg.id, ...m } satisfies ToWorker));
            break;
          case 'collected': this.pending.get(msg.id)?.settle(msg.json); break;
        }
      });
      // An uncaught exception ends the thread ('exit' follows); say what it was.
      worker.on('error', (err) => {
        failure ??= err.message;
        this.o.log(`[worker ${index}] uncaught: ${err.stack ?? err.message}`);
      });
      worker.once('exit', (code) => {
        if (this.threads.get(index) === t) this.threads.delete(index);
        for (const p of [...this.pending.values()]) {
          if (p.index === index) p.settle(undefined, `worker ${index} exited before sending its metrics: /metrics leaves it out`);
        }
        if (!t.listening) reject(new Error(failure ?? `worker ${index} exited with code ${code} before listening`));
        else if (!this.stopping) this.died(index, `exit code ${code}${failure ? `: ${failure}` : ''}`);
      });
    });
  }

  reload(): void {
    for (const t of this.threads.values()) t.worker.postMessage({ kind: 'reload' } satisfies ToWorker);
  }

  stop(): void {
    this.stopping = true;
    for (const t of this.threads.values()) t.worker.postMessage({ kind: 'stop' } satisfies ToWorker);
  }

  /** The sum of every live worker's registry (those that answer in time) and the pool's own two series. */
  private async gather(): Promise<MetricsText> {
    const parts = await Promise.all([...this.threads.values()].map((t) => this.collect(t)));
    return aggregateMetrics([...parts.filter((p): p is MetricsJson => p !== undefined), this.ownMetrics()]);
  }

  private collect(t: Thread): Promise<MetricsJson | undefined> {
    return new Promise((resolve) => {
      const id = this.nextId++;
      const timer = setTimeout(() => settle(undefined,
        `worker ${t.index} did not send its metrics within ${COLLECT_TIMEOUT_MS} ms: /metrics leaves it out`), COLLECT_TIMEOUT_MS);
      const settle = (json: MetricsJson | undefined, why?: string): void => {
        if (!this.pending.delete(id)) return;
        clearTimeout(timer);
        if (why) this.o.log(why);
        resolve(json);
      };
      this.pending.set(id, { index: t.index, settle });
      t.worker.postMessage({ kind: 'collect', id } satisfies ToWorker);
    });
  }

  /** In prom-client's JSON form (what getMetricsAsJSON gives), so that the aggregate carries them as is. */
  private ownMetrics(): MetricsJson {
    const listening = [...this.threads.values()].filter((t) => t.listening).length;
    return [
      { name: 'doodle_worker_threads', help: 'Worker threads listening', type: 'gauge', aggregator: 'sum',
        values: [{ labels: {}, value: listening }] },
      { name: 'doodle_worker_restarts_total', help: 'Worker threads restarted after dying', type: 'counter', aggregator: 'sum',
        values: [{ labels: {}, value: this.restarts }] },
    ] as unknown as MetricsJson;
  }

  /** A worker that was serving died: restart it on the same port, unless it is crash-looping. */
  private died(index: number, why: string): void {
    const now = Date.now();
    const recent = [...(this.deaths.get(index) ?? []).filter((at) => at > now - RESTART_WINDOW_MS), now];
    this.deaths.set(index, recent);
    if (recent.length > MAX_RESTARTS) {
      this.o.log(`worker ${index} died (${why}), ${recent.length} times within ${RESTART_WINDOW_MS / 1000} s: not restarting it; ` +
        `${this.threads.size} worker threads left`);
      if (this.threads.size === 0) {
        this.o.log('no worker threads left: exiting');
        this.onExhausted();
      }
      return;
    }
    this.o.log(`worker ${index} died (${why}): restarting it`);
    this.spawn(index).then(({ version }) => {
      this.restarts++;
      this.o.log(`worker ${index} restarted: serving model ${version}`);
    }, (err: Error) => { if (!this.stopping) this.died(index, `restart failed: ${err.message}`); });
  }
}

/** True (and the worker started) when this module runs as one of startWorkers()'s threads. */
export function runAsServeWorker(): boolean {
  const data = workerData as { role?: string; index?: number; options?: Omit<ThreadOptions, 'log'> } | null;
  if (isMainThread || data?.role !== ROLE || !parentPort) return false;
  const port = parentPort;
  const post = (msg: FromWorker): void => port.postMessage(msg);
  const log = (line: string): void => post({ kind: 'log', line: `[worker ${data.index}] ${line}` });
  const metrics = createMetrics(undefined, { labels: {} });
  const replies = new Map<number, (m: MetricsText) => void>();
  let next = 0;
  const askMain = (): Promise<MetricsText> => new Promise((resolve) => {
    const id = next++;
    replies.set(id, resolve);
    post({ kind: 'metrics-request', id });
  });
  const started = serveThread({ ...data.options!, log }, metrics, askMain);
  let stopping = false;
  // Attached at once, not after start-up: the main thread asks every worker for its registry whenever a client
  // scrapes /metrics on any of them, including while this one is still loading its model.
  port.on('message', (msg: ToWorker) => {
    switch (msg.kind) {
      case 'collect':
        void metrics.registry.getMetricsAsJSON().then((json) => post({ kind: 'collected', id: msg.id, json }));
        break;
      case 'metrics-reply':
        replies.get(msg.id)?.({ text: msg.text, contentType: msg.contentType });
        replies.delete(msg.id);
        break;
      case 'reload':
        void started.then(({ holder }) => reloadOnSignal(holder, log), () => undefined);
        break;
      case 'stop':
        if (stopping) break;
        stopping = true;
        void started.then(({ holder, server }) => { holder.stop(); return server.close(); }).then(() => port.close(), () => port.close());
        break;
    }
  });
  started.then(({ holder, server }) => {
    // However this thread ends (process.exit, an uncaught exception), its uWS sockets must be closed before Node
    // closes the thread's event loop: an open uWS handle there aborts the whole process, every thread with it.
    process.once('exit', () => server.closeNow());
    post({ kind: 'listening', port: server.port, version: holder.version! });
  },
    (err: Error) => { post({ kind: 'failed', message: err.message }); port.close(); });
  return true;
}
