// `npm run train` against the real MLflow (the pinned version in .venv/), checked by MLflow's own Python client:
// a tracking server with a SQLite backend and proxied artifacts (MLflow's default deployment), a server with a
// file:// artifact root and --no-serve-artifacts (the client writes the files), the embedded file store ./mlruns read
// by mlflow.search_runs and MlflowClient.get_run; and tracking failures on the real server (down at start, stopped,
// paused or refusing mid-run), each of which must leave a finished training with exit 0 and its model registered.
// Mid-run events happen while the trainer is SIGSTOPped after its first epoch reached the server, so they land
// mid-run however fast the machine is.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ingestMnist } from '../../src/data/ingest.js';
import { runCli, spawnCli, type CliResult } from '../helpers/cli.js';
import { mlflowPython, mlflowRest, startMlflowServer, type MlflowServer } from '../helpers/mlflow.js';
import { projectRoot } from '../helpers/paths.js';
import { pollUntil } from '../helpers/poll.js';
import { freePort } from '../helpers/ports.js';
import { requireVenv, skipWithoutVenv } from '../helpers/python.js';
import { tempDir } from '../helpers/temp.js';

const skip = skipWithoutVenv('MLflow tests');
const EXPERIMENT = 'MNIST_Digit_Classification';
const EPOCHS = 2;
const ARTIFACTS = ['confusion_matrix.json', 'metrics.json', 'model.onnx', 'model.safetensors'];

let work: string;
let proxied: MlflowServer;
let direct: MlflowServer;

beforeAll(async () => {
  if (skip) return;
  requireVenv();
  work = tempDir('mlflow');
  // Both servers start while MNIST is ingested: start-up is mostly Python importing.
  const servers = Promise.all([startMlflowServer(), startMlflowServer({ serveArtifacts: false })]);
  ingestMnist({ out: join(work, 'mnist') });
  [proxied, direct] = await servers;
}, 180_000);

afterAll(async () => {
  await Promise.all([proxied?.stop(), direct?.stop()]);
}, 30_000);

function trainArgs(cwd: string, runName: string, epochs: number): string[] {
  return ['--data', join(work, 'mnist'), '--models', join(cwd, 'models'), '--params', join(projectRoot, 'params.yaml'),
    '--layers', '784,32,10', '--epochs', String(epochs), '--limit', '1024', '--run-name', runName];
}

/** A small real training run in `cwd` (a registry of its own), tracked at `trackingUri`; `commit`: HEAD before it. */
function train(cwd: string, trackingUri: string, runName: string): CliResult & { commit: string } {
  const commit = headCommit();
  return { ...runCli('train', trainArgs(cwd, runName, EPOCHS),
    { cwd, env: { ...process.env, MLFLOW_TRACKING_URI: trackingUri }, timeout: 180_000 }), commit };
}

interface RunView {
  id: string; status: string; name: string; experiment: string; params: Record<string, string>;
  tags: Record<string, string>; loss: Array<[number, number]>; testAccuracy: Array<[number, number]>;
  artifacts: string[]; files: Record<string, string>; table: { columns: string[]; data: number[][] } | null;
}

/**
 * Everything MLflow's client says about the one run named `runName`: artifacts downloaded (hex of their bytes) and
 * the confusion matrix read back by mlflow.load_table. `withArtifacts` false: a store the client cannot read.
 */
function viewRun(trackingUri: string, runName: string, withArtifacts = true): RunView {
  return mlflowPython<RunView>(trackingUri, `
import tempfile, os
exp = client.get_experiment_by_name(EXPERIMENT)
found = mlflow.search_runs(experiment_ids=[exp.experiment_id], filter_string=f"attributes.run_name = '{RUN_NAME}'", output_format='list')
assert len(found) == 1, f'{len(found)} runs named {RUN_NAME}'
run = client.get_run(found[0].info.run_id)
history = lambda key: [[m.step, m.value] for m in client.get_metric_history(run.info.run_id, key)]
files, table, artifacts = {}, None, []
if WITH_ARTIFACTS:
    out = tempfile.mkdtemp()
    local = client.download_artifacts(run.info.run_id, '', out)
    for name in sorted(os.listdir(local)):
        with open(os.path.join(local, name), 'rb') as f:
            files[name] = f.read().hex()
    artifacts = sorted(a.path for a in client.list_artifacts(run.info.run_id))
    if 'confusion_matrix.json' in artifacts:
        df = client.load_table(exp.experiment_id, 'confusion_matrix.json', run_ids=[run.info.run_id])
        table = {'columns': list(df.columns), 'data': df.values.tolist()}
print(json.dumps({
    'id': run.info.run_id, 'status': run.info.status, 'name': run.info.run_name, 'experiment': exp.name,
    'params': run.data.params, 'tags': run.data.tags,
    'loss': history('loss'), 'testAccuracy': history('test_accuracy'),
    'artifacts': artifacts, 'files': files, 'table': table,
}))`, { EXPERIMENT, RUN_NAME: runName, WITH_ARTIFACTS: withArtifacts });
}

/** The registry folder of the version the training printed ("model <id> → <dir>/model.safetensors"). */
function versionDir(stdout: string): string {
  const dir = /→ (\S+)\/model\.safetensors/.exec(stdout)?.[1];
  expect(dir, stdout).toBeDefined();
  return dir!;
}

/**
 * What MLflow must hold byte for byte: the registered model file and metrics.json, and the ONNX file that
 * `npm run export:onnx` writes for that version.
 */
function localArtifacts(cwd: string, stdout: string): Record<string, string> {
  const dir = versionDir(stdout);
  const onnx = join(cwd, 'exported.onnx');
  const version = dir.split('/').pop()!;
  const r = runCli('export-onnx', ['--models', join(cwd, 'models'), '--model', version, '--out', onnx], { cwd });
  expect(r.code, r.stderr).toBe(0);
  return {
    'metrics.json': readFileSync(join(dir, 'metrics.json')).toString('hex'),
    'model.safetensors': readFileSync(join(dir, 'model.safetensors')).toString('hex'),
    'model.onnx': readFileSync(onnx).toString('hex'),
  };
}

function headCommit(): string {
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: projectRoot, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

/** `commit`: HEAD when the training started (a commit made while the test runs must not fail it). */
function expectParamsMetricsTags(view: RunView, runName: string, commit: string): void {
  expect(view).toMatchObject({ status: 'FINISHED', name: runName, experiment: EXPERIMENT });
  expect(view.params).toMatchObject({ layers: '784,32,10', epochs: String(EPOCHS), limit: '1024', optimizer: 'sgd' });
  expect(view.tags).toMatchObject({
    model_type: 'mlp', dataset: 'mnist', 'mlflow.runName': runName, 'mlflow.source.type': 'LOCAL',
    'mlflow.source.name': 'train.js', 'mlflow.source.git.commit': commit,
  });
  expect(view.loss.map(([step]) => step)).toEqual([1, 2]);
  expect(view.testAccuracy.map(([step]) => step)).toEqual([1, 2]);
  for (const [, acc] of view.testAccuracy) expect(acc).toBeGreaterThan(0.1);
}

function expectCompleteRun(view: RunView, runName: string, cwd: string, r: { stdout: string; commit: string }): void {
  const { stdout } = r;
  expectParamsMetricsTags(view, runName, r.commit);
  expect(view.artifacts).toEqual(ARTIFACTS);
  for (const [name, hex] of Object.entries(localArtifacts(cwd, stdout))) expect(view.files[name], name).toBe(hex);
  // The confusion matrix as MLflow reads the table: one row per true digit, the same counts as metrics.json.
  const metrics = JSON.parse(readFileSync(join(versionDir(stdout), 'metrics.json'), 'utf8')) as { confusionMatrix: number[][] };
  expect(view.table?.columns).toEqual(['true_digit', ...Array.from({ length: 10 }, (_, p) => `predicted_${p}`)]);
  expect(view.table?.data).toEqual(metrics.confusionMatrix.map((row, t) => [t, ...row]));
  expect(JSON.parse(view.tags['mlflow.loggedArtifacts']!)).toEqual([{ path: 'confusion_matrix.json', type: 'table' }]);
}

describe.skipIf(skip)('a run recorded by MLflow', () => {
  it('on a tracking server with proxied artifacts: status, params, per-epoch metrics, tags, artifacts byte for byte', () => {
    const cwd = tempDir('mlflow-proxied');
    const r = train(cwd, proxied.url, 'proxied');
    expect(r.code, r.stderr + proxied.log().slice(-2000)).toBe(0);
    expect(r.stderr).not.toMatch(/warning/);
    expectCompleteRun(viewRun(proxied.url, 'proxied'), 'proxied', cwd, r);
  }, 120_000);

  it('on a server with a file:// artifact root (--no-serve-artifacts): the files land there, MLflow downloads them', () => {
    const cwd = tempDir('mlflow-direct');
    const r = train(cwd, direct.url, 'direct');
    expect(r.code, r.stderr + direct.log().slice(-2000)).toBe(0);
    expect(r.stderr).not.toMatch(/warning/);
    const view = viewRun(direct.url, 'direct');
    expectCompleteRun(view, 'direct', cwd, r);
    const onDisk = join(direct.artifactDir, /* experiment id */ '1', view.id, 'artifacts', 'model.safetensors');
    expect(readFileSync(onDisk).toString('hex')).toBe(view.files['model.safetensors']);
  }, 120_000);

  it('on a server whose artifact store the client cannot write (s3://): FINISHED with params and metrics, artifacts named as skipped', async () => {
    // A second experiment of that name whose artifact location is a bucket (no request ever goes to it).
    const { experiment } = await mlflowRest<{ experiment: { experiment_id: string } }>(direct.url, 'GET', 'experiments/get-by-name', { experiment_name: EXPERIMENT });
    await mlflowRest(direct.url, 'POST', 'experiments/update', { experiment_id: experiment.experiment_id, new_name: `${EXPERIMENT}-file-root` });
    await mlflowRest(direct.url, 'POST', 'experiments/create', { name: EXPERIMENT, artifact_location: 's3://doodle-digits-test-bucket/artifacts' });
    const cwd = tempDir('mlflow-s3');
    const r = train(cwd, direct.url, 's3');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: MLflow artifacts skipped: run \w+ stores artifacts at s3:\/\/doodle-digits-test-bucket\/.*not support/);
    expect(r.stderr).toMatch(/artifacts not stored \(unsupported artifact store\): model\.safetensors, metrics\.json, confusion_matrix\.json, model\.onnx/);
    expectParamsMetricsTags(viewRun(direct.url, 's3', false), 's3', r.commit);
  }, 120_000);

  it('in the embedded file store ./mlruns: search_runs and get_run read it as written, artifacts byte for byte', () => {
    const cwd = tempDir('mlflow-file');
    const r = train(cwd, '', 'file-store');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/warning/);
    expectCompleteRun(viewRun(join(cwd, 'mlruns'), 'file-store'), 'file-store', cwd, r);
  }, 120_000);
});

/** Exit 0, the model registered and current, and one warning naming what did not reach MLflow. */
function expectTrainedDespiteTracking(r: CliResult, cwd: string, notLogged: RegExp): void {
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const current = readFileSync(join(cwd, 'models', 'current'), 'utf8').trim();
  expect(existsSync(join(cwd, 'models', current, 'model.safetensors'))).toBe(true);
  expect(r.stdout).toMatch(/promoted to current/);
  expect(r.stderr).toMatch(notLogged);
}

interface Background { child: ChildProcess; runId: Promise<string>; done: Promise<CliResult> }

function trainInBackground(cwd: string, trackingUri: string, runName: string, epochs: number): Background {
  const child = spawnCli('train', trainArgs(cwd, runName, epochs), { cwd, env: { ...process.env, MLFLOW_TRACKING_URI: trackingUri } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<CliResult>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  const runId = pollUntil(() => {
    if (child.exitCode !== null) throw new Error(`train exited early (${child.exitCode}):\n${stdout}${stderr}`);
    return /MLflow run ([0-9a-f]{32})/.exec(stdout)?.[1];
  }, 'the run id on stdout', 60_000);
  return { child, runId, done };
}

/** Waits until the first epoch's loss is on the server, then SIGSTOPs the trainer: what follows is mid-run. */
async function stopAfterFirstEpoch(server: MlflowServer, job: Background): Promise<string> {
  const runId = await job.runId;
  await pollUntil(async () => {
    const reply = await mlflowRest<{ metrics?: Array<{ step: number }> }>(server.url, 'GET', 'metrics/get-history', { run_id: runId, metric_key: 'loss' });
    return reply.metrics?.some((m) => m.step === 1);
  }, 'metric loss at step 1 on the server', 60_000);
  job.child.kill('SIGSTOP');
  return runId;
}

describe.skipIf(skip)('tracking failures never fail a finished training', () => {
  it('server down at start (nothing listens on the port): trains without tracking, warns, exit 0', async () => {
    const cwd = tempDir('mlflow-down');
    const r = train(cwd, `http://127.0.0.1:${await freePort()}`, 'down');
    expectTrainedDespiteTracking(r, cwd, /warning: MLflow tracking is off for this run: .*cannot reach http:\/\/127\.0\.0\.1:\d+/);
    expect(r.stderr).toMatch(/warning: nothing of this run was logged to MLflow/);
    expect(r.stdout).toMatch(/MLflow tracking off/);
  }, 120_000);

  it('an unwritable ./mlruns: trains without tracking, warns, exit 0', () => {
    const cwd = tempDir('mlflow-unwritable');
    writeFileSync(join(cwd, 'not-a-folder'), '');
    const r = train(cwd, join(cwd, 'not-a-folder', 'mlruns'), 'unwritable');
    expectTrainedDespiteTracking(r, cwd, /warning: MLflow tracking is off for this run: cannot use .*not-a-folder\/mlruns as an MLflow file store/);
  }, 120_000);

  it('the server refuses the run mid-run (deleted on the server): the rest is named as not logged, exit 0', async () => {
    const cwd = tempDir('mlflow-refused');
    const job = trainInBackground(cwd, proxied.url, 'refused', 4);
    const runId = await stopAfterFirstEpoch(proxied, job);
    await mlflowRest(proxied.url, 'POST', 'runs/delete', { run_id: runId });
    job.child.kill('SIGCONT');
    const r = await job.done;
    expectTrainedDespiteTracking(r, cwd, new RegExp(`warning: MLflow run ${runId} is incomplete; not logged: .*metrics .*final_test_accuracy.* at step 4.*tags model_version, promoted`));
    expect(r.stderr).toMatch(/warning: MLflow: metrics not logged: .*runs\/log-batch failed: HTTP 400/);
    expect(r.stderr).toMatch(/run status FAILED/);
    const { run } = await mlflowRest<{ run: { info: { status: string; lifecycle_stage: string } } }>(proxied.url, 'GET', 'runs/get', { run_id: runId });
    expect(run.info).toMatchObject({ lifecycle_stage: 'deleted', status: 'RUNNING' }); // refused: nothing changed it
  }, 120_000);

  it('a paused server (SIGSTOP): requests time out, the training finishes, exit 0; the server answers again after', async () => {
    const cwd = tempDir('mlflow-paused');
    const job = trainInBackground(cwd, proxied.url, 'paused', 4);
    const runId = await stopAfterFirstEpoch(proxied, job);
    proxied.pause();
    job.child.kill('SIGCONT');
    let r: CliResult;
    try {
      r = await job.done;
    } finally {
      proxied.resume();
    }
    expectTrainedDespiteTracking(r, cwd, new RegExp(`warning: MLflow run ${runId} is incomplete; not logged: .*artifacts model\\.safetensors, metrics\\.json, confusion_matrix\\.json, model\\.onnx`));
    expect(r.stderr).toMatch(/no reply within 10000 ms/);
    expect(r.stderr).toMatch(/did not answer 2 requests in a row; not sending the rest/);
    // The status request timed out unanswered, so the run stays RUNNING; what was logged before the pause is intact.
    const { run } = await mlflowRest<{ run: { info: { status: string }; data: { params?: Array<{ key: string; value: string }> } } }>(
      proxied.url, 'GET', 'runs/get', { run_id: runId });
    expect(run.info.status).toBe('RUNNING');
    expect(run.data.params).toContainEqual({ key: 'layers', value: '784,32,10' });
    expect(r.stderr).toMatch(/run status FAILED/);
  }, 180_000);

  it('the server stopped mid-run: later calls fail fast, the training finishes, exit 0 (last: stops the server)', async () => {
    const cwd = tempDir('mlflow-stopped');
    const job = trainInBackground(cwd, proxied.url, 'stopped', 4);
    const runId = await stopAfterFirstEpoch(proxied, job);
    await proxied.stop();
    job.child.kill('SIGCONT');
    const r = await job.done;
    expectTrainedDespiteTracking(r, cwd, new RegExp(`warning: MLflow run ${runId} is incomplete; not logged: .*artifacts model\\.safetensors, metrics\\.json, confusion_matrix\\.json, model\\.onnx; run status FAILED`));
    expect(r.stderr).toMatch(/ECONNREFUSED/);
    // What arrived before the stop is in MLflow's database, read by MLflow's client without a server.
    const kept = mlflowPython<{ status: string; steps: number[]; params: Record<string, string> }>(`sqlite:///${join(proxied.dir, 'mlflow.db')}`, `
run = client.get_run(RUN)
print(json.dumps({'status': run.info.status, 'params': run.data.params, 'steps': [m.step for m in client.get_metric_history(RUN, 'loss')]}))`, { RUN: runId });
    expect(kept.status).toBe('RUNNING');
    expect(kept.params).toMatchObject({ layers: '784,32,10', epochs: '4' });
    expect(kept.steps[0]).toBe(1);
  }, 120_000);
});
