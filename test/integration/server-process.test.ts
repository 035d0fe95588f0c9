// `serve` as a real child process (the bundled CLI): the port probe (a second server on a busy port is refused),
// the default bind address (loopback only), SIGHUP without a new model, and `--workers 2`: /metrics answers from
// the first accepted connection on, and a worker thread that dies is restarted while the other keeps serving.

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import WebSocket from 'ws';
import { ModelRegistry } from '../../src/model/registry.js';
import { addTrainedModel } from '../helpers/model.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { pollUntil } from '../helpers/poll.js';
import { tempDir } from '../helpers/temp.js';
import { cliPath } from '../helpers/paths.js';

let models: string;
let version: string;

beforeAll(async () => {
  models = join(tempDir('serve-process'), 'models');
  version = await addTrainedModel(new ModelRegistry(models), { sizes: [784, 16, 10], epochs: 1, limit: 2000, augment: false, seed: 1 }, true);
});

/** The environment without the settings the tests choose themselves (a developer's HOST or PORT must not leak in). */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { HOST: _h, PORT: _p, WORKERS: _w, ...rest } = process.env;
  return { ...rest, ...extra };
}

interface Served { proc: ChildProcess; output: () => string; waitFor: (re: RegExp, what: string) => Promise<RegExpExecArray>; exited: Promise<number | string | null> }

const running: ChildProcess[] = [];
afterEach(() => {
  for (const p of running.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL'); // never leave a server behind
});

function startServe(args: string[], options: { env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {}): Served {
  const env = options.env ?? cleanEnv();
  const proc = options.nodeArgs
    ? spawn(process.execPath, [...options.nodeArgs, cliPath('serve'), '--models', models, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawnCli('serve', ['--models', models, ...args], { env });
  running.push(proc);
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  proc.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
  const exited = new Promise<number | string | null>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal)));
  const waitFor = (re: RegExp, what: string) => pollUntil(() => re.exec(out), `${what} in the output of serve:\n${out}`, 60_000);
  return { proc, output: () => out, waitFor, exited };
}

describe('serve: the port probe', () => {
  it('refuses a second server on a port in use, with one clear line and exit code 1', async () => {
    const port = await freePort();
    const first = startServe(['--port', String(port), '--workers', '1']);
    await first.waitFor(/serving model/, 'the serving line');
    for (const workers of ['1', '2']) {
      const second = runCli('serve', ['--models', models, '--port', String(port), '--workers', workers], { env: cleanEnv() });
      expect(second.code, second.stderr).toBe(1);
      expect(second.stderr).toBe(`error: port ${port} is in use (127.0.0.1:${port}) → stop the other server or pick another port with --port or PORT=…\n`);
      expect(second.stdout).not.toMatch(/serving/);
    }
    expect((await fetch(`http://127.0.0.1:${port}/v2/health/live`)).status).toBe(200);
    first.proc.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  });
});

/** The first non-loopback IPv4 address of this machine, if it has one. */
function externalIPv4(): string | undefined {
  return Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

describe('serve: the bind address', () => {
  it('binds 127.0.0.1 by default, says so, and answers SIGHUP without a new model with a line saying so', async () => {
    const port = await freePort();
    const s = startServe(['--port', String(port), '--workers', '1']);
    await s.waitFor(new RegExp(`serving model ${version} on http://127\\.0\\.0\\.1:${port} \\(Ctrl-C stops\\)`), 'the serving line on 127.0.0.1');
    expect(await accepts('127.0.0.1', port)).toBe(true);
    const external = externalIPv4();
    if (external) expect(await accepts(external, port), `reachable on ${external}`).toBe(false);
    else console.warn('no non-loopback IPv4 address on this machine: the "not reachable from outside" check is skipped');

    s.proc.kill('SIGHUP');
    await s.waitFor(new RegExp(`SIGHUP: models/current is still ${version}: model unchanged, nothing to reload`), 'the SIGHUP line');
    expect((await fetch(`http://127.0.0.1:${port}/v2/health/ready`)).status).toBe(200);
    s.proc.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });

  it('binds every interface with HOST=0.0.0.0 and names it so', async () => {
    const port = await freePort();
    const s = startServe(['--port', String(port), '--workers', '1'], { env: cleanEnv({ HOST: '0.0.0.0' }) });
    await s.waitFor(new RegExp(`on http://0\\.0\\.0\\.0:${port} \\(all interfaces\\)`), 'the serving line on 0.0.0.0');
    expect(await accepts('127.0.0.1', port)).toBe(true);
    const external = externalIPv4();
    if (external) expect(await accepts(external, port), `reachable on ${external}`).toBe(true);
    s.proc.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });
});

/** Node's inspector protocol over WebSocket, as Chrome DevTools speaks it: commands by id, events by method. */
async function inspector(url: string) {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  const events: Array<{ method: string; params: Record<string, unknown> }> = [];
  let id = 0;
  const replies = new Map<number, (r: unknown) => void>();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { id?: number; method?: string; params?: Record<string, unknown>; result?: unknown };
    if (m.id !== undefined) replies.get(m.id)?.(m.result);
    else if (m.method) events.push({ method: m.method, params: m.params ?? {} });
  });
  const send = (method: string, params: object = {}) => new Promise<unknown>((resolve) => {
    replies.set(++id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });
  return { ws, events, send };
}

describe('serve --workers 2', () => {
  it('answers /metrics from the first accepted connection, restarts a worker thread that dies, and stops on SIGTERM', async () => {
    const port = await freePort();
    // The inspector is how a worker thread dies here: from outside a process a thread cannot be killed, and the
    // product carries no test hook; through Node's own debugging protocol the test runs process.exit(7) in one
    // worker thread, which ends that thread just as an uncaught exception or an out-of-memory abort would.
    const s = startServe(['--port', String(port), '--host', '127.0.0.1', '--workers', '2'], { nodeArgs: ['--inspect=127.0.0.1:0'] });
    const base = `http://127.0.0.1:${port}`;
    const scrape = async (): Promise<string> => {
      const r = await fetch(base + '/metrics', { headers: { connection: 'close' }, signal: AbortSignal.timeout(20_000) });
      expect(r.status).toBe(200);
      return r.text();
    };

    // Start-up: scrape from the first answer (the first worker listens; before that the port probe may accept and
    // close a connection) until both workers listen, and a few times more: every one of them must answer 200.
    await pollUntil(async () => (await fetch(base + '/v2/health/live', { headers: { connection: 'close' } })).ok, 'the first answer', 60_000, 5);
    let duringStartup = 0;
    while (!/with 2 worker threads/.test(s.output())) {
      await scrape();
      duringStartup++;
    }
    for (let i = 0; i < 5; i++) await scrape();
    expect(duringStartup, 'scrapes answered before the second worker listened').toBeGreaterThan(0);
    expect(await scrape()).toMatch(/^doodle_worker_threads 2$/m);

    const debuggerUrl = (await s.waitFor(/Debugger listening on (ws:\/\/\S+)/, 'the inspector URL'))[1]!;
    const insp = await inspector(debuggerUrl);
    await insp.send('NodeWorker.enable', { waitForDebuggerOnStart: false });
    const attached = await pollUntil(() => {
      const a = insp.events.filter((e) => e.method === 'NodeWorker.attachedToWorker');
      return a.length >= 2 ? a : undefined;
    }, 'both worker threads in the inspector');
    const evaluate = (worker: number, expression: string) => insp.send('NodeWorker.sendMessageToWorker', { sessionId: attached[worker]!.params.sessionId,
      message: JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression } }) });

    // A stuck worker (3 s of synchronous work): /metrics scrapes that land on the other one answer without it.
    // (Those that land on the stuck one wait for it; 16 at once make "all landed there" a 1-in-65536 event.)
    void evaluate(0, 'for (const end = Date.now() + 3000; Date.now() < end;);');
    await Promise.all(Array.from({ length: 16 }, () => scrape()));
    await s.waitFor(/worker \d did not send its metrics within 500 ms: \/metrics leaves it out/, 'the "did not send" line');

    await insp.send('NodeWorker.sendMessageToWorker', { sessionId: attached[1]!.params.sessionId,
      message: JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression: 'process.exit(7)' } }) });
    const died = await s.waitFor(/worker (\d) died \(exit code 7\): restarting it/, 'the "died" line');
    // /metrics answers with the remaining worker's data (and, once it is back, the restarted one's).
    await scrape();
    await s.waitFor(new RegExp(`worker ${died[1]} restarted: serving model ${version}`), 'the "restarted" line');
    const after = await scrape();
    expect(after).toMatch(/^doodle_worker_threads 2$/m);
    expect(after).toMatch(/^doodle_worker_restarts_total 1$/m);
    for (let i = 0; i < 20; i++) {
      const r = await fetch(base + '/predict', { method: 'POST', body: JSON.stringify({ image: new Array(784).fill(0.5) }),
        headers: { 'content-type': 'application/json', connection: 'close' } });
      expect(r.status).toBe(200);
    }
    insp.ws.close();
    s.proc.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(s.output()).toContain('SIGTERM: shutting down');
  });
});
