// `npm run ingest:spark` (spark/ingest.py) for real: local[2] over the project's mnist/ plus a feedback folder with
// valid, malformed and duplicate records, checked with pyarrow (test/helpers/spark.ts) and Node's own SHA-256; then a
// killed run, an idempotent re-run that cleans the leftover, the same job on a standalone cluster, and bad usage.
// Skips with the reason without the venv's PySpark or Java outside CI; fails under CI=true. Runs in file order:
// later tests build on the first run's dataset.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingestMnist } from '../../src/data/ingest.js';
import { loadModel } from '../../src/model/model-file.js';
import { runCli } from '../helpers/cli.js';
import { projectRoot } from '../helpers/paths.js';
import { pollUntil } from '../helpers/poll.js';
import { tempDir } from '../helpers/temp.js';
import { killGroup, readDataset, requireSpark, runIngest, skipWithoutSpark, SMALL, startCluster, startIngest, type Cluster, type Reading } from '../helpers/spark.js';

// MNIST as `npm run data` installs it, into a temp folder (a fresh clone has no mnist/ yet).
let mnist: string;
beforeAll(() => {
  mnist = join(tempDir('spark-mnist'), 'mnist');
  ingestMnist({ out: mnist });
}, 60_000);
const skip = skipWithoutSpark('Spark ingestion tests');
const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');
const splitOf = (id: string): string => (parseInt(id.slice(0, 8), 16) % 5 === 0 ? 'validation' : 'train');

/** Label counts straight from an IDX labels file (8-byte header). */
function labelCounts(file: string): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries([...Array(10).keys()].map((d) => [String(d), 0]));
  for (const l of readFileSync(join(mnist, file)).subarray(8)) counts[String(l)]!++;
  return counts;
}

interface Valid { name: string; label: number; bytes: Uint8Array; origin: string; createdAt: string }

/** A feedback folder: 4 valid records, a copy of one, a copy of MNIST train #0, and 8 invalid ones. */
function feedbackFolder(): { dir: string; valid: Valid[]; names: string[] } {
  const dir = tempDir('spark-feedback');
  let seed = 7;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const names: string[] = [];
  let n = 0;
  const write = (text: string): string => {
    const name = `20261203-1200${String(n).padStart(2, '0')}-${(0xabc000 + n).toString(16)}.json`;
    n++;
    writeFileSync(join(dir, name), text);
    names.push(name);
    return name;
  };
  const record = (label: unknown, image: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    format: 'doodle-digits-feedback', version: 1, id: `rec-${n}`, createdAt: `2026-12-03T12:00:${String(n).padStart(2, '0')}.000Z`,
    label, predicted: null, model: null, canvas: { width: 280, height: 280, brush: 18 }, strokes: [], image, ...extra,
  });
  const valid: Valid[] = [];
  const addValid = (label: number, values: number[]): void => {
    const doc = record(label, values);
    const name = write(JSON.stringify(doc));
    valid.push({ name, label, bytes: Uint8Array.from(values, (v) => Math.floor(255 * v + 0.5)), origin: doc.id as string, createdAt: doc.createdAt as string });
  };
  const randomImage = (): number[] => Array.from({ length: 784 }, () => Math.round(rand() * 1e6) / 1e6);
  const first = randomImage();
  addValid(3, first);
  for (const label of [0, 8, 9]) addValid(label, randomImage());
  write(JSON.stringify(record(3, first))); // duplicate of the first
  const train = readFileSync(join(mnist, 'train-images-idx3-ubyte')).subarray(16, 16 + 784);
  const trainLabel = readFileSync(join(mnist, 'train-labels-idx1-ubyte'))[8]!;
  write(JSON.stringify(record(trainLabel, Array.from(train, (b) => Math.round((b / 255) * 1e6) / 1e6)))); // duplicate of MNIST
  write('{"format": "doodle-digits-feedback", "version": 1, "label": '); // malformed_json
  write(JSON.stringify(record(11, randomImage()))); // bad_label
  write(JSON.stringify(record(2, randomImage().slice(0, 783)))); // bad_image_length
  write(JSON.stringify(record(2, randomImage())).replace(/\[0\.\d+,/, '[NaN,')); // image_not_finite
  write(JSON.stringify(record(2, ['NaN', ...randomImage().slice(1)]))); // image_not_number
  write(JSON.stringify(record(2, [null, ...randomImage().slice(1)]))); // image_not_number
  write(JSON.stringify(record(2, [1.5, ...randomImage().slice(1)]))); // image_out_of_range
  write(JSON.stringify(record(2, randomImage(), { format: 'something-else' }))); // wrong_format
  return { dir, valid, names: names.sort() };
}

interface Manifest {
  format: string; version: number; dataset: string; spark: { version: string; master: string };
  inputs: Record<string, { files: unknown }>;
  schema: { fields: Array<{ name: string; type: string }>; partition_columns: Array<{ name: string }> };
  rows: { total: number; by_source: Reading['by_source'] };
  dropped: { duplicate: Record<string, number>; invalid: Record<string, Record<string, number>> };
  files: Array<{ path: string; bytes: number; sha256: string }>;
  content_digest: string;
}

const readManifest = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
const current = (out: string): string => readFileSync(join(out, 'current'), 'utf8');
const versions = (out: string): string[] => readdirSync(out).filter((n) => n.startsWith('v')).sort();

/** Every part file on disk is in the manifest with its size and SHA-256, and nothing else is. */
function expectChecksums(dir: string, m: Manifest): void {
  const onDisk = readdirSync(dir).filter((d) => d.startsWith('source=')).flatMap((d) =>
    readdirSync(join(dir, d)).filter((f) => f.endsWith('.parquet')).map((f) => `${d}/${f}`)).sort();
  expect(m.files.map((f) => f.path)).toEqual(onDisk);
  for (const f of m.files) {
    const bytes = readFileSync(join(dir, f.path));
    expect({ path: f.path, bytes: bytes.length, sha256: sha256(bytes) }).toEqual(f);
  }
}

describe.skipIf(skip)('npm run ingest:spark', () => {
  let fb: ReturnType<typeof feedbackFolder>;
  let out: string;
  let first: { version: string; manifest: Manifest; reading: Reading };
  let cluster: Cluster | undefined;
  const args = (...extra: string[]): string[] => ['--mnist', mnist, '--out', out, '--feedback', fb.dir, ...SMALL, ...extra];

  beforeAll(() => {
    requireSpark();
    fb = feedbackFolder();
    out = join(tempDir('spark-out'), 'parquet');
  });
  afterAll(() => cluster?.stop());

  it('local[2]: MNIST + feedback → one version that pyarrow reads, with a manifest that checks out', async () => {
    const r = await runIngest(args('--master', 'local[2]'));
    expect(r.code, r.stderr).toBe(0);
    const version = current(out).trim();
    expect(current(out)).toMatch(/^v\d{8}T\d{6}Z-[0-9a-f]{8}\n$/);
    expect(r.stdout).toContain(`dataset ${version}`);
    const dir = join(out, version);
    const m = readManifest(dir);
    const reading = readDataset(dir);

    // Rows and labels: MNIST's own counts, every split as the rules say, valid feedback only.
    expect(reading.rows).toBe(60_000 + 10_000 + fb.valid.length);
    expect(reading.by_source['mnist-train']).toEqual({ train: labelCounts('train-labels-idx1-ubyte') });
    expect(reading.by_source['mnist-test']).toEqual({ test: labelCounts('t10k-labels-idx1-ubyte') });
    expect([reading.bad_ids, reading.bad_images, reading.duplicate_ids]).toEqual([0, 0, 0]);
    expect(reading.feedback).toEqual(fb.valid.map((v) => {
      const id = sha256(Buffer.concat([v.bytes, Buffer.from([v.label])]));
      return { index: fb.names.indexOf(v.name), id, label: v.label, split: splitOf(id),
        created_at: v.createdAt.replace('.000Z', '+00:00'), origin: v.origin, image: Buffer.from(v.bytes).toString('hex') };
    }));

    // The fixed schema: types as pyarrow sees them, INT64 timestamps (no INT96), snappy, `source` only in paths.
    expect(reading.schema).toEqual({ id: 'string', index: 'int64', label: 'int8', image: 'binary', split: 'string',
      created_at: 'timestamp[us, tz=UTC]', origin: 'string' });
    expect(reading.physical.created_at).toBe('INT64');
    expect(reading.compression).toEqual(['SNAPPY']);

    // The manifest: what pyarrow counted, the drops with reasons, checksums of parts and inputs.
    expect(m).toMatchObject({ format: 'doodle-digits-dataset', version: 1, dataset: version, spark: { master: 'local[2]' } });
    const perSource = Object.fromEntries(Object.entries(reading.by_source).map(([s, splits]) => [s,
      Object.fromEntries(Object.entries(splits).map(([split, labels]) => [split,
        Object.fromEntries([...Array(10).keys()].map((d) => [String(d), labels[String(d)] ?? 0]))]))]));
    expect(m.rows).toEqual({ total: reading.rows, by_source: perSource });
    expect(m.dropped).toEqual({
      duplicate: { feedback: 2 },
      invalid: { feedback: { malformed_json: 1, bad_label: 1, bad_image_length: 1, image_not_finite: 1, image_not_number: 2,
        image_out_of_range: 1, wrong_format: 1 } },
    });
    expect(m.content_digest).toBe(reading.content_digest);
    expect(m.schema.fields.map((f) => f.name)).toEqual(['id', 'index', 'label', 'image', 'split', 'created_at', 'origin']);
    expect(m.schema.partition_columns.map((c) => c.name)).toEqual(['source']);
    expectChecksums(dir, m);
    const trainImages = m.inputs['mnist-train']!.files as Array<{ role: string; sha256: string; bytes: number }>;
    const file = readFileSync(join(mnist, 'train-images-idx3-ubyte'));
    expect(trainImages.find((f) => f.role === 'images')).toMatchObject({ bytes: file.length, sha256: sha256(file) });
    const listing = fb.names.map((n) => `${n}\t${sha256(readFileSync(join(fb.dir, n)))}\n`).join('');
    expect(m.inputs.feedback).toMatchObject({ files: fb.names.length, sha256: sha256(listing) });
    first = { version, manifest: m, reading };
  }, 300_000);

  it('training from that Parquet gives the weights training from the IDX files gives; --include feedback adds its train rows', () => {
    const cwd = tempDir('spark-train');
    const common = ['--layers', '784,32,10', '--epochs', '1', '--seed', '5', '--params', join(projectRoot, 'params.yaml')];
    const env = { ...process.env, MLFLOW_TRACKING_URI: '' };
    const train = (name: string, data: string[]): { hash: string; stdout: string } => {
      const r = runCli('train', [...common, ...data, '--models', `models-${name}`, '--out', `${name}.safetensors`], { cwd, env, timeout: 180_000 });
      expect(r.code, r.stderr).toBe(0);
      return { hash: loadModel(join(cwd, `${name}.safetensors`)).metadata.contentHash, stdout: r.stdout };
    };
    const idx = train('idx', ['--data', mnist]);
    const parquet = train('parquet', ['--data', `parquet:${out}`]);
    expect(parquet.stdout).toContain(`data: Parquet dataset ${first.version} (mnist-test test 10000, mnist-train train 60000)`);
    expect(parquet.hash).toBe(idx.hash);
    const fbTrain = first.reading.by_source.feedback?.train ?? {};
    const n = Object.values(fbTrain).reduce((a, k) => a + k, 0);
    expect(n).toBeGreaterThan(0);
    const mixed = train('mixed', ['--data', `parquet:${out}`, '--include', 'feedback']);
    expect(mixed.stdout).toContain(`(feedback train ${n}, mnist-test test 10000, mnist-train train 60000)`);
    expect(mixed.hash).not.toBe(idx.hash);
    // The model names the dataset it came from: the version's manifest and its SHA-256.
    const meta = loadModel(join(cwd, 'parquet.safetensors')).metadata;
    expect(meta.dataChecksums).toEqual({ [`${first.version}/manifest.json`]: sha256(readFileSync(join(out, first.version, 'manifest.json'))) });
  }, 400_000);

  it('SIGKILL mid-write leaves current and the previous version intact; the next run succeeds, cleans up, same content', async () => {
    const before = versions(out);
    const job = startIngest(args('--master', 'local[2]'));
    const fresh = await pollUntil(() => versions(out).find((v) => !before.includes(v)), 'the new version folder', 240_000);
    expect(existsSync(join(out, fresh, 'manifest.json'))).toBe(false);
    killGroup(job.child);
    await job.done;
    expect(current(out)).toBe(`${first.version}\n`);
    const m = readManifest(join(out, first.version));
    expectChecksums(join(out, first.version), m);
    expect(readDataset(join(out, first.version)).content_digest).toBe(first.manifest.content_digest);

    // The re-run: a new complete version with the same content, current moved, the killed run's folder gone.
    const r = await runIngest(args('--master', 'local[2]'));
    expect(r.code, r.stderr).toBe(0);
    const again = current(out).trim();
    expect(again).not.toBe(first.version);
    expect(versions(out)).toEqual([first.version, again]);
    expect(r.stdout).toContain(`${fresh} (incomplete)`);
    const m2 = readManifest(join(out, again));
    expect(m2.content_digest).toBe(first.manifest.content_digest);
    expect(m2.rows).toEqual(first.manifest.rows);
    expect(m2.dropped).toEqual(first.manifest.dropped);
    expectChecksums(join(out, first.version), readManifest(join(out, first.version)));
  }, 400_000);

  it('a standalone cluster (master + two 1-core workers) gives the same content', async () => {
    cluster = await startCluster(tempDir('spark-cluster'));
    const clusterOut = join(tempDir('spark-cluster-out'), 'parquet');
    const r = await runIngest(['--mnist', mnist, '--out', clusterOut, '--feedback', fb.dir, ...SMALL, '--master', cluster.url,
      '--conf', 'spark.driver.host=127.0.0.1', '--conf', 'spark.executor.memory=768m']);
    expect(r.code, r.stderr).toBe(0);
    const m = readManifest(join(clusterOut, current(clusterOut).trim()));
    expect(m.spark.master).toBe(cluster.url);
    expect(m.content_digest).toBe(first.manifest.content_digest);
    expect(m.rows).toEqual(first.manifest.rows);
    cluster.stop();
    cluster = undefined;
  }, 300_000);

  it('a missing MNIST folder: exit 1 naming it, current untouched, no new version', async () => {
    const before = [current(out), versions(out)];
    const r = await runIngest(['--mnist', join(out, 'nope'), '--out', out, ...SMALL, '--master', 'local[1]']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: ${join(out, 'nope')}: no such folder`);
    expect([current(out), versions(out)]).toEqual(before);
  }, 120_000);
});

describe('npm run ingest:spark: usage (no Spark started)', () => {
  const tool = join(projectRoot, 'tools', 'ingest-spark.mjs');
  it('an unknown flag or a bad value: exit 2 with a clear message', async () => {
    const { spawnSync } = await import('node:child_process');
    const run = (...a: string[]) => spawnSync(process.execPath, [tool, ...a], { encoding: 'utf8' });
    const unknown = run('--bogus');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^error: Unknown option '--bogus'\n\nUsage: npm run ingest:spark -- \[flags\]/);
    expect(run('--keep', '0')).toMatchObject({ status: 2, stderr: 'error: --keep must be a whole number ≥ 1, got "0"\n' });
    expect(run('--idx', 'Bad')).toMatchObject({ status: 2 });
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run ingest:spark/);
  });

  it.skipIf(!existsSync(join(projectRoot, '.venv', 'bin', 'spark-submit')))('no Java: exit 1 saying so, before anything starts', async () => {
    const { spawnSync } = await import('node:child_process');
    const dir = tempDir('spark-nojava');
    mkdirSync(join(dir, 'bin'));
    const env = { PATH: join(dir, 'bin'), HOME: dir };
    const r = spawnSync(process.execPath, [tool, '--out', join(dir, 'out')], { encoding: 'utf8', env });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: no Java: no java on PATH/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});
