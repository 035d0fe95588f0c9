// The Parquet dataset reader (src/data/parquet.ts) on crafted datasets in the Spark job's layout: rows come back in
// (source, index) order whatever the part files' order, only the sources and splits asked for are used, and every
// kind of damage is refused with a message naming the file and the problem. The real job's output, and training from
// it, are tested in test/integration/spark.test.ts.

import { describe, expect, it } from 'vitest';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../../src/data/errors.js';
import { loadTrainingData } from '../../src/data/load.js';
import { loadParquetDataset } from '../../src/data/parquet.js';
import { partFile, rowId, writeDataset, writeManifest, type FixtureRow } from '../helpers/parquet-dataset.js';
import { tempDir } from '../helpers/temp.js';

const V1 = 'v20261203T120000Z-0a1b2c3d';

/** Seeded pseudo-random image bytes (xorshift), distinct per (seed, i). */
function image(seed: number): Uint8Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  return Uint8Array.from({ length: 784 }, () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s & 0xff;
  });
}

function rows(source: string, split: string | ((i: number) => string), n: number, seed: number): FixtureRow[] {
  return Array.from({ length: n }, (_, i) => ({
    source, index: source === 'feedback' ? 3 * i + 1 : i, label: (seed + i) % 10, image: image(seed + i),
    split: typeof split === 'string' ? split : split(i),
  }));
}

const TRAIN = rows('mnist-train', 'train', 150, 1000);
const TEST = rows('mnist-test', 'test', 40, 5000);
const FEEDBACK = rows('feedback', (i) => (i % 5 === 0 ? 'validation' : 'train'), 12, 9000);

function dataset(extra: FixtureRow[] = [], parts = 3): { dir: string; at: string } {
  const dir = tempDir('parquet');
  const at = writeDataset(dir, V1, [...TRAIN, ...TEST, ...FEEDBACK, ...extra], parts);
  return { dir, at };
}

const concat = (list: readonly FixtureRow[]): Uint8Array => {
  const out = new Uint8Array(list.length * 784);
  list.forEach((r, i) => out.set(r.image, 784 * i));
  return out;
};

async function refusal(dir: string, include?: string[]): Promise<string> {
  try {
    await loadParquetDataset(dir, include === undefined ? {} : { include });
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    return (err as Error).message;
  }
  throw new Error('the dataset was accepted');
}

describe('loadParquetDataset', () => {
  it('returns MNIST train and test in index order, whatever order the part files hold them in', async () => {
    const { dir, at } = dataset();
    const data = await loadParquetDataset(dir);
    expect(data.train.count).toBe(150);
    expect(data.test.count).toBe(40);
    expect(Buffer.from(data.train.images).equals(Buffer.from(concat(TRAIN)))).toBe(true);
    expect([...data.train.labels]).toEqual(TRAIN.map((r) => r.label));
    expect(Buffer.from(data.test.images).equals(Buffer.from(concat(TEST)))).toBe(true);
    expect(data.dataset.version).toBe(V1);
    expect(data.dataset.dir).toBe(at);
    expect(data.dataset.used).toEqual({ 'mnist-train': { train: 150 }, 'mnist-test': { test: 40 } });
    expect(Object.keys(data.checksums)).toEqual([`${V1}/manifest.json`]);
    expect(Object.values(data.checksums)[0]).toMatch(/^[0-9a-f]{64}$/);
    // A version folder can be named directly, and loadTrainingData dispatches on the parquet: prefix.
    const direct = await loadTrainingData(`parquet:${at}`);
    expect(Buffer.from(direct.train.images).equals(Buffer.from(data.train.images))).toBe(true);
  });

  it('adds an included source\'s train rows (never its validation rows), sources in name order', async () => {
    const { dir } = dataset();
    const data = await loadParquetDataset(dir, { include: ['feedback'] });
    const fbTrain = FEEDBACK.filter((r) => r.split === 'train');
    expect(data.train.count).toBe(fbTrain.length + 150);
    expect(Buffer.from(data.train.images).equals(Buffer.from(concat([...fbTrain, ...TRAIN])))).toBe(true);
    expect(data.dataset.used).toEqual({ feedback: { train: fbTrain.length }, 'mnist-train': { train: 150 }, 'mnist-test': { test: 40 } });
  });

  it('refuses --include of an unknown source or of MNIST, and --include with an IDX folder', async () => {
    const { dir } = dataset();
    expect(await refusal(dir, ['emnist'])).toContain('the dataset has no source "emnist" (it has feedback, mnist-test, mnist-train)');
    expect(await refusal(dir, ['mnist-train'])).toContain('--include mnist-train: MNIST is always used');
    await expect(loadTrainingData('mnist', ['feedback'])).rejects.toThrow('--include feedback needs a Parquet dataset (--data parquet:<dir>)');
    await expect(loadTrainingData('parquet:')).rejects.toThrow('--data parquet: needs a folder');
  });

  it('refuses a folder without a dataset, and a pointer that names no complete version', async () => {
    const missing = join(tempDir('parquet'), 'nope');
    expect(await refusal(missing)).toContain(`no Parquet dataset at ${missing} (no such folder) → run \`npm run ingest:spark -- --out ${missing}\``);
    const empty = tempDir('parquet');
    expect(await refusal(empty)).toContain(`no Parquet dataset in ${empty}/ (no current pointer and no manifest.json)`);
    const { dir, at } = dataset();
    writeFileSync(join(dir, 'current'), '../../etc\n');
    expect(await refusal(dir)).toContain('names "../../etc", not a dataset version');
    writeFileSync(join(dir, 'current'), 'v20261203T130000Z-00000000\n');
    expect(await refusal(dir)).toContain('names v20261203T130000Z-00000000, which has no manifest.json (incomplete or deleted)');
    writeFileSync(join(dir, 'current'), `${V1}\n`);
    rmSync(join(at, 'manifest.json'));
    expect(await refusal(dir)).toContain(`names ${V1}, which has no manifest.json`);
  });

  it('refuses a part file with a flipped byte, a wrong size, a missing one and one the manifest does not list', async () => {
    const { dir, at } = dataset();
    const part = join(at, 'source=mnist-train', 'part-00001-fixture.c000.snappy.parquet');
    const bytes = readFileSync(part);
    bytes[bytes.length >> 1]! ^= 0x01;
    writeFileSync(part, bytes);
    expect(await refusal(dir)).toMatch(new RegExp(`${part}: checksum mismatch: SHA-256 expected [0-9a-f]{64}, got [0-9a-f]{64}`));
    appendFileSync(part, 'x');
    expect(await refusal(dir)).toContain(`${part}: size ${bytes.length + 1} bytes, the manifest says ${bytes.length}`);
    rmSync(part);
    expect(await refusal(dir)).toContain(`${part}: missing (listed in the manifest)`);
    const other = dataset();
    const stray = join(other.at, 'source=mnist-test', 'part-00009-stray.c000.snappy.parquet');
    writeFileSync(stray, partFile(TEST.slice(0, 2)));
    expect(await refusal(other.dir)).toContain(`${stray}: a part file the manifest does not list`);
  });

  it('refuses a manifest that is not JSON, not ours, or whose counts differ from the rows', async () => {
    const { dir, at } = dataset();
    const path = join(at, 'manifest.json');
    const good = readFileSync(path, 'utf8');
    writeFileSync(path, '{"format":');
    expect(await refusal(dir)).toContain(`${path}: not valid JSON`);
    writeFileSync(path, JSON.stringify({ ...JSON.parse(good), format: 'other' }));
    expect(await refusal(dir)).toContain('not a version 1 doodle-digits-dataset manifest: format "other", version 1');
    const m = JSON.parse(good);
    m.rows.by_source['mnist-test'].test['3'] += 1;
    writeFileSync(path, JSON.stringify(m));
    expect(await refusal(dir)).toMatch(/row counts differ from the part files' \(manifest mnist-test\/test\/3=\d+; files mnist-test\/test\/3=\d+\)/);
  });

  // Rows the manifest agrees with (rewritten after the damage), so that only the row checks can catch them.
  const damaged = async (bad: FixtureRow): Promise<string> => {
    const dir = tempDir('parquet');
    const at = writeDataset(dir, V1, [...TRAIN, ...TEST, bad], 1);
    const counts = JSON.parse(readFileSync(join(at, 'manifest.json'), 'utf8')).rows.by_source;
    writeManifest(at, V1, counts);
    return refusal(dir);
  };

  it('refuses rows with a bad label, image, split, id or a repeated index', async () => {
    const img = image(77);
    expect(await damaged({ source: 'mnist-train', index: 150, label: 10, image: img, split: 'train' })).toMatch(/row \d+: label 10, expected 0\.\.9/);
    expect(await damaged({ source: 'mnist-train', index: 150, label: 3, image: img.subarray(0, 783), split: 'train' })).toMatch(/row \d+: image is 783 bytes, expected 784 bytes/);
    expect(await damaged({ source: 'mnist-train', index: 150, label: 3, image: img, split: 'holdout' })).toMatch(/split "holdout", expected one of train, test, validation/);
    expect(await damaged({ source: 'mnist-train', index: 150, label: 3, image: img, split: 'train', id: rowId(img, 4) })).toMatch(/is not the SHA-256 of its image and label/);
    expect(await damaged({ source: 'mnist-train', index: 7, label: 3, image: img, split: 'train' })).toContain('source mnist-train has index 7 twice');
  });

  it('refuses a part file that is not Parquet or lacks a column', async () => {
    const dir = tempDir('parquet');
    const at = join(dir, V1);
    mkdirSync(join(at, 'source=mnist-train'), { recursive: true });
    writeFileSync(join(at, 'source=mnist-train', 'part-00000-x.parquet'), 'not parquet at all');
    writeManifest(at, V1, { 'mnist-train': { train: { 1: 1 } }, 'mnist-test': { test: { 1: 1 } } });
    writeFileSync(join(dir, 'current'), `${V1}\n`);
    expect(await refusal(dir)).toMatch(/part-00000-x\.parquet: not a readable Parquet file/);
  });
});
