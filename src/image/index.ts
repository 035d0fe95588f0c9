// The image boundary as the server sees it: PNG bytes → luminance (decodePng) → white-on-black ink (toInk).
// Imports only its own folder and node:zlib; nothing else from src/.

export { decodePng, DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, PngError, LUMA_B, LUMA_G, LUMA_R } from './png.js';
export type { DecodedPng, PngLimits } from './png.js';
export { toInk } from './ink.js';
export { encodeGrayPng } from './png-encode.js';
