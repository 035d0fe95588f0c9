// `npm run train` against the real MLflow (the pinned version in .venv/), checked by MLflow's own Python client:
// a tracking server with a SQLite backend and proxied artifacts (MLflow's default deployment), and the embedded
// file store ./mlruns read by mlflow.search_runs and MlflowClient.get_run.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingestMnist } from '../../src/data/ingest.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { mlflowPython, startMlflowServer, type MlflowServer } from '../helpers/mlflow.js';
import { projectRoot } from '../helpers/paths.js';
import { requireVenv, skipWithoutVenv } from '../helpers/python.js';
import { tempDir } from '../helpers/temp.js';

const skip = skipWithoutVenv('MLflow tests');
const EXPERIMENT = 'MNIST_Digit_Classification';
const EPOCHS = 2;

let work: string;

beforeAll(() => {
  if (skip) return;
  requireVenv();
  work = tempDir('mlflow');
  ingestMnist({ out: join(work, 'mnist') });
}, 60_000);

/** A small real training run in `cwd` (a registry of its own), tracked at `trackingUri`. */
function train(cwd: string, trackingUri: string, runName: string): CliResult {
  return runCli('train', ['--data', join(work, 'mnist'), '--models', join(cwd, 'models'), '--params', join(projectRoot, 'params.yaml'),
    '--layers', '784,32,10', '--epochs', String(EPOCHS), '--limit', '1024', '--run-name', runName],
  { cwd, env: { ...process.env, MLFLOW_TRACKING_URI: trackingUri }, timeout: 180_000 });
}

interface RunView {
  status: string; name: string; experiment: string; params: Record<string, string>; tags: Record<string, string>;
  loss: Array<[number, number]>; testAccuracy: Array<[number, number]>; artifacts: string[];
  files: Record<string, string>;
}

/** Everything MLflow's client says about the one run named `runName`, artifacts downloaded (hex of their bytes). */
function viewRun(trackingUri: string, runName: string): RunView {
  return mlflowPython<RunView>(trackingUri, `
import tempfile, os
exp = client.get_experiment_by_name(EXPERIMENT)
found = mlflow.search_runs(experiment_ids=[exp.experiment_id], filter_string=f"attributes.run_name = '{RUN_NAME}'", output_format='list')
assert len(found) == 1, f'{len(found)} runs named {RUN_NAME}'
run = client.get_run(found[0].info.run_id)
history = lambda key: [[m.step, m.value] for m in client.get_metric_history(run.info.run_id, key)]
out = tempfile.mkdtemp()
local = client.download_artifacts(run.info.run_id, '', out)
files = {}
for name in sorted(os.listdir(local)):
    with open(os.path.join(local, name), 'rb') as f:
        files[name] = f.read().hex()
print(json.dumps({
    'status': run.info.status, 'name': run.info.run_name, 'experiment': exp.name,
    'params': run.data.params, 'tags': run.data.tags,
    'loss': history('loss'), 'testAccuracy': history('test_accuracy'),
    'artifacts': sorted(a.path for a in client.list_artifacts(run.info.run_id)), 'files': files,
}))`, { EXPERIMENT, RUN_NAME: runName });
}

/** The model file and metrics.json the run registered locally, as hex (what MLflow must hold byte for byte). */
function localArtifacts(cwd: string, stdout: string): Record<string, string> {
  const dir = /→ (\S+)\/model\.safetensors/.exec(stdout)?.[1];
  expect(dir, stdout).toBeDefined();
  return {
    'metrics.json': readFileSync(join(dir!, 'metrics.json')).toString('hex'),
    'model.safetensors': readFileSync(join(dir!, 'model.safetensors')).toString('hex'),
  };
}

function expectCompleteRun(view: RunView, runName: string, local: Record<string, string>): void {
  expect(view).toMatchObject({ status: 'FINISHED', name: runName, experiment: EXPERIMENT });
  expect(view.params).toMatchObject({ layers: '784,32,10', epochs: String(EPOCHS), limit: '1024', optimizer: 'sgd' });
  expect(view.tags).toMatchObject({ model_type: 'mlp', dataset: 'mnist', 'mlflow.runName': runName, 'mlflow.source.type': 'LOCAL' });
  expect(view.loss.map(([step]) => step)).toEqual([1, 2]);
  expect(view.testAccuracy.map(([step]) => step)).toEqual([1, 2]);
  for (const [, acc] of view.testAccuracy) expect(acc).toBeGreaterThan(0.1);
  for (const [name, hex] of Object.entries(local)) expect(view.files[name], name).toBe(hex);
}

describe.skipIf(skip)('a real MLflow tracking server (SQLite, proxied artifacts)', () => {
  let server: MlflowServer;
  beforeAll(async () => { server = await startMlflowServer(); }, 120_000);
  afterAll(async () => { await server?.stop(); }, 30_000);

  it('receives the run: status, params, per-epoch metrics with steps, tags, artifacts byte for byte', () => {
    const cwd = tempDir('mlflow-proxied');
    const r = train(cwd, server.url, 'proxied');
    expect(r.code, r.stderr + server.log().slice(-2000)).toBe(0);
    expectCompleteRun(viewRun(server.url, 'proxied'), 'proxied', localArtifacts(cwd, r.stdout));
  }, 240_000);
});

describe.skipIf(skip)('the embedded file store (./mlruns), read by MLflow', () => {
  it('search_runs and get_run read the run as written, artifacts byte for byte', () => {
    const cwd = tempDir('mlflow-file');
    const r = train(cwd, '', 'file-store');
    expect(r.code, r.stderr).toBe(0);
    expectCompleteRun(viewRun(join(cwd, 'mlruns'), 'file-store'), 'file-store', localArtifacts(cwd, r.stdout));
  }, 240_000);
});
