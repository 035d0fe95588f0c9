// Training-time augmentation aimed at drawn digits: people draw off-centre, small, large, tilted, thick and thin.
// One random affine map per image (rotation ±maxRotation, isotropic scale, shift in pixels) sampled bilinearly about
// the image centre, then an optional stroke-thickness change (grayscale dilation or erosion over the 4-neighbours,
// blended by a random strength). Pure functions over 28×28 u8 → f32 in [0, 1]; deterministic given the Random.
// Not here: the inference-time normalisation of drawings (that is preprocessing, shared with the browser).

import type { Random } from '../random.js';

export interface AugmentOptions {
  /** Maximum |rotation| in degrees. */
  readonly maxRotationDeg: number;
  /** Scale factor drawn uniformly from [1 − s, 1 + s]. */
  readonly scaleRange: number;
  /** Maximum |shift| in pixels, per axis. */
  readonly maxShift: number;
  /** Probability of a thickness change (half thicker, half thinner). */
  readonly thicknessProb: number;
}

export const DEFAULT_AUGMENT: AugmentOptions = { maxRotationDeg: 12, scaleRange: 0.12, maxShift: 2, thicknessProb: 0.5 };

const SIDE = 28;
const CENTRE = (SIDE - 1) / 2;

/**
 * Writes an augmented copy of `src` (28×28 u8, 0..255) into `out[0..784)` as f32 in [0, 1]. `scratch` is 784 f32
 * of reusable space (no allocation per image).
 */
export function augmentImage(out: Float32Array, src: Uint8Array, srcOffset: number, rng: Random, opts: AugmentOptions,
  scratch: Float32Array): void {
  const angle = rng.uniform(-opts.maxRotationDeg, opts.maxRotationDeg) * (Math.PI / 180);
  const scale = rng.uniform(1 - opts.scaleRange, 1 + opts.scaleRange);
  const tx = rng.uniform(-opts.maxShift, opts.maxShift);
  const ty = rng.uniform(-opts.maxShift, opts.maxShift);
  const thickness = rng.next() < opts.thicknessProb ? (rng.next() < 0.5 ? 1 : -1) : 0;
  const strength = rng.uniform(0.4, 1);
  // Inverse map: output pixel p → source q = R(−θ)·(p − c − t)/s + c.
  const cos = Math.cos(angle) / scale, sin = Math.sin(angle) / scale;
  const target = thickness === 0 ? out : scratch;
  for (let y = 0; y < SIDE; y++) {
    const dy = y - CENTRE - ty;
    // Walk the row incrementally: each step in x moves the source point by (cos, −sin).
    let sx = cos * (-CENTRE - tx) + sin * dy + CENTRE;
    let sy = -sin * (-CENTRE - tx) + cos * dy + CENTRE;
    for (let x = 0; x < SIDE; x++, sx += cos, sy -= sin) {
      target[y * SIDE + x] = bilinear(src, srcOffset, sx, sy);
    }
  }
  if (thickness !== 0) morph(out, scratch, thickness > 0, strength);
}

/** Writes `src` into `out` as f32 in [0, 1] unchanged (the no-augmentation path and evaluation). */
export function toUnit(out: Float32Array, src: Uint8Array, srcOffset: number): void {
  for (let i = 0; i < SIDE * SIDE; i++) out[i] = src[srcOffset + i]! / 255;
}

// Bilinear sample of the 28×28 image at (x, y), scaled to [0, 1]; outside the image is 0 (background).
function bilinear(src: Uint8Array, off: number, x: number, y: number): number {
  if (x <= -1 || y <= -1 || x >= SIDE || y >= SIDE) return 0;
  // x, y > −1 here, so truncating x + 1 is floor(x) + 1 (and cheaper than Math.floor).
  const x0 = ((x + 1) | 0) - 1, y0 = ((y + 1) | 0) - 1;
  const fx = x - x0, fy = y - y0;
  const i = off + y0 * SIDE + x0;
  const inX0 = x0 >= 0, inX1 = x0 < SIDE - 1, inY0 = y0 >= 0, inY1 = y0 < SIDE - 1;
  const p00 = inX0 && inY0 ? src[i]! : 0;
  const p10 = inX1 && inY0 ? src[i + 1]! : 0;
  const p01 = inX0 && inY1 ? src[i + SIDE]! : 0;
  const p11 = inX1 && inY1 ? src[i + SIDE + 1]! : 0;
  return ((p00 + (p10 - p00) * fx) * (1 - fy) + (p01 + (p11 - p01) * fx) * fy) * (1 / 255);
}

// Grayscale dilation (max) or erosion (min) over the pixel and its 4-neighbours (0 outside), blended:
// out = v + k·(m − v). Written with plain comparisons: Math.max/min over five arguments is several times slower.
function morph(out: Float32Array, img: Float32Array, dilate: boolean, k: number): void {
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const i = y * SIDE + x;
      const v = img[i]!;
      const up = y > 0 ? img[i - SIDE]! : 0, down = y < SIDE - 1 ? img[i + SIDE]! : 0;
      const left = x > 0 ? img[i - 1]! : 0, right = x < SIDE - 1 ? img[i + 1]! : 0;
      let m = v;
      if (dilate) {
        if (up > m) m = up;
        if (down > m) m = down;
        if (left > m) m = left;
        if (right > m) m = right;
      } else {
        if (up < m) m = up;
        if (down < m) m = down;
        if (left < m) m = left;
        if (right < m) m = right;
      }
      out[i] = v + k * (m - v);
    }
  }
}
