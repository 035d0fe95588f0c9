// kill -9 during `npm run train`, at every durable write and at seeded random moments: the real bundled CLI, killed
// by its own test-only crash point (src/util/crash-points.ts: DOODLE_CRASH_AT) just before and just after each
// write of the model file, the registry and the MLflow run files, or by SIGKILL from here. After each kill the
// registry is consistent (every listed version loads, `current` names one of them), the MLflow file store's runs are
// well-formed, and the next training needs no manual cleanup and removes what the dead one left half-written.

import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ingestMnist } from '../../src/data/ingest.js';
import { loadModel } from '../../src/model/model-file.js';
import { ModelRegistry } from '../../src/model/registry.js';
import { tempOwner } from '../../src/util/stale-temps.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { cliPath, projectRoot as root } from '../helpers/paths.js';
import { mlflowPython } from '../helpers/mlflow.js';
import { skipWithoutVenv } from '../helpers/python.js';
import { tempDir } from '../helpers/temp.js';
import { pollUntil } from '../helpers/poll.js';

let mnist: string;
const env = { ...process.env, MLFLOW_TRACKING_URI: '' };
/** A test-sized training: about a second, of which most is starting up. */
const SMALL = ['--layers', '784,16,10', '--epochs', '1', '--limit', '1000', '--no-augment', '--params', join(root, 'params.yaml')];

beforeAll(() => {
  mnist = join(tempDir('crash-mnist'), 'mnist');
  ingestMnist({ out: mnist });
}, 60_000);

function workspace(): string {
  const dir = tempDir('crash-train');
  mkdirSync(join(dir, 'out'));
  return dir;
}

function train(cwd: string, seed: number, extraEnv: Record<string, string> = {}) {
  return runCli('train', [...SMALL, '--data', mnist, '--seed', String(seed), '--out', 'out/model.safetensors', '--force'],
    { cwd, env: { ...env, ...extraEnv }, timeout: 60_000 });
}

/** Every file and folder name under `dir` that is a temporary of ours (a dead writer's leftover, here). */
function leftovers(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string): void => {
    for (const e of readdirSync(at, { withFileTypes: true })) {
      if (tempOwner(e.name) !== undefined || /^\.writer-\d+$/.test(e.name)) out.push(join(at, e.name).slice(dir.length + 1));
      else if (e.isDirectory()) walk(join(at, e.name));
    }
  };
  walk(dir);
  return out.sort();
}

/** What must hold after any kill: a consistent registry and well-formed MLflow runs. */
function checkConsistent(cwd: string, what: string): void {
  const registry = new ModelRegistry(join(cwd, 'models'));
  const listed = registry.list();
  for (const v of listed) expect(() => loadModel(v.path), `${what}: version ${v.version}`).not.toThrow();
  const current = listed.filter((v) => v.current);
  if (existsSync(join(cwd, 'models', 'current'))) {
    expect(current, `${what}: current names a listed version`).toHaveLength(1);
    expect(() => loadModel(registry.resolve('current'))).not.toThrow();
  }
  if (existsSync(join(cwd, 'out', 'model.safetensors'))) expect(() => loadModel(join(cwd, 'out', 'model.safetensors'))).not.toThrow();
  // MLflow runs: a run folder has its meta.yaml, or is one whose writer died right after placing it (its marker says
  // so: MLflow skips it as malformed, the next training removes it); every metric line is "<ms> <value> <step>".
  const store = join(cwd, 'mlruns');
  if (!existsSync(store)) return;
  for (const exp of readdirSync(store, { withFileTypes: true }).filter((e) => e.isDirectory() && /^\d+$/.test(e.name))) {
    for (const run of readdirSync(join(store, exp.name), { withFileTypes: true }).filter((e) => e.isDirectory() && /^[0-9a-f]{32}$/.test(e.name))) {
      const dir = join(store, exp.name, run.name);
      if (!existsSync(join(dir, 'meta.yaml'))) {
        expect(readdirSync(dir).some((n) => /^\.writer-\d+$/.test(n)), `${what}: ${dir} has neither meta.yaml nor a writer marker`).toBe(true);
        continue;
      }
      expect(readFileSync(join(dir, 'meta.yaml'), 'utf8')).toMatch(/^run_id: [0-9a-f]{32}$/m);
      if (!existsSync(join(dir, 'metrics'))) continue;
      for (const m of readdirSync(join(dir, 'metrics')).filter((n) => !n.startsWith('.'))) {
        for (const line of readFileSync(join(dir, 'metrics', m), 'utf8').split('\n').filter((l) => l !== '')) {
          expect(line, `${what}: ${dir}/metrics/${m}`).toMatch(/^\d+ \S+ \d+$/);
        }
      }
    }
  }
}

/** The crash points a training in `cwd` passes, in order, as "<point>#<n>" (the n-th time it reaches that point). */
function tracePoints(cwd: string, seed: number): string[] {
  const trace = join(cwd, `trace-${seed}`);
  const r = train(cwd, seed, { DOODLE_CRASH_TRACE: trace });
  expect(r.code, r.stderr).toBe(0);
  const seen = new Map<string, number>();
  return readFileSync(trace, 'utf8').trim().split('\n').map((p) => {
    const n = (seen.get(p) ?? 0) + 1;
    seen.set(p, n);
    return `${p}#${n}`;
  });
}

describe('kill -9 during npm run train', () => {
  it('at every durable write, before and after it: the registry stays consistent and the next run cleans up', () => {
    // The first training in an empty folder also creates the MLflow store and its experiments: each of those writes,
    // killed in a fresh folder, must leave one where the next training works.
    const fresh = tracePoints(workspace(), 1);
    const setup = fresh.slice(0, fresh.indexOf('mlflow run folder: before rename#1'));
    expect(setup.length).toBeGreaterThan(0);
    for (const point of setup) {
      const cwd = workspace();
      const r = train(cwd, 1, { DOODLE_CRASH_AT: point });
      expect(r.signal, `${point}: ${r.stderr.slice(-500)}`).toBe('SIGKILL');
      const next = train(cwd, 1);
      expect(next.code, `after a kill at ${point}: ${next.stderr}`).toBe(0);
      checkConsistent(cwd, point);
    }
    // Then the points of a training over an existing registry (a current model to replace) and store.
    const cwd = workspace();
    const first = train(cwd, 2);
    expect(first.code, first.stderr).toBe(0);
    const points = tracePoints(cwd, 3);
    // The writes the issue names, each seen by the trace: the model file, the registry, MLflow's run files.
    for (const kind of ['write model.safetensors: before rename#1', 'registry version: before rename#1', 'write current: after rename#1',
      'mlflow run folder: before rename#1', 'write meta.yaml: after rename#1', 'append loss: before#1', 'artifact model.onnx: before rename#1']) {
      expect(points).toContain(kind);
    }
    let seed = 100;
    let pending: string[] = [];
    let swept = 0;
    for (const point of points) {
      const r = train(cwd, seed++, { DOODLE_CRASH_AT: point });
      expect(r.signal, `${point}: ${r.stderr.slice(-500)}`).toBe('SIGKILL');
      // What the run before this one left, this one removed first thing (its first line says so).
      if (pending.length > 0) {
        // (≥: the count includes the dead run's staging folder in the OS temp folder.)
        const removed = Number(/removed (\d+) files? left by an interrupted write/.exec(r.stdout)?.[1] ?? 0);
        expect(removed, `after the kill before ${point}: ${r.stdout.slice(0, 300)}`).toBeGreaterThanOrEqual(pending.length);
        for (const p of pending) expect(existsSync(join(cwd, p)), `${p} is still there`).toBe(false);
        swept += pending.length;
      }
      checkConsistent(cwd, point);
      pending = leftovers(cwd);
    }
    expect(swept).toBeGreaterThan(0); // kills before a rename do leave temporaries
    const again = train(cwd, 7);
    expect(again.code, again.stderr).toBe(0);
    expect(leftovers(cwd)).toEqual([]);
    checkConsistent(cwd, 'after the cleanup run');
    const models = runCli('models', ['--models', 'models', '--json'], { cwd, env });
    expect(models.code, models.stderr).toBe(0);
    const listed = JSON.parse(models.stdout) as { current: string; versions: Array<{ version: string; current: boolean }> };
    expect(listed.versions.filter((v) => v.current).map((v) => v.version)).toEqual([listed.current]);
    expect(listed.versions.length).toBeGreaterThanOrEqual(2);
    // The real MLflow reads the store where the venv is (always under CI, where a missing venv fails the check).
    if (!skipWithoutVenv('crash-train: the real MLflow reading the store')) {
      // The real MLflow reads the file store: every run folder is a run it lists, dead ones as RUNNING.
      const runs = mlflowPython<Array<{ status: string; metrics: number }>>(join(cwd, 'mlruns'),
        'runs = client.search_runs([e.experiment_id for e in client.search_experiments()], max_results=10000)\n' +
        'print(json.dumps([{"status": r.info.status, "metrics": len(r.data.metrics)} for r in runs]))');
      // first, the traced one and the cleanup run finished; each run killed after its folder appeared is listed.
      // (A run killed at or after its last meta.yaml write, the one that says FINISHED, is finished too.)
      const last = points.map((p) => p.startsWith('write meta.yaml: after rename')).lastIndexOf(true);
      expect(runs.filter((r) => r.status === 'FINISHED').length).toBe(3 + points.length - last);
      const placed = points.indexOf('mlflow run folder: after rename#1');
      const named = points.findIndex((p, i) => i > placed && p.startsWith('write meta.yaml: after rename'));
      expect(runs.length).toBe(points.length - named + 3);
    }
  }, 600_000);

  it('at 20 seeded random moments: the same holds, and a training afterwards works without manual cleanup', async () => {
    const cwd = workspace();
    const t0 = performance.now();
    const first = train(cwd, 3);
    expect(first.code, first.stderr).toBe(0);
    const span = performance.now() - t0;
    let s = 20261203;
    const random = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let k = 0; k < 20; k++) {
      const delay = random() * span;
      const child = spawn(process.execPath, [cliPath('train'), ...SMALL, '--data', mnist, '--seed', String(200 + k), '--out', 'out/model.safetensors', '--force'],
        { cwd, env, stdio: 'ignore' });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, delay));
      child.kill('SIGKILL');
      await exited;
      checkConsistent(cwd, `kill after ${delay.toFixed(0)} ms`);
    }
    const again = train(cwd, 9);
    expect(again.code, again.stderr).toBe(0);
    expect(leftovers(cwd)).toEqual([]);
    checkConsistent(cwd, 'after the random kills');
  }, 300_000);

  it('npm run serve removes what a dead writer left in models/ and feedback/, and never a live writer\'s', async () => {
    const cwd = workspace();
    expect(train(cwd, 4).code).toBe(0);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    mkdirSync(join(cwd, 'feedback'));
    mkdirSync(join(cwd, 'models', `.incoming-${deadPid}-abcdef`));
    writeFileSync(join(cwd, 'models', `.current.${deadPid}.0123abcd.tmp`), 'half');
    writeFileSync(join(cwd, 'feedback', `.20261203-120000-0123456789ab.json.${deadPid}.89abcdef.tmp`), '{"lab');
    writeFileSync(join(cwd, 'feedback', `.x.json.${process.pid}.89abcdef.tmp`), 'a live writer (this test)');
    const server = spawnCli('serve', ['--port', '0', '--models', 'models', '--workers', '1'], { cwd, env });
    let out = '';
    server.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    server.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    try {
      await pollUntil(() => /serving model/.test(out), 'the server to start', 30_000);
      expect(out).toMatch(/removed 3 files left by an interrupted write/);
      expect(leftovers(cwd)).toEqual([`feedback/.x.json.${process.pid}.89abcdef.tmp`]);
    } finally {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
    }
  }, 60_000);
});
