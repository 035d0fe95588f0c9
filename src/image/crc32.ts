// CRC-32 as PNG uses it (ISO 3309 / ITU-T V.42: reflected polynomial 0xEDB88320, initial value and final XOR
// 0xFFFFFFFF; see: PNG spec §5.5 and its Annex D sample code), table-driven: one 256-entry table, one lookup per byte.
// Not here: zlib's Adler-32 (node:zlib checks that one while inflating).

/** TABLE[n] = the CRC register after shifting byte n through eight rounds of the reflected polynomial. */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 of bytes[start, end) as an unsigned 32-bit number. Called by png-chunks.ts for every chunk. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  // `& 0xff` keeps the index in 0..255, so the lookup is never undefined; `!` only tells the type checker so.
  for (let i = start; i < end; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
