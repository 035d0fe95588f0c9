// The fast readers of /predict bodies (src/server/image-body.ts) against the general path they stand in for:
// JSON.parse + parsePredictBody must give the same float32s bit for bit wherever the fast path says yes, and the fast
// path must say no (so that the general path answers, or gives its documented error) for everything else.

import { describe, expect, it } from 'vitest';
import { readMnistImageJson, readTensorBytes } from '../../src/server/image-body.js';
import { parsePredictBody, ProtocolError } from '../../src/protocol.js';
import { Random } from '../../src/random.js';

const general = (text: string): Float32Array => {
  const p = parsePredictBody(JSON.parse(text));
  if (p.kind !== 'mnist') throw new Error(p.kind);
  return p.image;
};

const fast = (text: string): Float32Array | undefined => {
  const out = new Float32Array(784);
  return readMnistImageJson(Buffer.from(text, 'utf8'), out) ? out : undefined;
};

function expectSameBits(a: Float32Array, b: Float32Array, what: string): void {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) expect(`${what}[${i}]: ${a[i]} vs ${b[i]}`).toBe('equal');
}

/** JSON text of an {"image": values} body with random JSON whitespace around every token. */
function body(values: readonly number[], rng: Random, spaced: boolean): string {
  const ws = (): string => (spaced ? [' ', '\n', '\t', '\r\n', '', ''][Math.floor(rng.next() * 6)]! : '');
  return `${ws()}{${ws()}"image"${ws()}:${ws()}[${values.map((v) => `${ws()}${JSON.stringify(v)}${ws()}`).join(',')}]${ws()}}${ws()}`;
}

describe('readMnistImageJson', () => {
  it('reads what JSON.parse reads, bit for bit, for the bodies clients send (pixel/255, random, short decimals)', () => {
    const rng = new Random(7);
    const kinds = [
      () => Math.floor(rng.next() * 256) / 255,
      () => rng.next(),
      () => Math.round(rng.next() * 1000) / 1000,
      () => (rng.next() < 0.8 ? 0 : 1),
    ];
    for (let round = 0; round < 200; round++) {
      const kind = kinds[round % kinds.length]!;
      const values = Array.from({ length: 784 }, kind);
      const text = body(values, rng, round % 2 === 1);
      const got = fast(text);
      expect(got, `round ${round}`).toBeDefined();
      expectSameBits(got!, general(text), `round ${round}`);
    }
  });

  it('rounds to float32 as the general path does next to float32 midpoints, where a double off by an ulp would not', () => {
    // A double within a few ulps of the midpoint of two adjacent float32s: printed with 16–17 digits, read either way.
    const rng = new Random(11);
    const values: number[] = [];
    const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
    while (values.length < 784) {
      f32[0] = rng.next();
      const lo = f32[0]!;
      u32[0]! += 1;
      const mid = (lo + f32[0]!) / 2; // exact in double
      for (const d of [-2, -1, 0, 1, 2]) values.push(Math.min(1, mid + d * Number.EPSILON * mid));
    }
    const text = body(values.slice(0, 784), rng, false);
    const got = fast(text);
    expect(got).toBeDefined();
    expectSameBits(got!, general(text), 'midpoints');
  });

  it.each([
    ['another key', (v: string) => `{"image":${v},"model":"x"}`],
    ['the key escaped', (v: string) => `{"im\\u0061ge":${v}}`],
    ['trailing text', (v: string) => `{"image":${v}} x`],
    ['no closing brace', (v: string) => `{"image":${v}`],
    ['width and height', (v: string) => `{"width":28,"height":28,"image":${v}}`],
  ])('says no (the general path decides) for %s', (_, wrap) => {
    const v = `[${Array.from({ length: 784 }, (_, i) => (i % 7) / 7).join(',')}]`;
    expect(fast(wrap(v))).toBeUndefined();
  });

  it.each([
    ['783 values', Array(783).fill('0.5')],
    ['785 values', Array(785).fill('0.5')],
    ['a value above 1', [...Array(783).fill('0'), '1.5']],
    ['a negative zero', [...Array(783).fill('0'), '-0']],
    ['an exponent', [...Array(783).fill('0'), '5e-1']],
    ['18 digits', [...Array(783).fill('0'), '0.123456789012345678']],
    ['a leading zero', [...Array(783).fill('0'), '00.5']],
    ['a bare dot', [...Array(783).fill('0'), '0.']],
    ['a string', [...Array(783).fill('0'), '"0.5"']],
    ['null', [...Array(783).fill('0'), 'null']],
  ])('says no for %s', (_, items) => {
    expect(fast(`{"image":[${(items as string[]).join(',')}]}`)).toBeUndefined();
  });

  it('values the general path accepts through its own parse still give its answer (an exponent, a sign)', () => {
    const text = `{"image":[${[...Array(782).fill('0'), '5e-1', '-0'].join(',')}]}`;
    expect(fast(text)).toBeUndefined();
    expect(Array.from(general(text).slice(782))).toEqual([0.5, -0]);
  });

  it('says no, without throwing, for empty and garbage bodies', () => {
    for (const text of ['', ' ', '{', '{"image"', '{"image":[', '{"image":[0,', '[0]', 'null', '{"image":[0 0]}']) {
      expect(fast(text), JSON.stringify(text)).toBeUndefined();
    }
  });
});

describe('readTensorBytes', () => {
  it('reads 784 little-endian float32s exactly, and 784 uint8s as value/255', () => {
    const rng = new Random(3);
    const values = Float32Array.from({ length: 784 }, () => rng.next());
    const bytes = new Uint8Array(784 * 4);
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    const out = new Float32Array(784);
    readTensorBytes(bytes.subarray(0), out);
    expectSameBits(out, values, 'float32');
    const pixels = Uint8Array.from({ length: 784 }, (_, i) => (i * 37) % 256);
    readTensorBytes(pixels, out);
    expectSameBits(out, Float32Array.from(pixels, (p) => p / 255), 'uint8');
  });

  it('reads a float32 body that does not start on a 4-byte boundary', () => {
    const backing = new Uint8Array(784 * 4 + 1);
    const view = new DataView(backing.buffer, 1);
    for (let i = 0; i < 784; i++) view.setFloat32(i * 4, i / 784, true);
    const out = new Float32Array(784);
    readTensorBytes(backing.subarray(1), out);
    expect(out[392]).toBe(Math.fround(0.5));
  });

  it('refuses another length, and a value outside [0, 1] or NaN, naming it', () => {
    const out = new Float32Array(784);
    expect(() => readTensorBytes(new Uint8Array(100), out)).toThrow(ProtocolError);
    expect(() => readTensorBytes(new Uint8Array(100), out)).toThrow('must be 3136 bytes (784 float32, little-endian) or 784 bytes (784 uint8), got 100');
    const bytes = new Uint8Array(784 * 4);
    new DataView(bytes.buffer).setFloat32(4 * 10, 1.25, true);
    expect(() => readTensorBytes(bytes, out)).toThrow('value 10 = 1.25 is not in [0, 1]');
    new DataView(bytes.buffer).setFloat32(4 * 10, NaN, true);
    expect(() => readTensorBytes(bytes, out)).toThrow('value 10 = NaN is not in [0, 1]');
  });
});
