// Fast readers for the HTTP bodies that carry one 28×28 model input, writing straight into the caller's Float32Array:
// - `{"image": [784 numbers]}` (the common JSON /predict body): one pass over the bytes, no string, no parse tree,
//   no array of numbers. Anything else — other keys, another length, a value outside [0, 1], a number form it does
//   not take (a sign, an exponent, more than 17 digits) — returns false, and the caller takes the general path
//   (JSON.parse + parsePredictBody), which accepts it or gives the documented error. So the fast path changes speed,
//   never answers: each value is the float32 of the double JSON.parse would give (a ≤ 15-digit mantissa and 10^k
//   are exact doubles and IEEE division rounds correctly; for 16–17 digits, see below).
// - `application/octet-stream`: 784 float32 little-endian (3,136 bytes) or 784 uint8 (0–255 → /255).

import { ProtocolError } from '../protocol.js';

const PIXELS = 784;
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k); // exact doubles up to 1e22

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const KEY = [0x22, 0x69, 0x6d, 0x61, 0x67, 0x65, 0x22]; // "image"

/** `{"image":[v0,…,v783]}` with JSON whitespace → out[0..784), true; anything else → false (see the header). */
export function readMnistImageJson(body: Uint8Array, out: Float32Array): boolean {
  const n = body.length;
  let i = 0;
  while (i < n && isSpace(body[i]!)) i++;
  if (body[i++] !== 0x7b) return false; // {
  while (i < n && isSpace(body[i]!)) i++;
  for (const c of KEY) if (body[i++] !== c) return false;
  while (i < n && isSpace(body[i]!)) i++;
  if (body[i++] !== 0x3a) return false; // :
  while (i < n && isSpace(body[i]!)) i++;
  if (body[i++] !== 0x5b) return false; // [
  let count = 0;
  for (;;) {
    while (i < n && isSpace(body[i]!)) i++;
    // A number: 0 | [1-9][0-9]*, then optionally . [0-9]+ (no sign, no exponent on this path).
    const start = i;
    let mantissa = 0;
    let digits = 0;
    let c = body[i];
    if (c === 0x30) {
      i++;
    } else if (c !== undefined && c >= 0x31 && c <= 0x39) {
      while (i < n && (c = body[i]!) >= 0x30 && c <= 0x39) { mantissa = mantissa * 10 + (c - 0x30); digits++; i++; }
    } else {
      return false;
    }
    let scale = 0;
    if (body[i] === 0x2e) { // .
      i++;
      const from = i;
      while (i < n && (c = body[i]!) >= 0x30 && c <= 0x39) {
        mantissa = mantissa * 10 + (c - 0x30);
        if (mantissa !== 0) digits++;
        i++;
      }
      scale = i - from;
      if (scale === 0) return false;
    }
    if (i === start || digits > 17 || scale > 22) return false;
    c = body[i];
    if (c === 0x65 || c === 0x45) return false; // an exponent: the general path
    let v = scale === 0 ? mantissa : mantissa / POW10[scale]!;
    if (digits > 15) {
      // 16–17 digits (JSON.stringify's shortest form often has them): the mantissa was rounded up to twice and the
      // quotient once, so v is within 2^-51 of the decimal, and so is the double JSON.parse gives. Where every
      // double that close rounds to the same float32, that float32 is the general path's; else read it as it does.
      const f = Math.fround(v);
      if (Math.fround(v * (1 - 2 ** -48)) !== f || Math.fround(v * (1 + 2 ** -48)) !== f || v === 1) {
        v = Number(String.fromCharCode(...body.subarray(start, i)));
      }
    }
    if (!(v <= 1) || count === PIXELS) return false;
    out[count++] = v;
    while (i < n && isSpace(body[i]!)) i++;
    c = body[i++];
    if (c === 0x2c) continue; // ,
    if (c !== 0x5d) return false; // ]
    break;
  }
  if (count !== PIXELS) return false;
  while (i < n && isSpace(body[i]!)) i++;
  if (body[i++] !== 0x7d) return false; // }
  while (i < n && isSpace(body[i]!)) i++;
  return i === n;
}

/** An application/octet-stream model input: 784 float32 LE in [0, 1], or 784 uint8 scaled by 1/255. Throws ProtocolError. */
export function readTensorBytes(body: Uint8Array, out: Float32Array): void {
  if (body.length === PIXELS) {
    for (let i = 0; i < PIXELS; i++) out[i] = body[i]! / 255;
    return;
  }
  if (body.length !== PIXELS * 4) {
    throw new ProtocolError('bad_message', `an application/octet-stream body must be ${PIXELS * 4} bytes (784 float32, ` +
      `little-endian) or ${PIXELS} bytes (784 uint8), got ${body.length}`);
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  for (let i = 0; i < PIXELS; i++) {
    const v = view.getFloat32(i * 4, true);
    if (!(v >= 0 && v <= 1)) throw new ProtocolError('out_of_range', `value ${i} = ${v} is not in [0, 1]`);
    out[i] = v;
  }
}
