// The PNG decoder (src/image/png.ts) and the image → ink step (src/image/ink.ts). The decoder is checked against an
// independent encoder (helpers/png-encode.ts) on random images of every colour type × bit depth × filter ×
// interlacing, against real files from other encoders (hex below), and on hostile input: every error message,
// every truncation point, CRC-fixed fuzzing and a zlib bomb. toInk is checked on synthetic photos and canvases.

import { describe, expect, it, vi } from 'vitest';
import * as zlib from 'node:zlib';
import { readdirSync, readFileSync } from 'node:fs';
import { paeth } from '../../src/image/png-filter.js';
import { decodePng, DEFAULT_MAX_PIXELS, PngError, toInk } from '../../src/image/index.js';
import { Random } from '../../src/random.js';
import { expectClose } from '../helpers/compare.js';
import {
  chunk, crc32Bitwise, encodePng, file, filteredData, ihdr, SAMPLES_PER_PIXEL, type ColourType, type RawImage,
} from '../helpers/png-encode.js';

// Records every maxOutputLength the decoder asks node:zlib for, so the bomb test can prove the cap was set.
const inflateCaps = vi.hoisted(() => [] as (number | undefined)[]);
vi.mock('node:zlib', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:zlib')>();
  return {
    ...real,
    inflateSync: (buf: zlib.InputType, opts?: zlib.ZlibOptions) => {
      inflateCaps.push(opts?.maxOutputLength);
      return real.inflateSync(buf, opts);
    },
  };
});

const TOL = { atol: 1e-6, rtol: 0 };
const COMBOS: [ColourType, number][] = [
  [0, 1], [0, 2], [0, 4], [0, 8], [0, 16], [2, 8], [2, 16], [3, 1], [3, 2], [3, 4], [3, 8], [4, 8], [4, 16], [6, 8], [6, 16],
];
const WIDTHS = [1, 3, 7, 8, 9, 33];
const HEIGHTS = [1, 2, 7, 9, 33];

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** The decoder's contract, computed straight from the samples: Rec. 601 luma × alpha (composited onto black). */
function expectedGray(img: RawImage): Float64Array {
  const spp = SAMPLES_PER_PIXEL[img.colourType];
  const max = 2 ** img.bitDepth - 1;
  const luma = (r: number, g: number, b: number): number => 0.299 * r + 0.587 * g + 0.114 * b;
  const key = (k: number): number => (img.trns ? img.trns[2 * k]! * 256 + img.trns[2 * k + 1]! : -1);
  const out = new Float64Array(img.width * img.height);
  for (let p = 0; p < out.length; p++) {
    const s = Array.from({ length: spp }, (_, c) => img.samples[p * spp + c]!);
    switch (img.colourType) {
      case 0: out[p] = s[0] === key(0) ? 0 : s[0]! / max; break;
      case 2: out[p] = s[0] === key(0) && s[1] === key(1) && s[2] === key(2) ? 0 : luma(s[0]!, s[1]!, s[2]!) / max; break;
      case 3: {
        const pal = img.palette!;
        const i = s[0]!;
        const alpha = img.trns && i < img.trns.length ? img.trns[i]! / 255 : 1;
        out[p] = (luma(pal[3 * i]!, pal[3 * i + 1]!, pal[3 * i + 2]!) / 255) * alpha;
        break;
      }
      case 4: out[p] = (s[0]! / max) * (s[1]! / max); break;
      case 6: out[p] = (luma(s[0]!, s[1]!, s[2]!) / max) * (s[3]! / max); break;
    }
  }
  return out;
}

/** A random image; extremes (0, max) are over-represented; with `trns`, about a quarter of the pixels are transparent. */
function randomImage(rng: Random, colourType: ColourType, bitDepth: number, width: number, height: number, trns: boolean): RawImage {
  const spp = SAMPLES_PER_PIXEL[colourType];
  const max = 2 ** bitDepth - 1;
  const n = width * height;
  const samples = new Uint16Array(n * spp);
  const img: RawImage = { width, height, colourType, bitDepth, samples };
  if (colourType === 3) {
    const entries = 1 + rng.int(max + 1);
    img.palette = Uint8Array.from({ length: 3 * entries }, () => rng.int(256));
    for (let p = 0; p < n; p++) samples[p] = rng.int(entries);
    if (trns) img.trns = Uint8Array.from({ length: rng.int(entries + 1) }, () => [0, 255, rng.int(256)][rng.int(3)]!);
    return img;
  }
  for (let i = 0; i < samples.length; i++) samples[i] = [0, max, rng.int(max + 1), rng.int(max + 1)][rng.int(4)]!;
  if (trns && (colourType === 0 || colourType === 2)) {
    const key = Array.from(samples.subarray(0, spp)); // pixel 0's colour, copied to others below
    img.trns = new Uint8Array(2 * spp);
    key.forEach((v, c) => img.trns!.set([v >> 8, v & 255], 2 * c));
    for (let p = 1; p < n; p++) if (rng.int(4) === 0) samples.set(key, p * spp);
  }
  return img;
}

function roundTrip(name: string, img: RawImage, interlace: boolean, filter: (row: number, pass: number) => number): void {
  const bytes = encodePng(img, { interlace, filter });
  const got = decodePng(bytes);
  expect([got.width, got.height], name).toEqual([img.width, img.height]);
  expectClose(name, got.gray, expectedGray(img), TOL);
}

describe('src/image/ boundary', () => {
  it('imports only its own folder and node:zlib', () => {
    const dir = new URL('../../src/image/', import.meta.url);
    const names = readdirSync(dir).filter((n) => n.endsWith('.ts'));
    expect(names).toContain('png.ts');
    for (const name of names) {
      const text = readFileSync(new URL(name, dir), 'utf8');
      for (const [, spec] of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]/gm)) {
        expect(spec === 'node:zlib' || /^\.\/[\w-]+\.js$/.test(spec!), `${name} imports ${spec}`).toBe(true);
      }
    }
  });
});

describe('crc32 (node:zlib, as png-chunks.ts calls it)', () => {
  it('matches the check value and the bit-by-bit definition, on whole arrays and on subarray views', () => {
    expect(zlib.crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(zlib.crc32(new Uint8Array(0))).toBe(0);
    const rng = new Random(1);
    for (const n of [1, 3, 255, 1000]) {
      const data = Uint8Array.from({ length: n }, () => rng.int(256));
      expect(zlib.crc32(data), `n=${n}`).toBe(crc32Bitwise(data));
      expect(zlib.crc32(data.subarray(1, n - 1)), `n=${n} view`).toBe(crc32Bitwise(data.slice(1, n - 1)));
    }
    expect(zlib.crc32(Uint8Array.of(0xff, 0xff, 0xff, 0xff))).toBe(0xffffffff); // unsigned, never negative
  });
});

describe('paeth', () => {
  it('picks the nearest of a, b, c to a + b − c, ties to a then b (worked by hand from spec §9.4)', () => {
    expect(paeth(20, 10, 10)).toBe(20); // p = 20: a exact
    expect(paeth(10, 20, 10)).toBe(20); // p = 20: b exact
    expect(paeth(10, 20, 15)).toBe(15); // p = 15: c exact
    expect(paeth(5, 5, 10)).toBe(5); // p = 0: pa = pb = 5 < pc = 10 → a (an a/b tie implies a = b, so its order is moot)
    expect(paeth(14, 2, 10)).toBe(2); // p = 6: pb = pc = 4 < pa = 8 → b
    expect(paeth(0, 0, 255)).toBe(0); // p = −255: pa = pb = 255, pc = 510 → a
    expect(paeth(255, 0, 255)).toBe(0); // p = 0: pb = 0 → b
  });
});

describe('decodePng round trips through an independent encoder', () => {
  it.each(COMBOS)('colour type %i, bit depth %i: widths 1..33 × heights 1..33, plain and Adam7, random filters, ±tRNS', (ct, depth) => {
    const rng = new Random(ct * 100 + depth);
    for (const interlace of [false, true]) {
      for (const w of WIDTHS) {
        for (const h of HEIGHTS) {
          for (const trns of [false, true]) {
            const img = randomImage(rng, ct, depth, w, h, trns);
            roundTrip(`ct${ct}/${depth} ${w}×${h} interlace=${interlace} trns=${trns}`, img, interlace, () => rng.int(5));
          }
        }
      }
    }
  });

  it.each([0, 1, 2, 3, 4])('filter type %i on every row, every colour type and bit depth', (f) => {
    const rng = new Random(1000 + f);
    for (const [ct, depth] of COMBOS) {
      for (const [w, h] of [[33, 9], [9, 33], [1, 5], [5, 1]] as const) {
        for (const interlace of [false, true]) {
          roundTrip(`filter ${f} ct${ct}/${depth} ${w}×${h} interlace=${interlace}`, randomImage(rng, ct, depth, w, h, true), interlace, () => f);
        }
      }
    }
  });

  it('uses every filter type in the files it decodes (the encoder is not silently stuck on one)', () => {
    const img = randomImage(new Random(7), 6, 8, 4, 10, false);
    const data = filteredData(img, { filter: (r) => r % 5 });
    expect(Array.from({ length: 10 }, (_, r) => data[r * 17])).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
  });

  it('concatenates IDAT chunks of any size, including empty ones, and skips unknown ancillary chunks', () => {
    const img = randomImage(new Random(3), 2, 16, 9, 7, false);
    const want = expectedGray(img);
    for (const idatSize of [1, 2, 7, 100]) {
      expectClose(`idatSize ${idatSize}`, decodePng(encodePng(img, { idatSize })).gray, want, TOL);
    }
    const whole = encodePng(img);
    const [head, tail] = [whole.subarray(0, 33), whole.subarray(33)]; // after IHDR
    const extra = Uint8Array.from([...head, ...chunk('abCd', hex('0102')), ...chunk('tEXt', new TextEncoder().encode('k\0v')),
      ...tail.subarray(0, tail.length - 12), ...chunk('IDAT'), ...tail.subarray(tail.length - 12)]);
    expectClose('ancillary chunks + empty IDAT', decodePng(extra).gray, want, TOL);
  });

  it('ignores a suggested palette in an RGB image and bytes after IEND', () => {
    const img = randomImage(new Random(4), 2, 8, 5, 5, false);
    const plte = encodePng({ ...img, palette: hex('ff0000 00ff00') });
    const trailing = Uint8Array.from([...plte, 0xde, 0xad, 0xbe, 0xef, ...chunk('IDAT', hex('00'))]);
    expectClose('PLTE in RGB + trailing bytes', decodePng(trailing).gray, expectedGray(img), TOL);
  });
});

describe('decodePng on files from other encoders', () => {
  it('a 2×2 8-bit grey file (IPython test data; filters Sub and Up): all 128/255', () => {
    const png = hex(`89504e470d0a1a0a0000000d494844520000000200000002080000000057dd52f80000000e49444154789c636c606062600000
      02920084f77ca3580000000049454e44ae426082`);
    const got = decodePng(png);
    expect([got.width, got.height]).toEqual([2, 2]);
    expectClose('2x2', got.gray, [128 / 255, 128 / 255, 128 / 255, 128 / 255], TOL);
  });

  it('an 11×11 RGBA icon with sRGB, bKGD, pHYs, tIME (werkzeug "less.png"; filters Sub, Up, Paeth)', () => {
    const png = hex(`89504e470d0a1a0a0000000d494844520000000b0000000b0806000000a9ac7726000000017352474200aece1ce900000006624b4744
      00880088008874900106000000097048597300000b1300000b1301009a9c180000000774494d4507d8021a17280c3a5f870d0000003f49444154
      18d363ece8e8f8cf40246061606060282f2f27a8b0b3b39381898104403bc52cc81c4646460c05ffffffc7ae185982be6e26dd839d9d9d44290600
      8e320d4d411a3fa70000000049454e44ae426082`);
    // Pixels read with Python's zlib and a separate unfilter: grey #888888 frame, white inside, a black minus sign.
    const art = [
      'ggggggggggg', 'gwwwwwwwwwg', 'gwwwwwwwwwg', 'gwwwwwwwwwg', 'gwwwwwwwwwg', 'gwwkkkkkwwg',
      'gwwwwwwwwwg', 'gwwwwwwwwwg', 'gwwwwwwwwwg', 'gwwwwwwwwwg', 'ggggggggggg',
    ];
    const value: Record<string, number> = { g: 0x88 / 255, w: 1, k: 0 };
    const got = decodePng(png);
    expect([got.width, got.height]).toEqual([11, 11]);
    expectClose('less.png', got.gray, [...art.join('')].map((c) => value[c]!), TOL);
  });

  it('a 16×16 palette image with a 86-entry tRNS, cHRM, bKGD, tEXt (CPython test data "python.png")', () => {
    const png = hex(PYTHON_PNG);
    const got = decodePng(png);
    expect([got.width, got.height]).toEqual([16, 16]);
    // Expected values from a Python reference (zlib.decompress + unfilter + palette + tRNS, Rec. 601 × alpha).
    const pick = (i: number): number => got.gray[i]!;
    expect(pick(0)).toBe(0);
    expect(pick(4)).toBeCloseTo(0.3444209919261823, 6); // index 1 #4e8dc0, alpha 175
    expect(pick(5)).toBeCloseTo(0.4446160092272203, 6); // index 2 #4a86ba, alpha 237
    expect(pick(10)).toBeCloseTo(0.21238874279123413, 6); // index 4 #376896, alpha 146
    expect(pick(135)).toBeCloseTo(0.871815686, 6);
    expect(pick(200)).toBeCloseTo(0.806172549, 6);
    expect(got.gray.filter((v) => v === 0).length).toBe(98);
    expect(got.gray.reduce((s, v) => s + v, 0)).toBeCloseTo(88.95651681660898, 4);
  });
});

/** A valid 8-bit grey w×h file whose filtered data is given (filter bytes included). */
function greyFile(w: number, h: number, filtered: Uint8Array): Uint8Array {
  return file(chunk('IHDR', ihdr(w, h, 8, 0)), chunk('IDAT', zlib.deflateSync(filtered)), chunk('IEND'));
}

const IHDR_G8 = chunk('IHDR', ihdr(2, 2, 8, 0));
const IDAT_G8 = chunk('IDAT', zlib.deflateSync(new Uint8Array(6)));
const IEND = chunk('IEND');
const IHDR_P2 = chunk('IHDR', ihdr(2, 2, 2, 3));
const PLTE4 = chunk('PLTE', new Uint8Array(12));
const IDAT_P2 = chunk('IDAT', zlib.deflateSync(new Uint8Array(4)));

function withCrcFlipped(bytes: Uint8Array, at: number): Uint8Array {
  const out = bytes.slice();
  out[at]! ^= 0x01;
  return out;
}

describe('decodePng rejects bad input with a PngError that says why', () => {
  const rows = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);
  const cases: [string, Uint8Array, string][] = [
    ['empty', new Uint8Array(0), 'not a PNG (bad signature)'],
    ['GIF', new TextEncoder().encode('GIF89a..........'), 'not a PNG (bad signature)'],
    ['signature only', file(), 'missing IHDR'],
    ['short header', Uint8Array.from([...file(), 0, 0, 0]), 'truncated: chunk header needs 8 bytes, 3 left'],
    ['short IDAT', Uint8Array.from([...file(IHDR_G8), 0, 0, 0x20, 0, 0x49, 0x44, 0x41, 0x54, ...new Uint8Array(100)]),
      'truncated: chunk IDAT needs 8192 bytes, 100 left'],
    ['no CRC', file(IHDR_G8, IDAT_G8, IEND).subarray(0, -2), 'truncated: CRC of chunk IEND needs 4 bytes, 2 left'],
    ['flipped CRC', withCrcFlipped(file(IHDR_G8, IDAT_G8, IEND), 8 + 8 + 13), 'CRC mismatch in chunk IHDR'],
    ['flipped data', withCrcFlipped(file(IHDR_G8, IDAT_G8, IEND), 8 + 25 + 9), 'CRC mismatch in chunk IDAT'],
    ['bad type', file(IHDR_G8, chunk('ID1T'), IDAT_G8, IEND), 'bad chunk type 0x49443154 at byte 37'],
    ['huge length', Uint8Array.from([...file(IHDR_G8), 0x80, 0, 0, 0, 0x49, 0x44, 0x41, 0x54]),
      'bad length 2147483648 of chunk IDAT (more than 2^31 − 1)'],
    ['IHDR not first', file(PLTE4, IHDR_P2, IDAT_P2, IEND), 'first chunk is PLTE, expected IHDR'],
    ['duplicate IHDR', file(IHDR_G8, IHDR_G8, IDAT_G8, IEND), 'duplicate IHDR'],
    ['IHDR length', file(chunk('IHDR', ihdr(2, 2, 8, 0).subarray(0, 12)), IDAT_G8, IEND), 'bad IHDR length 12 (must be 13)'],
    ['width 0', file(chunk('IHDR', ihdr(0, 5, 8, 0)), IDAT_G8, IEND), 'bad image size 0×5 (each side must be 1..2^31 − 1)'],
    ['height 2^31', file(chunk('IHDR', ihdr(1, 2 ** 31, 8, 0)), IDAT_G8, IEND), 'bad image size 1×2147483648 (each side must be 1..2^31 − 1)'],
    ['colour type 5', file(chunk('IHDR', ihdr(2, 2, 8, 5)), IDAT_G8, IEND), 'bad colour type 5'],
    ['depth 3 RGB', file(chunk('IHDR', ihdr(2, 2, 3, 2)), IDAT_G8, IEND), 'bad bit depth 3 for colour type 2'],
    ['depth 4 RGB', file(chunk('IHDR', ihdr(2, 2, 4, 2)), IDAT_G8, IEND), 'bad bit depth 4 for colour type 2'],
    ['depth 16 palette', file(chunk('IHDR', ihdr(2, 2, 16, 3)), IDAT_G8, IEND), 'bad bit depth 16 for colour type 3'],
    ['depth 1 grey+alpha', file(chunk('IHDR', ihdr(2, 2, 1, 4)), IDAT_G8, IEND), 'bad bit depth 1 for colour type 4'],
    ['depth 2 RGBA', file(chunk('IHDR', ihdr(2, 2, 2, 6)), IDAT_G8, IEND), 'bad bit depth 2 for colour type 6'],
    ['compression 1', file(chunk('IHDR', ihdr(2, 2, 8, 0, 0, 1)), IDAT_G8, IEND), 'bad compression method 1 (must be 0)'],
    ['filter method 1', file(chunk('IHDR', ihdr(2, 2, 8, 0, 0, 0, 1)), IDAT_G8, IEND), 'bad filter method 1 (must be 0)'],
    ['interlace 2', file(chunk('IHDR', ihdr(2, 2, 8, 0, 2)), IDAT_G8, IEND), 'bad interlace method 2 (must be 0 or 1)'],
    ['10000×10000', file(chunk('IHDR', ihdr(10000, 10000, 8, 0)), IDAT_G8, IEND), 'image 10000×10000 exceeds the 4096×4096 limit'],
    ['PLTE in grey', file(IHDR_G8, PLTE4, IDAT_G8, IEND), 'PLTE is not allowed for colour type 0'],
    ['PLTE in grey+alpha', file(chunk('IHDR', ihdr(2, 2, 8, 4)), PLTE4, IDAT_G8, IEND), 'PLTE is not allowed for colour type 4'],
    ['no PLTE', file(IHDR_P2, IDAT_P2, IEND), 'missing PLTE before IDAT (colour type 3)'],
    ['PLTE length 4', file(IHDR_P2, chunk('PLTE', new Uint8Array(4)), IDAT_P2, IEND), 'bad PLTE length 4 (must be a multiple of 3 in 3..768)'],
    ['PLTE empty', file(IHDR_P2, chunk('PLTE'), IDAT_P2, IEND), 'bad PLTE length 0 (must be a multiple of 3 in 3..768)'],
    ['PLTE 257', file(chunk('IHDR', ihdr(2, 2, 8, 2)), chunk('PLTE', new Uint8Array(771)), IDAT_G8, IEND),
      'bad PLTE length 771 (must be a multiple of 3 in 3..768)'],
    ['PLTE too big for depth', file(IHDR_P2, chunk('PLTE', new Uint8Array(15)), IDAT_P2, IEND), 'PLTE has 5 entries, more than 2^2 for bit depth 2'],
    ['duplicate PLTE', file(IHDR_P2, PLTE4, PLTE4, IDAT_P2, IEND), 'duplicate PLTE'],
    ['PLTE after IDAT', file(chunk('IHDR', ihdr(2, 2, 8, 2)), IDAT_G8, PLTE4, IEND), 'PLTE after IDAT'],
    ['PLTE after tRNS', file(chunk('IHDR', ihdr(2, 2, 8, 2)), chunk('tRNS', new Uint8Array(6)), PLTE4, IDAT_G8, IEND), 'PLTE after tRNS'],
    ['tRNS in RGBA', file(chunk('IHDR', ihdr(2, 2, 8, 6)), chunk('tRNS', new Uint8Array(6)), IDAT_G8, IEND), 'tRNS is not allowed for colour type 6'],
    ['tRNS in grey+alpha', file(chunk('IHDR', ihdr(2, 2, 8, 4)), chunk('tRNS', new Uint8Array(2)), IDAT_G8, IEND), 'tRNS is not allowed for colour type 4'],
    ['tRNS grey length', file(IHDR_G8, chunk('tRNS', new Uint8Array(4)), IDAT_G8, IEND), 'bad tRNS length 4 for colour type 0 (must be 2)'],
    ['tRNS RGB length', file(chunk('IHDR', ihdr(2, 2, 8, 2)), chunk('tRNS', new Uint8Array(2)), IDAT_G8, IEND), 'bad tRNS length 2 for colour type 2 (must be 6)'],
    ['tRNS before PLTE', file(IHDR_P2, chunk('tRNS', new Uint8Array(2)), PLTE4, IDAT_P2, IEND), 'tRNS before PLTE'],
    ['tRNS too long', file(IHDR_P2, PLTE4, chunk('tRNS', new Uint8Array(5)), IDAT_P2, IEND), 'tRNS has 5 entries, more than the 4 palette entries'],
    ['duplicate tRNS', file(IHDR_G8, chunk('tRNS', new Uint8Array(2)), chunk('tRNS', new Uint8Array(2)), IDAT_G8, IEND), 'duplicate tRNS'],
    ['tRNS after IDAT', file(IHDR_G8, IDAT_G8, chunk('tRNS', new Uint8Array(2)), IEND), 'tRNS after IDAT'],
    ['split IDAT', file(IHDR_G8, IDAT_G8, chunk('tEXt', hex('6b0076')), IDAT_G8, IEND), 'IDAT chunks are not consecutive'],
    ['no IDAT', file(IHDR_G8, IEND), 'missing IDAT'],
    ['no IEND', file(IHDR_G8, IDAT_G8), 'missing IEND'],
    ['IEND with data', file(IHDR_G8, IDAT_G8, chunk('IEND', hex('00'))), 'IEND must be empty, has 1 bytes'],
    ['unknown critical', file(IHDR_G8, chunk('ABCD'), IDAT_G8, IEND), 'unknown critical chunk ABCD'],
    ['zlib header', file(IHDR_G8, chunk('IDAT', hex('0102030405')), IEND), 'corrupt zlib data: incorrect header check'],
    ['zlib cut', file(IHDR_G8, chunk('IDAT', zlib.deflateSync(new Uint8Array(6)).subarray(0, 5)), IEND), 'corrupt zlib data: unexpected end of file'],
    ['zlib Adler-32', file(IHDR_G8, chunk('IDAT', withCrcFlipped(zlib.deflateSync(new Uint8Array(6)), 10)), IEND),
      'corrupt zlib data: incorrect data check'],
    ['too little data', greyFile(2, 2, new Uint8Array(5)), 'decompressed data is 5 bytes, expected 6'],
    ['too much data', greyFile(2, 2, new Uint8Array(7)), 'decompressed data is more than 6 bytes, expected 6'],
    ['filter 7 on row 3', greyFile(2, 5, rows(0, 1, 1, 1, 1, 1, 2, 1, 1, 7, 1, 1, 0, 1, 1)), 'bad filter type 7 on row 3'],
    ['filter 5, Adam7', file(chunk('IHDR', ihdr(8, 1, 8, 0, 1)), chunk('IDAT', zlib.deflateSync(rows(0, 9, 5, 9, 0, 9, 9, 0, 9, 9, 9, 9))), IEND),
      'bad filter type 5 on row 0 of pass 2'],
    // 8×1 Adam7: passes 1, 2, 4, 6 hold pixels (3, 5, 7 are empty and have no scanlines); the third scanline is pass 4.
    ['filter 6, Adam7 pass 4', file(chunk('IHDR', ihdr(8, 1, 8, 0, 1)), chunk('IDAT', zlib.deflateSync(rows(0, 9, 0, 9, 6, 9, 9, 0, 9, 9, 9, 9))), IEND),
      'bad filter type 6 on row 0 of pass 4'],
    ['palette index', file(IHDR_P2, chunk('PLTE', new Uint8Array(9)), chunk('IDAT', zlib.deflateSync(rows(0, 0x40, 0, 0xc0))), IEND),
      'palette index 3 out of range (the palette has 3 entries)'],
  ];

  it.each(cases)('%s', (_name, bytes, message) => {
    let thrown: unknown;
    try {
      decodePng(bytes);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(PngError);
    expect((thrown as PngError).name).toBe('PngError');
    expect((thrown as PngError).message).toBe(message);
  });

  it('the valid files the cases above are built from decode (the builders are not broken)', () => {
    expect(decodePng(file(IHDR_G8, IDAT_G8, IEND)).gray).toEqual(new Float32Array(4));
    expect(decodePng(file(IHDR_P2, PLTE4, chunk('tRNS', new Uint8Array(4)), IDAT_P2, IEND)).gray).toEqual(new Float32Array(4));
    expect(decodePng(greyFile(2, 5, Uint8Array.from([0, 1, 1, 1, 1, 1, 2, 1, 1, 3, 1, 1, 0, 1, 1]))).gray.length).toBe(10);
  });

  it('enforces caller limits on bytes and pixels, and rejects bad limits', () => {
    const png = encodePng(randomImage(new Random(5), 0, 8, 33, 9, false));
    expect(() => decodePng(png, { maxBytes: png.length - 1 })).toThrow(
      new PngError(`PNG is ${png.length} bytes, exceeds the ${png.length - 1}-byte limit`));
    expect(decodePng(png, { maxBytes: png.length }).width).toBe(33);
    expect(() => decodePng(png, { maxPixels: 296 })).toThrow(new PngError('image 33×9 exceeds the 296-pixel limit'));
    expect(() => decodePng(png, { maxPixels: 289 })).toThrow(new PngError('image 33×9 exceeds the 17×17 limit'));
    expect(decodePng(png, { maxPixels: 297 }).height).toBe(9);
    expect(() => decodePng(png, { maxPixels: 0 })).toThrow(RangeError);
    expect(() => decodePng(png, { maxBytes: 1.5 })).toThrow(RangeError);
    expect(DEFAULT_MAX_PIXELS).toBe(4096 * 4096);
    expect(decodePng(file(chunk('IHDR', ihdr(4096, 1, 1, 0)), chunk('IDAT', zlib.deflateSync(new Uint8Array(513))), IEND)).width).toBe(4096);
  });
});

describe('decodePng on hostile input', () => {
  const samples = [
    encodePng(randomImage(new Random(11), 6, 16, 9, 7, false), { interlace: true, idatSize: 50 }),
    encodePng(randomImage(new Random(12), 3, 4, 13, 5, true)),
    encodePng(randomImage(new Random(13), 0, 1, 33, 3, true), { interlace: true }),
  ];

  it('a file cut at any byte throws PngError and nothing else', () => {
    for (const [k, png] of samples.entries()) {
      for (let cut = 0; cut < png.length; cut++) {
        expect(() => decodePng(png.subarray(0, cut)), `file ${k} cut at ${cut} of ${png.length}`).toThrow(PngError);
      }
      expect(decodePng(png).width).toBeGreaterThan(0);
    }
  });

  it('random corruption with repaired CRCs either decodes or throws PngError (zlib, filter and palette paths)', () => {
    const rng = new Random(99);
    let rejected = 0;
    for (let trial = 0; trial < 3000; trial++) {
      const png = samples[trial % samples.length]!.slice();
      for (let flips = 1 + rng.int(3); flips > 0; flips--) png[8 + rng.int(png.length - 8)] = rng.int(256);
      repairCrcs(png);
      try {
        const got = decodePng(png);
        expect(got.gray.every((v) => v >= 0 && v <= 1)).toBe(true);
      } catch (err) {
        if (!(err instanceof PngError)) throw err;
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(100);
  });

  it('a zlib bomb (IHDR 64×64 grey, IDAT inflating to 256 MiB) is stopped at the expected 4160 bytes', () => {
    // 1 MiB of zeros deflates to ~1 KB; with a sync flush the block is not final, so 256 copies in a row are one
    // valid deflate stream of 256 MiB. The decoder must ask zlib for at most 64 × (1 + 64) = 4160 bytes.
    const block = zlib.deflateRawSync(new Uint8Array(1 << 20), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const stream = new Uint8Array(2 + 256 * block.length);
    stream.set([0x78, 0x9c]);
    for (let k = 0; k < 256; k++) stream.set(block, 2 + k * block.length);
    const png = file(chunk('IHDR', ihdr(64, 64, 8, 0)), chunk('IDAT', stream), IEND);
    inflateCaps.length = 0;
    expect(() => decodePng(png)).toThrow(new PngError('decompressed data is more than 4160 bytes, expected 4160'));
    expect(inflateCaps).toEqual([4160]);

    // The same bomb behind an oversized IHDR is refused before zlib is called at all.
    inflateCaps.length = 0;
    const big = file(chunk('IHDR', ihdr(10000, 10000, 8, 0)), chunk('IDAT', stream), IEND);
    expect(() => decodePng(big)).toThrow(new PngError('image 10000×10000 exceeds the 4096×4096 limit'));
    expect(inflateCaps).toEqual([]);
  });
});

/** Recomputes the CRC of every complete chunk in place (stops at the first chunk that runs past the end). */
function repairCrcs(png: Uint8Array): void {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (let pos = 8; pos + 12 <= png.length;) {
    const length = view.getUint32(pos);
    if (pos + 12 + length > png.length) return;
    view.setUint32(pos + 8 + length, crc32Bitwise(png.subarray(pos + 4, pos + 8 + length)));
    pos += 12 + length;
  }
}

describe('toInk', () => {
  const W = 48;
  const H = 40;
  /** A "7": a horizontal bar and a diagonal, 4 px thick. */
  const onStroke = (x: number, y: number): boolean =>
    (y >= 8 && y < 12 && x >= 10 && x < 38) || (y >= 8 && y < 34 && Math.abs(x - (37 - (y - 8) * 0.7)) < 2);

  it('a photo (noisy, unevenly lit paper ~0.8 ± 0.05, dark ink ~0.2) becomes a clean white digit on exact 0', () => {
    const rng = new Random(21);
    const gray = new Float32Array(W * H);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const light = 0.8 + 0.04 * (x / W - 0.5); // a gentle illumination gradient
        const v = onStroke(x, y) ? 0.2 + 0.05 * rng.normal() : light + 0.05 * rng.normal();
        gray[y * W + x] = Math.min(1, Math.max(0, v));
      }
    }
    const ink = toInk(gray, W, H);
    const stroke: number[] = [];
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const v = ink[y * W + x]!;
        if (onStroke(x, y)) stroke.push(v);
        else expect(v, `background at (${x}, ${y})`).toBe(0);
      }
    }
    stroke.sort((a, b) => a - b);
    expect(stroke[0]).toBeGreaterThan(0.5); // every ink pixel survives, well above the 0.2 floor
    expect(stroke[stroke.length >> 1]).toBeGreaterThan(0.8); // typical ink is strong
    expect(stroke[stroke.length - 1]).toBe(1); // the strongest tenth saturates
  });

  it('a canvas (white digit, anti-aliased edges, on black) keeps its shape and values; faint specks go', () => {
    const gray = new Float32Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (onStroke(x, y)) gray[y * W + x] = 1;
    gray[7 * W + 20] = 0.5; // an anti-aliased edge pixel
    gray[12 * W + 15] = 0.25;
    gray[30 * W + 2] = 0.1; // a speck below the 0.2 floor
    const want = gray.map((v) => (v >= 0.2 ? v : 0));
    expectClose('canvas ink', toInk(gray, W, H), want, TOL);
  });

  it('a canvas PNG with the digit on a transparent background (RGBA) decodes and inks to the same digit', () => {
    const samples = new Uint16Array(W * H * 4); // transparent black everywhere …
    for (let p = 0; p < W * H; p++) {
      if (onStroke(p % W, Math.floor(p / W))) samples.set([255, 255, 255, 255], 4 * p); // … but opaque white strokes
      else if (p % 7 === 0) samples.set([255, 255, 255, 0], 4 * p); // transparent *white* is still background
    }
    const img = decodePng(encodePng({ width: W, height: H, colourType: 6, bitDepth: 8, samples }));
    const ink = toInk(img.gray, img.width, img.height);
    for (let p = 0; p < W * H; p++) expect(ink[p], `pixel ${p}`).toBe(onStroke(p % W, Math.floor(p / W)) ? 1 : 0);
  });

  it('all black, all white, uniform grey and blank noisy paper have no ink: all zeros', () => {
    const rng = new Random(22);
    const blank: [string, Float32Array][] = [
      ['black', new Float32Array(W * H)],
      ['white', new Float32Array(W * H).fill(1)],
      ['grey', new Float32Array(W * H).fill(0.5)],
      ['paper', Float32Array.from({ length: W * H }, () => 0.8 + 0.05 * rng.normal())],
      ['dark noise', Float32Array.from({ length: W * H }, () => Math.abs(0.03 * rng.normal()))],
    ];
    for (const [name, gray] of blank) expect(toInk(gray, W, H).every((v) => v === 0), name).toBe(true);
  });

  it('output is in {0} ∪ [0.2, 1], the input is not modified, and sizes are checked', () => {
    const rng = new Random(23);
    const gray = Float32Array.from({ length: 30 * 20 }, () => rng.next());
    gray[5] = NaN;
    gray[6] = 7;
    const copy = gray.slice();
    const ink = toInk(gray, 30, 20);
    expect(ink.every((v) => v === 0 || (v >= 0.2 && v <= 1))).toBe(true);
    expect(gray).toEqual(copy);
    expect(() => toInk(gray, 30, 21)).toThrow(RangeError);
    expect(() => toInk(new Float32Array(0), 0, 0)).toThrow(RangeError);
  });
});

/** CPython's Lib/test/imghdrdata/python.png (1020 bytes, written by ImageMagick in 2014), as hex. */
const PYTHON_PNG = `
89504e470d0a1a0a0000000d4948445200000010000000100803000000282d0f53000000206348524d00007a26000080840000fa00000080
e8000075300000ea6000003a98000017709cba513c000001c5504c54450000004e8dc04a86ba3c719e376896000000000000000000000000
0000004e8fc44c8abf4885b6437dad3d74a1396c963666900000000000005291c6fddd4af9d53e000000326087000000fdd5360000003568
92000000ecce450000003669931b3145000000000000e2c345fdd9410000004681b2366791000000f2e16efde96afdcb1b437dae1c324bf5
e36ff3c11a4075a33d73a2000000c29a12000000000000000000000000000000e8c73debc534ebc22aebbe21ebbb18c69b12000000000000
000000000000000000000000000000fdde4e000000000000000000000000f1d03ffad339fdd22ffac719c097120000000000000000000000
000000000000004883b4447ead4078a74c8abcffffff457faf4179a83e74a23a6f9b3669944985b74680b1427baa3e75a33b709d376a9638
6c974f8dc14b88bb447dad4078a63d73a0396d99ffe255508fc34c89bc4884b53d74a1ffde4bffda414d8bbe4680b03b709cffda42ffd637
ffd32d4a87b94781b2437cab3f76a5ffd738ffcf23ffe661ffe357ffdf4dffdb42ffd32effcf24ffeb6cffe761ffdb43ffd739ffcc1c3a70
9cffe762ffe358ffdf4effd32fffdb44ffd73affd330ffd025ffd83affd430ffd026924900020000005674524e5300afedf7920b03284115
7ea0a1a3a7aaaa4818bdf7820ab643ed24f74f883db65c4c476bf746f7aa4ea6f7f7d75bb3c26ff74b7a3408213c35aaa9a9a9a979200209
13122c1ef7401c05014cccf7d87b3b1d4245381ff832107100000001624b47445a03bba5a2000000f54944415418d36360000246a6b0f008
661656360628888c8a8e898d8b6767850924242625a7a4c6737082795cdc3cbc7cfc0269f1f1824220be707a46586656764e3c5020574454
8c212fbf203aa6300ec81797282a9694622849284d4a2e4b8d971697912dafa89463a8aaaea99557501454e25056a9abac576550cbcc52d7
d0d46a686c6aae6b69d55662d08929d4d56b6b6f6ceae86c69edd2e7603030ec366aebe9edebe8ec6fedea323661303533b700f22dadac6d
6c6ded38ec191c1c9d9c7bfb264c9c34b98bc3c2c515e27ab70953a64e8bd276f770f4f4020b78fbf84eebf2f30f708679ce34d022482938
24d414c806004062427fc82d9be50000002574455874646174653a63726561746500323031342d30312d32365432303a35393a33372b3032
3a3030fb9a07770000002574455874646174653a6d6f6469667900323031342d30312d32365432303a35393a30302b30323a3030c1ef86a6
0000000049454e44ae426082`;
