// Turns an RGBA image (a canvas's getImageData().data, or a decoded PNG) into the coverage raster normalizeToMnist
// takes: one float in [0, 1] per pixel, ink high. Not here: decoding PNG bytes (the caller's), or any resizing.
//
// Grey level is Rec. 601 luma Y = 0.299 R + 0.587 G + 0.114 B (what PIL's convert('L') uses). Transparency is
// composited over the paper, so a transparent canvas with black strokes and an opaque white one give the same ink:
//   dark ink on light paper: ink = α·(1 − Y/255)     light ink on dark paper (MNIST's own look): ink = α·Y/255

/** Which way round the image is: 'dark-on-light' (default: black pen on white or transparent) or 'light-on-dark'. */
export type InkPolarity = 'dark-on-light' | 'light-on-dark';

/** Writes width·height coverage values into `out` (allocated if omitted) from 4·width·height RGBA bytes. */
export function coverageFromRgba(rgba: ArrayLike<number>, width: number, height: number,
  polarity: InkPolarity = 'dark-on-light', out: Float32Array = new Float32Array(width * height)): Float32Array {
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
    throw new RangeError(`coverageFromRgba: dimensions must be positive integers, got ${width}×${height}`);
  }
  const n = width * height;
  if (rgba.length !== 4 * n) {
    throw new RangeError(`coverageFromRgba: ${rgba.length} bytes, ${width}×${height} RGBA needs ${4 * n}`);
  }
  if (out.length !== n) throw new RangeError(`coverageFromRgba: out has ${out.length} values, needs ${n}`);
  const dark = polarity === 'dark-on-light';
  const k = 1 / (255 * 255); // α/255 · Y/255
  for (let i = 0, p = 0; i < n; i++, p += 4) {
    const y = 0.299 * rgba[p]! + 0.587 * rgba[p + 1]! + 0.114 * rgba[p + 2]!;
    const a = rgba[p + 3]!;
    out[i] = dark ? (a * (255 - y)) * k : (a * y) * k;
  }
  return out;
}
