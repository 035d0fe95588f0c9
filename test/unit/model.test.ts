// The safetensors codec and the model file: round trips are bit-exact, the bytes match the spec (checked against
// hand-built bytes and the reference implementation's own test vectors, never against our encoder alone), and every
// kind of damage gives its own error. Not here: the registry (registry.test.ts).

import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelFileError } from '../../src/model/errors.js';
import { decodeSafetensors, encodeSafetensors, type Tensor } from '../../src/model/safetensors.js';
import {
  decodeModel, encodeModel, loadModel, saveModel, type ModelLayer, type ModelMetadataInput,
} from '../../src/model/model-file.js';
import { tempDir } from '../helpers/temp.js';

/** Bytes of the floats as stored in memory, for bit-exact comparison (NaN payloads and -0 included). */
const bits = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Header length and JSON text read straight from the bytes, independently of the decoder. */
function rawHeader(bytes: Uint8Array): { n: number; text: string; data: Uint8Array } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(buf.readBigUInt64LE(0));
  return { n, text: buf.subarray(8, 8 + n).toString('utf8'), data: bytes.subarray(8 + n) };
}

/** A file from a raw header text and a data section: the way to build damaged files. */
function fileFrom(headerText: string | Uint8Array, data: Uint8Array | number): Uint8Array {
  const header = typeof headerText === 'string' ? Buffer.from(headerText, 'utf8') : Buffer.from(headerText);
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = Buffer.alloc(8 + header.length + body.length);
  out.writeBigUInt64LE(BigInt(header.length), 0);
  header.copy(out, 8);
  out.set(body, 8 + header.length);
  return out;
}

/** Deterministic, awkward values: signs, -0, a subnormal, the largest float. */
function values(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 32 - 0.5) * 0.2;
  }
  if (n > 3) {
    a[0] = -0;
    a[1] = 1e-45;
    a[2] = 3.4028234663852886e38;
  }
  return a;
}

function layersFor(sizes: number[], seed = 1): ModelLayer[] {
  return sizes.slice(1).map((outputs, l) => {
    const inputs = sizes[l]!;
    return { inputs, outputs, weight: values(inputs * outputs, seed + 2 * l), bias: values(outputs, seed + 2 * l + 1) };
  });
}

function metaFor(sizes: number[], overrides: Partial<ModelMetadataInput> = {}): ModelMetadataInput {
  return {
    architecture: { sizes, activation: 'relu', output: 'softmax' },
    preprocessing: 'mnist-28x28-v1',
    testAccuracy: 0.9791,
    trainingParams: { epochs: 12, lr: 0.001, optimizer: 'adamw', augment: true },
    dataChecksums: { 'train-images-idx3-ubyte': 'ab'.repeat(32) },
    createdAt: '2025-01-07T09:30:15.123Z',
    ...overrides,
  };
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Valid model metadata strings for sizes [4, 3, 2], as the format stores them. */
function strings(sizes: number[]): Record<string, string> {
  return {
    format: 'doodle-digits-mlp',
    format_version: '1',
    architecture: JSON.stringify({ sizes, activation: 'relu', output: 'softmax' }),
    preprocessing: 'mnist-28x28-v1',
    test_accuracy: '0.9',
    training_params: '{"epochs":1}',
    data_checksums: '{}',
    created_at: '2025-01-07T09:30:15Z',
  };
}

/**
 * A model file from arbitrary tensors and metadata overrides (undefined deletes a key), with a CORRECT content hash
 * unless overridden, so each damage reaches the check it is aimed at.
 */
function craft(tensors: Tensor[], overrides: Record<string, string | undefined> = {}, sizes = [4, 3, 2]): Uint8Array {
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...strings(sizes), ...overrides })) if (v !== undefined && k !== 'content_hash') meta[k] = v;
  const draft = encodeSafetensors(tensors, { ...meta, content_hash: '0'.repeat(64) });
  const hash = overrides.content_hash ?? sha256(rawHeader(draft).data);
  return encodeSafetensors(tensors, { ...meta, content_hash: hash });
}

function tensorsOf(layers: ModelLayer[]): Tensor[] {
  return layers.flatMap((l, i) => [
    { name: `layers.${i}.weight`, shape: [l.inputs, l.outputs], data: l.weight },
    { name: `layers.${i}.bias`, shape: [l.outputs], data: l.bias },
  ]);
}

describe('safetensors codec', () => {
  it('round-trips shapes (including a 1-element, a scalar and an empty tensor) bit-exactly, with empty metadata', () => {
    const tensors: Tensor[] = [
      { name: 'a', shape: [2, 3], data: values(6, 7) },
      { name: 'one', shape: [1], data: new Float32Array([Number.NaN]) },
      { name: 'scalar', shape: [], data: new Float32Array([-2.5]) },
      { name: 'empty', shape: [0, 4], data: new Float32Array(0) },
      { name: 'b', shape: [5], data: values(5, 9) },
    ];
    const bytes = encodeSafetensors(tensors, {});
    const { tensors: back, metadata } = decodeSafetensors(bytes, 'x.safetensors');
    expect(metadata).toEqual({});
    expect([...back.keys()].sort()).toEqual(['a', 'b', 'empty', 'one', 'scalar']);
    for (const t of tensors) {
      const got = back.get(t.name)!;
      expect(got.shape, t.name).toEqual(t.shape);
      expect(bits(got.data).equals(bits(t.data)), t.name).toBe(true);
      expect(got.data.buffer, `${t.name} must not alias the file bytes`).not.toBe(bytes.buffer);
    }
    expect(rawHeader(bytes).text).not.toContain('__metadata__');
  });

  it('round-trips string metadata, unicode included', () => {
    const metadata = { framework: 'doodle', 'ключ': 'значение ✓', empty: '' };
    const bytes = encodeSafetensors([{ name: 'w', shape: [2], data: new Float32Array([1, 2]) }], metadata);
    expect(decodeSafetensors(bytes, 'm.safetensors').metadata).toEqual(metadata);
  });

  it('writes the spec layout: u64 LE header length, space-padded JSON to a multiple of 8, LE contiguous data', () => {
    const bytes = encodeSafetensors(
      [
        { name: 'w', shape: [1, 3], data: new Float32Array([1, -2, 0.5]) },
        { name: 'b', shape: [1], data: new Float32Array([3]) },
      ],
      { k: 'v' },
    );
    const n = bytes[0]! + 256 * bytes[1]! + 65536 * bytes[2]!;
    expect([...bytes.subarray(3, 8)]).toEqual([0, 0, 0, 0, 0]);
    expect(n % 8).toBe(0);
    expect(bytes.length).toBe(8 + n + 16);
    const text = Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8');
    expect(text.startsWith('{')).toBe(true);
    expect(text.trimEnd().length).toBeGreaterThan(n - 8); // at most 7 spaces of padding
    expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
    expect(JSON.parse(text)).toEqual({
      __metadata__: { k: 'v' },
      w: { dtype: 'F32', shape: [1, 3], data_offsets: [0, 12] },
      b: { dtype: 'F32', shape: [1], data_offsets: [12, 16] },
    });
    // 1.0f = 0x3F800000, -2.0f = 0xC0000000, 0.5f = 0x3F000000, 3.0f = 0x40400000, least significant byte first.
    expect([...bytes.subarray(8 + n)]).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 0, 0, 0, 0x3f, 0, 0, 0x40, 0x40]);
  });

  it('decodes a hand-built file: what safetensors.numpy.save writes for {"x": float32 [[1, 2], [3, 4]]}', () => {
    const header = '{"x":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}'; // 57 bytes
    const fixture = Uint8Array.from([
      64, 0, 0, 0, 0, 0, 0, 0, // N = 64 = 57 + 7 spaces of padding, u64 little-endian
      ...Buffer.from(header + ' '.repeat(7), 'ascii'),
      0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40, // 1, 2, 3, 4 as f32 LE
    ]);
    const { tensors, metadata } = decodeSafetensors(fixture, 'fixture.safetensors');
    expect(metadata).toEqual({});
    expect(tensors.get('x')!.shape).toEqual([2, 2]);
    expect([...tensors.get('x')!.data]).toEqual([1, 2, 3, 4]);
    const ours = encodeSafetensors([{ name: 'x', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }], {});
    expect(Buffer.from(ours).equals(Buffer.from(fixture))).toBe(true);
  });

  // The reference implementation's own vectors (huggingface/safetensors, safetensors/src/tensor.rs, tests
  // test_serialization, test_serialization_forced_alignement, test_empty): byte-for-byte what it writes.
  const f32s = [0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64]; // 0..5
  const reference: Array<[string, Tensor[], Record<string, string>, number[]]> = [
    ['attn.0 [1,2,3]', [{ name: 'attn.0', shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) }], {},
      [64, 0, 0, 0, 0, 0, 0, 0, ...Buffer.from('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}'), ...f32s]],
    ['attn0 [1,1,2,3] (7 spaces of padding)', [{ name: 'attn0', shape: [1, 1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) }], {},
      [72, 0, 0, 0, 0, 0, 0, 0, ...Buffer.from('{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       '), ...f32s]],
    ['no tensors', [], {}, [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]],
    ['no tensors, metadata', [], { framework: 'pt' },
      [40, 0, 0, 0, 0, 0, 0, 0, ...Buffer.from('{"__metadata__":{"framework":"pt"}}     ')]],
  ];
  it.each(reference)('matches the reference writer byte for byte: %s', (_label, tensors, metadata, expected) => {
    expect([...encodeSafetensors(tensors, metadata)]).toEqual(expected);
    const back = decodeSafetensors(Uint8Array.from(expected), 'ref.safetensors');
    expect(back.metadata).toEqual(metadata);
    for (const t of tensors) expect([...back.tensors.get(t.name)!.data]).toEqual([...t.data]);
  });

  it('copies out of an unaligned buffer (header length not a multiple of 4)', () => {
    const bytes = fileFrom('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', new Uint8Array([0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]));
    expect((bytes.length - 8) % 4).not.toBe(0);
    expect([...decodeSafetensors(bytes, 'u.safetensors').tensors.get('x')!.data]).toEqual([1, 2]);
  });

  it('accepts tensors listed out of offset order (the reference reader sorts by offset)', () => {
    const data = Uint8Array.from([0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]);
    const bytes = fileFrom('{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', data);
    const { tensors } = decodeSafetensors(bytes, 'o.safetensors');
    expect([tensors.get('a')!.data[0], tensors.get('b')!.data[0]]).toEqual([1, 2]);
  });

  const entry = (shape: unknown, offsets: unknown, dtype: unknown = 'F32'): string =>
    JSON.stringify({ dtype, shape, data_offsets: offsets });
  const damaged: Array<[string, () => Uint8Array, RegExp]> = [
    ['a file shorter than 8 bytes', () => new Uint8Array(5), /only 5 bytes: too short for the 8-byte header length/],
    ['a header length past the end of the file', () => {
      const b = Buffer.from(fileFrom('{}', 0));
      b.writeBigUInt64LE(1000n, 0);
      return b;
    }, /header length 1000 runs past the end of the file \(10 bytes; truncated\?\)/],
    ['an absurd header length', () => {
      const b = Buffer.from(fileFrom('{}', 0));
      b.writeBigUInt64LE(2n ** 63n, 0);
      return b;
    }, /header length 9223372036854775808 is above the 100000000-byte limit/],
    ['a truncated data section', () => {
      const full = encodeSafetensors([{ name: 'w', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }], {});
      return full.subarray(0, full.length - 4);
    }, /tensor 'w' ends at data byte 16 but the data section has only 12 bytes \(truncated file\?\)/],
    ['trailing bytes', () => fileFrom(`{"w":${entry([1], [0, 4])}}`, 8), /data section has 8 bytes but the tensors cover only 4/],
    ['bad JSON', () => fileFrom('{"w":{"dtype":"F32",}}', 0), /header is not valid JSON/],
    ['a JSON array header', () => fileFrom('[1,2]', 0), /header JSON is not an object/],
    ['invalid UTF-8', () => fileFrom(Uint8Array.from([...Buffer.from('{"'), 0xff, ...Buffer.from('":1}')]), 0), /header is not valid UTF-8/],
    ['dtype F16', () => fileFrom(`{"w":${entry([2], [0, 4], 'F16')}}`, 4), /tensor 'w' has dtype F16; only F32 is supported/],
    ['a non-string dtype', () => fileFrom(`{"w":${entry([1], [0, 4], 32)}}`, 4), /tensor 'w': dtype must be a string, got number/],
    ['a shape that does not match its offsets', () => fileFrom(`{"w":${entry([2, 2], [0, 12])}}`, 12),
      /tensor 'w': shape \[2, 2\] needs 16 bytes of F32 but data_offsets \[0, 12\] span 12/],
    ['a huge shape', () => fileFrom(`{"w":${entry([2 ** 40, 2 ** 40], [0, 4])}}`, 4), /tensor 'w': shape .* span 4/],
    ['overlapping offsets', () => fileFrom(`{"a":${entry([4], [0, 16])},"b":${entry([4], [8, 24])}}`, 24),
      /tensor 'b' data_offsets \[8, 24\] overlap tensor 'a' ending at 16/],
    ['a gap between tensors', () => fileFrom(`{"a":${entry([2], [0, 8])},"b":${entry([2], [12, 20])}}`, 20),
      /data bytes \[8, 12\) belong to no tensor \(gap before 'b'\)/],
    ['a gap at the start', () => fileFrom(`{"a":${entry([1], [4, 8])}}`, 8), /data bytes \[0, 4\) belong to no tensor/],
    ['offsets that end before they begin', () => fileFrom(`{"a":${entry([0], [8, 4])}}`, 8), /data_offsets \[8, 4\] end before they begin/],
    ['negative offsets', () => fileFrom(`{"a":${entry([1], [-4, 0])}}`, 4), /data_offsets must be \[begin, end\] non-negative integers/],
    ['three offsets', () => fileFrom(`{"a":${entry([1], [0, 4, 8])}}`, 4), /data_offsets must be \[begin, end\]/],
    ['a fractional shape', () => fileFrom(`{"a":${entry([1.5], [0, 4])}}`, 4), /shape must be an array of non-negative integers, got \[1.5\]/],
    ['a missing field', () => fileFrom('{"a":{"dtype":"F32","shape":[1]}}', 4), /tensor 'a': missing field "data_offsets"/],
    ['an unknown field', () => fileFrom('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}', 4), /unknown field "x"/],
    ['an entry that is not an object', () => fileFrom('{"a":[1]}', 0), /tensor 'a': entry must be an object, got an array/],
    ['non-string metadata', () => fileFrom('{"__metadata__":{"k":1}}', 0), /__metadata__\["k"\] must be a string, got number/],
    ['metadata that is not an object', () => fileFrom('{"__metadata__":"x"}', 0), /__metadata__ must be an object of strings/],
    ['a duplicate tensor name', () => fileFrom(`{"a":${entry([1], [0, 4])},"a":${entry([1], [4, 8])}}`, 8), /header has the key "a" more than once/],
    ['a duplicate key spelled with an escape', () => fileFrom(`{"a":${entry([1], [0, 4])},"\\u0061":${entry([1], [4, 8])}}`, 8),
      /header has the key "a" more than once/],
    ['a duplicate field inside an entry', () => fileFrom('{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4),
      /header has the key "dtype" more than once/],
  ];
  it.each(damaged)('rejects %s with a specific ModelFileError naming the file', (_label, make, message) => {
    const bytes = make();
    let error: unknown;
    try {
      decodeSafetensors(bytes, 'bad.safetensors');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ModelFileError);
    expect((error as Error).message).toMatch(/^bad\.safetensors: /);
    expect((error as Error).message).toMatch(message);
  });

  it('does not treat a key-like string inside an array or value as a duplicate', () => {
    const bytes = fileFrom(`{"__metadata__":{"a":"a","b":"a"},"a":${entry([1], [0, 4])}}`, 4);
    expect(decodeSafetensors(bytes, 'ok.safetensors').metadata).toEqual({ a: 'a', b: 'a' });
  });

  it('refuses to encode inconsistent tensors', () => {
    expect(() => encodeSafetensors([{ name: 'w', shape: [2, 2], data: new Float32Array(3) }], {})).toThrow(/holds 4 elements but data has 3/);
    const t = { name: 'w', shape: [1], data: new Float32Array(1) };
    expect(() => encodeSafetensors([t, t], {})).toThrow(/duplicate tensor name 'w'/);
    expect(() => encodeSafetensors([{ ...t, name: '__metadata__' }], {})).toThrow(/reserved/);
  });
});

describe('model file', () => {
  const sizes = [784, 256, 128, 10];

  it('saves and loads the default MLP bit-exactly, metadata included', () => {
    const dir = tempDir('model');
    const layers = layersFor(sizes);
    const meta = metaFor(sizes);
    const path = join(dir, 'model.safetensors');
    const { contentHash } = saveModel(path, layers, meta);
    const loaded = loadModel(path);
    expect(loaded.metadata).toEqual({ ...meta, format: 'doodle-digits-mlp', formatVersion: 1, contentHash });
    expect(loaded.version).toBeUndefined();
    expect(loaded.layers.map((l) => [l.inputs, l.outputs])).toEqual([[784, 256], [256, 128], [128, 10]]);
    for (let l = 0; l < layers.length; l++) {
      expect(bits(loaded.layers[l]!.weight).equals(bits(layers[l]!.weight)), `layer ${l} weight`).toBe(true);
      expect(bits(loaded.layers[l]!.bias).equals(bits(layers[l]!.bias)), `layer ${l} bias`).toBe(true);
    }
  });

  it('stores input-major weights under documented names, string metadata, and hashes the data section', () => {
    const layers = layersFor([4, 3, 2]);
    const { bytes, contentHash } = encodeModel(layers, metaFor([4, 3, 2]));
    const { text, data } = rawHeader(bytes);
    const header = JSON.parse(text) as Record<string, { shape: number[] }> & { __metadata__: Record<string, string> };
    expect(header['layers.0.weight']!.shape).toEqual([4, 3]); // [inputs, outputs], not PyTorch's [out, in]
    expect(header['layers.0.bias']!.shape).toEqual([3]);
    expect(header['layers.1.weight']!.shape).toEqual([3, 2]);
    expect(header['layers.1.bias']!.shape).toEqual([2]);
    const m = header.__metadata__;
    expect(Object.keys(m).sort()).toEqual(['architecture', 'content_hash', 'created_at', 'data_checksums', 'format',
      'format_version', 'preprocessing', 'test_accuracy', 'training_params']);
    expect(Object.values(m).every((v) => typeof v === 'string')).toBe(true);
    expect(m.format).toBe('doodle-digits-mlp');
    expect(m.format_version).toBe('1');
    expect(m.test_accuracy).toBe('0.9791');
    expect(JSON.parse(m.architecture!)).toEqual({ sizes: [4, 3, 2], activation: 'relu', output: 'softmax' });
    expect(JSON.parse(m.training_params!)).toEqual({ epochs: 12, lr: 0.001, optimizer: 'adamw', augment: true });
    expect(contentHash).toBe(sha256(data));
    expect(m.content_hash).toBe(contentHash);
    // Element (i, j) of W sits at i·outputs + j, so y = x·W + b: check one product by hand against the stored bytes.
    const w = new Float32Array(data.slice(0, 48).buffer);
    const x = [1, 2, 3, 4];
    const y0 = x.reduce((s, xi, i) => s + xi * w[i * 3]!, 0);
    expect(y0).toBeCloseTo(x.reduce((s, xi, i) => s + xi * layers[0]!.weight[i * 3]!, 0), 6);
  });

  it('content hash: identity of the weights, independent of the metadata', () => {
    const layers = layersFor([4, 3, 2]);
    const a = encodeModel(layers, metaFor([4, 3, 2]));
    const b = encodeModel(layers, metaFor([4, 3, 2], { createdAt: '2026-02-02T00:00:00Z', testAccuracy: 0.5 }));
    const c = encodeModel(layersFor([4, 3, 2], 99), metaFor([4, 3, 2]));
    expect(b.contentHash).toBe(a.contentHash);
    expect(c.contentHash).not.toBe(a.contentHash);
  });

  it('save is atomic: replaces the target, leaves no temp file, and a failed save keeps the old file', () => {
    const dir = tempDir('model');
    const path = join(dir, 'model.safetensors');
    writeFileSync(path, 'old');
    saveModel(path, layersFor([4, 3, 2]), metaFor([4, 3, 2]));
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    const saved = readFileSync(path);
    expect(loadModel(path).metadata.testAccuracy).toBe(0.9791);
    const bad = layersFor([4, 3, 2]);
    bad[1]!.bias[0] = Number.NaN;
    expect(() => saveModel(path, bad, metaFor([4, 3, 2]))).toThrow(/layers\.1\.bias\[0\] is NaN: weights must be finite/);
    expect(readFileSync(path).equals(saved)).toBe(true);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  it('records the registry version when the file lives in a version directory', () => {
    const dir = join(tempDir('model'), '20250107-093015-0123456789ab');
    mkdirSync(dir);
    saveModel(join(dir, 'model.safetensors'), layersFor([4, 3, 2]), metaFor([4, 3, 2]));
    expect(loadModel(join(dir, 'model.safetensors')).version).toBe('20250107-093015-0123456789ab');
  });

  it('a missing file says how to make one', () => {
    const path = join(tempDir('model'), 'nope', 'model.safetensors');
    expect(() => loadModel(path)).toThrow(`model not found at ${path} → run \`npm run train\``);
  });

  it('refuses to encode an inconsistent model', () => {
    const meta = metaFor([4, 3, 2]);
    expect(() => encodeModel(layersFor([4, 3, 2]), metaFor([4, 5, 2]))).toThrow(/layer 0 is 4→3, but sizes \[4, 5, 2\] need 4→5/);
    expect(() => encodeModel(layersFor([4, 3]), meta)).toThrow(/1 layers do not match sizes \[4, 3, 2\]/);
    expect(() => encodeModel(layersFor([4, 3, 2]), { ...meta, testAccuracy: Number.NaN })).toThrow(/test accuracy NaN is not in \[0, 1\]/);
    expect(() => encodeModel(layersFor([4, 3, 2]), { ...meta, createdAt: 'yesterday' })).toThrow(/created at "yesterday" is not an ISO-8601/);
    const short = layersFor([4, 3, 2]);
    short[0]!.weight = new Float32Array(11);
    expect(() => encodeModel(short, meta)).toThrow(/layers\.0\.weight must be a Float32Array of 4×3 = 12 values/);
  });

  const HINT = '→ retrain with `npm run train` or pick another version with `npm run models`';
  const good = tensorsOf(layersFor([4, 3, 2]));
  const corrupt: Array<[string, () => Uint8Array, RegExp | string]> = [
    ['a flipped data byte', () => {
      const bytes = encodeModel(layersFor([4, 3, 2]), metaFor([4, 3, 2])).bytes;
      bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0x01;
      return bytes;
    }, `m.safetensors: content hash mismatch (file corrupted?) ${HINT}`],
    ['a missing layer tensor', () => craft(good.filter((t) => t.name !== 'layers.1.bias')),
      /missing tensor 'layers\.1\.bias' \(architecture \[4, 3, 2\]\)/],
    ['an extra tensor', () => craft([...good, { name: 'extra', shape: [1], data: new Float32Array(1) }]),
      /unexpected tensor 'extra' \(architecture \[4, 3, 2\] has 4 tensors\)/],
    ['shapes that do not chain', () => craft([good[0]!, good[1]!, { name: 'layers.1.weight', shape: [5, 2], data: new Float32Array(10) }, good[3]!]),
      /tensor 'layers\.1\.weight' has shape \[5, 2\], expected \[3, 2\] for sizes \[4, 3, 2\]/],
    ['a NaN weight', () => {
      const w = new Float32Array(good[0]!.data);
      w[2] = Number.NaN;
      return craft([{ ...good[0]!, data: w }, ...good.slice(1)]);
    }, /layers\.0\.weight\[2\] is NaN: weights must be finite/],
    ['an infinite bias', () => craft([good[0]!, { ...good[1]!, data: new Float32Array([0, Infinity, 0]) }, ...good.slice(2)]),
      /layers\.0\.bias\[1\] is Infinity/],
    ['another format', () => craft(good, { format: 'other' }), /metadata format is "other", expected "doodle-digits-mlp"/],
    ['no format at all', () => craft(good, { format: undefined }), /not a doodle-digits-mlp model \(metadata "format" is missing\)/],
    ['a future format version', () => craft(good, { format_version: '2' }), /format_version "2" is not supported \(this build reads 1\)/],
    ['accuracy above 1', () => craft(good, { test_accuracy: '1.5' }), /test accuracy 1\.5 is not in \[0, 1\]/],
    ['accuracy that is not a number', () => craft(good, { test_accuracy: 'high' }), /test_accuracy "high" is not a number/],
    ['an unknown metadata key', () => craft(good, { surprise: 'x' }), /unknown metadata key "surprise"/],
    ['architecture that is not JSON', () => craft(good, { architecture: '{sizes' }), /metadata "architecture" is not valid JSON/],
    ['another activation', () => craft(good, { architecture: '{"sizes":[4,3,2],"activation":"tanh","output":"softmax"}' }),
      /activation "tanh" is not supported/],
    ['a one-size architecture', () => craft([], { architecture: '{"sizes":[4],"activation":"relu","output":"softmax"}' }),
      /sizes must be at least 2 positive integers, got \[4\]/],
    ['a bad data checksum', () => craft(good, { data_checksums: '{"train":"xyz"}' }), /data checksum of "train" must be 64 lowercase hex/],
    ['a non-scalar training param', () => craft(good, { training_params: '{"lr":[1]}' }), /training param "lr" must be a string, a finite number or a boolean/],
    ['a missing created_at', () => craft(good, { created_at: undefined }), /metadata "created_at" is missing/],
    ['an F16 tensor', () => {
      const bytes = Buffer.from(craft(good));
      const at = bytes.indexOf('"F32"');
      bytes.write('"F16"', at);
      return bytes;
    }, /tensor 'layers\.\d\.(weight|bias)' has dtype F16; only F32 is supported/],
  ];
  it.each(corrupt)('rejects %s with a specific error and a hint', (_label, make, message) => {
    const bytes = make();
    let error: unknown;
    try {
      decodeModel(bytes, 'm.safetensors');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ModelFileError);
    const text = (error as Error).message;
    if (typeof message === 'string') expect(text).toBe(message);
    else expect(text).toMatch(message);
    expect(text.startsWith('m.safetensors: ')).toBe(true);
    expect(text.endsWith(HINT)).toBe(true);
  });

  it('the crafting helper itself makes loadable files (so the cases above fail for their stated reason)', () => {
    const loaded = decodeModel(craft(good), 'm.safetensors');
    expect(loaded.layers.map((l) => [l.inputs, l.outputs])).toEqual([[4, 3], [3, 2]]);
    expect(loaded.metadata.testAccuracy).toBe(0.9);
  });
});

describe('module boundary', () => {
  it('src/model/ imports nothing from src/ but itself and util/', () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
    const dir = join(root, 'src', 'model');
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files).toContain('registry.ts');
    for (const file of files) {
      const text = readFileSync(join(dir, file), 'utf8');
      for (const [, spec] of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]/gm)) {
        if (spec!.startsWith('node:')) continue;
        const target = relative(root, resolve(dir, spec!));
        const allowed = target.startsWith(join('src', 'model') + '/') || target.startsWith(join('src', 'util') + '/');
        expect(allowed, `src/model/${file} imports ${spec}`).toBe(true);
      }
    }
  });
});
