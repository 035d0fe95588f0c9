// The MLflow tracking module against real files in a temp dir and a real HTTP server on 127.0.0.1 that answers like
// MLflow's REST API and records every call. The file layout is read back with a parser written here (not the
// module's), MLflow's run listing is emulated to prove no half-made run is ever visible, and where python3 with
// PyYAML is installed the YAML, float and URI formatting are compared with Python's own output.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import {
  existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { BestEffortRun, installRunGuards, MlflowRestError, runWithStatus, startRun, type Run, type StartRunOptions } from '../../src/tracking/index.js';
import { createRunDirectory, stagingName, type RunInfo } from '../../src/tracking/file-run.js';
import { emitYamlMap, parseFlatYaml } from '../../src/tracking/meta-yaml.js';
import { pathToPythonFileUri, pyFloatRepr } from '../../src/tracking/py-format.js';
import { resolveTrackingUri } from '../../src/tracking/uri.js';
import { posixNormpath } from '../../src/tracking/validate.js';
import { tempDir } from '../helpers/temp.js';
import { requireVenv, skipWithoutVenv, venvBin } from '../helpers/python.js';

// ---- helpers --------------------------------------------------------------------------------------------------

/** An independent reader for the flat meta.yaml lines: `key: value`, 'single-quoted' values unquoted. */
function readMeta(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue;
    const m = /^([a-z_]+): (.*)$/.exec(line);
    if (m === null) throw new Error(`unexpected meta.yaml line ${JSON.stringify(line)} in ${path}`);
    const raw = m[2]!;
    out[m[1]!] = raw.startsWith("'") && raw.endsWith("'") ? raw.slice(1, -1).replaceAll("''", "'") : raw;
  }
  return out;
}

const RUN_META_KEYS = [
  'artifact_uri', 'end_time', 'entry_point_name', 'experiment_id', 'lifecycle_stage', 'run_id', 'run_name',
  'run_uuid', 'source_name', 'source_type', 'source_version', 'start_time', 'status', 'tags', 'user_id',
];

/**
 * What MLflow's FileStore._list_run_infos + _get_run_from_info do with an experiment folder: every sub-folder except
 * the reserved ones is a candidate; one without meta.yaml is skipped; one with meta.yaml is a run, and reading it
 * lists <experiment>/<run_id>/metrics, which raises when that folder does not exist. Returns the listed run ids.
 */
function mlflowListRuns(experimentDir: string, experimentId: string): string[] {
  const runs: string[] = [];
  for (const entry of readdirSync(experimentDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || ['tags', 'datasets', 'traces'].includes(entry.name)) continue;
    const metaPath = join(experimentDir, entry.name, 'meta.yaml');
    if (!existsSync(metaPath)) continue;
    const meta = readMeta(metaPath);
    if (meta['experiment_id'] !== experimentId) continue;
    const runId = meta['run_id']!;
    if (!statSync(join(experimentDir, runId), { throwIfNoEntry: false })?.isDirectory()) {
      throw new Error(`MLflow's listing would fail: ${entry.name}/meta.yaml names run ${runId} whose folder is missing`);
    }
    runs.push(runId);
  }
  return runs.sort();
}

function experimentDirs(root: string): string[] {
  return readdirSync(root).filter((n) => n !== '.trash').sort();
}

// The venv's Python: the PyYAML MLflow itself uses (skips with the reason outside CI, fails under CI=true).
const noPython = skipWithoutVenv('the PyYAML and Python-formatting comparisons');

function python(script: string, input: unknown): unknown {
  requireVenv();
  return JSON.parse(execFileSync(venvBin('python'), ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' }));
}

function fileOptions(root: string, extra: Partial<StartRunOptions> = {}): StartRunOptions {
  return {
    trackingUri: root, experimentName: 'MNIST_Digit_Classification', runName: 'baseline', user: 'alice',
    sourceName: 'train.js', ...extra,
  };
}

// ---- file store -----------------------------------------------------------------------------------------------

describe('file store layout', () => {
  it('writes a full run exactly as MLflow lays it out', async () => {
    const root = join(tempDir('tracking'), 'mlruns');
    const run = await startRun(fileOptions(root, {
      runName: 'baseline: #1', tags: { model_type: 'mlp' }, startTimeMs: 1_700_000_000_000,
    }));
    expect(run.runId).toMatch(/^[0-9a-f]{32}$/);
    expect(run.experimentId).toMatch(/^[1-9][0-9]{17}$/);
    const expDir = join(root, run.experimentId);
    const runDir = join(expDir, run.runId);

    // Experiment folders: Default 0, the new one, and .trash, each experiment with MLflow's meta.yaml fields.
    expect(readdirSync(root).sort()).toEqual(['.trash', '0', run.experimentId].sort());
    expect(readMeta(join(root, '0', 'meta.yaml'))).toMatchObject({
      artifact_location: `file://${root}/0`, experiment_id: '0', lifecycle_stage: 'active', name: 'Default',
    });
    const exp = readMeta(join(expDir, 'meta.yaml'));
    expect(Object.keys(exp)).toEqual(['artifact_location', 'creation_time', 'experiment_id', 'last_update_time', 'lifecycle_stage', 'name']);
    expect(exp).toMatchObject({
      artifact_location: `file://${root}/${run.experimentId}`, experiment_id: run.experimentId,
      lifecycle_stage: 'active', name: 'MNIST_Digit_Classification',
    });
    expect(exp['creation_time']).toMatch(/^\d{13}$/);
    expect(exp['last_update_time']).toBe(exp['creation_time']);
    expect(readFileSync(join(expDir, 'meta.yaml'), 'utf8')).toContain(`experiment_id: '${run.experimentId}'\n`);

    // A running run: status RUNNING (1), no end time, deleted_time: null as MLflow writes at creation.
    const created = readMeta(join(runDir, 'meta.yaml'));
    expect(Object.keys(created).sort()).toEqual([...RUN_META_KEYS, 'deleted_time'].sort());
    expect(created).toMatchObject({ status: '1', end_time: 'null', deleted_time: 'null' });

    await run.logParams({ lr: 0.001, epochs: 3, augment: true, layers: '784,128,10' });
    await run.logMetrics({ loss: 0.5, 'acc/test': 0.25 }, 0, 1_700_000_001_000);
    await run.logMetrics({ loss: 0.125, 'acc/test': 1e-7 }, 1, 1_700_000_002_000);
    await run.logMetrics({ loss: Number.NaN }, 2, 1_700_000_003_000);
    await run.setTags({ promoted: 'true' });
    const src = join(tempDir('tracking'), 'model.safetensors');
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 10, 13]);
    writeFileSync(src, bytes);
    await run.logArtifact(src, 'model');
    await run.end('FINISHED');

    const meta = readMeta(join(runDir, 'meta.yaml'));
    expect(Object.keys(meta)).toEqual(RUN_META_KEYS); // sorted, and deleted_time gone as in _overwrite_run_info
    expect(meta).toEqual({
      artifact_uri: `file://${expDir}/${run.runId}/artifacts`,
      end_time: meta['end_time'],
      entry_point_name: '',
      experiment_id: run.experimentId,
      lifecycle_stage: 'active',
      run_id: run.runId,
      run_name: 'baseline: #1',
      run_uuid: run.runId,
      source_name: '',
      source_type: '4',
      source_version: '',
      start_time: '1700000000000',
      status: '3',
      tags: '[]',
      user_id: 'alice',
    });
    expect(Number(meta['end_time'])).toBeGreaterThan(1_700_000_000_000);
    expect(readFileSync(join(runDir, 'meta.yaml'), 'utf8')).toContain("run_name: 'baseline: #1'\n");

    expect(readFileSync(join(runDir, 'metrics', 'loss'), 'utf8'))
      .toBe('1700000001000 0.5 0\n1700000002000 0.125 1\n1700000003000 nan 2\n');
    expect(readFileSync(join(runDir, 'metrics', 'acc', 'test'), 'utf8'))
      .toBe('1700000001000 0.25 0\n1700000002000 1e-07 1\n');
    const params = Object.fromEntries(readdirSync(join(runDir, 'params')).map((k) => [k, readFileSync(join(runDir, 'params', k), 'utf8')]));
    expect(params).toEqual({ lr: '0.001', epochs: '3', augment: 'true', layers: '784,128,10' });
    const tags = Object.fromEntries(readdirSync(join(runDir, 'tags')).map((k) => [k, readFileSync(join(runDir, 'tags', k), 'utf8')]));
    expect(tags).toEqual({
      'mlflow.runName': 'baseline: #1', 'mlflow.user': 'alice', 'mlflow.source.name': 'train.js',
      'mlflow.source.type': 'LOCAL', model_type: 'mlp', promoted: 'true',
    });
    expect(readFileSync(join(runDir, 'artifacts', 'model', 'model.safetensors'))).toEqual(bytes);
    expect(readdirSync(join(runDir, 'artifacts', 'model'))).toEqual(['model.safetensors']); // no temp left
    expect(mlflowListRuns(expDir, run.experimentId)).toEqual([run.runId]);
  });

  it('creates metrics/ params/ tags/ artifacts/ for a run that logs nothing, and FAILED is status 4', async () => {
    const root = join(tempDir('tracking'), 'mlruns');
    const run = await startRun(fileOptions(root));
    const runDir = join(root, run.experimentId, run.runId);
    for (const folder of ['metrics', 'params', 'tags', 'artifacts']) expect(statSync(join(runDir, folder)).isDirectory()).toBe(true);
    for (const folder of ['metrics', 'params', 'artifacts']) expect(readdirSync(join(runDir, folder))).toEqual([]);
    await run.end('FAILED');
    expect(readMeta(join(runDir, 'meta.yaml'))['status']).toBe('4');
  });

  it('ends KILLED as status 5 with end_time; a second end() is a no-op', async () => {
    const root = join(tempDir('tracking'), 'mlruns');
    const startTimeMs = Date.now() - 1000;
    const run = await startRun(fileOptions(root, { startTimeMs }));
    const metaPath = join(root, run.experimentId, run.runId, 'meta.yaml');
    const first = run.end('KILLED');
    const concurrent = run.end('FINISHED');
    expect(concurrent).toBe(first);
    await first;
    const ended = readFileSync(metaPath, 'utf8');
    expect(readMeta(metaPath)['status']).toBe('5');
    expect(Number(readMeta(metaPath)['end_time'])).toBeGreaterThanOrEqual(startTimeMs + 1000);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await run.end('FINISHED');
    expect(readFileSync(metaPath, 'utf8')).toBe(ended);
    await expect(run.end('DONE' as never)).rejects.toThrow(/status must be one of FINISHED, FAILED, KILLED/);
  });

  it('reuses the experiment for a second run and lists both', async () => {
    const root = join(tempDir('tracking'), 'mlruns');
    const a = await startRun(fileOptions(root, { runName: 'a' }));
    const b = await startRun(fileOptions(root, { runName: 'b' }));
    expect(b.experimentId).toBe(a.experimentId);
    expect(experimentDirs(root)).toEqual(['0', a.experimentId].sort());
    const c = await startRun(fileOptions(root, { runName: 'c', experimentName: 'Default' }));
    expect(c.experimentId).toBe('0');
    expect(mlflowListRuns(join(root, a.experimentId), a.experimentId)).toEqual([a.runId, b.runId].sort());
  });

  it('reuses an experiment MLflow made (by its meta.yaml name) and refuses a deleted one', async () => {
    const root = join(tempDir('tracking'), 'mlruns');
    mkdirSync(join(root, '.trash', '77'), { recursive: true });
    mkdirSync(join(root, '0'));
    writeFileSync(join(root, '0', 'meta.yaml'), 'artifact_location: file:///elsewhere/0\ncreation_time: 1\nexperiment_id: \'0\'\nlast_update_time: 1\nlifecycle_stage: active\nname: Default\n');
    mkdirSync(join(root, '42'));
    // PyYAML wraps long values at 80 columns; the continuation line must be read as part of the name.
    writeFileSync(join(root, '42', 'meta.yaml'), [
      'artifact_location: /data/artifacts/42', 'creation_time: 1600000000000', "experiment_id: '42'",
      'last_update_time: 1600000000000', 'lifecycle_stage: active',
      "name: 'made by MLflow: a long experiment name that PyYAML folds over two lines when it is",
      "  longer than eighty columns'", '',
    ].join('\n'));
    writeFileSync(join(root, '.trash', '77', 'meta.yaml'), "artifact_location: x\nexperiment_id: '77'\nlifecycle_stage: deleted\nname: gone\n");
    const name = 'made by MLflow: a long experiment name that PyYAML folds over two lines when it is longer than eighty columns';
    const run = await startRun(fileOptions(root, { experimentName: name }));
    expect(run.experimentId).toBe('42');
    expect(readMeta(join(root, '42', run.runId, 'meta.yaml'))['artifact_uri']).toBe(`/data/artifacts/42/${run.runId}/artifacts`);
    expect(readMeta(join(root, '0', 'meta.yaml'))['artifact_location']).toBe('file:///elsewhere/0'); // left alone
    await expect(startRun(fileOptions(root, { experimentName: 'gone' }))).rejects.toThrow(/"gone" exists in deleted state/);
  });

  it('rejects keys MLflow refuses, before writing anything', async () => {
    const root = join(tempDir('tracking'), 'mlruns');
    const run = await startRun(fileOptions(root));
    const runDir = join(root, run.experimentId, run.runId);
    for (const key of ['bad key!', '../up', '/abs', 'a//b', 'trailing/', '.', 'a/./b', '..x', '', 'x'.repeat(251), 'tab\tkey']) {
      await expect(run.logParams({ [key]: 1 }), key).rejects.toThrow(/invalid param key/);
      await expect(run.logMetrics({ [key]: 1 }, 0), key).rejects.toThrow(/invalid metric key/);
      await expect(run.setTags({ [key]: 'v' }), key).rejects.toThrow(/invalid tag key/);
    }
    // One bad key rejects the whole call: the good key beside it is not written either.
    await expect(run.logParams({ good: 1, 'bad?': 2 })).rejects.toThrow(/"bad\?"/);
    expect(readdirSync(join(runDir, 'params'))).toEqual([]);
    expect(readdirSync(join(runDir, 'metrics'))).toEqual([]);
    await expect(run.logMetrics({ loss: 1 }, 1.5)).rejects.toThrow(/step must be an integer/);
    await expect(run.logMetrics({ loss: '1' as unknown as number }, 1)).rejects.toThrow(/must be a number/);
    await expect(run.logParams({ long: 'v'.repeat(6001) })).rejects.toThrow(/longer than MLflow's 6000/);
    await expect(run.logArtifact(join(runDir, 'nope.bin'))).rejects.toThrow(/cannot read/);
    await expect(run.logArtifact(runDir)).rejects.toThrow(/not a regular file/);
    await expect(run.logArtifact(join(runDir, 'meta.yaml'), '../out')).rejects.toThrow(/invalid artifactPath/);
    // MLflow's allowed characters: letters and digits of any script, _ - . space : and /.
    await run.logParams({ 'a b/c-d.e_f:g': 1, 'tempé/ü': 2 });
    expect(readFileSync(join(runDir, 'params', 'a b', 'c-d.e_f:g'), 'utf8')).toBe('1');
    expect(readFileSync(join(runDir, 'params', 'tempé', 'ü'), 'utf8')).toBe('2');
  });

  it('matches posixpath.normpath on the paths that decide key validity', () => {
    const cases: Array<[string, string]> = [
      ['a/b', 'a/b'], ['a//b', 'a/b'], ['a/./b', 'a/b'], ['a/../b', 'b'], ['../a', '../a'], ['/a/..', '/'],
      ['//a', '//a'], ['///a', '/a'], ['a/', 'a'], ['', '.'], ['.', '.'], ['a/b/../../..', '..'],
    ];
    for (const [input, expected] of cases) expect(posixNormpath(input), input).toBe(expected);
  });

  it('refuses to change a param value (MLflow params are immutable) but accepts the same value again', async () => {
    const root = join(tempDir('tracking'), 'mlruns');
    const run = await startRun(fileOptions(root));
    await run.logParams({ lr: 0.01 });
    await run.logParams({ lr: 0.01 });
    await expect(run.logParams({ lr: 0.02 })).rejects.toThrow(/param "lr" was already logged as "0.01".*immutable/);
    expect(readFileSync(join(root, run.experimentId, run.runId, 'params', 'lr'), 'utf8')).toBe('0.01');
    await run.logParams({ other: 'x' }); // the failed call did not block the queue
    expect(readFileSync(join(root, run.experimentId, run.runId, 'params', 'other'), 'utf8')).toBe('x');
  });

  it('keeps calls in order when the caller does not await them', async () => {
    const root = join(tempDir('tracking'), 'mlruns');
    const run = await startRun(fileOptions(root));
    const pending = Array.from({ length: 50 }, (_, step) => run.logMetrics({ loss: step / 8 }, step, 1000 + step));
    pending.push(run.end('FINISHED'));
    await Promise.all(pending);
    const lines = readFileSync(join(root, run.experimentId, run.runId, 'metrics', 'loss'), 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toEqual(Array.from({ length: 50 }, (_, step) => `${1000 + step} ${pyFloatRepr(step / 8)} ${step}`));
  });

  it('keeps run_name in step with a later mlflow.runName tag, as MLflow does', async () => {
    const root = join(tempDir('tracking'), 'mlruns');
    const run = await startRun(fileOptions(root));
    await run.setTags({ 'mlflow.runName': "renamed: it's" });
    await run.end('FINISHED');
    const meta = readMeta(join(root, run.experimentId, run.runId, 'meta.yaml'));
    expect(meta['run_name']).toBe("renamed: it's");
    expect(meta['status']).toBe('3');
    await expect(startRun(fileOptions(root, { tags: { 'mlflow.runName': 'other' } }))).rejects.toThrow(/differs from runName/);
  });
});

describe('file store crash safety', () => {
  function info(experimentId: string): RunInfo {
    const runId = randomUUID().replaceAll('-', '');
    return {
      runId, experimentId, runName: 'r', userId: 'u', startTime: 1, endTime: null, status: 1,
      artifactUri: `file:///x/${runId}/artifacts`,
    };
  }

  it('never shows MLflow a run folder before it is complete', () => {
    const expDir = tempDir('tracking');
    const run = info('5');
    const seen: string[] = [];
    createRunDirectory(expDir, run, [{ key: 'mlflow.runName', value: 'r' }], (stage, dir) => {
      seen.push(stage);
      if (stage === 'staged') {
        // Built under a dot name, without meta.yaml: MLflow's listing skips a folder without meta.yaml.
        expect(dir).toBe(join(expDir, stagingName(run.runId)));
        expect(stagingName(run.runId).startsWith('.')).toBe(true);
        // Plus the writer's marker: a folder placed but never given its meta.yaml is removed once its writer is dead.
        expect(readdirSync(dir).sort()).toEqual([`.writer-${process.pid}`, 'artifacts', 'metrics', 'params', 'tags']);
        expect(readFileSync(join(dir, 'tags', 'mlflow.runName'), 'utf8')).toBe('r');
        expect(existsSync(join(expDir, run.runId))).toBe(false);
      } else {
        // In place but still without meta.yaml: still skipped.
        expect(existsSync(join(expDir, stagingName(run.runId)))).toBe(false);
        expect(existsSync(join(dir, 'meta.yaml'))).toBe(false);
      }
      expect(mlflowListRuns(expDir, '5')).toEqual([]);
    });
    expect(seen).toEqual(['staged', 'placed']);
    expect(mlflowListRuns(expDir, '5')).toEqual([run.runId]);
    expect(readdirSync(join(expDir, run.runId)).sort()).toEqual(['artifacts', 'meta.yaml', 'metrics', 'params', 'tags']);
  });

  it('leaves nothing behind when creation fails part-way', async () => {
    const root = join(tempDir('tracking'), 'mlruns');
    // Tags "a" and "a/b" are each valid, but "a" must be both a file and a folder: the staging write fails.
    await expect(startRun(fileOptions(root, { tags: { a: 'x', 'a/b': 'y' } }))).rejects.toThrow();
    const [expId] = experimentDirs(root).filter((d) => d !== '0');
    expect(readdirSync(join(root, expId!))).toEqual(['meta.yaml']);

    // The rename fails when the target exists: the staging folder goes, the existing folder is untouched.
    const expDir = tempDir('tracking');
    const run = info('6');
    mkdirSync(join(expDir, run.runId, 'keep'), { recursive: true });
    expect(() => createRunDirectory(expDir, run, [])).toThrow();
    expect(readdirSync(expDir)).toEqual([run.runId]);
    expect(readdirSync(join(expDir, run.runId))).toEqual(['keep']);
  });
});

describe('signals and exceptions', () => {
  it('installRunGuards ends the run KILLED on a signal, then calls onSignal and removes its handlers', async () => {
    const root = join(tempDir('tracking'), 'mlruns');
    const run = await startRun(fileOptions(root));
    // SIGUSR2 stands in for SIGINT/SIGTERM: emitting those would reach the test runner's own handlers.
    expect(process.listenerCount('SIGUSR2')).toBe(0);
    const delivered = new Promise<[NodeJS.Signals, unknown]>((resolve) => {
      installRunGuards(run, (signal, endError) => resolve([signal, endError]), ['SIGUSR2']);
    });
    expect(process.listenerCount('SIGUSR2')).toBe(1);
    process.emit('SIGUSR2', 'SIGUSR2');
    const [signal, endError] = await delivered;
    expect(signal).toBe('SIGUSR2');
    expect(endError).toBeUndefined();
    expect(process.listenerCount('SIGUSR2')).toBe(0);
    const meta = readMeta(join(root, run.experimentId, run.runId, 'meta.yaml'));
    expect(meta['status']).toBe('5');
    expect(meta['end_time']).toMatch(/^\d{13}$/);
    // The trainer's own end('KILLED') afterwards, and a late metric, are harmless.
    await run.logMetrics({ loss: 1 }, 9);
    await run.end('KILLED');
    const uninstall = installRunGuards(run, () => undefined, ['SIGUSR2']);
    uninstall();
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });

  it('runWithStatus ends FINISHED on return and FAILED on a throw, rethrowing it', async () => {
    const root = join(tempDir('tracking'), 'mlruns');
    const ok = await startRun(fileOptions(root));
    expect(await runWithStatus(ok, async () => 42)).toBe(42);
    const bad = await startRun(fileOptions(root));
    await expect(runWithStatus(bad, async () => {
      throw new Error('diverged');
    })).rejects.toThrow('diverged');
    const status = (r: Run): string | undefined => readMeta(join(root, r.experimentId, r.runId, 'meta.yaml'))['status'];
    expect(status(ok)).toBe('3');
    expect(status(bad)).toBe('4');
  });
});

describe('formatting like MLflow writes it from Python', () => {
  const floats = [0, -0, 1, 3, -2.5, 0.1, 1 / 3, 0.30000000000000004, 1e-4, 1.5e-5, 1e-5, 123.456, 1e15, 1e16,
    123456789012345680, 2 ** 53, 1e22, 5e-324, 1.7976931348623157e308, Number.NaN, Infinity, -Infinity];

  it('prints metric values as Python repr(float) does', () => {
    expect(floats.map(pyFloatRepr)).toEqual([
      '0.0', '-0.0', '1.0', '3.0', '-2.5', '0.1', '0.3333333333333333', '0.30000000000000004', '0.0001', '1.5e-05',
      '1e-05', '123.456', '1000000000000000.0', '1e+16', '1.2345678901234568e+17', '9007199254740992.0', '1e+22',
      '5e-324', '1.7976931348623157e+308', 'nan', 'inf', '-inf',
    ]);
  });

  it.skipIf(noPython)('agrees with Python repr() and pathlib as_uri()', () => {
    const reprs = python(
      'import json,sys\nvals=json.loads(sys.stdin.read())\n' +
        'print(json.dumps([repr(float(v)) for v in vals]))',
      floats.map((x) => (Number.isFinite(x) ? (Object.is(x, -0) ? '-0.0' : x.toString()) : String(x).toLowerCase().replace('infinity', 'inf'))),
    );
    expect(floats.map(pyFloatRepr)).toEqual(reprs);
    const paths = ['/tmp/mlruns', '/home/a b/ü(x)~_.-/mlruns', "/srv/it's #1/+=&?%"];
    const uris = python('import json,sys,pathlib\nprint(json.dumps([pathlib.Path(p).as_uri() for p in json.loads(sys.stdin.read())]))', paths);
    expect(paths.map(pathToPythonFileUri)).toEqual(uris);
  });

  const awkward = ['plain', '', 'yes', 'No', 'on', 'True', 'NULL', 'y', '~', 'null', '123', '0o7', '0x1F', '0b101', '+1',
    '1_000', '12:30', '1e3', '1.5', '.5', '.inf', '2024-01-01', 'a: b', 'a:b', 'x:', 'a,b', 'q?', "it's", '#hash',
    'x #y', '- dash', '-dash', ': colon', '? q', '[list]', '{map}', '*star', '&amp', '!bang', '|pipe', '>gt', '%pct',
    '@at', '`tick', '"dq"', ' lead', 'trail ', 'tab\there', 'a\rb', 'ünïcödé', '日本語', 'emoji 🎉', '\u00a0nbsp',
    'ctl\u0001', 'bom\ufeff', '---', '...x', '<<', '=', 'file:///a b/c',
    // PyYAML folds these three (blank-line breaks inside single quotes, wrapping at 80 columns); we do not.
    'line\nbreak', 'nel\u0085', `${'x'.repeat(90)} y`];
  const folded = new Set(awkward.slice(-3));

  it('quotes strings so that they read back unchanged', () => {
    const map = Object.fromEntries(awkward.map((s, i) => [`k${String(i).padStart(2, '0')}`, s]));
    const text = emitYamlMap(map);
    expect(parseFlatYaml(text, 'test')).toEqual(map);
    // Spot checks of the style PyYAML picks.
    expect(emitYamlMap({ a: 'plain' })).toBe('a: plain\n');
    expect(emitYamlMap({ a: '' })).toBe("a: ''\n");
    expect(emitYamlMap({ a: '123' })).toBe("a: '123'\n");
    expect(emitYamlMap({ a: "it's: x" })).toBe("a: 'it''s: x'\n");
    expect(emitYamlMap({ a: 'line\nbreak' })).toBe('a: "line\\nbreak"\n');
    expect(emitYamlMap({ b: 1, a: null, c: [] })).toBe('a: null\nb: 1\nc: []\n');
  });

  it.skipIf(noPython)('is read by PyYAML as written, and matches safe_dump byte for byte', () => {
    const map = Object.fromEntries(awkward.map((s, i) => [`k${String(i).padStart(2, '0')}`, s]));
    const loaded = python('import json,sys,yaml\nprint(json.dumps(yaml.safe_load(json.loads(sys.stdin.read()))))', emitYamlMap(map));
    expect(loaded).toEqual(map);
    const meta = {
      artifact_uri: 'file:///tmp/mlruns/123/abc/artifacts', end_time: 1700000000123, entry_point_name: '',
      experiment_id: '123', lifecycle_stage: 'active', run_id: '0abc', run_name: "it's: #1", run_uuid: '0abc',
      source_name: '', source_type: 4, source_version: '', start_time: 1700000000000, status: 3, tags: [] as const,
      user_id: 'ünï', deleted_time: null,
    };
    const dumped = python(
      'import json,sys,yaml\nd=json.loads(sys.stdin.read())\n' +
        'print(json.dumps(yaml.safe_dump(d, default_flow_style=False, allow_unicode=True, sort_keys=True)))',
      meta,
    );
    expect(emitYamlMap(meta)).toBe(dumped);
    // Byte for byte, each awkward string alone (one python3 call for all of them).
    const dumps = python(
      'import json,sys,yaml\nprint(json.dumps([yaml.safe_dump({"k": s}, allow_unicode=True) for s in json.loads(sys.stdin.read())]))',
      awkward,
    ) as string[];
    awkward.forEach((s, i) => {
      if (folded.has(s)) expect(emitYamlMap({ k: s }), JSON.stringify(s)).not.toBe(dumps[i]);
      else expect(emitYamlMap({ k: s }), JSON.stringify(s)).toBe(dumps[i]);
      // And the module reads what PyYAML (so MLflow) writes, folded forms included. Not for NEL: PyYAML writes it
      // raw and reads it back as a space ('nel\x85' → 'nel '), so there is no right answer to compare with.
      if (!s.includes('\u0085')) expect(parseFlatYaml(dumps[i]!, 'pyyaml'), JSON.stringify(s)).toEqual({ k: s });
    });
  });
});

describe('tracking URIs', () => {
  it('resolves paths, file: URIs and http(s) like MLflow, and names unsupported schemes', () => {
    expect(resolveTrackingUri(undefined, '/work')).toEqual({ kind: 'file', root: '/work/mlruns' });
    expect(resolveTrackingUri('', '/work')).toEqual({ kind: 'file', root: '/work/mlruns' });
    expect(resolveTrackingUri('./runs', '/work')).toEqual({ kind: 'file', root: '/work/runs' });
    expect(resolveTrackingUri('/abs/ml runs', '/work')).toEqual({ kind: 'file', root: '/abs/ml runs' });
    expect(resolveTrackingUri('file:///abs/ml%20runs', '/work')).toEqual({ kind: 'file', root: '/abs/ml runs' });
    expect(resolveTrackingUri('file:rel', '/work')).toEqual({ kind: 'file', root: '/work/rel' });
    expect(resolveTrackingUri('http://127.0.0.1:5000/', '/work')).toEqual({ kind: 'rest', baseUrl: 'http://127.0.0.1:5000' });
    expect(resolveTrackingUri('HTTPS://mlflow.example/prefix', '/work')).toEqual({ kind: 'rest', baseUrl: 'https://mlflow.example/prefix' });
    expect(() => resolveTrackingUri('sqlite:///mlflow.db', '/work')).toThrow(/scheme "sqlite:" is not supported/);
    expect(() => resolveTrackingUri('databricks', '/work')).not.toThrow(); // a folder named databricks
  });

  it('names the tracking root when it cannot be used', async () => {
    const blocker = join(tempDir('tracking'), 'not-a-folder');
    writeFileSync(blocker, '');
    await expect(startRun(fileOptions(blocker))).rejects.toThrow(`cannot use ${blocker} as an MLflow file store`);
    await expect(startRun(fileOptions(blocker, { trackingUri: 'sqlite:///mlflow.db' }))).rejects.toThrow(/not supported/);
    await expect(startRun(fileOptions(blocker, { experimentName: '' }))).rejects.toThrow(/experimentName must be/);
  });
});

// ---- REST -----------------------------------------------------------------------------------------------------

interface Call {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

/** A minimal MLflow tracking server: the endpoints startRun uses, MLflow's batch limits, scripted failures. */
class FakeMlflow {
  readonly calls: Call[] = [];
  readonly experiments = new Map<string, { id: string; stage: string }>();
  readonly artifacts = new Map<string, Buffer>();
  /** endpoint path → the failure to answer with, once. */
  readonly failOnce = new Map<string, { status: number; body: unknown }>();
  /** endpoint paths that never answer (until released). */
  readonly hang = new Set<string>();
  artifactUriFor: (exp: string, run: string) => string = (exp, run) => `mlflow-artifacts:/${exp}/${run}/artifacts`;
  private readonly held: ServerResponse[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.held.splice(0)) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  reset(): void {
    this.calls.length = 0;
    this.failOnce.clear();
    this.hang.clear();
  }

  endpoints(): string[] {
    return this.calls.map((c) => `${c.method} ${c.path}`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(url.pathname);
    const isJson = (req.headers['content-type'] ?? '').startsWith('application/json');
    this.calls.push({
      method: req.method ?? '', path, query: Object.fromEntries(url.searchParams),
      body: isJson ? JSON.parse(raw.toString('utf8')) : raw,
    });
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (this.hang.has(path)) {
      this.held.push(res);
      return;
    }
    const failure = this.failOnce.get(path);
    if (failure !== undefined) {
      this.failOnce.delete(path);
      reply(failure.status, failure.body);
      return;
    }
    const body = this.calls[this.calls.length - 1]!.body as Record<string, unknown>;
    const api = '/api/2.0/mlflow/';
    if (req.method === 'GET' && path === `${api}experiments/get-by-name`) {
      const name = url.searchParams.get('experiment_name') ?? '';
      const exp = this.experiments.get(name);
      if (exp === undefined) {
        reply(404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `Could not find experiment with name '${name}'` });
      } else {
        reply(200, { experiment: { experiment_id: exp.id, name, artifact_location: `mlflow-artifacts:/${exp.id}`, lifecycle_stage: exp.stage } });
      }
    } else if (req.method === 'POST' && path === `${api}experiments/create`) {
      const id = String(this.experiments.size + 1);
      this.experiments.set(String(body['name']), { id, stage: 'active' });
      reply(200, { experiment_id: id });
    } else if (req.method === 'POST' && path === `${api}runs/create`) {
      const runId = randomUUID().replaceAll('-', '');
      const exp = String(body['experiment_id']);
      reply(200, { run: { info: {
        run_id: runId, run_uuid: runId, experiment_id: exp, run_name: body['run_name'], status: 'RUNNING',
        start_time: body['start_time'], artifact_uri: this.artifactUriFor(exp, runId), lifecycle_stage: 'active',
      }, data: {} } });
    } else if (req.method === 'POST' && path === `${api}runs/log-batch`) {
      const n = (k: string): number => (Array.isArray(body[k]) ? (body[k] as unknown[]).length : 0);
      if (n('metrics') > 1000 || n('params') > 100 || n('tags') > 100 || n('metrics') + n('params') + n('tags') > 1000) {
        reply(400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'A batch logging request can contain at most 100 params' });
      } else reply(200, {});
    } else if (req.method === 'POST' && path === `${api}runs/update`) {
      reply(200, { run_info: { run_id: body['run_id'], status: body['status'], end_time: body['end_time'] } });
    } else if (req.method === 'PUT' && path.startsWith('/api/2.0/mlflow-artifacts/artifacts/')) {
      this.artifacts.set(path, raw);
      reply(200, {});
    } else {
      reply(404, { error_code: 'ENDPOINT_NOT_FOUND', message: `no ${req.method} ${path}` });
    }
  }
}

describe('REST client against an MLflow-like server', () => {
  const server = new FakeMlflow();
  beforeAll(() => server.start());
  afterAll(() => server.stop());
  afterEach(() => server.reset());
  const api = '/api/2.0/mlflow';

  function restOptions(extra: Partial<StartRunOptions> = {}): StartRunOptions {
    return {
      trackingUri: server.url, experimentName: 'MNIST', runName: 'r1', user: 'bob', sourceName: 'train.js',
      startTimeMs: 1_700_000_000_000, tags: { model_type: 'mlp' }, requestTimeoutMs: 2000, ...extra,
    };
  }

  it('creates the experiment when missing, then the run, logs in batches, uploads and ends', async () => {
    const run = await startRun(restOptions());
    expect(server.endpoints()).toEqual([
      `GET ${api}/experiments/get-by-name`, `POST ${api}/experiments/create`, `POST ${api}/runs/create`,
    ]);
    expect(server.calls[0]!.query).toEqual({ experiment_name: 'MNIST' });
    expect(server.calls[1]!.body).toEqual({ name: 'MNIST' });
    const expId = server.experiments.get('MNIST')!.id;
    expect(run.experimentId).toBe(expId);
    expect(run.runId).toMatch(/^[0-9a-f]{32}$/);
    const create = server.calls[2]!.body as { tags: Array<{ key: string; value: string }> } & Record<string, unknown>;
    expect(create).toMatchObject({ experiment_id: expId, user_id: 'bob', start_time: 1_700_000_000_000, run_name: 'r1' });
    expect(Object.fromEntries(create.tags.map((t) => [t.key, t.value]))).toEqual({
      'mlflow.runName': 'r1', 'mlflow.user': 'bob', 'mlflow.source.name': 'train.js', 'mlflow.source.type': 'LOCAL',
      model_type: 'mlp',
    });

    server.reset();
    const params = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`p${i}`, i]));
    await run.logParams(params);
    await run.logMetrics({ loss: 0.5, diverged: Number.NaN, big: -Infinity }, 3, 1_700_000_000_500);
    await run.logMetrics(Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`m${i}`, i])), 4, 1_700_000_000_600);
    await run.setTags({ promoted: 'true' });
    const batches = server.calls.map((c) => c.body as { run_id: string; params: unknown[]; metrics: unknown[]; tags: unknown[] });
    expect(server.endpoints().every((e) => e === `POST ${api}/runs/log-batch`)).toBe(true);
    expect(batches.every((b) => b.run_id === run.runId)).toBe(true);
    expect(batches.map((b) => [b.params.length, b.metrics.length, b.tags.length])).toEqual([
      [100, 0, 0], [100, 0, 0], [50, 0, 0], [0, 3, 0], [0, 1000, 0], [0, 500, 0], [0, 0, 1],
    ]);
    expect(batches[0]!.params[0]).toEqual({ key: 'p0', value: '0' });
    expect(batches[2]!.params[49]).toEqual({ key: 'p249', value: '249' });
    expect(batches[3]!.metrics).toEqual([
      { key: 'loss', value: 0.5, timestamp: 1_700_000_000_500, step: 3 },
      { key: 'diverged', value: 'NaN', timestamp: 1_700_000_000_500, step: 3 },
      { key: 'big', value: '-Infinity', timestamp: 1_700_000_000_500, step: 3 },
    ]);
    expect(batches[6]!.tags).toEqual([{ key: 'promoted', value: 'true' }]);

    server.reset();
    const file = join(tempDir('tracking'), 'model v1.safetensors');
    const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256));
    writeFileSync(file, bytes);
    await run.logArtifact(file, 'model/best');
    const artifactPath = `/api/2.0/mlflow-artifacts/artifacts/${expId}/${run.runId}/artifacts/model/best/model v1.safetensors`;
    expect(server.endpoints()).toEqual([`PUT ${artifactPath}`]);
    expect(server.artifacts.get(artifactPath)).toEqual(bytes);

    server.reset();
    await run.end('FINISHED');
    await run.end('KILLED');
    expect(server.endpoints()).toEqual([`POST ${api}/runs/update`]);
    const update = server.calls[0]!.body as Record<string, unknown>;
    expect(update).toMatchObject({ run_id: run.runId, status: 'FINISHED', run_name: 'r1' });
    expect(update['end_time']).toBeGreaterThanOrEqual(1_700_000_000_000);
  });

  it('reuses an existing experiment without creating it', async () => {
    server.experiments.set('Existing', { id: '17', stage: 'active' });
    const run = await startRun(restOptions({ experimentName: 'Existing' }));
    expect(server.endpoints()).toEqual([`GET ${api}/experiments/get-by-name`, `POST ${api}/runs/create`]);
    expect(run.experimentId).toBe('17');
    expect((server.calls[1]!.body as Record<string, unknown>)['experiment_id']).toBe('17');
    server.experiments.set('Gone', { id: '18', stage: 'deleted' });
    await expect(startRun(restOptions({ experimentName: 'Gone' }))).rejects.toThrow(/"Gone" is deleted on the MLflow server/);
  });

  it('turns a server error into an Error naming the endpoint, status, error_code and message', async () => {
    const run = await startRun(restOptions());
    server.failOnce.set(`${api}/runs/log-batch`, { status: 500, body: { error_code: 'INTERNAL_ERROR', message: 'database is locked' } });
    const err = await run.logMetrics({ loss: 1 }, 0).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowRestError);
    expect((err as Error).message).toBe(`MLflow POST ${api}/runs/log-batch failed: HTTP 500 INTERNAL_ERROR: database is locked`);
    expect(err).toMatchObject({ status: 500, errorCode: 'INTERNAL_ERROR', endpoint: `${api}/runs/log-batch` });
    await run.logMetrics({ loss: 2 }, 1); // the next call goes through
    server.failOnce.set(`${api}/experiments/get-by-name`, { status: 403, body: 'forbidden by proxy' });
    await expect(startRun(restOptions())).rejects.toThrow(`MLflow GET ${api}/experiments/get-by-name failed: HTTP 403: "forbidden by proxy"`);
  });

  it('times out a call that gets no reply, and a failed end() can be retried', async () => {
    const run = await startRun(restOptions({ requestTimeoutMs: 300 }));
    server.hang.add(`${api}/runs/update`);
    // The message is the client's own timeout (a hang would fail this test on vitest's timeout instead).
    await expect(run.end('FINISHED')).rejects.toThrow(/runs\/update failed: no reply within 300 ms/);
    server.hang.clear();
    await run.end('FAILED');
    const updates = server.calls.filter((c) => c.path === `${api}/runs/update`).map((c) => (c.body as Record<string, unknown>)['status']);
    expect(updates).toEqual(['FINISHED', 'FAILED']);
  });

  it('BestEffortRun stops sending after 2 unanswered calls, still tries the status, and names what was lost', async () => {
    const warnings: string[] = [];
    const run = await BestEffortRun.start(restOptions({ requestTimeoutMs: 200 }), (line) => warnings.push(line));
    await run.logParams({ lr: 0.1 });
    server.hang.add(`${api}/runs/log-batch`);
    for (let step = 1; step <= 5; step++) void run.logMetrics({ loss: 1 / step, acc: step / 10 }, step);
    await run.setTags({ promoted: 'true' });
    await run.finish(); // FAILED: the record is incomplete
    const batches = server.calls.filter((c) => c.path === `${api}/runs/log-batch`);
    expect(batches).toHaveLength(3); // params, then steps 1 and 2 time out; 3–5 and the tag are never sent
    const updates = server.calls.filter((c) => c.path === `${api}/runs/update`).map((c) => (c.body as Record<string, unknown>)['status']);
    expect(updates).toEqual(['FAILED']);
    expect(run.complete).toBe(false);
    expect(run.summary()).toBe(`MLflow run ${run.runId} is incomplete; not logged: metrics loss, acc at steps 1–5; tags promoted`);
    expect(warnings).toEqual([
      expect.stringMatching(/^MLflow: metrics not logged: .*no reply within 200 ms/),
      'MLflow: the tracking server did not answer 2 requests in a row; not sending the rest of this run (only the final status is tried once more)',
    ]);
  });

  it('reports an unreachable server and a run whose artifacts the server does not proxy', async () => {
    const closed = new FakeMlflow();
    await closed.start();
    const deadUrl = closed.url;
    await closed.stop();
    await expect(startRun(restOptions({ trackingUri: deadUrl }))).rejects.toThrow(/experiments\/get-by-name failed: cannot reach http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);

    server.artifactUriFor = (exp, runId) => `s3://bucket/${exp}/${runId}/artifacts`;
    try {
      const run = await startRun(restOptions());
      const file = join(tempDir('tracking'), 'm.bin');
      writeFileSync(file, 'x');
      await expect(run.logArtifact(file)).rejects.toThrow(/stores artifacts at s3:\/\/bucket\/.*--serve-artifacts/);
    } finally {
      server.artifactUriFor = (exp, runId) => `mlflow-artifacts:/${exp}/${runId}/artifacts`;
    }
  });
});
