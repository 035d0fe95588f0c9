// `npm run smoke -- [flags]`: the API smoke check of a model file, against the real server. Registers the model in a
// temporary registry, starts `serve` (the bundle next to this one) on a free loopback port, checks the health, model
// metadata, POST /predict on real MNIST test images, the Open Inference Protocol v2 batch, a WebSocket stroke session
// (and the same strokes over HTTP), a 400 for a bad body and the web page, then stops the server with SIGTERM and
// writes the result to --out atomically. The report holds no ports or timings: for one model it is the same every
// run, so it can be a DVC output. Exit codes: 0 every check passed, 1 a check failed (named), 2 usage, 130/143
// interrupted by SIGINT/SIGTERM (the server is killed too).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { parseFlags, runCli, UsageError } from './args.js';
import { loadMnist, type MnistSplit } from '../data/mnist.js';
import { decodeModel } from '../model/model-file.js';
import { ModelRegistry } from '../model/registry.js';
import { readParams } from '../train/options.js';
import { freePort } from '../util/free-port.js';
import { writeFileAtomic } from '../util/atomic-write.js';

const USAGE = `Usage: npm run smoke -- [flags]
  --model <file>          the .safetensors model to serve (default model.safetensors)
  --out <file>            where to write the report (default smoke.json)
  --images <n>            MNIST test images to classify, the first n (default 20, at most 1000)
  --min-accuracy <x>      fraction of them the served model must get right (default 0.8)
  --data <dir>            MNIST folder (default from params.yaml: mnist)
  --help                  this text
Exit codes: 0 ok, 1 failure, 2 usage.`;

const STARTUP_MS = 30_000;
const REQUEST_MS = 10_000;
const SHUTDOWN_MS = 10_000;

interface Check { name: string; ok: boolean; detail: string }

/** A failed expectation inside one check: its message becomes the check's detail. */
class CheckFailed extends Error {}

function expect(condition: boolean, message: string): asserts condition {
  if (!condition) throw new CheckFailed(message);
}

async function main(): Promise<number> {
  const { values } = parseFlags({ model: { type: 'string' }, out: { type: 'string' }, images: { type: 'string' },
    'min-accuracy': { type: 'string' }, data: { type: 'string' }, help: { type: 'boolean' } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const count = Number(values.images ?? '20');
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new UsageError(`--images must be an integer in [1, 1000], got "${values.images}"`);
  const minAccuracy = Number(values['min-accuracy'] ?? '0.8');
  if (!(minAccuracy >= 0 && minAccuracy <= 1)) throw new UsageError(`--min-accuracy must be a number in [0, 1], got "${values['min-accuracy']}"`);
  const modelPath = resolve(values.model ?? 'model.safetensors');
  const out = values.out ?? 'smoke.json';
  const serveScript = join(dirname(fileURLToPath(import.meta.url)), 'serve.js');
  if (!existsSync(serveScript)) throw new Error(`${serveScript} not found: the smoke check runs the serve bundle next to it → run \`npm run build:cli\``);

  if (!existsSync(modelPath)) throw new Error(`model not found at ${modelPath} → run \`npm run train -- --out ${values.model ?? 'model.safetensors'}\``);
  const bytes = readFileSync(modelPath);
  const model = decodeModel(bytes, modelPath);
  const test = loadMnist(values.data ?? readParams('params.yaml').data.dir).test;
  const images = Array.from({ length: Math.min(count, test.count) }, (_, i) => mnistImage(test, i));

  // The server serves a registry's current version: a temporary registry holding just this model. Its version id is
  // made from the model's own creation time and content hash, so it is the same every run.
  const work = mkdtempSync(join(tmpdir(), 'doodle-smoke-'));
  let server: ServeProcess | undefined;
  try {
    const registry = new ModelRegistry(join(work, 'models'));
    const { version } = registry.add(bytes, model.metadata.contentHash, { testAccuracy: model.metadata.testAccuracy },
      new Date(model.metadata.createdAt));
    registry.promote(version);
    console.log(`smoke check of ${modelPath} (version ${version}) with ${images.length} MNIST test images`);
    server = await startServe(serveScript, registry.root, work);
    const results = await runChecks(server.url, version, images, minAccuracy);
    const stopped = await server.stop();
    results.checks.push({ name: 'shutdown', ok: stopped.ok, detail: stopped.detail });
    server = undefined;

    const failed = results.checks.filter((c) => !c.ok);
    const report = { ok: failed.length === 0, model: { version, contentHash: model.metadata.contentHash },
      images: images.length, minAccuracy, predict: results.predict, checks: results.checks };
    writeFileAtomic(out, JSON.stringify(report, null, 2) + '\n');
    for (const c of results.checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
    if (failed.length > 0) {
      console.error(`error: smoke check failed: ${failed.map((c) => c.name).join(', ')} (report in ${out})`);
      return 1;
    }
    console.log(`wrote ${out}`);
    return 0;
  } finally {
    if (server) await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Test image i as the 784 values in [0, 1] POST /predict takes. */
function mnistImage(set: MnistSplit, i: number): { pixels: number[]; label: number } {
  return { pixels: Array.from(set.images.subarray(784 * i, 784 * (i + 1)), (v) => v / 255), label: set.labels[i]! };
}

// ---- the server process ----------------------------------------------------------------------------------------------

interface ServeProcess {
  readonly url: string;
  /** SIGTERM, then wait for a clean exit (SIGKILL after SHUTDOWN_MS). Idempotent. */
  stop(): Promise<{ ok: boolean; detail: string }>;
}

async function startServe(script: string, modelsDir: string, cwd: string): Promise<ServeProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // cwd is the temp folder: the server's feedback store creates its folder there, not in the project.
  const child: ChildProcess = spawn(process.execPath, [script, '--port', String(port), '--host', '127.0.0.1',
    '--models', modelsDir, '--workers', '1'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => { output += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { output += c.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })));
  // If this process is interrupted or dies, the server must not outlive it.
  const kill = (): void => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); };
  const interrupted = (signal: NodeJS.Signals): void => {
    kill();
    rmSync(cwd, { recursive: true, force: true }); // `finally` does not run past process.exit
    console.error(`${signal}: smoke check interrupted, server stopped`);
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15)); // the shell's convention: 128 + signal number
  };
  process.once('exit', kill);
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  let stopping: Promise<{ ok: boolean; detail: string }> | undefined;
  const stop = (): Promise<{ ok: boolean; detail: string }> => stopping ??= (async () => {
    if (child.exitCode !== null || child.signalCode !== null) return { ok: false, detail: 'the server had already exited' };
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((done) => { timer = setTimeout(() => done('timeout'), SHUTDOWN_MS); });
    const result = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    process.removeListener('exit', kill);
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
    if (result === 'timeout') {
      kill();
      return { ok: false, detail: `still running ${SHUTDOWN_MS / 1000} s after SIGTERM: killed` };
    }
    return result.code === 0 ? { ok: true, detail: 'SIGTERM: the server exited with code 0' }
      : { ok: false, detail: `SIGTERM: the server exited with ${result.signal ?? `code ${result.code}`}` };
  })();

  // Ready when /v2/health/ready says so; a server that exits first (port taken, bad model) fails at once.
  const deadline = Date.now() + STARTUP_MS;
  let early: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exited.then((e) => { early = e; });
  for (;;) {
    if (early) throw new Error(`the server exited during start-up (${early.signal ?? `code ${early.code}`}):\n${output.trim()}`);
    const ready = await fetch(`${url}/v2/health/ready`, { signal: AbortSignal.timeout(1000) }).then((r) => r.status === 200, () => false);
    if (ready) return { url, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the server was not ready within ${STARTUP_MS / 1000} s:\n${output.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---- the checks ----------------------------------------------------------------------------------------------------

interface Results {
  checks: Check[];
  predict: { correct: number; count: number; accuracy: number; digits: number[] } | null;
}

async function runChecks(url: string, version: string, images: Array<{ pixels: number[]; label: number }>, minAccuracy: number): Promise<Results> {
  const checks: Check[] = [];
  const check = async (name: string, body: () => Promise<string>): Promise<void> => {
    try {
      checks.push({ name, ok: true, detail: await body() });
    } catch (err) {
      checks.push({ name, ok: false, detail: err instanceof Error ? err.message : String(err) });
    }
  };
  let predict: Results['predict'] = null;

  await check('health', async () => {
    const live = await getJson(`${url}/v2/health/live`);
    expect(live.status === 200 && live.body.live === true, `GET /v2/health/live answered ${live.status} ${JSON.stringify(live.body)}`);
    const ready = await getJson(`${url}/v2/health/ready`);
    expect(ready.status === 200 && ready.body.ready === true, `GET /v2/health/ready answered ${ready.status} ${JSON.stringify(ready.body)}`);
    return 'live and ready';
  });

  await check('model', async () => {
    const r = await getJson(`${url}/v2/models/mnist`);
    expect(r.status === 200, `GET /v2/models/mnist answered ${r.status}`);
    const versions = r.body.versions as unknown;
    expect(Array.isArray(versions) && versions.length === 1 && versions[0] === version,
      `GET /v2/models/mnist lists versions ${JSON.stringify(versions)}, expected ["${version}"]`);
    return `serves version ${version}`;
  });

  await check('predict', async () => {
    const digits: number[] = [];
    for (const [i, { pixels }] of images.entries()) {
      const r = await postJson(`${url}/predict`, { image: pixels });
      expect(r.status === 200, `POST /predict (test image ${i}) answered ${r.status} ${JSON.stringify(r.body)}`);
      expect(r.body.model === version, `POST /predict answered with model "${String(r.body.model)}", expected "${version}"`);
      checkProbs(r.body.probs, `POST /predict (test image ${i})`);
      expect(Number.isInteger(r.body.digit), `POST /predict (test image ${i}) gave digit ${JSON.stringify(r.body.digit)}`);
      digits.push(r.body.digit as number);
    }
    const correct = digits.filter((d, i) => d === images[i]!.label).length;
    predict = { correct, count: images.length, accuracy: correct / images.length, digits };
    const needed = Math.ceil(minAccuracy * images.length);
    expect(correct >= needed, `${correct} of ${images.length} test images right, needed ${needed} (--min-accuracy ${minAccuracy})`);
    return `${correct} of ${images.length} test images right (needed ${needed})`;
  });

  await check('v2_infer', async () => {
    const r = await postJson(`${url}/v2/models/mnist/infer`, { id: 'smoke',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [images.length, 784], data: images.flatMap((im) => im.pixels) }] });
    expect(r.status === 200, `POST /v2/models/mnist/infer answered ${r.status} ${JSON.stringify(r.body)}`);
    expect(r.body.model_version === version && r.body.id === 'smoke', `v2 answered model_version "${String(r.body.model_version)}", id ${JSON.stringify(r.body.id)}`);
    const outputs = r.body.outputs as Array<{ name: string; shape: number[]; data: number[] }>;
    const digits = outputs.find((o) => o.name === 'digit');
    const probs = outputs.find((o) => o.name === 'probabilities');
    expect(digits !== undefined && probs !== undefined, `v2 outputs are ${JSON.stringify(outputs.map((o) => o.name))}, expected digit and probabilities`);
    expect(probs.data.length === 10 * images.length, `v2 probabilities have ${probs.data.length} values for ${images.length} images`);
    const single = (predict as Results['predict'])?.digits;
    if (single) {
      const differ = digits.data.findIndex((d, i) => d !== single[i]);
      expect(differ < 0, `v2 says test image ${differ} is a ${digits.data[differ]}, POST /predict said ${single[differ]}`);
    }
    return `one batch of ${images.length} images, the same digits as POST /predict`;
  });

  await check('websocket', async () => {
    const strokes = SEVEN;
    const session = await wsSession(`${url.replace('http', 'ws')}/ws`, [
      { type: 'hello', width: 280, height: 280, brush: 18 },
      { type: 'begin', x: strokes[0]![0], y: strokes[0]![1] },
      { type: 'move', points: strokes.slice(1).flat() },
      { type: 'end' },
      { type: 'predict' },
    ]);
    session.forEach((m, i) => {
      expect(m.type === 'prediction' && m.seq === i + 1 && m.model === version, `WebSocket answer ${i + 1} was ${JSON.stringify(m).slice(0, 200)}`);
    });
    expect(session[0]!.digit === null, `an empty canvas was read as ${JSON.stringify(session[0]!.digit)}, expected null`);
    const last = session[session.length - 1]!;
    expect(Number.isInteger(last.digit), `the drawn strokes were read as ${JSON.stringify(last.digit)}`);
    checkProbs(last.probs, 'the WebSocket prediction');
    const http = await postJson(`${url}/predict`, { strokes: [strokes], width: 280, height: 280, brush: 18 });
    expect(http.status === 200 && http.body.digit === last.digit,
      `POST /predict with the same strokes answered ${http.status} digit ${JSON.stringify(http.body.digit)}, the WebSocket said ${String(last.digit)}`);
    const gap = Math.max(...(http.body.probs as number[]).map((p, d) => Math.abs(p - (last.probs as number[])[d]!)));
    expect(gap <= 1e-6, `POST /predict and the WebSocket gave probabilities up to ${gap} apart for the same strokes`);
    return `${session.length} answers in order; the strokes read as ${String(last.digit)}, the same over HTTP`;
  });

  await check('bad_request', async () => {
    const r = await postJson(`${url}/predict`, { image: [0, 1] });
    expect(r.status === 400 && typeof r.body.error === 'string', `POST /predict with 2 pixels answered ${r.status} ${JSON.stringify(r.body)}`);
    const after = await postJson(`${url}/predict`, { image: images[0]!.pixels });
    expect(after.status === 200, `after the 400, POST /predict answered ${after.status}`);
    return 'a 2-pixel image gets 400 with an error message, and the server keeps serving';
  });

  await check('web_page', async () => {
    const r = await fetch(`${url}/`, { signal: AbortSignal.timeout(REQUEST_MS) });
    const type = r.headers.get('content-type') ?? '';
    expect(r.status === 200 && type.startsWith('text/html'), `GET / answered ${r.status} ${type}`);
    return 'GET / serves the page';
  });

  return { checks, predict };
}

/** A "7" on the 280×280 canvas: the bar, then the stem. */
const SEVEN: Array<[number, number]> = [
  ...Array.from({ length: 8 }, (_, i): [number, number] => [70 + 20 * i, 60]),
  ...Array.from({ length: 9 }, (_, i): [number, number] => [210 - 9 * (i + 1), 60 + 20 * (i + 1)]),
];

function checkProbs(value: unknown, where: string): void {
  expect(Array.isArray(value) && value.length === 10 && value.every((p) => typeof p === 'number' && p >= 0 && p <= 1),
    `${where}: probs ${JSON.stringify(value)?.slice(0, 120)} are not 10 numbers in [0, 1]`);
  const sum = (value as number[]).reduce((a, b) => a + b, 0);
  expect(Math.abs(sum - 1) < 1e-3, `${where}: probs sum to ${sum}`);
}

type Json = Record<string, unknown>;

async function getJson(url: string): Promise<{ status: number; body: Json }> {
  const r = await fetch(url, { signal: AbortSignal.timeout(REQUEST_MS) });
  return { status: r.status, body: await jsonBody(r, `GET ${url}`) };
}

async function postJson(url: string, body: unknown): Promise<{ status: number; body: Json }> {
  const r = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' },
    signal: AbortSignal.timeout(REQUEST_MS) });
  return { status: r.status, body: await jsonBody(r, `POST ${url}`) };
}

async function jsonBody(r: Response, what: string): Promise<Json> {
  const text = await r.text();
  try {
    return JSON.parse(text) as Json;
  } catch {
    throw new CheckFailed(`${what} answered ${r.status} with a body that is not JSON: ${text.slice(0, 120)}`);
  }
}

/** Sends each message after the answer to the previous one; resolves with the answers, one per message. */
function wsSession(url: string, messages: readonly object[]): Promise<Json[]> {
  return new Promise((done, fail) => {
    const ws = new WebSocket(url);
    const answers: Json[] = [];
    const timer = setTimeout(() => { ws.terminate(); fail(new CheckFailed(`no answer to WebSocket message ${answers.length + 1} within ${REQUEST_MS / 1000} s`)); }, REQUEST_MS);
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      ws.close();
      if (err) fail(err); else done(answers);
    };
    ws.on('error', (err) => finish(new CheckFailed(`WebSocket ${url}: ${err.message}`)));
    ws.on('close', (code) => {
      if (answers.length < messages.length) finish(new CheckFailed(`the server closed the WebSocket (${code}) after ${answers.length} answers`));
    });
    ws.on('open', () => ws.send(JSON.stringify(messages[0])));
    ws.on('message', (data) => {
      try {
        answers.push(JSON.parse(String(data)) as Json);
      } catch {
        return finish(new CheckFailed(`WebSocket answer ${answers.length + 1} is not JSON`));
      }
      if (answers.length === messages.length) finish();
      else ws.send(JSON.stringify(messages[answers.length]));
    });
  });
}

runCli(main, USAGE);
