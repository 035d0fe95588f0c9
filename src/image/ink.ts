// toInk: decoded luminance → "ink", the model's convention: 1 = ink, 0 = background, exact 0 where there is no ink.
// Works for a canvas export (light strokes on black) and for a photo of paper (dark ink on a light, noisy page):
//   1. polarity: median > 0.5 → light background → v = 1 − g, else v = g
//   2. background: level = median(v) + 3·1.4826·MAD(v)   (MAD = median |v − median|, a robust σ of the paper)
//   3. stretch: d = max(0, v − level); s = 90th percentile of d over d > 0; out = min(1, d / s); out < 0.2 → 0
//   4. no ink: nothing above the level, or s < 0.1 (a blank or evenly noisy page) → all zeros
// Quantiles come from a 4096-bin histogram. Not here: cropping, scaling or centring (preprocess/ does those).

/** Median above this → the background is light (paper) and the image is inverted. */
const LIGHT_BACKGROUND = 0.5;
/** The background level sits this many robust standard deviations above the median. */
const NOISE_SIGMAS = 3;
/** σ ≈ 1.4826·MAD for Gaussian noise. */
const MAD_TO_SIGMA = 1.4826;
/** The percentile of the above-background values that maps to 1 ("strong ink"). */
const INK_QUANTILE = 0.9;
/** Below this strength (in luminance units above the background level) there is no ink, only texture. */
const MIN_CONTRAST = 0.1;
/** After stretching, values below this are zeroed so paper texture does not inflate a bounding box. */
const FAINT = 0.2;
const BINS = 4096;

/** The histogram bin of a value in [0, 1]: BINS equal bins, 1 itself in the last. */
function bin(v: number): number {
  const b = (v * BINS) | 0; // v ≥ 0, so truncation is floor
  return b < BINS - 1 ? b : BINS - 1;
}

/**
 * The q-quantile (the ⌊q·(n − 1)⌋-th smallest of the n counted values) read off a histogram: `up` = false gives the
 * lower edge of its bin, true the upper edge. So it is within 1/4096 of exact, and a majority of exact 0s (or 1s)
 * yields exactly 0 (or 1). NaN when nothing was counted.
 */
function quantile(hist: Uint32Array, q: number, up: boolean): number {
  let n = 0;
  for (let b = 0; b < BINS; b++) n += hist[b]!;
  if (n === 0) return NaN;
  const k = Math.floor(q * (n - 1));
  let seen = 0;
  for (let b = 0; b < BINS; b++) {
    seen += hist[b]!;
    if (seen > k) return (up ? b + 1 : b) / BINS;
  }
  return 1; // unreachable: the counts add up to n > k
}

/**
 * White-on-black ink in [0, 1] (width × height, row-major) from luminance in [0, 1] (decodePng's `gray`).
 * Values outside [0, 1] are clamped and NaN counts as 0; `gray` is not modified. Called by the server before
 * preprocessing. Five passes over the pixels, each fused with the histogram the next step needs; one allocation.
 */
export function toInk(gray: Float32Array, width: number, height: number): Float32Array {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`toInk: bad size ${width}×${height}`);
  }
  if (gray.length !== width * height) {
    throw new RangeError(`toInk: ${gray.length} values for a ${width}×${height} image (${width * height})`);
  }
  const n = gray.length;
  const v = new Float32Array(n); // v, then d, then the output, in place
  const hist = new Uint32Array(BINS);
  for (let i = 0; i < n; i++) {
    const g = gray[i]!;
    const x = g > 0 ? (g < 1 ? g : 1) : 0; // clamp; NaN fails `g > 0` and becomes 0
    v[i] = x;
    hist[bin(x)]!++;
  }
  if (quantile(hist, 0.5, false) > LIGHT_BACKGROUND) {
    hist.fill(0);
    for (let i = 0; i < n; i++) {
      const x = 1 - v[i]!;
      v[i] = x;
      hist[bin(x)]!++;
    }
  }
  const median = quantile(hist, 0.5, false);
  hist.fill(0);
  for (let i = 0; i < n; i++) hist[bin(Math.abs(v[i]! - median))]!++;
  const level = median + NOISE_SIGMAS * MAD_TO_SIGMA * quantile(hist, 0.5, false);

  hist.fill(0);
  for (let i = 0; i < n; i++) {
    const d = v[i]! - level;
    if (d > 0) {
      v[i] = d;
      hist[bin(d)]!++;
    } else {
      v[i] = 0;
    }
  }
  const strength = quantile(hist, INK_QUANTILE, true); // over d > 0 only
  if (!(strength >= MIN_CONTRAST)) return v.fill(0); // NaN (nothing above the level) included
  for (let i = 0; i < n; i++) {
    const x = v[i]! / strength;
    v[i] = x >= 1 ? 1 : x < FAINT ? 0 : x;
  }
  return v;
}
