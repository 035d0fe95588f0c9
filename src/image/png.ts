// decodePng: a PNG file → its luminance, one float in [0, 1] per pixel, alpha composited onto black (a transparent
// canvas pixel is black). Every colour type and bit depth, all five filters, Adam7, tRNS. Hostile input is
// bounded: the body size and the pixel count (from IHDR, before inflating) are limited, and inflate may produce
// exactly the expected number of bytes and no more. Not here: colour management, ancillary chunks but tRNS, encoding.
// Format and decisions: docs/png.md.

import { inflateSync } from 'node:zlib';
import { CHANNELS, readChunks, type PngHeader } from './png-chunks.js';
import { PngError } from './png-error.js';
import { unfilterRows } from './png-filter.js';
import { pixelReader } from './png-pixels.js';

export { PngError } from './png-error.js';
export { LUMA_B, LUMA_G, LUMA_R } from './png-pixels.js';

export interface PngLimits {
  /** Largest width × height accepted (default 4096 × 4096), checked from IHDR before anything is inflated. */
  maxPixels?: number;
  /** Largest file accepted, in bytes (default 8 MiB). */
  maxBytes?: number;
}

export interface DecodedPng {
  width: number;
  height: number;
  /** Row-major luminance, width × height values in [0, 1]. */
  gray: Float32Array;
}

export const DEFAULT_MAX_PIXELS = 4096 * 4096;
export const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;

/** One Adam7 pass (or the whole image when not interlaced): pixels (x0 + i·dx, y0 + j·dy), width × height of them. */
interface Pass {
  /** Adam7 pass number 1..7; 0 when the image is not interlaced. */
  readonly pass: number;
  readonly x0: number;
  readonly y0: number;
  readonly dx: number;
  readonly dy: number;
  readonly width: number;
  readonly height: number;
}

/** Adam7 origins and steps per pass (PNG spec §8.2): [x0, y0, dx, dy]. */
const ADAM7 = [
  [0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2],
] as const;

/** The non-empty passes of an image; a pass with no columns or no rows has no scanlines at all (not even filter bytes). */
function passes(width: number, height: number, interlaced: boolean): Pass[] {
  if (!interlaced) return [{ pass: 0, x0: 0, y0: 0, dx: 1, dy: 1, width, height }];
  return ADAM7.map(([x0, y0, dx, dy], k) => ({
    pass: k + 1, x0, y0, dx, dy,
    width: Math.max(0, Math.ceil((width - x0) / dx)),
    height: Math.max(0, Math.ceil((height - y0) / dy)),
  })).filter((p) => p.width > 0 && p.height > 0);
}

/** Bytes of one scanline's pixel data (without its filter byte): sub-byte rows are padded to a whole byte. */
function strideOf(header: PngHeader, width: number): number {
  return Math.ceil((width * CHANNELS[header.colourType] * header.bitDepth) / 8);
}

function checkLimit(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`decodePng: ${name} must be a positive integer, got ${value}`);
}

/** Decodes a whole PNG file. Throws PngError for anything wrong with `bytes`; RangeError for bad `limits`. */
export function decodePng(bytes: Uint8Array, limits: PngLimits = {}): DecodedPng {
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS;
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  checkLimit('maxPixels', maxPixels);
  checkLimit('maxBytes', maxBytes);
  if (bytes.length > maxBytes) throw new PngError(`PNG is ${bytes.length} bytes, exceeds the ${maxBytes}-byte limit`);

  const chunks = readChunks(bytes, maxPixels);
  const { header } = chunks;
  const { width, height } = header;
  const list = passes(width, height, header.interlaced);
  let expected = 0;
  for (const p of list) expected += p.height * (1 + strideOf(header, p.width));
  const raw = inflateExactly(chunks.idat, expected);

  const gray = new Float32Array(width * height);
  const read = pixelReader(chunks);
  const bpp = Math.max(1, (CHANNELS[header.colourType] * header.bitDepth) >> 3);
  let offset = 0;
  for (const p of list) {
    const stride = strideOf(header, p.width);
    unfilterRows(raw, offset, stride, p.height, bpp, p.pass > 0 ? ` of pass ${p.pass}` : '');
    for (let j = 0; j < p.height; j++) {
      const row = offset + j * (stride + 1) + 1;
      let out = (p.y0 + j * p.dy) * width + p.x0;
      for (let i = 0; i < p.width; i++, out += p.dx) gray[out] = read(raw, row, i);
    }
    offset += p.height * (stride + 1);
  }
  return { width, height, gray };
}

/**
 * Inflates the zlib stream with maxOutputLength = `expected`: Node stops and throws ERR_BUFFER_TOO_LARGE as soon as
 * the output would pass it (it accepts exactly `expected`), so a bomb costs at most `expected` bytes plus one
 * internal chunk. Data after the end of the zlib stream is ignored by node:zlib (libpng merely warns about it).
 */
function inflateExactly(idat: Uint8Array, expected: number): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = inflateSync(idat, { maxOutputLength: expected });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new PngError(`decompressed data is more than ${expected} bytes, expected ${expected}`, { cause: err });
    }
    if (code === 'ERR_OUT_OF_RANGE') {
      // Only reachable with a caller's maxPixels far above the default: more than a Buffer can hold.
      throw new PngError(`decompressed data would be ${expected} bytes, too large to decode`, { cause: err });
    }
    if (typeof code === 'string' && code.startsWith('Z_')) {
      throw new PngError(`corrupt zlib data: ${(err as Error).message}`, { cause: err });
    }
    throw err;
  }
  if (raw.length !== expected) throw new PngError(`decompressed data is ${raw.length} bytes, expected ${expected}`);
  return raw;
}
