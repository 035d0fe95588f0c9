// A small PNG encoder for tests, written independently of src/image/: every colour type × bit depth, a chosen
// filter per scanline (forward filters, Paeth included), Adam7 by the spec's 8×8 pass pattern (not by origins and
// steps as the decoder does), PLTE/tRNS, IDAT split at any size, and raw chunk building for hostile files. CRC-32 is
// computed bit by bit (no table). Not for production: no compression tuning, no validation of its input.

import { deflateSync } from 'node:zlib';

export type ColourType = 0 | 2 | 3 | 4 | 6;

export const SAMPLES_PER_PIXEL: Record<ColourType, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export interface RawImage {
  width: number;
  height: number;
  colourType: ColourType;
  bitDepth: number;
  /** Row-major samples, interleaved per pixel, each in 0..2^bitDepth − 1 (palette images: indices). */
  samples: ArrayLike<number>;
  /** PLTE data: RGB triples. */
  palette?: Uint8Array;
  /** tRNS data as stored in the file. */
  trns?: Uint8Array;
}

export interface EncodeOptions {
  interlace?: boolean;
  /** Filter type of scanline `row` of pass `pass` (1..7, or 0 when not interlaced). Default: row % 5. */
  filter?: (row: number, pass: number) => number;
  /** Split the zlib stream into IDAT chunks of at most this many bytes (default: one chunk). */
  idatSize?: number;
  /** Replaces the zlib stream (to build corrupt or oversized files). */
  zlib?: Uint8Array;
}

/** CRC-32 (reflected 0xEDB88320), one bit at a time: the definition, not the table-driven form. */
export function crc32Bitwise(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return (c ^ 0xffffffff) >>> 0;
}

export const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** One chunk: length, type, data, CRC (correct unless `crc` is given). */
export function chunk(type: string, data: Uint8Array = new Uint8Array(0), crc?: number): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc ?? crc32Bitwise(out.subarray(4, 8 + data.length)));
  return out;
}

/** The 13 bytes of IHDR. */
export function ihdr(width: number, height: number, bitDepth: number, colourType: number, interlace = 0,
  compression = 0, filter = 0): Uint8Array {
  const out = new Uint8Array(13);
  const view = new DataView(out.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  out.set([bitDepth, colourType, compression, filter, interlace], 8);
  return out;
}

/** Signature + the chunks, back to back. */
export function file(...chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(8 + chunks.reduce((n, c) => n + c.length, 0));
  out.set(SIGNATURE);
  let at = 8;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The spec's Adam7 diagram (PNG spec §8.2): the pass of pixel (x, y) is PATTERN[y % 8][x % 8]. */
const PATTERN = [
  [1, 6, 4, 6, 2, 6, 4, 6],
  [7, 7, 7, 7, 7, 7, 7, 7],
  [5, 6, 5, 6, 5, 6, 5, 6],
  [7, 7, 7, 7, 7, 7, 7, 7],
  [3, 6, 4, 6, 3, 6, 4, 6],
  [7, 7, 7, 7, 7, 7, 7, 7],
  [5, 6, 5, 6, 5, 6, 5, 6],
  [7, 7, 7, 7, 7, 7, 7, 7],
];

/** The sub-images to encode: for each pass, its rows, each a list of pixel indices (y·width + x). */
function subImages(width: number, height: number, interlace: boolean): { pass: number; rows: number[][] }[] {
  if (!interlace) {
    return [{ pass: 0, rows: Array.from({ length: height }, (_, y) => Array.from({ length: width }, (_, x) => y * width + x)) }];
  }
  const out: { pass: number; rows: number[][] }[] = [];
  for (let pass = 1; pass <= 7; pass++) {
    const rows: number[][] = [];
    for (let y = 0; y < height; y++) {
      const row: number[] = [];
      for (let x = 0; x < width; x++) if (PATTERN[y % 8]![x % 8] === pass) row.push(y * width + x);
      if (row.length > 0) rows.push(row);
    }
    if (rows.length > 0) out.push({ pass, rows });
  }
  return out;
}

/** Packs one scanline's samples, most significant bits first; 16-bit samples big-endian; pads the last byte. */
function pack(img: RawImage, pixels: number[]): Uint8Array {
  const spp = SAMPLES_PER_PIXEL[img.colourType];
  const bits = img.bitDepth;
  const out = new Uint8Array(Math.ceil((pixels.length * spp * bits) / 8));
  let bit = 0;
  for (const p of pixels) {
    for (let c = 0; c < spp; c++) {
      const s = img.samples[p * spp + c]!;
      if (bits === 16) {
        out[bit >> 3] = s >> 8;
        out[(bit >> 3) + 1] = s & 255;
      } else {
        out[bit >> 3]! |= s << (8 - bits - (bit % 8));
      }
      bit += bits;
    }
  }
  return out;
}

function predictor(type: number, a: number, b: number, c: number): number {
  switch (type) {
    case 0: return 0;
    case 1: return a;
    case 2: return b;
    case 3: return Math.floor((a + b) / 2);
    case 4: {
      // Spec §9.4: estimate p = a + b − c, choose the closest of a, b, c, preferring a then b on ties.
      const p = a + b - c;
      const [da, db, dc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
      return da <= db && da <= dc ? a : db <= dc ? b : c;
    }
    default: throw new Error(`encoder: no filter type ${type}`);
  }
}

/** The filtered, uncompressed image data: for each pass, for each row, filter byte + filtered bytes. */
export function filteredData(img: RawImage, opts: EncodeOptions = {}): Uint8Array {
  const bpp = Math.max(1, (SAMPLES_PER_PIXEL[img.colourType] * img.bitDepth) / 8);
  const pick = opts.filter ?? ((row: number) => row % 5);
  const parts: number[] = [];
  for (const { pass, rows } of subImages(img.width, img.height, opts.interlace ?? false)) {
    let prior: Uint8Array | null = null;
    rows.forEach((pixels, r) => {
      const line = pack(img, pixels);
      const type = pick(r, pass);
      parts.push(type);
      for (let i = 0; i < line.length; i++) {
        const a = i >= bpp ? line[i - bpp]! : 0;
        const b = prior ? prior[i]! : 0;
        const c = prior && i >= bpp ? prior[i - bpp]! : 0;
        parts.push((line[i]! - predictor(type, a, b, c) + 256) % 256);
      }
      prior = line;
    });
  }
  return Uint8Array.from(parts);
}

/** A complete PNG of `img`. */
export function encodePng(img: RawImage, opts: EncodeOptions = {}): Uint8Array {
  const zlib = opts.zlib ?? deflateSync(filteredData(img, opts));
  const size = opts.idatSize ?? Math.max(1, zlib.length);
  const idats: Uint8Array[] = [];
  for (let at = 0; at < zlib.length || idats.length === 0; at += size) idats.push(chunk('IDAT', zlib.subarray(at, at + size)));
  return file(
    chunk('IHDR', ihdr(img.width, img.height, img.bitDepth, img.colourType, opts.interlace ? 1 : 0)),
    ...(img.palette ? [chunk('PLTE', img.palette)] : []),
    ...(img.trns ? [chunk('tRNS', img.trns)] : []),
    ...idats,
    chunk('IEND'),
  );
}
