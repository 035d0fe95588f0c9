// Loads the ingested MNIST files from `<dir>/` (see ingest.ts) into memory: per split, count·784 pixels (u8,
// row-major 28×28 per image) and count labels (0..9). Checks them as ingestion does (manifest, sizes, structure,
// counts, and by default the full SHA-256, ~0.2 s). Every failure is a DataError ending in the command that fixes it.
// Not here: normalisation, batching or augmentation (the arrays are the raw bytes of the files).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MNIST_FILES, type MnistSplitName } from './checksums.js';
import { DataError } from './errors.js';
import { DEFAULT_MNIST_DIR, MANIFEST_NAME, readManifest } from './manifest.js';
import { checkMnistSet, type CheckedFile, type MnistInput } from './validate.js';

export interface MnistSplit {
  /** count·784 pixels, 0 (background) … 255 (ink); image i is bytes [784·i, 784·(i+1)), row-major 28×28. */
  readonly images: Uint8Array;
  /** count labels, each 0..9. */
  readonly labels: Uint8Array;
  readonly count: number;
  readonly rows: 28;
  readonly cols: 28;
}

export interface MnistData {
  readonly train: MnistSplit;
  readonly test: MnistSplit;
  /** File name → SHA-256 (hex) of its raw bytes, from the manifest (always equal to the pinned checksums). */
  readonly checksums: Record<string, string>;
}

export interface LoadMnistOptions {
  /** Hash every file and compare with the pinned SHA-256 (default true; ~0.2 s). Sizes and structure are always checked. */
  readonly verify?: boolean;
}

/** Loads and checks MNIST from `dir` (default `mnist`, where `npm run data` puts it). Throws DataError. */
export function loadMnist(dir: string = DEFAULT_MNIST_DIR, options: LoadMnistOptions = {}): MnistData {
  const command = dir.replace(/\/+$/, '') === DEFAULT_MNIST_DIR ? 'npm run data'
    : `npm run data -- --out ${/[\s'"]/.test(dir) ? JSON.stringify(dir) : dir}`;
  const shown = dir.endsWith('/') ? dir : `${dir}/`;
  const notFound = (detail: string): DataError =>
    new DataError(dir, `MNIST not found in ${shown}${detail} → run \`${command}\``);

  const st = statSync(dir, { throwIfNoEntry: false });
  if (!st?.isDirectory()) throw notFound('');
  const present = new Set(readdirSync(dir));
  const missing = [...MNIST_FILES.map((f) => f.name), MANIFEST_NAME].filter((name) => !present.has(name));
  if (missing.length > 0) throw notFound(` (missing ${missing.join(', ')})`);

  let checked: CheckedFile[];
  let checksums: Record<string, string>;
  try {
    const manifest = readManifest(dir);
    checksums = Object.fromEntries(Object.entries(manifest.files).map(([name, f]) => [name, f.sha256]));
    const inputs: MnistInput[] = MNIST_FILES.map((spec) => {
      const file = join(dir, spec.name);
      const size = statSync(file).size;
      // Cheap and before reading: a wrong size is caught without loading a possibly huge file.
      if (size !== spec.size) throw DataError.at(file, `size ${size} bytes, expected ${spec.size}`);
      return { spec, file, bytes: readFileSync(file) };
    });
    checked = checkMnistSet(inputs, options.verify ?? true);
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    throw new DataError(err.file, `${err.message} → run \`${command}\` to re-ingest`, { cause: err });
  }
  return { train: split(checked, 'train'), test: split(checked, 'test'), checksums };
}

function split(files: readonly CheckedFile[], name: MnistSplitName): MnistSplit {
  const images = files.find((f) => f.spec.split === name && f.spec.kind === 'images')!;
  const labels = files.find((f) => f.spec.split === name && f.spec.kind === 'labels')!;
  // Copies (~20 ms for train): plain Uint8Arrays at byteOffset 0 that own their buffer, not views into the file
  // Buffers past the IDX header, so `.buffer` is safe to hand on (e.g. to a wasm copy).
  return { images: new Uint8Array(images.data), labels: new Uint8Array(labels.data), count: images.count, rows: 28, cols: 28 };
}
