// Checks a set of four MNIST files, most specific problem first: per file gzip → magic → IDX header and length
// (parseIdx) → 28×28 images / labels in 0..9; then per split the image and label counts agree and match the pinned
// count; then, if asked, the SHA-256 of each file. So a damaged file is reported as "truncated" or "label 10", not
// merely as a checksum mismatch. Pure functions over bytes: no file system (ingest.ts and mnist.ts read the files).

import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { MNIST_COLS, MNIST_ROWS, type MnistFileSpec } from './checksums.js';
import { DataError } from './errors.js';
import { parseIdx } from './idx.js';

/** Larger than any MNIST file (47 MB); caps what we read or inflate so a wrong file or a gzip bomb fails cleanly. */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;

export interface MnistInput {
  readonly spec: MnistFileSpec;
  /** The path shown in errors (for a compressed source, the .gz path). */
  readonly file: string;
  /** The raw (decompressed) IDX bytes. */
  readonly bytes: Uint8Array;
}

export interface CheckedFile extends MnistInput {
  /** The IDX payload: count·28·28 pixels or count labels. */
  readonly data: Uint8Array;
  readonly count: number;
  /** Hex SHA-256 of `bytes`, when verified. */
  readonly sha256?: string;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The IDX bytes of a file as read: inflated if it starts with the gzip magic 1f 8b, whatever its name. */
export function decodeFile(bytes: Uint8Array, file: string): { bytes: Uint8Array; gzip: boolean } {
  if (isGzip(bytes)) {
    try {
      return { bytes: gunzipSync(bytes, { maxOutputLength: MAX_FILE_BYTES }), gzip: true };
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw DataError.at(file, `inflates to more than ${MAX_FILE_BYTES} bytes: not an MNIST file`, err);
      }
      throw DataError.at(file, `corrupt gzip stream (${err instanceof Error ? err.message : String(err)})`, err);
    }
  }
  if (file.endsWith('.gz')) {
    throw DataError.at(file, `named .gz but not gzip data: starts with ${hexBytes(bytes.subarray(0, 4))}, ` +
      'gzip starts with 1f 8b');
  }
  return { bytes, gzip: false };
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** One file's structure: magic, IDX header and exact length, 28×28 images or labels in 0..9. Returns the payload. */
export function checkStructure(input: MnistInput): { data: Uint8Array; count: number } {
  const { spec, file, bytes } = input;
  if (bytes.length >= 4) {
    const magic = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false);
    if (magic !== spec.magic) {
      throw DataError.at(file, `wrong magic 0x${hex32(magic)}, expected 0x${hex32(spec.magic)} (MNIST ${spec.kind})`);
    }
  }
  let idx;
  try {
    idx = parseIdx(bytes, file, spec.kind === 'images' ? 3 : 1);
  } catch (err) {
    throw DataError.fromIdx(err);
  }
  const count = idx.dims[0]!;
  if (spec.kind === 'images') {
    const [rows, cols] = [idx.dims[1]!, idx.dims[2]!];
    if (rows !== MNIST_ROWS || cols !== MNIST_COLS) {
      throw DataError.at(file, `bad dims: images are ${rows}×${cols}, expected ${MNIST_ROWS}×${MNIST_COLS}`);
    }
  } else {
    const data = idx.data;
    for (let i = 0; i < data.length; i++) {
      if (data[i]! > 9) throw DataError.at(file, `label ${data[i]} at index ${i} is out of range 0..9`);
    }
  }
  return { data: idx.data, count };
}

/**
 * Checks all four files (in any order; each spec once) and returns them checked, in the order given.
 * `verify` adds the size and SHA-256 comparison against the pinned values.
 */
export function checkMnistSet(inputs: readonly MnistInput[], verify: boolean): CheckedFile[] {
  const structured = inputs.map((input) => ({ ...input, ...checkStructure(input) }));
  for (const images of structured.filter((f) => f.spec.kind === 'images')) {
    const labels = structured.find((f) => f.spec.kind === 'labels' && f.spec.split === images.spec.split);
    if (!labels) throw new Error(`checkMnistSet: no labels file for the ${images.spec.split} split`); // caller bug
    if (images.count !== labels.count) {
      throw DataError.at(labels.file, `count mismatch: ${labels.count} labels, but ${images.file} has ` +
        `${images.count} images`);
    }
    for (const f of [images, labels]) {
      if (f.count !== f.spec.count) {
        throw DataError.at(f.file, `count mismatch: ${f.count} ${f.spec.kind}, the MNIST ${f.spec.split} split has ` +
          `${f.spec.count}`);
      }
    }
  }
  if (!verify) return structured;
  return structured.map((f) => {
    if (f.bytes.length !== f.spec.size) { // implied by the counts; kept so the checksum below never runs on a wrong size
      throw DataError.at(f.file, `size ${f.bytes.length} bytes, expected ${f.spec.size}`);
    }
    const sha256 = sha256Hex(f.bytes);
    if (sha256 !== f.spec.sha256) {
      throw DataError.at(f.file, `checksum mismatch: SHA-256 expected ${f.spec.sha256}, actual ${sha256}`);
    }
    return { ...f, sha256 };
  });
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function hexBytes(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}
