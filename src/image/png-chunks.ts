// The PNG container (see: PNG spec, 3rd ed., §5 "Datastream structure", §11.2 critical chunks, §11.3.1.1 tRNS):
//   8-byte signature, then chunks: length u32 BE (≤ 2^31 − 1) | type, 4 ASCII letters | data | CRC-32 of type+data.
// Validates the signature, every chunk's length, type and CRC, IHDR, PLTE and tRNS, and the chunk order
// IHDR … PLTE … tRNS … IDAT (consecutive) … IEND; bytes after IEND are ignored. Returns the concatenated IDAT
// data, still compressed. Not here: inflating, filters, pixels (png.ts), ancillary chunks other than tRNS.

import { crc32 } from 'node:zlib';
import { PngError } from './png-error.js';

export type ColourType = 0 | 2 | 3 | 4 | 6;

export interface PngHeader {
  readonly width: number;
  readonly height: number;
  readonly bitDepth: number;
  readonly colourType: ColourType;
  readonly interlaced: boolean;
}

export interface PngChunks {
  readonly header: PngHeader;
  /** Colour type 3 only: RGB triples, 1..2^bitDepth entries. Null for other types (a suggested palette is ignored). */
  readonly palette: Uint8Array | null;
  /** The tRNS data as stored (grey: 2 bytes, RGB: 6 bytes, palette: ≤ one alpha byte per entry), or null. */
  readonly transparency: Uint8Array | null;
  /** All IDAT data, concatenated: one zlib stream. */
  readonly idat: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const MAX_CHUNK_LENGTH = 0x7fffffff;
/** Allowed bit depths per colour type (PNG spec Table 11.1). */
const BIT_DEPTHS: Readonly<Record<ColourType, readonly number[]>> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};
/** Samples per pixel by colour type. */
export const CHANNELS: Readonly<Record<ColourType, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function isColourType(n: number): n is ColourType {
  return n === 0 || n === 2 || n === 3 || n === 4 || n === 6;
}

function isLetter(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/** "4096×4096" when the limit is a square, else "1000000-pixel". */
function pixelLimitLabel(maxPixels: number): string {
  const side = Math.round(Math.sqrt(maxPixels));
  return side * side === maxPixels ? `${side}×${side}` : `${maxPixels}-pixel`;
}

function parseHeader(data: Uint8Array, maxPixels: number): PngHeader {
  if (data.length !== 13) throw new PngError(`bad IHDR length ${data.length} (must be 13)`);
  const width = u32(data, 0);
  const height = u32(data, 4);
  const bitDepth = data[8]!;
  const colourType = data[9]!;
  const compression = data[10]!;
  const filter = data[11]!;
  const interlace = data[12]!;
  if (width < 1 || height < 1 || width > MAX_CHUNK_LENGTH || height > MAX_CHUNK_LENGTH) {
    throw new PngError(`bad image size ${width}×${height} (each side must be 1..2^31 − 1)`);
  }
  if (!isColourType(colourType)) throw new PngError(`bad colour type ${colourType}`);
  if (!BIT_DEPTHS[colourType].includes(bitDepth)) {
    throw new PngError(`bad bit depth ${bitDepth} for colour type ${colourType}`);
  }
  if (compression !== 0) throw new PngError(`bad compression method ${compression} (must be 0)`);
  if (filter !== 0) throw new PngError(`bad filter method ${filter} (must be 0)`);
  if (interlace !== 0 && interlace !== 1) throw new PngError(`bad interlace method ${interlace} (must be 0 or 1)`);
  // Checked here, from IHDR alone, so an oversized image is refused before anything is inflated or allocated.
  if (width * height > maxPixels) {
    throw new PngError(`image ${width}×${height} exceeds the ${pixelLimitLabel(maxPixels)} limit`);
  }
  return { width, height, bitDepth, colourType, interlaced: interlace === 1 };
}

/** Splits and validates the chunks of `bytes`. `maxPixels` is enforced as soon as IHDR is read. Throws PngError. */
export function readChunks(bytes: Uint8Array, maxPixels: number): PngChunks {
  if (bytes.length < SIGNATURE.length || SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new PngError('not a PNG (bad signature)');
  }
  let header: PngHeader | null = null;
  let palette: Uint8Array | null = null;
  let transparency: Uint8Array | null = null;
  let sawPalette = false;
  const idat: Uint8Array[] = [];
  let idatDone = false; // a non-IDAT chunk followed the IDAT run: another IDAT would not be consecutive
  let ended = false;
  let pos = SIGNATURE.length;
  while (pos < bytes.length) {
    const left = bytes.length - pos;
    if (left < 8) throw new PngError(`truncated: chunk header needs 8 bytes, ${left} left`);
    const length = u32(bytes, pos);
    const typeBytes = bytes.subarray(pos + 4, pos + 8);
    if (!typeBytes.every(isLetter)) {
      const hex = Array.from(typeBytes, (b) => b.toString(16).padStart(2, '0')).join('');
      throw new PngError(`bad chunk type 0x${hex} at byte ${pos + 4}`);
    }
    const type = String.fromCharCode(...typeBytes);
    if (length > MAX_CHUNK_LENGTH) throw new PngError(`bad length ${length} of chunk ${type} (more than 2^31 − 1)`);
    const start = pos + 8;
    const rest = bytes.length - start;
    if (rest < length) throw new PngError(`truncated: chunk ${type} needs ${length} bytes, ${rest} left`);
    if (rest < length + 4) throw new PngError(`truncated: CRC of chunk ${type} needs 4 bytes, ${rest - length} left`);
    // The CRC covers the type and the data, not the length. zlib.crc32 is PNG's CRC-32 (ISO 3309, reflected
    // 0xEDB88320, see: PNG spec §5.5), unsigned; a subarray is a view, so nothing is copied.
    if (crc32(bytes.subarray(pos + 4, start + length)) !== u32(bytes, start + length)) {
      throw new PngError(`CRC mismatch in chunk ${type}`);
    }
    const data = bytes.subarray(start, start + length);
    pos = start + length + 4;

    if (header === null && type !== 'IHDR') throw new PngError(`first chunk is ${type}, expected IHDR`);
    if (idat.length > 0 && type !== 'IDAT') idatDone = true;
    switch (type) {
      case 'IHDR':
        if (header !== null) throw new PngError('duplicate IHDR');
        header = parseHeader(data, maxPixels);
        break;
      case 'PLTE': {
        const h = header!;
        if (h.colourType === 0 || h.colourType === 4) throw new PngError(`PLTE is not allowed for colour type ${h.colourType}`);
        if (sawPalette) throw new PngError('duplicate PLTE');
        if (idat.length > 0) throw new PngError('PLTE after IDAT');
        if (transparency !== null) throw new PngError('PLTE after tRNS');
        if (length === 0 || length % 3 !== 0 || length > 768) {
          throw new PngError(`bad PLTE length ${length} (must be a multiple of 3 in 3..768)`);
        }
        if (h.colourType === 3 && length / 3 > 1 << h.bitDepth) {
          throw new PngError(`PLTE has ${length / 3} entries, more than 2^${h.bitDepth} for bit depth ${h.bitDepth}`);
        }
        sawPalette = true;
        if (h.colourType === 3) palette = data;
        break;
      }
      case 'tRNS': {
        const h = header!;
        if (h.colourType === 4 || h.colourType === 6) throw new PngError(`tRNS is not allowed for colour type ${h.colourType}`);
        if (transparency !== null) throw new PngError('duplicate tRNS');
        if (idat.length > 0) throw new PngError('tRNS after IDAT');
        if (h.colourType === 3) {
          if (palette === null) throw new PngError('tRNS before PLTE');
          if (length > palette.length / 3) {
            throw new PngError(`tRNS has ${length} entries, more than the ${palette.length / 3} palette entries`);
          }
        } else {
          const want = h.colourType === 0 ? 2 : 6;
          if (length !== want) throw new PngError(`bad tRNS length ${length} for colour type ${h.colourType} (must be ${want})`);
        }
        transparency = data;
        break;
      }
      case 'IDAT':
        if (idatDone) throw new PngError('IDAT chunks are not consecutive');
        if (header!.colourType === 3 && palette === null) throw new PngError('missing PLTE before IDAT (colour type 3)');
        idat.push(data);
        break;
      case 'IEND':
        if (length !== 0) throw new PngError(`IEND must be empty, has ${length} bytes`);
        if (idat.length === 0) throw new PngError('missing IDAT');
        ended = true;
        break;
      default:
        // Bit 5 of the first letter (lowercase) marks an ancillary chunk, which a decoder may skip (spec §5.4).
        if ((typeBytes[0]! & 0x20) === 0) throw new PngError(`unknown critical chunk ${type}`);
    }
    if (ended) break; // anything after IEND is ignored, as libpng and browsers do
  }
  if (header === null) throw new PngError('missing IHDR');
  if (!ended) throw new PngError('missing IEND');
  return { header, palette, transparency, idat: concat(idat) };
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
