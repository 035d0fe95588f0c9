// The MLflow Model Registry against the real MLflow (the pinned version in .venv/): registerChampion registers a
// trained run's model as doodle-digits and moves @champion (read back by MLflow's own client, which downloads the same
// bytes), `npm run models` lists the versions, and `serve --model models:/doodle-digits@champion` follows the alias:
// moved → the running server swaps after a warm-up → predictions come from the new version, no request failing on the
// way. Both artifact set-ups: proxied (mlflow-artifacts:/) and a file:// root the server does not proxy.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { ingestMnist } from '../../src/data/ingest.js';
import { loadMnist } from '../../src/data/mnist.js';
import { loadModel } from '../../src/model/model-file.js';
import { Predictor } from '../../src/inference/index.js';
import { registerChampion, MlflowModelRegistry, parseModelUri } from '../../src/tracking/index.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { MLFLOW_ENV, mlflowPython, startMlflowServer, type MlflowServer } from '../helpers/mlflow.js';
import { projectRoot } from '../helpers/paths.js';
import { pollUntil } from '../helpers/poll.js';
import { freePort } from '../helpers/ports.js';
import { requireVenv, skipWithoutVenv, venvBin } from '../helpers/python.js';
import { tempDir } from '../helpers/temp.js';

const skip = skipWithoutVenv('MLflow registry tests');
const POLL_SECONDS = 0.5;
/** How long a swap may take: a few polling intervals (plus a download and a warm-up, both milliseconds). */
const SWAP_BOUND_MS = 12 * POLL_SECONDS * 1000;

let work: string;
let image: number[];

beforeAll(() => {
  if (skip) return;
  requireVenv();
  work = tempDir('mlflow-registry');
  ingestMnist({ out: join(work, 'mnist') });
  const test = loadMnist(join(work, 'mnist')).test;
  image = Array.from(test.images.subarray(0, 784), (v) => v / 255);
}, 60_000);

/** The environment without settings the tests choose themselves. */
function env(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { HOST: _h, PORT: _p, WORKERS: _w, MODEL_URI: _m, MODEL_POLL_SECONDS: _s, MLFLOW_TRACKING_URI: _t, ...rest } = process.env;
  return { ...rest, ...extra };
}

interface Trained { runId: string; path: string; contentHash: string; stdout: string }

/** A tiny real training run (its own local registry), tracked at `trackingUri` ('' = a file store in its folder). */
function train(trackingUri: string, seed: number): Trained {
  const cwd = tempDir(`registry-train-${seed}`);
  const r = runCli('train', ['--data', join(work, 'mnist'), '--models', join(cwd, 'models'), '--params', join(projectRoot, 'params.yaml'),
    '--layers', '784,32,10', '--epochs', '1', '--limit', '1024', '--seed', String(seed)],
  { cwd, env: env({ MLFLOW_TRACKING_URI: trackingUri }), timeout: 180_000 });
  expect(r.code, r.stderr).toBe(0);
  const runId = /MLflow run ([0-9a-f]{32})/.exec(r.stdout)?.[1];
  const path = /→ (\S+\/model\.safetensors)/.exec(r.stdout)?.[1];
  expect(runId, r.stdout).toBeDefined();
  expect(path, r.stdout).toBeDefined();
  return { runId: runId!, path: path!, contentHash: loadModel(path!).metadata.contentHash, stdout: r.stdout };
}

/** What the model at `path` answers for `image`, computed here (the server must answer exactly this). */
async function expectedProbs(path: string): Promise<number[]> {
  return (await Predictor.create(loadModel(path), 'local')).predict(image).probs;
}

interface Served { proc: ChildProcess; url: string; output: () => string; exited: Promise<number | string | null> }
const running: ChildProcess[] = [];
afterAll(() => { // a server outlives its test (the next one stops its tracking server under it), never the file

  for (const p of running.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

async function startServe(trackingUri: string, models: string, extra: string[] = []): Promise<Served> {
  const proc = spawnCli('serve', ['--model', 'models:/doodle-digits@champion', '--poll-seconds', String(POLL_SECONDS), '--port', '0',
    '--host', '127.0.0.1', '--models', models, ...extra], { env: env({ MLFLOW_TRACKING_URI: trackingUri }) });
  running.push(proc);
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  proc.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
  const exited = new Promise<number | string | null>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal)));
  const port = await pollUntil(() => {
    if (proc.exitCode !== null) throw new Error(`serve exited with ${proc.exitCode}:\n${out}`);
    return /serving model \S+ on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1];
  }, `the serving line of serve:\n${out}`, 60_000);
  return { proc, url: `http://127.0.0.1:${port}`, output: () => out, exited };
}

/** MLflow's own client moves the alias, in a child process that does not block this one (the traffic goes on). */
function setAliasWithMlflowClient(trackingUri: string, version: string): Promise<void> {
  const script = 'import sys\nfrom mlflow import MlflowClient\nMlflowClient(sys.argv[1]).set_registered_model_alias("doodle-digits", "champion", sys.argv[2])';
  return new Promise((resolve, reject) => {
    const p = spawn(venvBin('python'), ['-c', script, trackingUri, version], { env: { ...process.env, ...MLFLOW_ENV }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`set_registered_model_alias failed (${code}):\n${stderr}`))));
  });
}

interface Answer { status: number; model?: string; probs?: number[]; at: number }

async function predict(url: string): Promise<Answer> {
  try {
    const r = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image }) });
    const body = await r.json() as { model?: string; probs?: number[] };
    return { status: r.status, ...body, at: Date.now() };
  } catch (err) {
    return { status: -1, model: (err as Error).message, at: Date.now() };
  }
}

/** Sends predictions back to back on `lanes` connections until stop(); every answer is kept. */
function traffic(url: string, lanes = 2): { answers: Answer[]; stop: () => Promise<void> } {
  const answers: Answer[] = [];
  let stopped = false;
  const loops = Array.from({ length: lanes }, async () => {
    while (!stopped) answers.push(await predict(url));
  });
  return { answers, stop: async () => { stopped = true; await Promise.all(loops); } };
}

/**
 * Moves the alias with `move` while traffic runs; waits (bounded) until `settled` answers in a row come from `to`;
 * returns the delay from the move to the first and to the settled answer, and every answer, for the assertions.
 */
async function swapUnderTraffic(url: string, trackingUri: string, to: string, move: () => Promise<void>, settled = 20) {
  const load = traffic(url);
  await pollUntil(() => load.answers.length >= 10, 'traffic before the move');
  const from = load.answers.length; // answers while the alias moves count too
  const moving = move();
  // When the alias moved, as the registry says (asked every 20 ms, beside the servers' own polls).
  const registry = new MlflowModelRegistry(trackingUri);
  const version = to.split('/')[1];
  const movedAt = await pollUntil(async () => ((await registry.getByAlias('doodle-digits', 'champion')).version === version ? Date.now() : undefined),
    'the alias to move', 60_000, 20);
  await moving;
  await pollUntil(() => {
    const after = load.answers.slice(from);
    return after.length >= settled && after.slice(-settled).every((a) => a.model === to);
  }, `${settled} answers in a row from ${to}`, SWAP_BOUND_MS + 2000);
  await load.stop();
  const after = load.answers.slice(from);
  const first = after.find((a) => a.model === to)!;
  let i = after.length - 1; // back to the first answer of the final run of answers from `to`
  while (i > 0 && after[i - 1]!.model === to) i--;
  const settledAt = after[i]!;
  return { answers: load.answers, firstMs: first.at - movedAt, settledMs: settledAt.at - movedAt };
}

describe('models:/ URIs (what --model and MODEL_URI take)', () => {
  it('reads the alias and the version forms, and names both forms when it refuses one', () => {
    expect(parseModelUri('models:/doodle-digits@champion')).toEqual({ kind: 'alias', name: 'doodle-digits', alias: 'champion' });
    expect(parseModelUri(' models:/doodle-digits/03 ')).toEqual({ kind: 'version', name: 'doodle-digits', version: '3' });
    for (const [text, why] of [
      ['doodle-digits@champion', 'is not a models:/ URI'], ['models:/doodle-digits', 'has neither an alias nor a version number'],
      ['models:/doodle-digits/0', 'has neither'], ['models:/doodle-digits@latest', 'has alias "latest", which MLflow does not allow'],
      ['models:/doodle-digits@v2', 'has alias "v2"'], ['models:/doodle-digits@a b', 'has alias "a b"'],
      ['models://host/doodle-digits@champion', 'names a registry host'],
    ] as const) {
      expect(() => parseModelUri(text), text).toThrow(`model URI ${JSON.stringify(text)} ${why}`);
      expect(() => parseModelUri(text), text).toThrow('use models:/<name>@<alias> (e.g. models:/doodle-digits@champion) or models:/<name>/<version>');
    }
  });
});

describe.skipIf(skip)('a real MLflow tracking server with proxied artifacts', () => {
  let server: MlflowServer;
  let one: Trained;
  let two: Trained;
  let serving: Served;
  const models = (): string => join(work, 'serve-proxied');
  beforeAll(async () => { server = await startMlflowServer(); }, 120_000);
  afterAll(async () => { await server?.stop(); }, 30_000);

  it('a promotion in npm run train registers the model and moves @champion; registerChampion moves it back', async () => {
    one = train(server.url, 1); // each training promotes in its own (empty) local registry
    expect(one.stdout, server.log().slice(-2000)).toContain(`MLflow registry: doodle-digits version 1 (run ${one.runId}) is @champion (first)`);
    two = train(server.url, 2);
    expect(two.stdout).toContain(`MLflow registry: doodle-digits version 2 (run ${two.runId}) is @champion (was version 1)`);
    expect(one.contentHash).not.toBe(two.contentHash);
    const r = await registerChampion({ trackingUri: server.url, runId: one.runId, contentHash: one.contentHash, trainingSeconds: 1.5 });
    expect(r, server.log().slice(-2000)).toMatchObject({ kind: 'registered', name: 'doodle-digits', alias: 'champion', version: '1', previous: '2' });
    const again = await registerChampion({ trackingUri: server.url, runId: one.runId, contentHash: one.contentHash });
    expect(again).toMatchObject({ kind: 'registered', version: '1', previous: '1' }); // the same run and content: no second version
    const seen = mlflowPython<{ version: string; source: string; runId: string; tags: Record<string, string>; hex: string }>(server.url, `
import tempfile, os
mv = client.get_model_version_by_alias('doodle-digits', 'champion')
local = mlflow.artifacts.download_artifacts(artifact_uri='models:/doodle-digits@champion', dst_path=tempfile.mkdtemp())
path = os.path.join(local, 'model.safetensors')
print(json.dumps({'version': mv.version, 'source': mv.source, 'runId': mv.run_id, 'tags': mv.tags, 'hex': open(path, 'rb').read().hex()}))`);
    expect(seen).toMatchObject({ version: '1', source: `runs:/${one.runId}`, runId: one.runId, tags: { content_hash: one.contentHash } });
    expect(Number(seen.tags['training_seconds'])).toBeGreaterThan(0); // the training's own, from its registration
    expect(seen.hex).toBe(readFileSync(one.path).toString('hex'));
  }, 240_000);

  it('npm run models lists the registry versions with run ids and aliases, also as --json', async () => {
    const r = runCli('models', ['--models', join(work, 'no-local-models')], { env: env({ MLFLOW_TRACKING_URI: server.url }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`MLflow registry at ${server.url}, model doodle-digits:`);
    expect(r.stdout).toMatch(new RegExp(`^1\\s+${one.runId}\\s+@champion\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$`, 'm'));
    const j = runCli('models', ['--json', '--models', join(work, 'no-local-models')], { env: env({ MLFLOW_TRACKING_URI: server.url }) });
    expect(j.code, j.stderr).toBe(0);
    const parsed = JSON.parse(j.stdout) as { mlflow: { name: string; versions: Array<Record<string, unknown>> } };
    expect(parsed.mlflow.name).toBe('doodle-digits');
    expect(parsed.mlflow.versions).toEqual(expect.arrayContaining([
      expect.objectContaining({ version: '1', runId: one.runId, aliases: ['champion'], contentHash: one.contentHash, status: 'READY', source: `runs:/${one.runId}` }),
      expect.objectContaining({ version: '2', runId: two.runId, aliases: [], contentHash: two.contentHash, status: 'READY' })]));
    expect(parsed.mlflow.versions).toHaveLength(2);
    // A local promotion moves @champion too: to two's version, then back to one's (what the next test starts from).
    for (const [m, version, was] of [[two, '2', '1'], [one, '1', '2']] as const) {
      const local = dirname(m.path);
      const p = runCli('models', ['promote', basename(local), '--models', dirname(local), '--json'], { env: env({ MLFLOW_TRACKING_URI: server.url }) });
      expect(p.code, p.stderr).toBe(0);
      expect(p.stderr).toContain(`MLflow registry: doodle-digits version ${version} (run ${m.runId}) is @champion (was version ${was})`);
      expect(JSON.parse(p.stdout)).toMatchObject({ mlflow: { kind: 'registered', version } });
      expect((await new MlflowModelRegistry(server.url).getByAlias('doodle-digits', 'champion')).version).toBe(version);
    }
    const nobody = `http://127.0.0.1:${await freePort()}`; // nothing listens there
    const down = runCli('models', ['--models', join(work, 'no-local-models')], { env: env({ MLFLOW_TRACKING_URI: nobody }) });
    expect(down.code).toBe(1);
    expect(down.stdout).toContain('no models yet'); // the local list still comes first
    expect(down.stderr).toBe(`error: the MLflow registry at ${nobody} cannot be read: MLflow GET /api/2.0/mlflow/registered-models/get failed: ` +
      `cannot reach ${nobody}: connect ECONNREFUSED ${nobody.slice('http://'.length)}\n`);
  });

  it('a running server follows @champion: alias moved → swap after the warm-up, no failed request, answers of the new model', async () => {
    serving = await startServe(server.url, models(), ['--workers', '1']);
    const before = await predict(serving.url);
    expect(before).toMatchObject({ status: 200, model: 'doodle-digits/1' });
    const probsOne = await expectedProbs(one.path);
    const probsTwo = await expectedProbs(two.path);
    expect(before.probs).toEqual(probsOne);

    let moved: Awaited<ReturnType<typeof registerChampion>> | undefined;
    const swap = await swapUnderTraffic(serving.url, server.url, 'doodle-digits/2', async () => {
      moved = await registerChampion({ trackingUri: server.url, runId: two.runId, contentHash: two.contentHash });
    });
    expect(moved).toMatchObject({ kind: 'registered', version: '2', previous: '1' });
    console.log(`proxied: alias moved → first answer from version 2 after ${swap.firstMs} ms (poll ${POLL_SECONDS} s, ` +
      `${swap.answers.length} requests during the swap)`);
    expect(swap.answers.filter((a) => a.status !== 200)).toEqual([]);
    const models2 = swap.answers.map((a) => a.model);
    expect(models2.slice(models2.indexOf('doodle-digits/2'))).not.toContain('doodle-digits/1'); // one thread: swaps once, for good
    expect(swap.answers.find((a) => a.model === 'doodle-digits/2')!.probs).toEqual(probsTwo);
    expect(probsTwo).not.toEqual(probsOne);
    expect(serving.output()).toContain('model doodle-digits/1 → doodle-digits/2');
    // The verified file is cached by content hash, with the record of what was served last.
    expect(readdirSync(join(models(), '.mlflow-cache')).sort())
      .toEqual([`${one.contentHash}.safetensors`, `${two.contentHash}.safetensors`, 'doodle-digits@champion.json'].sort());
  }, 120_000);

  it('tracking server down: keeps serving and logs it once; a restart serves the cached champion; nothing cached → exit 1', async () => {
    await server.stop();
    const metric = async (): Promise<number> => {
      const text = await (await fetch(`${serving.url}/metrics`)).text();
      return Number(/doodle_model_loads_total\{result="error"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    await pollUntil(async () => (await metric()) >= 3, 'three failed polls', SWAP_BOUND_MS * 2);
    expect(await predict(serving.url)).toMatchObject({ status: 200, model: 'doodle-digits/2' });
    expect(serving.output().match(/model reload failed/g)).toHaveLength(1);
    expect(serving.output()).toMatch(/model reload failed, still serving doodle-digits\/2 \(retrying\): .*cannot reach/);
    serving.proc.kill('SIGTERM');
    expect(await serving.exited).toBe(0);

    const cached = await startServe(server.url, models(), ['--workers', '1']);
    expect(cached.output()).toMatch(/warning: .*cannot reach .*; serving the cached doodle-digits\/2 \(last served for models:\/doodle-digits@champion\)/);
    expect(await predict(cached.url)).toMatchObject({ status: 200, model: 'doodle-digits/2' });
    cached.proc.kill('SIGTERM');
    expect(await cached.exited).toBe(0);

    const fresh = runCli('serve', ['--model', 'models:/doodle-digits@champion', '--port', '0', '--workers', '1', '--models', join(work, 'fresh')],
      { env: env({ MLFLOW_TRACKING_URI: server.url }), timeout: 60_000 });
    expect(fresh.code).toBe(1);
    expect(fresh.stderr).toMatch(/^error: MLflow GET .*registered-models\/alias failed: cannot reach .* \(following models:\/doodle-digits@champion; nothing cached in .*fresh\/\.mlflow-cache to serve meanwhile\) → start the tracking server or check MLFLOW_TRACKING_URI$/m);
  }, 120_000);
});

describe.skipIf(skip)('a real MLflow tracking server with a file:// artifact root (--no-serve-artifacts)', () => {
  let server: MlflowServer;
  beforeAll(async () => { server = await startMlflowServer({ serveArtifacts: false }); }, 120_000);
  afterAll(async () => { await server?.stop(); }, 30_000);

  it('two worker threads follow the alias moved by MLflow\'s own client; a fixed version stays put', async () => {
    // The runs are logged by MLflow's Python client, which writes straight into the file:// root.
    const models = [train('', 3), train('', 4)];
    const runs = models.map((m) => mlflowPython<string>(server.url, `
mlflow.set_experiment('registry-file-root')
with mlflow.start_run() as run:
    mlflow.log_artifact(PATH)
print(json.dumps(run.info.run_id))`, { PATH: m.path }));
    const first = await registerChampion({ trackingUri: server.url, runId: runs[0]!, contentHash: models[0]!.contentHash });
    expect(first, server.log().slice(-2000)).toMatchObject({ kind: 'registered', version: '1' });
    const registry = new MlflowModelRegistry(server.url);
    const second = await registry.createVersion('doodle-digits', runs[1]!, '', { content_hash: models[1]!.contentHash });
    expect(second.version).toBe('2');
    expect(mlflowPython<string>(server.url, `print(json.dumps(client.get_run(RUN).info.artifact_uri))`, { RUN: runs[1] })).toMatch(/^file:\/\//);

    const dir = join(work, 'serve-file-root');
    const serving = await startServe(server.url, dir, ['--workers', '2']);
    const fixed = await startServe(server.url, join(work, 'serve-fixed'), ['--workers', '1', '--model', 'models:/doodle-digits/1']);
    expect(await predict(serving.url)).toMatchObject({ status: 200, model: 'doodle-digits/1' });
    const swap = await swapUnderTraffic(serving.url, server.url, 'doodle-digits/2', async () => {
      await setAliasWithMlflowClient(server.url, '2');
    });
    console.log(`file:// root, 2 workers: alias moved (by MLflow's client) → first answer from version 2 after ` +
      `${swap.firstMs} ms, every worker on it after ${swap.settledMs} ms (poll ${POLL_SECONDS} s, ${swap.answers.length} requests)`);
    expect(swap.answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(swap.answers.find((a) => a.model === 'doodle-digits/2')!.probs).toEqual(await expectedProbs(models[1]!.path));
    expect(serving.output().match(/model doodle-digits\/1 → doodle-digits\/2/g)).toHaveLength(2); // each worker swapped once
    expect(await predict(fixed.url)).toMatchObject({ status: 200, model: 'doodle-digits/1' });
    expect(fixed.output()).toContain('models:/doodle-digits/1 on the MLflow tracking server');
  }, 240_000);

  it('bad --model values and a missing alias are clear errors', () => {
    const serve = (args: string[], trackingUri = server.url) => runCli('serve', ['--port', '0', '--workers', '1', '--models', join(work, 'bad'), ...args],
      { env: env({ MLFLOW_TRACKING_URI: trackingUri }), timeout: 60_000 });
    const notUri = serve(['--model', 'doodle-digits@champion']);
    expect(notUri.code).toBe(2);
    expect(notUri.stderr).toBe('error: --model: model URI "doodle-digits@champion" is not a models:/ URI: use models:/<name>@<alias> ' +
      '(e.g. models:/doodle-digits@champion) or models:/<name>/<version> (e.g. models:/doodle-digits/3) (see --help)\n');
    const noServer = serve(['--model', 'models:/doodle-digits@champion'], '');
    expect(noServer.code).toBe(1);
    expect(noServer.stderr).toMatch(/^error: serving models:\/doodle-digits@champion needs an MLflow tracking server: set MLFLOW_TRACKING_URI=/);
    const noAlias = serve(['--model', 'models:/doodle-digits@nobody']);
    expect(noAlias.code).toBe(1);
    expect(noAlias.stderr).toMatch(/^error: the MLflow registry at 127\.0\.0\.1:\d+ has no alias "nobody" on model "doodle-digits" .*→ train with MLFLOW_TRACKING_URI set/m);
    const poll = serve(['--model', 'models:/doodle-digits@champion', '--poll-seconds', '0']);
    expect(poll.code).toBe(2);
    expect(poll.stderr).toMatch(/--poll-seconds must be a number in \[0\.1, 86400\], got "0"/);
  }, 120_000);
});
