// The contract shared by the rasteriser, the normaliser, the server and the browser client: the MNIST geometry
// (28×28 field, 20-px ink box, centre of mass at (14, 14)), the ink threshold, and the shapes of a canvas and of a
// pixel box. Constants and types only; no behaviour.
//
// Coordinates everywhere are continuous: pixel i covers [i, i + 1) and its centre is i + 0.5.

/** Stored in model files next to the weights; bump it whenever the maths of this module changes. */
export const PREPROCESSING_VERSION = 'mnist-28x28-v1';

/** The model input is SIDE×SIDE = 784 floats, row-major, ink 1.0 on paper 0.0. */
export const SIDE = 28;

/** MNIST size-normalised every digit so its longer side fits this many pixels, keeping the aspect ratio. */
export const INK_BOX = 20;

/**
 * Where the ink's intensity-weighted centre of mass is placed, on both axes, in continuous coordinates: 14.5, the
 * centre of pixel 14 — not the geometric centre 14.0 of the field. That is what MNIST actually did (it computed the
 * centre of mass in pixel-index coordinates and shifted it to index 14 by a whole-pixel translation): over the 10k
 * test digits the centre of mass is at (14.508, 14.493) on average, spread uniformly over [14, 15] (5–95%:
 * 14.05–14.95). Placing drawings at 14.0 would hand the model inputs half a pixel up-left of its training data.
 */
export const CENTRE_OF_MASS = 14.5;

/**
 * A pixel is ink iff its value is strictly greater than this: one 8-bit grey level. It is the float32 rounding of
 * 1/255 (slightly above the double 1/255), so that a level-1 pixel is paper whether it is stored as a double or in a
 * Float32Array — both round to at most this value.
 */
export const INK_THRESHOLD = Math.fround(1 / 255);

/** A drawing canvas: size in canvas pixels, brush = stroke diameter in canvas pixels (default client 280, 280, 18). */
export interface CanvasSpec {
  readonly width: number;
  readonly height: number;
  readonly brush: number;
}

/** Pixel bounds, inclusive-exclusive: columns [x0, x1), rows [y0, y1). */
export interface PixelBox {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}
