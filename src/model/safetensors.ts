// The safetensors container (see: huggingface/safetensors README "Format" and safetensors/src/tensor.rs):
//   [0, 8) N, u64 little-endian | [8, 8+N) UTF-8 JSON header, space-padded by the writer to a multiple of 8 |
//   [8+N, EOF) data: each tensor row-major little-endian, contiguous, covering the section exactly.
//   header: {"<name>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end)}, …, "__metadata__": {str: str}}
// F32 only; decoding validates every field and copies into fresh Float32Arrays. Not here: what the tensors mean.

import { ModelFileError } from './errors.js';

export interface Tensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface DecodedSafetensors {
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  metadata: Record<string, string>;
}

/** The reference implementation refuses headers above 100 MB (MAX_HEADER_SIZE in tensor.rs); so do we. */
const MAX_HEADER_BYTES = 100_000_000;
const F32_BYTES = 4;
const METADATA_KEY = '__metadata__';
const ENTRY_FIELDS = ['dtype', 'shape', 'data_offsets'];
/** Byte order of this machine. The file is little-endian; on a big-endian host every element is byte-swapped. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Serialises `tensors` (data laid out in the given order) and string `metadata` (omitted when empty, as the
 * reference writer does for `None`). Called by model-file.ts. Throws RangeError on inconsistent input.
 */
export function encodeSafetensors(tensors: Tensor[], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw new RangeError(`metadata value for '${key}' must be a string, got ${typeof value}`);
    }
    header[METADATA_KEY] = metadata;
  }
  let offset = 0;
  for (const { name, shape, data } of tensors) {
    if (name === METADATA_KEY) throw new RangeError(`'${METADATA_KEY}' is reserved and cannot name a tensor`);
    if (Object.hasOwn(header, name)) throw new RangeError(`duplicate tensor name '${name}'`);
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new RangeError(`tensor '${name}': shape [${shape.join(', ')}] must hold non-negative integers`);
    }
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== data.length) {
      throw new RangeError(`tensor '${name}': shape [${shape.join(', ')}] holds ${count} elements but data has ${data.length}`);
    }
    // Defined as an own data property, so even a name like "__proto__" becomes a key, not a prototype.
    Object.defineProperty(header, name, {
      value: { dtype: 'F32', shape, data_offsets: [offset, offset + data.byteLength] },
      enumerable: true, writable: true, configurable: true,
    });
    offset += data.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad with spaces (JSON whitespace) so the data section starts 8-byte aligned, as the reference writer does.
  const headerBytesUnpadded = new TextEncoder().encode(json).length;
  json += ' '.repeat((8 - (headerBytesUnpadded % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);

  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const { data } of tensors) {
    const dst = out.subarray(at, at + data.byteLength);
    dst.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    if (!HOST_LITTLE_ENDIAN) swapBytes4(dst);
    at += data.byteLength;
  }
  return out;
}

/** Parses and fully validates a safetensors file's bytes; `file` names it in every error (ModelFileError). */
export function decodeSafetensors(bytes: Uint8Array, file: string): DecodedSafetensors {
  const fail: (detail: string) => never = (detail) => {
    throw new ModelFileError(file, detail);
  };
  const { headerLength, dataStart } = readHeaderLength(bytes, file);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    return fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    return fail(`header is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header JSON is not an object');
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) fail(`header has the key "${duplicate}" more than once`);

  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: Array<{ name: string; shape: number[]; begin: number; end: number }> = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      // serde reads `"__metadata__": null` as None; accept it as "no metadata".
      if (value === null) continue;
      if (typeof value !== 'object' || Array.isArray(value)) fail(`${METADATA_KEY} must be an object of strings`);
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`${METADATA_KEY}["${key}"] must be a string, got ${describe(v)}`);
        Object.defineProperty(metadata, key, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    entries.push({ name, ...checkEntry(name, value, fail) });
  }

  // Offsets may appear in any key order (the reference reader sorts them); sorted, they must tile the section.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: string | undefined;
  for (const e of sorted) {
    if (e.begin > covered) fail(`data bytes [${covered}, ${e.begin}) belong to no tensor (gap before '${e.name}')`);
    if (e.begin < covered) {
      fail(`tensor '${e.name}' data_offsets [${e.begin}, ${e.end}] overlap tensor '${previous ?? ''}' ending at ${covered}`);
    }
    covered = e.end;
    previous = e.name;
  }
  if (covered > dataLength) {
    fail(`tensor '${previous ?? ''}' ends at data byte ${covered} but the data section has only ${dataLength} bytes (truncated file?)`);
  }
  if (covered < dataLength) fail(`data section has ${dataLength} bytes but the tensors cover only ${covered} (trailing bytes)`);

  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const { name, shape, begin, end } of entries) {
    // A fresh Float32Array: its own 4-byte-aligned buffer, never a view aliasing the (possibly unaligned) file bytes.
    const data = new Float32Array((end - begin) / F32_BYTES);
    const dst = new Uint8Array(data.buffer);
    dst.set(bytes.subarray(dataStart + begin, dataStart + end));
    if (!HOST_LITTLE_ENDIAN) swapBytes4(dst);
    tensors.set(name, { shape, data });
  }
  return { tensors, metadata };
}

/**
 * The raw data section (the bytes after the header) of a safetensors buffer: what a content hash is taken over.
 * Called by model-file.ts on bytes that decodeSafetensors has accepted or encodeSafetensors has produced.
 */
export function safetensorsDataSection(bytes: Uint8Array, file: string): Uint8Array {
  return bytes.subarray(readHeaderLength(bytes, file).dataStart);
}

function readHeaderLength(bytes: Uint8Array, file: string): { headerLength: number; dataStart: number } {
  if (bytes.length < 8) {
    throw new ModelFileError(file, `only ${bytes.length} bytes: too short for the 8-byte header length (truncated file?)`);
  }
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new ModelFileError(file, `header length ${n} is above the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
  }
  const headerLength = Number(n);
  if (8 + headerLength > bytes.length) {
    throw new ModelFileError(file, `header length ${headerLength} runs past the end of the file (${bytes.length} bytes; truncated?)`);
  }
  return { headerLength, dataStart: 8 + headerLength };
}

/** Validates one tensor entry `{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}`. */
function checkEntry(
  name: string,
  value: unknown,
  fail: (detail: string) => never,
): { shape: number[]; begin: number; end: number } {
  const where = `tensor '${name}'`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${where}: entry must be an object, got ${describe(value)}`);
  const entry = value as Record<string, unknown>;
  for (const key of Object.keys(entry)) {
    if (!ENTRY_FIELDS.includes(key)) fail(`${where}: unknown field "${key}" (expected dtype, shape, data_offsets)`);
  }
  for (const key of ENTRY_FIELDS) if (!Object.hasOwn(entry, key)) fail(`${where}: missing field "${key}"`);
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== 'string') fail(`${where}: dtype must be a string, got ${describe(dtype)}`);
  if (dtype !== 'F32') fail(`${where} has dtype ${String(dtype)}; only F32 is supported`);
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    fail(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    fail(`${where}: data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  // Multiply step by step and stop once past the span, so a huge shape cannot overflow into a false match.
  const dims = shape as number[];
  const span = end - begin;
  let needed = dims.includes(0) ? 0 : F32_BYTES;
  for (const d of dims) {
    needed *= d;
    if (needed > span) break;
  }
  if (needed !== span) {
    const exact = dims.reduce((a, b) => a * b, F32_BYTES);
    fail(`${where}: shape [${dims.join(', ')}] needs ${exact} bytes of F32 but data_offsets [${begin}, ${end}] span ${span}`);
  }
  return { shape: [...dims], begin, end };
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

/**
 * The first object key that occurs twice in one object of `text`, which JSON.parse has already accepted (so every
 * string is terminated). The spec forbids duplicate keys; JSON.parse would silently keep the last one.
 */
function findDuplicateKey(text: string): string | undefined {
  const stack: Array<Set<string> | null> = []; // a Set per open object, null per open array
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        const key = JSON.parse(text.slice(i, j + 1)) as string; // decodes escapes: "\u0061" and "a" are one key
        if (keys.has(key)) return key;
        keys.add(key);
      }
      expectKey = false;
      i = j;
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      expectKey = stack[stack.length - 1] != null;
    } else if (c === ':') {
      expectKey = false;
    }
  }
  return undefined;
}

/** Reverses each 4-byte group in place: little-endian file ↔ big-endian host, without touching the float values. */
function swapBytes4(b: Uint8Array): void {
  for (let i = 0; i + 3 < b.length; i += 4) {
    const b0 = b[i]!, b1 = b[i + 1]!;
    b[i] = b[i + 3]!;
    b[i + 1] = b[i + 2]!;
    b[i + 2] = b1;
    b[i + 3] = b0;
  }
}
