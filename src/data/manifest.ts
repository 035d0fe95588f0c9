// `<out>/manifest.json`: what ingestion installed (per file: size, SHA-256, count), from where, and when. Written
// atomically and last, so its presence means the four files were installed completely. Reading it checks it
// against the pinned table (checksums.ts): a manifest that disagrees with the pins is as bad as a missing one.
// Not here: hashing the data files themselves (ingest.ts and mnist.ts decide when to pay for that).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MNIST_FILES } from './checksums.js';
import { DataError } from './errors.js';

/** Where `npm run data` installs MNIST and `loadMnist` looks for it, relative to the working directory. */
export const DEFAULT_MNIST_DIR = 'mnist';
export const MANIFEST_NAME = 'manifest.json';

export interface ManifestFile {
  readonly size: number;
  readonly sha256: string;
  readonly count: number;
}

export interface Manifest {
  readonly version: 1;
  /** Absolute path of the folder the files were ingested from. */
  readonly source: string;
  /** ISO 8601. */
  readonly ingestedAt: string;
  /** Keyed by file name, in MNIST_FILES order. */
  readonly files: Readonly<Record<string, ManifestFile>>;
}

export function makeManifest(source: string, ingestedAt: Date): Manifest {
  const files: Record<string, ManifestFile> = {};
  for (const f of MNIST_FILES) files[f.name] = { size: f.size, sha256: f.sha256, count: f.count };
  return { version: 1, source, ingestedAt: ingestedAt.toISOString(), files };
}

export function serializeManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Reads and checks `<dir>/manifest.json`. Throws DataError naming the manifest (code ENOENT in `cause` if absent). */
export function readManifest(dir: string): Manifest {
  const path = join(dir, MANIFEST_NAME);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw DataError.at(path, (err as { code?: unknown }).code === 'ENOENT' ? 'missing' : `cannot read (${String(err)})`, err);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw DataError.at(path, 'not valid JSON', err);
  }
  const m = json as Partial<Record<keyof Manifest, unknown>> | null;
  if (typeof m !== 'object' || m === null || m.version !== 1 || typeof m.source !== 'string' ||
      typeof m.ingestedAt !== 'string' || typeof m.files !== 'object' || m.files === null) {
    throw DataError.at(path, 'not a version 1 MNIST manifest (version, source, ingestedAt, files)');
  }
  const files = m.files as Record<string, Partial<ManifestFile> | undefined>;
  const names = Object.keys(files);
  if (names.length !== MNIST_FILES.length) {
    throw DataError.at(path, `lists ${names.length} files, expected the ${MNIST_FILES.length} MNIST files`);
  }
  for (const spec of MNIST_FILES) {
    const entry = files[spec.name];
    if (!entry) throw DataError.at(path, `does not list ${spec.name}`);
    if (entry.size !== spec.size || entry.sha256 !== spec.sha256 || entry.count !== spec.count) {
      throw DataError.at(path, `entry for ${spec.name} (size ${String(entry.size)}, sha256 ${String(entry.sha256)}) ` +
        `disagrees with the pinned size ${spec.size}, sha256 ${spec.sha256}`);
    }
  }
  return m as Manifest;
}
