// The smallest PNG writer this project needs: 8-bit greyscale, filter 0 on every row, one IDAT (node:zlib deflate).
// `npm run eval -- --via png` turns MNIST's test images into the PNG bodies a client would POST. Not a general
// encoder (test/helpers/png-encode.ts, written independently, covers every colour type for the decoder's tests).

import { crc32, deflateSync } from 'node:zlib';

/** A PNG of width×height grey levels given in [0, 1] (clamped, rounded to 1/255). */
export function encodeGrayPng(pixels: ArrayLike<number>, width: number, height: number): Uint8Array {
  const raw = Buffer.alloc((width + 1) * height); // each row: filter byte 0, then the row's samples
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = Math.round(Math.min(1, Math.max(0, pixels[y * width + x]!)) * 255);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth; colour type 0 (grey), compression, filter and interlace methods 0
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data, crc32(head.subarray(4))));
  return Buffer.concat([head, data, crc]);
}
