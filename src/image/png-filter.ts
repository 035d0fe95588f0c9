// Reverses PNG filter method 0 (see: PNG spec, 3rd ed., §7.3 and §9 "Filtering"), in place, one pass at a time.
// Each scanline is a filter-type byte followed by `stride` filtered bytes; with x the byte being rebuilt,
// a = the byte `bpp` to its left, b = the byte above, c = the byte above a (0 outside the pass):
//   0 None: x   1 Sub: x + a   2 Up: x + b   3 Average: x + floor((a + b) / 2)   4 Paeth: x + paeth(a, b, c)
// all mod 256. Not here: Adam7 geometry or what the bytes mean (png.ts, png-pixels.ts).

import { PngError } from './png-error.js';

/** The Paeth predictor exactly as the spec's pseudocode (§9.4): the nearest of a, b, c to a + b − c; ties → a, then b. */
export function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  if (pb <= pc) return b;
  return c;
}

/**
 * Unfilters `rows` scanlines of `1 + stride` bytes starting at data[offset], in place. `bpp` is the filter unit:
 * bytes per complete pixel, rounded up to 1. `where` names the pass in errors ("" or " of pass 3").
 * Rows are numbered from 0 in messages. Writes into a Uint8Array wrap mod 256 by themselves, so no `& 255` is needed.
 */
export function unfilterRows(data: Uint8Array, offset: number, stride: number, rows: number, bpp: number, where: string): void {
  for (let r = 0; r < rows; r++) {
    const f = offset + r * (stride + 1); // the filter-type byte
    const p = f + 1; // this row's first byte
    const q = p - (stride + 1); // the previous row's first byte (only read when r > 0)
    const end = p + stride;
    const type = data[f]!;
    switch (type) {
      case 0:
        break;
      case 1:
        for (let i = p + bpp; i < end; i++) data[i] = data[i]! + data[i - bpp]!;
        break;
      case 2:
        if (r > 0) for (let i = p, j = q; i < end; i++, j++) data[i] = data[i]! + data[j]!;
        break;
      case 3:
        if (r === 0) {
          for (let i = p + bpp; i < end; i++) data[i] = data[i]! + (data[i - bpp]! >> 1);
        } else {
          for (let i = p, j = q; i < p + bpp && i < end; i++, j++) data[i] = data[i]! + (data[j]! >> 1);
          for (let i = p + bpp, j = q + bpp; i < end; i++, j++) data[i] = data[i]! + ((data[i - bpp]! + data[j]!) >> 1);
        }
        break;
      case 4:
        if (r === 0) {
          // Above is all zeros: paeth(a, 0, 0) = a, i.e. Sub.
          for (let i = p + bpp; i < end; i++) data[i] = data[i]! + data[i - bpp]!;
        } else {
          // Left of the first pixel a = c = 0: paeth(0, b, 0) = b, i.e. Up.
          for (let i = p, j = q; i < p + bpp && i < end; i++, j++) data[i] = data[i]! + data[j]!;
          for (let i = p + bpp, j = q + bpp; i < end; i++, j++) {
            data[i] = data[i]! + paeth(data[i - bpp]!, data[j]!, data[j - bpp]!);
          }
        }
        break;
      default:
        throw new PngError(`bad filter type ${type} on row ${r}${where}`);
    }
  }
}
