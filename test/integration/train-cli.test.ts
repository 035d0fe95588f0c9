// `npm run train`, `npm run eval` and `npm run models` end to end: the real bundled CLIs on real MNIST (ingested into
// a temp folder), writing a real registry and a real MLflow file store; interrupted with a real SIGTERM. Flags, help and
// output-folder checks of every CLI: cli.test.ts.

import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingestMnist } from '../../src/data/ingest.js';
import { loadModel } from '../../src/model/model-file.js';
import { ModelRegistry } from '../../src/model/registry.js';
import { runCli, spawnCli, type CliResult } from '../helpers/cli.js';
import { projectRoot as root } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';

let tmp: string;
const env = { ...process.env, MLFLOW_TRACKING_URI: '' };

beforeAll(() => {
  tmp = tempDir('train-cli');
  ingestMnist({ out: join(tmp, 'mnist') });
}, 60_000);

function cli(name: string, args: string[]): CliResult {
  return runCli(name, args, { cwd: tmp, env });
}

const common = ['--data', 'mnist', '--models', 'models', '--params', join(root, 'params.yaml'), '--layers', '784,32,10'];

/** The runs of the MNIST experiment in the file store, as {dir, status} (status = meta.yaml's integer). */
function runs(): Array<{ dir: string; status: number; name: string }> {
  const store = join(tmp, 'mlruns');
  const out: Array<{ dir: string; status: number; name: string }> = [];
  for (const exp of readdirSync(store)) {
    const meta = join(store, exp, 'meta.yaml');
    if (!existsSync(meta) || !/name: MNIST_Digit_Classification/.test(readFileSync(meta, 'utf8'))) continue;
    for (const run of readdirSync(join(store, exp))) {
      const runMeta = join(store, exp, run, 'meta.yaml');
      if (!existsSync(runMeta)) continue;
      const text = readFileSync(runMeta, 'utf8');
      out.push({ dir: join(store, exp, run), status: Number(/^status: (\d+)$/m.exec(text)?.[1]), name: /^run_name: (.*)$/m.exec(text)?.[1] ?? '' });
    }
  }
  return out;
}

describe('npm run train', () => {
  it('trains, registers and promotes the model, and records a complete MLflow run', () => {
    const r = cli('train', [...common, '--epochs', '2', '--limit', '3000', '--seed', '5', '--out', 'first.safetensors', '--run-name', 'first']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^epoch 2\/2 loss [\d.]+ train [\d.]+% test [\d.]+%/m);
    expect(r.stdout).toMatch(/promoted to current \(first model/);
    expect(r.stdout).toMatch(/^training 784-32-10 for 2 epochs \(batch/m);

    const registry = new ModelRegistry(join(tmp, 'models'));
    const current = registry.list().find((v) => v.current)!;
    expect(current.testAccuracy).toBeGreaterThan(0.6); // 2 short epochs with augmentation: ~77% measured; chance is 10%
    const model = loadModel(current.path);
    expect(model.metadata.architecture.sizes).toEqual([784, 32, 10]);
    expect(model.metadata.trainingParams).toMatchObject({ epochs: 2, seed: 5, limit: 3000 });
    expect(loadModel(join(tmp, 'first.safetensors')).metadata.contentHash).toBe(model.metadata.contentHash);

    const [run] = runs().filter((x) => x.name === 'first');
    expect(run?.status).toBe(3); // FINISHED
    const metric = readFileSync(join(run!.dir, 'metrics', 'test_accuracy'), 'utf8').trim().split('\n');
    expect(metric).toHaveLength(2);
    expect(metric[1]).toMatch(/^\d{13} 0\.\d+ 2$/);
    expect(readFileSync(join(run!.dir, 'params', 'epochs'), 'utf8')).toBe('2');
    expect(readFileSync(join(run!.dir, 'tags', 'mlflow.runName'), 'utf8')).toBe('first');
    expect(readFileSync(join(run!.dir, 'tags', 'model_version'), 'utf8')).toBe(current.version);
    expect(readdirSync(join(run!.dir, 'artifacts')).sort()).toEqual(['confusion_matrix.json', 'metrics.json', 'model.onnx', 'model.safetensors']);
    const metrics = JSON.parse(readFileSync(join(run!.dir, 'artifacts', 'metrics.json'), 'utf8'));
    expect(metrics.testAccuracy).toBe(current.testAccuracy);
    expect(metrics.confusionMatrix).toHaveLength(10);
  });

  it('is reproducible: the same seed gives bit-identical weights (same content hash, same registry version)', () => {
    const r = cli('train', [...common, '--epochs', '2', '--limit', '3000', '--seed', '5', '--out', 'second.safetensors']);
    expect(r.code).toBe(0);
    const a = loadModel(join(tmp, 'first.safetensors')), b = loadModel(join(tmp, 'second.safetensors'));
    expect(b.metadata.contentHash).toBe(a.metadata.contentHash);
    for (let l = 0; l < a.layers.length; l++) {
      expect(Buffer.from(b.layers[l]!.weight.buffer).equals(Buffer.from(a.layers[l]!.weight.buffer))).toBe(true);
    }
    expect(new ModelRegistry(join(tmp, 'models')).list()).toHaveLength(1);
  });

  it('keeps the current model when the new one is less accurate, unless --force', () => {
    const before = new ModelRegistry(join(tmp, 'models')).currentVersion();
    const worse = cli('train', [...common, '--epochs', '1', '--limit', '300', '--seed', '9', '--no-augment']);
    expect(worse.code).toBe(0);
    expect(worse.stdout).toMatch(/not promoted: /);
    expect(worse.stdout).toMatch(/^training 784-32-10 for 1 epoch \(batch/m); // singular
    expect(new ModelRegistry(join(tmp, 'models')).currentVersion()).toBe(before);
    const forced = cli('train', [...common, '--epochs', '1', '--limit', '300', '--seed', '9', '--no-augment', '--force']);
    expect(forced.code).toBe(0);
    expect(new ModelRegistry(join(tmp, 'models')).currentVersion()).not.toBe(before);
    expect(cli('models', ['--models', 'models', 'promote', before!]).code).toBe(0);
    expect(new ModelRegistry(join(tmp, 'models')).currentVersion()).toBe(before);
  });

  // SIGTERM rather than SIGINT: a process that inherits SIGINT as ignored (as test runners' children may) cannot
  // un-ignore it in Node, so SIGINT would test the runner, not the CLI. Both signals take the same path (guards.ts).
  it('ends the MLflow run as KILLED on SIGTERM, saves no model and exits 143', async () => {
    const versions = new ModelRegistry(join(tmp, 'models')).list().length;
    const child = spawnCli('train', [...common, '--epochs', '200', '--limit', '3000', '--run-name', 'interrupted'], { cwd: tmp, env });
    let out = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (/^epoch 1\/200 loss/m.test(out) && !child.killed) child.kill('SIGTERM');
      });
      child.stderr!.on('data', (chunk: Buffer) => { out += chunk.toString(); });
      child.on('exit', (c, signal) => { out += `\n[exit ${c} ${signal}]`; resolve(c); });
    });
    expect(code, `exit ${code}; output ended with:\n${out.slice(-600)}`).toBe(143);
    expect(runs().find((x) => x.name === 'interrupted')?.status).toBe(5); // KILLED
    expect(new ModelRegistry(join(tmp, 'models')).list()).toHaveLength(versions);
  }, 60_000);

  it('rejects bad flags (exit 2) and missing data (exit 1) with one clear line', () => {
    const bad = cli('train', [...common, '--epochs', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error: --epochs must be a number in [1, 10000], got "0" (see --help)\n');
    const unknown = cli('train', ['--epochz', '3']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: Unknown option '--epochz'/);
    const missing = cli('train', [...common.slice(2), '--data', 'nowhere']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^error: .*MNIST not found in nowhere.*npm run data/);
    const noDataset = cli('train', [...common.slice(2), '--data', 'parquet:data/parquet']);
    expect(noDataset.code).toBe(1);
    expect(noDataset.stderr).toBe('error: no Parquet dataset at data/parquet (no such folder) → run `npm run ingest:spark -- --out data/parquet`\n');
    const idxInclude = cli('train', [...common, '--include', 'feedback']);
    expect(idxInclude.code).toBe(1);
    expect(idxInclude.stderr).toBe('error: --include feedback needs a Parquet dataset (--data parquet:<dir>); mnist is an IDX folder\n');
    const emptyInclude = cli('train', [...common, '--include', ',']);
    expect(emptyInclude.code).toBe(2);
    expect(emptyInclude.stderr).toBe('error: --include needs at least one source name (e.g. --include feedback) (see --help)\n');
  });
});

describe('npm run eval', () => {
  it('reports accuracy, per-class accuracy and the confusion matrix, and writes metrics.json', () => {
    const r = cli('eval', ['--data', 'mnist', '--models', 'models', '--out', 'eval.json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/test accuracy \d+\.\d\d% \(\d+\/10000\)/);
    const m = JSON.parse(readFileSync(join(tmp, 'eval.json'), 'utf8'));
    const current = new ModelRegistry(join(tmp, 'models')).list().find((v) => v.current)!;
    expect(m.testAccuracy).toBeCloseTo(current.testAccuracy, 10);
    expect(m.confusionMatrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(10000);
    expect(Object.keys(m.perClassAccuracy)).toHaveLength(10);
    // The model's path relative to the working directory: the same file on every machine (DVC users commit it).
    expect(m.model).toBe(`models/${current.version}/model.safetensors`);
  });

  it('fails with a hint for an unknown model', () => {
    const r = cli('eval', ['--data', 'mnist', '--models', 'models', '--model', 'no-such-version']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: .*no-such-version/);
  });
});
