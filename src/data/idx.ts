// The IDX format of the MNIST files (see: http://yann.lecun.com/exdb/mnist/, "FILE FORMATS"):
//   bytes 0–1 zero, byte 2 the element type (0x08 = unsigned byte), byte 3 the number of dimensions d,
//   then d big-endian u32 sizes, then the elements row-major. Images are d = 3 (count, rows, cols), labels d = 1.
// Parsing validates everything and names the file in every error. Not here: checksums, downloading, or gzip.

export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

export class IdxError extends Error {
  constructor(readonly file: string, readonly problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'IdxError';
  }
}

/** Parses an unsigned-byte IDX file with `expectedDims` dimensions. `file` names it in errors. */
export function parseIdx(bytes: Uint8Array, file: string, expectedDims: number): IdxArray {
  if (bytes.length < 4) throw new IdxError(file, `only ${bytes.length} bytes: too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new IdxError(file, 'bad magic number (the first two bytes must be 0): not an IDX file');
  if (bytes[2] !== 0x08) throw new IdxError(file, `element type 0x${bytes[2]!.toString(16)} is not 0x08 (unsigned byte)`);
  const d = bytes[3]!;
  if (d !== expectedDims) throw new IdxError(file, `has ${d} dimensions, expected ${expectedDims}`);
  const headerLength = 4 + 4 * d;
  if (bytes.length < headerLength) throw new IdxError(file, `truncated header: ${bytes.length} of ${headerLength} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < d; i++) {
    const size = view.getUint32(4 + 4 * i, false);
    dims.push(size);
    count *= size;
  }
  const expected = headerLength + count;
  if (bytes.length !== expected) {
    throw new IdxError(file, `${bytes.length < expected ? 'truncated' : 'trailing bytes'}: ${bytes.length} bytes, ` +
      `dimensions [${dims.join(' × ')}] need exactly ${expected}`);
  }
  return { dims, data: bytes.subarray(headerLength) };
}
