// The DVC pipeline (dvc.yaml), run by the real DVC of .venv/: the project's files are copied into a fresh git
// repository, `dvc init`, params.yaml set small, `dvc repro` runs data → ingest (the real Spark job) → train (from
// its Parquet) → evaluate and smoke (the served model answers the API). Then DVC's own commands read our files back: status, metrics show, params diff, dag, a
// second repro that runs nothing, a push/pull round trip through a local-directory remote, and an experiment.
// The tests share the one repository and run in order (the experiment last: it changes the workspace).

import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse, parseDocument } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { projectRoot } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';
import { requireVenv, venvBin } from '../helpers/python.js';
import { requireSpark, skipWithoutSpark } from '../helpers/spark.js';

const STAGES = ['data', 'ingest', 'train', 'evaluate', 'smoke'];
/** Small enough for a loaded 2-core machine (~1 s of training), big enough for ~90% test accuracy. */
const SMALL = { layers: [784, 64, 10], epochs: 2, limit: 10_000, schedule: 'constant', augment: false };

let repo: string;
let env: NodeJS.ProcessEnv;
const seconds: Record<string, number> = {};

interface Run { code: number | null; stdout: string; stderr: string }

function run(cmd: string, args: readonly string[], timeout = 60_000): Run {
  const r = spawnSync(cmd, args, { cwd: repo, env, encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? String(r.error) : '') };
}

/** Runs a command that must succeed; its output on failure, since DVC explains itself there. */
function ok(cmd: string, args: readonly string[], timeout?: number): string {
  const r = run(cmd, args, timeout);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  return r.stdout;
}

const dvc = (args: readonly string[], timeout?: number): string => ok(venvBin('dvc'), args, timeout);
const git = (args: readonly string[]): string => ok('git', args);
const timed = <T>(name: string, fn: () => T): T => {
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    seconds[name] = Math.round((performance.now() - t0) / 100) / 10;
  }
};

const md5 = (file: string): string => createHash('md5').update(readFileSync(join(repo, file))).digest('hex');
const sha256 = (file: string): string => createHash('sha256').update(readFileSync(join(repo, file))).digest('hex');
const lock = (): { stages: Record<string, { cmd: string; outs?: Array<{ path: string; md5: string }> }> } =>
  parse(readFileSync(join(repo, 'dvc.lock'), 'utf8'));
const outHash = (stage: string, path: string): string | undefined => lock().stages[stage]?.outs?.find((o) => o.path === path)?.md5;
const versions = (): string[] => readdirSync(join(repo, 'models')).filter((n) => /^\d{8}-\d{6}-[0-9a-f]{12}$/.test(n));

/** The project as a clone would have it: git's tracked files plus new ones not yet committed (not ignored ones). */
function copyProject(to: string): void {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: projectRoot, encoding: 'utf8' });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  // Not a DVC state the project may have (its own .dvc/ or dvc.lock): the test starts from `dvc init`.
  const files = listed.stdout.split('\0').filter((f) => f !== '' && !f.startsWith('.dvc/') && f !== 'dvc.lock' &&
    existsSync(join(projectRoot, f)) && lstatSync(join(projectRoot, f)).isFile());
  for (const f of files) {
    mkdirSync(dirname(join(to, f)), { recursive: true });
    copyFileSync(join(projectRoot, f), join(to, f));
  }
  // As after `npm ci`, without paying for it: the project's own packages.
  symlinkSync(join(projectRoot, 'node_modules'), join(to, 'node_modules'));
  // And the Python tools, as after `npm run setup:python` (the ingest stage runs the venv's spark-submit).
  symlinkSync(join(projectRoot, '.venv'), join(to, '.venv'));
}

function setParams(values: Record<string, unknown>): void {
  const doc = parseDocument(readFileSync(join(repo, 'params.yaml'), 'utf8'));
  for (const [key, value] of Object.entries(values)) doc.setIn(['train', key], value);
  writeFileSync(join(repo, 'params.yaml'), doc.toString());
}

describe.skipIf(skipWithoutSpark('DVC tests (its ingest stage runs the Spark job)'))('the DVC pipeline, run by DVC', () => {
  let firstRepro: string;

  beforeAll(() => {
    requireVenv();
    requireSpark();
    repo = tempDir('dvc');
    // No MLflow server, no analytics, DVC's per-repo site cache inside the temp folder.
    env = { ...process.env, MLFLOW_TRACKING_URI: '', DVC_NO_ANALYTICS: '1', DVC_SITE_CACHE_DIR: join(repo, '.dvc-site-cache'),
      GIT_CONFIG_NOSYSTEM: '1' };
    copyProject(repo);
    git(['init', '-q', '-b', 'main']);
    git(['config', 'user.name', 'DVC test']);
    git(['config', 'user.email', 'dvc-test@example.invalid']);
    git(['config', 'commit.gpgsign', 'false']);
    writeFileSync(join(repo, '.git', 'info', 'exclude'), '/.dvc-site-cache\n');
    git(['add', '-A']);
    git(['commit', '-q', '-m', 'the project']);
    dvc(['init', '-q']);
    dvc(['config', 'core.analytics', 'false']);
    setParams(SMALL);
    git(['add', '-A']);
    git(['commit', '-q', '-m', 'dvc init, small params']);
    // The first repro builds the wasm core and the CLIs, ingests MNIST (Node, then Spark), trains, evaluates and
    // smoke-checks.
    firstRepro = timed('first dvc repro', () => dvc(['repro'], 360_000));
    git(['add', 'dvc.lock', 'metrics.json']);
    git(['commit', '-q', '-m', 'dvc repro']);
  }, 420_000);

  it('runs data → ingest → train (with the small params) → evaluate and smoke, and tracks every output', () => {
    for (const stage of STAGES) expect(firstRepro).toContain(`Running stage '${stage}'`);
    const stages = lock().stages;
    expect(Object.keys(stages).sort()).toEqual([...STAGES].sort());
    expect(stages.train!.cmd).toBe('npm run train -- --data parquet:data/parquet --out model.safetensors --limit 10000');
    expect(stages.ingest!.cmd).toBe('npm run ingest:spark -- --out data/parquet');
    // Cached outputs: in dvc.lock with their hash, in the cache under it, ignored by git (DVC manages them).
    for (const [stage, file] of [['train', 'model.safetensors'], ['smoke', 'smoke.json']] as const) {
      expect(outHash(stage, file)).toBe(md5(file));
      const hash = md5(file);
      expect(existsSync(join(repo, '.dvc', 'cache', 'files', 'md5', hash.slice(0, 2), hash.slice(2)))).toBe(true);
      expect(run('git', ['check-ignore', '-q', file]).code).toBe(0);
    }
    expect(outHash('data', 'mnist')).toMatch(/^[0-9a-f]{32}\.dir$/);
    expect(run('git', ['check-ignore', '-q', 'mnist']).code).toBe(0);
    // The Spark stage's output: the Parquet dataset, its current version complete, the trainer's data.
    expect(outHash('ingest', 'data/parquet')).toMatch(/^[0-9a-f]{32}\.dir$/);
    const version = readFileSync(join(repo, 'data', 'parquet', 'current'), 'utf8').trim();
    const manifest = JSON.parse(readFileSync(join(repo, 'data', 'parquet', version, 'manifest.json'), 'utf8'));
    expect(manifest.rows.total).toBe(70_000);
    expect(firstRepro).toContain(`data: Parquet dataset ${version} (mnist-test test 10000, mnist-train train 60000)`);
    // metrics.json is a cache: false metric: its hash in dvc.lock, the file itself in git (committed above).
    expect(outHash('evaluate', 'metrics.json')).toBe(md5('metrics.json'));
    expect(git(['ls-files', 'metrics.json', 'dvc.lock']).trim().split('\n')).toEqual(['dvc.lock', 'metrics.json']);
    expect(JSON.parse(dvc(['status', '--json']))).toEqual({});
    expect(git(['status', '--porcelain'])).toBe('');
    // The model has the small architecture: 784·64 + 64 + 64·10 + 10 float32 weights, plus the header.
    expect(statSync(join(repo, 'model.safetensors')).size).toBeGreaterThan(4 * (784 * 64 + 64 + 64 * 10 + 10));
    expect(statSync(join(repo, 'model.safetensors')).size).toBeLessThan(4 * (784 * 128));
    expect(versions()).toHaveLength(1);
  });

  it('the smoke stage served the model and recorded every check, the same report on a rerun', () => {
    const report = JSON.parse(readFileSync(join(repo, 'smoke.json'), 'utf8'));
    const metrics = JSON.parse(readFileSync(join(repo, 'metrics.json'), 'utf8'));
    expect(report.ok).toBe(true);
    expect(report.checks.map((c: { name: string }) => c.name)).toEqual(
      ['health', 'model', 'predict', 'v2_infer', 'websocket', 'bad_request', 'web_page', 'shutdown']);
    expect(report.checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    expect(report.model.contentHash).toBe(metrics.contentHash);
    expect(report.predict.count).toBe(20);
    expect(report.predict.correct).toBeGreaterThanOrEqual(16);
    expect(report.predict.digits).toHaveLength(20);
    expect(readFileSync(join(repo, 'smoke.json'), 'utf8')).not.toMatch(/127\.0\.0\.1|localhost/);
    // Same model → byte-identical report (a fresh server on another port, a fresh temporary registry).
    ok(process.execPath, ['build/cli/smoke.js', '--model', 'model.safetensors', '--out', 'build/smoke-again.json'], 60_000);
    expect(readFileSync(join(repo, 'build', 'smoke-again.json'), 'utf8')).toBe(readFileSync(join(repo, 'smoke.json'), 'utf8'));
  });

  it('the smoke CLI exits 1 naming the failed check (report still written), and 2 on a usage error', () => {
    // The bundle of this test run (build/test-cli/), on the repository's model and MNIST.
    const strict = runCli('smoke', ['--model', 'model.safetensors', '--out', 'build/smoke-strict.json', '--images', '100',
      '--min-accuracy', '1'], { cwd: repo, env });
    expect(strict.code, strict.stderr).toBe(1);
    expect(strict.stderr).toContain('error: smoke check failed: predict (report in build/smoke-strict.json)');
    const report = JSON.parse(readFileSync(join(repo, 'build', 'smoke-strict.json'), 'utf8'));
    expect(report.ok).toBe(false);
    expect(report.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { name: string }) => c.name)).toEqual(['predict']);
    expect(report.predict.count).toBe(100);
    expect(report.predict.correct).toBeLessThan(100);
    expect(report.checks.find((c: { name: string }) => c.name === 'shutdown').ok).toBe(true);

    const missing = runCli('smoke', ['--model', 'nothing.safetensors'], { cwd: repo, env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: model not found at \S*nothing\.safetensors → run `npm run train -- --out nothing\.safetensors`/);
    const usage = runCli('smoke', ['--images', 'many'], { cwd: repo, env });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('error: --images must be an integer in [1, 1000], got "many"\n\nUsage: npm run smoke -- [flags]');
  });

  it('dvc metrics show reads metrics.json', () => {
    const shown = JSON.parse(dvc(['metrics', 'show', '--json']));
    const file = JSON.parse(readFileSync(join(repo, 'metrics.json'), 'utf8'));
    const read = shown['']?.data?.['metrics.json']?.data;
    expect(read.testAccuracy).toBe(file.testAccuracy);
    expect(read.correct).toBe(file.correct);
    expect(read.count).toBe(10_000);
    expect(read.testAccuracy).toBeGreaterThan(0.8);
  });

  it('dvc params diff reads params.yaml: an edit shows as old → new and makes train stale', () => {
    const original = readFileSync(join(repo, 'params.yaml'), 'utf8');
    expect(JSON.parse(dvc(['params', 'diff', '--json']))).toEqual({});
    const all = JSON.parse(dvc(['params', 'diff', '--all', '--json']))['params.yaml'];
    expect(all['train.epochs']).toMatchObject({ old: 2, new: 2 });
    expect(all['train.limit']).toMatchObject({ old: 10_000, new: 10_000 });
    try {
      setParams({ epochs: 3 });
      expect(JSON.parse(dvc(['params', 'diff', '--json']))).toEqual({ 'params.yaml': { 'train.epochs': { old: 2, new: 3, diff: 1 } } });
      expect(JSON.parse(dvc(['status', '--json']))).toEqual({ train: [{ 'changed deps': { 'params.yaml': { train: 'modified' } } }] });
    } finally {
      writeFileSync(join(repo, 'params.yaml'), original);
    }
    expect(JSON.parse(dvc(['status', '--json']))).toEqual({});
  });

  it('dvc dag shows the pipeline', () => {
    const dot = dvc(['dag', '--dot']);
    const edges = [...dot.matchAll(/"(\w+)" -> "(\w+)"/g)].map((m) => `${m[1]} → ${m[2]}`).sort();
    expect(edges).toEqual(['data → evaluate', 'data → ingest', 'data → smoke', 'ingest → train', 'train → evaluate', 'train → smoke']);
    const ascii = dvc(['dag']);
    for (const stage of STAGES) expect(ascii).toContain(`| ${stage} |`);
  });

  it('a second dvc repro finds everything up to date and runs nothing', () => {
    const before = { lock: readFileSync(join(repo, 'dvc.lock'), 'utf8'), smoke: statSync(join(repo, 'smoke.json')).mtimeMs,
      model: statSync(join(repo, 'model.safetensors')).mtimeMs };
    const out = timed('second dvc repro', () => dvc(['repro'], 120_000));
    for (const stage of STAGES) expect(out).toContain(`Stage '${stage}' didn't change, skipping`);
    expect(out).not.toContain('Running stage');
    expect(out).toContain('Data and pipelines are up to date.');
    expect(readFileSync(join(repo, 'dvc.lock'), 'utf8')).toBe(before.lock);
    expect(statSync(join(repo, 'smoke.json')).mtimeMs).toBe(before.smoke);
    expect(statSync(join(repo, 'model.safetensors')).mtimeMs).toBe(before.model);
    expect(versions()).toHaveLength(1);
  }, 150_000);

  it('dvc push to a local-directory remote and dvc pull bring back identical outputs', () => {
    const remote = tempDir('dvc-remote');
    dvc(['remote', 'add', '-d', 'local', remote]);
    const tree = (dir: string): string[] => readdirSync(join(repo, dir), { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? tree(`${dir}/${e.name}`) : [`${dir}/${e.name}`]));
    const parquet = tree('data/parquet');
    expect(parquet.filter((f) => f.endsWith('.parquet')).length).toBeGreaterThanOrEqual(2); // mnist-train, mnist-test
    const files = ['model.safetensors', 'smoke.json', ...tree('mnist'), ...parquet];
    expect(tree('mnist')).toHaveLength(5); // four IDX files and the manifest
    const sums = Object.fromEntries(files.map((f) => [f, sha256(f)]));
    dvc(['push'], 120_000);
    const stored = (dir: string): number => readdirSync(dir, { withFileTypes: true })
      .reduce((n, e) => n + (e.isDirectory() ? stored(join(dir, e.name)) : 1), 0);
    // Every distinct file (DVC stores equal contents once: e.g. Spark's empty _SUCCESS markers), plus the listings of
    // mnist/ and data/parquet/.
    expect(stored(remote)).toBe(new Set(Object.values(sums)).size + 2);
    for (const gone of ['.dvc/cache', 'mnist', 'data', 'model.safetensors', 'smoke.json']) rmSync(join(repo, gone), { recursive: true, force: true });
    expect(JSON.parse(dvc(['status', '--json']))).toHaveProperty('train');
    dvc(['pull'], 120_000);
    expect(Object.fromEntries(files.map((f) => [f, sha256(f)]))).toEqual(sums);
    expect(JSON.parse(dvc(['status', '--json']))).toEqual({});
  }, 240_000);

  it('dvc exp run -S train.epochs=1 produces an experiment with its own params, model, metrics and smoke report', () => {
    const baseline = { accuracy: JSON.parse(readFileSync(join(repo, 'metrics.json'), 'utf8')).testAccuracy as number,
      model: md5('model.safetensors'), smoke: md5('smoke.json') };
    const out = timed('dvc exp run', () => dvc(['exp', 'run', '-S', 'train.epochs=1'], 180_000));
    const name = /Ran experiment\(s\): (\S+)/.exec(out)?.[1];
    expect(name, out.slice(-2000)).toBeDefined();
    for (const stage of ['train', 'evaluate', 'smoke']) expect(out).toContain(`Running stage '${stage}'`);
    expect(out).not.toContain("Running stage 'data'");
    expect(out).not.toContain("Running stage 'ingest'");
    expect(dvc(['exp', 'list', '--name-only']).split('\n')).toContain(name);

    type Revision = { rev: string; name: string | null; data: { params: any; metrics: any; outs: any } };
    const shown = JSON.parse(dvc(['exp', 'show', '--json'])) as Array<Revision & { experiments: Array<{ revs: Revision[] }> | null }>;
    const main = shown.find((r) => r.name === 'main')!;
    expect(main.data.params['params.yaml'].data.train.epochs).toBe(2);
    expect(main.data.metrics['metrics.json'].data.testAccuracy).toBe(baseline.accuracy);
    const exp = main.experiments?.flatMap((e) => e.revs).find((r) => r.name === name);
    expect(exp, JSON.stringify(shown).slice(0, 2000)).toBeDefined();
    expect(exp!.data.params['params.yaml'].data.train).toMatchObject({ ...SMALL, epochs: 1 });
    // The experiment's metrics come from its own commit (metrics.json is in git), not an error entry.
    const metrics = exp!.data.metrics['metrics.json'];
    expect(metrics.error).toBeUndefined();
    expect(metrics.data.testAccuracy).toBeGreaterThan(0.5);
    expect(metrics.data.testAccuracy).not.toBe(baseline.accuracy);
    expect(exp!.data.outs['model.safetensors'].hash).not.toBe(baseline.model);
    expect(exp!.data.outs['smoke.json'].hash).not.toBe(baseline.smoke);
    // Applied to the workspace: the 1-epoch model passed the smoke check too.
    expect(JSON.parse(readFileSync(join(repo, 'smoke.json'), 'utf8')).ok).toBe(true);
    console.log(`DVC timings (s): ${JSON.stringify(seconds)}`);
  }, 240_000);
});
