// Loads a Parquet dataset written by the Spark ingestion job (spark/ingest.py, docs/data.md) as the trainer's MNIST
// splits: `<dir>/current` names a version folder, its manifest.json lists every part file with size and SHA-256 and
// the row counts per source, split and label. Everything is checked before a row is used, as loadMnist checks the
// IDX files: the pointer, the manifest, each part file's size and full hash, the schema, every row (label 0–9, 784
// image bytes, known split, unique index per source, id = SHA-256 of image ‖ label), and the counts against the
// manifest's. Rows are read one row group at a time (hyparquet) and ordered by (source, index), so the Parquet of
// plain MNIST gives the same arrays, byte for byte, as the IDX files. Not here: writing datasets (Spark's job).

import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import { DataError } from './errors.js';
import type { MnistData, MnistSplit } from './mnist.js';

export const PARQUET_PREFIX = 'parquet:';
export const DATASET_FORMAT = 'doodle-digits-dataset';
export const POINTER_NAME = 'current';
export const DATASET_MANIFEST = 'manifest.json';
/** v<yyyymmdd>T<hhmmss>Z-<8 hex>: the job's version folder names. */
export const DATASET_VERSION_PATTERN = /^v\d{8}T\d{6}Z-[0-9a-f]{8}$/;
/** The sources MNIST itself becomes; a training always uses these two (train and test). */
export const MNIST_TRAIN_SOURCE = 'mnist-train';
export const MNIST_TEST_SOURCE = 'mnist-test';
const SPLITS = ['train', 'test', 'validation'] as const;
type SplitName = (typeof SPLITS)[number];
const PIXELS = 784;
/** The columns inside the part files (`source` is the Hive partition directory), with their physical types. */
const COLUMNS: ReadonlyArray<readonly [name: string, type: string]> = [
  ['id', 'BYTE_ARRAY'], ['index', 'INT64'], ['label', 'INT32'], ['image', 'BYTE_ARRAY'], ['split', 'BYTE_ARRAY'],
];

export interface ParquetDatasetInfo {
  /** The version folder read. */
  readonly dir: string;
  readonly version: string;
  /** SHA-256 of manifest.json: it covers every part file's hash, so it names the whole dataset. */
  readonly manifestSha256: string;
  readonly contentDigest: string | undefined;
  /** Rows used per source and split (e.g. {"mnist-train": {"train": 60000}}). */
  readonly used: Readonly<Record<string, Readonly<Partial<Record<SplitName, number>>>>>;
}

export interface ParquetData extends MnistData {
  readonly dataset: ParquetDatasetInfo;
}

export interface LoadParquetOptions {
  /** More sources whose `train` rows join MNIST's training rows (e.g. ["feedback"]); their `validation` rows never do. */
  readonly include?: readonly string[];
}

interface ManifestFile { readonly path: string; readonly bytes: number; readonly sha256: string }
type Counts = Record<string, Record<string, Record<string, number>>>;

/** `parquet:<dir>` → <dir>; anything else → undefined (an IDX folder). */
export function parquetDir(spec: string): string | undefined {
  return spec.startsWith(PARQUET_PREFIX) ? spec.slice(PARQUET_PREFIX.length) : undefined;
}

/** The version folder `dir` stands for: `dir` itself when it holds a manifest, else the one `<dir>/current` names. */
export function resolveDatasetVersion(dir: string): string {
  const hint = `→ run \`npm run ingest:spark -- --out ${dir}\``;
  if (statSync(join(dir, DATASET_MANIFEST), { throwIfNoEntry: false })?.isFile()) return dir;
  const pointer = join(dir, POINTER_NAME);
  let text: string;
  try {
    text = readFileSync(pointer, 'utf8');
  } catch (err) {
    const st = statSync(dir, { throwIfNoEntry: false });
    throw new DataError(pointer, st?.isDirectory()
      ? `no Parquet dataset in ${dir}/ (no ${POINTER_NAME} pointer and no ${DATASET_MANIFEST}) ${hint}`
      : `no Parquet dataset at ${dir} (no such folder) ${hint}`, { cause: err });
  }
  const version = text.trim();
  if (!DATASET_VERSION_PATTERN.test(version)) {
    throw DataError.at(pointer, `names "${version.slice(0, 80)}", not a dataset version (v<yyyymmdd>T<hhmmss>Z-<8 hex>) ${hint}`);
  }
  const at = join(dir, version);
  if (!statSync(join(at, DATASET_MANIFEST), { throwIfNoEntry: false })?.isFile()) {
    throw DataError.at(pointer, `names ${version}, which has no ${DATASET_MANIFEST} (incomplete or deleted) ${hint}`);
  }
  return at;
}

/** Loads and checks the dataset at `dir` (a folder with `current`, or a version folder). Throws DataError. */
export async function loadParquetDataset(dir: string, options: LoadParquetOptions = {}): Promise<ParquetData> {
  const at = resolveDatasetVersion(dir);
  const manifestPath = join(at, DATASET_MANIFEST);
  const manifestText = readFileSync(manifestPath);
  const manifest = parseManifest(manifestPath, manifestText);
  const include = [...new Set(options.include ?? [])];
  for (const name of include) {
    if (name === MNIST_TRAIN_SOURCE || name === MNIST_TEST_SOURCE) throw new DataError(manifestPath, `--include ${name}: MNIST is always used`);
    if (manifest.counts[name] === undefined) {
      throw new DataError(manifestPath, `--include ${name}: the dataset has no source "${name}" (it has ${Object.keys(manifest.counts).sort().join(', ')})`);
    }
  }
  for (const name of [MNIST_TRAIN_SOURCE, MNIST_TEST_SOURCE]) {
    if (manifest.counts[name] === undefined) throw new DataError(manifestPath, `${manifestPath}: the dataset has no ${name} rows`);
  }
  await checkFiles(at, manifest.files);

  // Per source: rows in file order, then sorted by index.
  const wanted = new Set([MNIST_TRAIN_SOURCE, MNIST_TEST_SOURCE, ...include]);
  const seen: Counts = {};
  const kept = new Map<string, Array<{ index: number; label: number; image: Uint8Array; split: SplitName }>>();
  for (const f of manifest.files) {
    const source = partitionSource(join(at, f.path), f.path);
    const rows = await readPart(join(at, f.path), source, seen);
    if (!wanted.has(source)) continue;
    const list = kept.get(source) ?? [];
    for (const r of rows) list.push(r);
    kept.set(source, list);
  }
  compareCounts(manifestPath, manifest.counts, seen);

  const used: Record<string, Partial<Record<SplitName, number>>> = {};
  const trainRows: Array<{ label: number; image: Uint8Array }> = [];
  const testRows: Array<{ label: number; image: Uint8Array }> = [];
  for (const source of [...wanted].sort()) {
    const list = (kept.get(source) ?? []).sort((a, b) => a.index - b.index);
    for (let i = 1; i < list.length; i++) {
      if (list[i]!.index === list[i - 1]!.index) throw new DataError(at, `${at}: source ${source} has index ${list[i]!.index} twice`);
    }
    const use = source === MNIST_TEST_SOURCE ? 'test' : 'train';
    const taken = list.filter((r) => r.split === use);
    if (taken.length > 0) used[source] = { [use]: taken.length };
    for (const r of taken) (use === 'test' ? testRows : trainRows).push(r);
  }
  if (trainRows.length === 0) throw new DataError(at, `${at}: no training rows (split "train" of ${MNIST_TRAIN_SOURCE})`);
  if (testRows.length === 0) throw new DataError(at, `${at}: no test rows (split "test" of ${MNIST_TEST_SOURCE})`);
  const manifestSha256 = createHash('sha256').update(manifestText).digest('hex');
  const version = basename(at);
  return {
    train: toSplit(trainRows), test: toSplit(testRows),
    checksums: { [`${version}/${DATASET_MANIFEST}`]: manifestSha256 },
    dataset: { dir: at, version, manifestSha256, contentDigest: manifest.contentDigest, used },
  };
}

function toSplit(rows: ReadonlyArray<{ label: number; image: Uint8Array }>): MnistSplit {
  const images = new Uint8Array(rows.length * PIXELS);
  const labels = new Uint8Array(rows.length);
  rows.forEach((r, i) => {
    images.set(r.image, i * PIXELS);
    labels[i] = r.label;
  });
  return { images, labels, count: rows.length, rows: 28, cols: 28 };
}

function parseManifest(path: string, text: Buffer): { files: ManifestFile[]; counts: Counts; contentDigest: string | undefined } {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw DataError.at(path, 'not valid JSON', err);
  }
  const bad = (what: string): DataError => DataError.at(path, `not a version 1 ${DATASET_FORMAT} manifest: ${what}`);
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw bad('not an object');
  if (m.format !== DATASET_FORMAT || m.version !== 1) throw bad(`format "${String(m.format)}", version ${String(m.version)}`);
  if (!Array.isArray(m.files) || m.files.length === 0) throw bad('no files');
  const files = m.files.map((f: unknown, i: number): ManifestFile => {
    const o = f as Record<string, unknown> | null;
    if (typeof o !== 'object' || o === null || typeof o.path !== 'string' || !Number.isSafeInteger(o.bytes) ||
        typeof o.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.sha256) || !/^source=[^/]+\/[^/]+\.parquet$/.test(o.path)) {
      throw bad(`files[${i}] is not {path: "source=<name>/<part>.parquet", bytes, sha256}`);
    }
    return { path: o.path, bytes: o.bytes as number, sha256: o.sha256 };
  });
  const rows = m.rows as { total?: unknown; by_source?: unknown } | null;
  if (typeof rows !== 'object' || rows === null || typeof rows.by_source !== 'object' || rows.by_source === null) throw bad('no rows.by_source');
  const counts: Counts = {};
  for (const [source, bySplit] of Object.entries(rows.by_source as Record<string, unknown>)) {
    counts[source] = {};
    for (const [split, byLabel] of Object.entries(bySplit as Record<string, unknown>)) {
      counts[source]![split] = {};
      for (const [label, n] of Object.entries(byLabel as Record<string, unknown>)) {
        if (!Number.isSafeInteger(n)) throw bad(`rows.by_source.${source}.${split}.${label} is not a count`);
        counts[source]![split]![label] = n as number;
      }
    }
  }
  const digest = typeof m.content_digest === 'string' ? m.content_digest : undefined;
  return { files, counts, contentDigest: digest };
}

/** Every part file on disk is in the manifest with its size and SHA-256, and the other way round. */
async function checkFiles(at: string, files: readonly ManifestFile[]): Promise<void> {
  const listed = new Set(files.map((f) => f.path));
  for (const entry of readdirSync(at, { withFileTypes: true })) {
    if (!entry.isDirectory() || !entry.name.startsWith('source=')) continue;
    for (const name of readdirSync(join(at, entry.name))) {
      const rel = `${entry.name}/${name}`;
      if (name.endsWith('.parquet') && !name.startsWith('.') && !listed.has(rel)) {
        throw DataError.at(join(at, rel), `a part file the manifest does not list (a dataset is what its manifest says)`);
      }
    }
  }
  for (const f of files) {
    const path = join(at, f.path);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st?.isFile()) throw DataError.at(path, 'missing (listed in the manifest)');
    if (st.size !== f.bytes) throw DataError.at(path, `size ${st.size} bytes, the manifest says ${f.bytes}`);
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    const got = hash.digest('hex');
    if (got !== f.sha256) throw DataError.at(path, `checksum mismatch: SHA-256 expected ${f.sha256}, got ${got}`);
  }
}

/** The `source` of a Hive partition path `source=<escaped name>/part…` (Spark escapes with %XX). */
function partitionSource(path: string, rel: string): string {
  const raw = rel.slice('source='.length, rel.indexOf('/'));
  try {
    return decodeURIComponent(raw);
  } catch {
    throw DataError.at(path, `partition folder "source=${raw}" is not a valid escaped name`);
  }
}

/** Reads one part file, row group by row group, checking each row; counts rows per (source, split, label) in `seen`. */
async function readPart(path: string, source: string, seen: Counts):
    Promise<Array<{ index: number; label: number; image: Uint8Array; split: SplitName }>> {
  let file: Awaited<ReturnType<typeof asyncBufferFromFile>>;
  let metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>;
  try {
    file = await asyncBufferFromFile(path);
    metadata = await parquetMetadataAsync(file);
  } catch (err) {
    throw DataError.at(path, `not a readable Parquet file (${err instanceof Error ? err.message : String(err)})`, err);
  }
  const fields = new Map(parquetSchema(metadata).children.map((c) => [c.element.name, c.element]));
  for (const [name, type] of COLUMNS) {
    const el = fields.get(name);
    if (el === undefined) throw DataError.at(path, `no column "${name}"`);
    if (el.type !== type) throw DataError.at(path, `column "${name}" is ${String(el.type)}, expected ${type}`);
  }
  const out: Array<{ index: number; label: number; image: Uint8Array; split: SplitName }> = [];
  const bySplit = (seen[source] ??= {});
  let start = 0;
  for (const group of metadata.row_groups) {
    const end = start + Number(group.num_rows);
    let rows: unknown[][] = [];
    try {
      await parquetRead({ file, metadata, rowStart: start, rowEnd: end, columns: COLUMNS.map(([n]) => n), utf8: false,
        onComplete: (r: unknown[][]) => { rows = r; } });
    } catch (err) {
      throw DataError.at(path, `cannot decode rows ${start}–${end} (${err instanceof Error ? err.message : String(err)})`, err);
    }
    for (let i = 0; i < rows.length; i++) {
      const [id, index, label, image, split] = rows[i]!;
      const where = `row ${start + i}`;
      if (!(image instanceof Uint8Array) || image.length !== PIXELS) {
        throw DataError.at(path, `${where}: image is ${image instanceof Uint8Array ? `${image.length} bytes` : typeof image}, expected ${PIXELS} bytes`);
      }
      if (typeof label !== 'number' || !Number.isInteger(label) || label < 0 || label > 9) throw DataError.at(path, `${where}: label ${String(label)}, expected 0..9`);
      if (typeof index !== 'bigint' || index < 0n || index > BigInt(Number.MAX_SAFE_INTEGER)) throw DataError.at(path, `${where}: index ${String(index)} is not a row position`);
      if (typeof split !== 'string' || !(SPLITS as readonly string[]).includes(split)) {
        throw DataError.at(path, `${where}: split "${String(split)}", expected one of ${SPLITS.join(', ')}`);
      }
      const expected = createHash('sha256').update(image).update(Uint8Array.of(label)).digest('hex');
      if (id !== expected) throw DataError.at(path, `${where}: id ${String(id).slice(0, 16)}… is not the SHA-256 of its image and label (${expected.slice(0, 16)}…)`);
      const byLabel = (bySplit[split] ??= {});
      byLabel[String(label)] = (byLabel[String(label)] ?? 0) + 1;
      // A copy: the decoded page buffers are released with the row group.
      out.push({ index: Number(index), label, image: image.slice(), split: split as SplitName });
    }
    start = end;
  }
  return out;
}

function compareCounts(path: string, claimed: Counts, seen: Counts): void {
  const keys = (c: Counts): string[] => Object.entries(c).flatMap(([s, bySplit]) =>
    Object.entries(bySplit).flatMap(([sp, byLabel]) => Object.entries(byLabel).filter(([, n]) => n > 0).map(([l, n]) => `${s}/${sp}/${l}=${n}`))).sort();
  const a = keys(claimed), b = keys(seen);
  if (a.join() !== b.join()) {
    const missing = a.filter((k) => !b.includes(k)), extra = b.filter((k) => !a.includes(k));
    throw DataError.at(path, `row counts differ from the part files' (manifest ${missing.slice(0, 3).join(', ') || '—'}; files ${extra.slice(0, 3).join(', ') || '—'})`);
  }
}
