// Turns unfiltered PNG samples into one number per pixel: luma in [0, 1] composited onto black.
//   Y = 0.299·R + 0.587·G + 0.114·B (Rec. 601 weights, on the stored gamma-encoded values, each divided by 2^depth − 1)
//   out = Y·α + 0·(1 − α)   (α = alpha sample / (2^depth − 1); tRNS: key colour → α = 0, palette → its alpha byte)
// Grey is Y = G. Not here: gamma/colour chunks (gAMA, cHRM, sRGB, iCCP are ignored), filters, interlacing.

import type { ColourType, PngChunks } from './png-chunks.js';
import { PngError } from './png-error.js';

export const LUMA_R = 0.299;
export const LUMA_G = 0.587;
export const LUMA_B = 0.114;

/** Luminance of pixel `i` of the scanline whose first (unfiltered) byte is data[row]. */
export type PixelReader = (data: Uint8Array, row: number, i: number) => number;

/** The reader for this image's colour type, bit depth, palette and tRNS. Built once per image. */
export function pixelReader(chunks: PngChunks): PixelReader {
  const { header, palette, transparency: trns } = chunks;
  const depth = header.bitDepth;
  const colourType: ColourType = header.colourType;
  const max = 2 ** depth - 1;

  if (colourType === 3) {
    // Palette: a lookup table of composited luma per index; NaN marks an index past the palette's end.
    const entries = palette!.length / 3;
    const lut = new Float64Array(256).fill(NaN);
    for (let k = 0; k < entries; k++) {
      const y = (LUMA_R * palette![3 * k]! + LUMA_G * palette![3 * k + 1]! + LUMA_B * palette![3 * k + 2]!) / 255;
      const alpha = trns !== null && k < trns.length ? trns[k]! / 255 : 1;
      lut[k] = y * alpha;
    }
    return (data, row, i) => {
      const index = sampleBelow8(data, row, i, depth);
      const v = lut[index]!;
      if (Number.isNaN(v)) throw new PngError(`palette index ${index} out of range (the palette has ${entries} entries)`);
      return v;
    };
  }

  // A tRNS key colour is compared with the raw samples; an out-of-range key (≥ 2^depth) simply never matches.
  const key = (k: number): number => (trns === null ? -1 : (trns[2 * k]! << 8) | trns[2 * k + 1]!);
  if (colourType === 0 && depth < 8) {
    const lut = new Float64Array(max + 1);
    for (let v = 0; v <= max; v++) lut[v] = v === key(0) ? 0 : v / max;
    return (data, row, i) => lut[sampleBelow8(data, row, i, depth)]!;
  }

  // 8- and 16-bit samples: s(j) reads sample j of the row (big-endian for 16 bits).
  const wide = depth === 16;
  const spp = colourType === 0 ? 1 : colourType === 2 ? 3 : colourType === 4 ? 2 : 4;
  const s = wide
    ? (data: Uint8Array, at: number): number => (data[at]! << 8) | data[at + 1]!
    : (data: Uint8Array, at: number): number => data[at]!;
  const step = wide ? 2 : 1;
  const px = spp * step; // bytes per pixel
  switch (colourType) {
    case 0: {
      const g0 = key(0);
      return (data, row, i) => {
        const g = s(data, row + i * px);
        return g === g0 ? 0 : g / max;
      };
    }
    case 2: {
      const r0 = key(0);
      const g0 = key(1);
      const b0 = key(2);
      return (data, row, i) => {
        const at = row + i * px;
        const r = s(data, at);
        const g = s(data, at + step);
        const b = s(data, at + 2 * step);
        return r === r0 && g === g0 && b === b0 ? 0 : (LUMA_R * r + LUMA_G * g + LUMA_B * b) / max;
      };
    }
    case 4:
      return (data, row, i) => {
        const at = row + i * px;
        return (s(data, at) / max) * (s(data, at + step) / max);
      };
    case 6:
      return (data, row, i) => {
        const at = row + i * px;
        const y = (LUMA_R * s(data, at) + LUMA_G * s(data, at + step) + LUMA_B * s(data, at + 2 * step)) / max;
        return y * (s(data, at + 3 * step) / max);
      };
  }
}

/** Sample i of a row packed at 1, 2, 4 or 8 bits per sample, most significant bits first (spec §7.2). */
function sampleBelow8(data: Uint8Array, row: number, i: number, depth: number): number {
  if (depth === 8) return data[row + i]!;
  const bit = i * depth;
  return (data[row + (bit >> 3)]! >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
}
