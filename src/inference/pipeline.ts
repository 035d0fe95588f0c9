// The one composed inference pipeline: strokes, a live drawing, a raster, a PNG or a tensor → the preprocessing stage
// (the wasm core's FastPreprocessor: src/preprocess/fast-strokes.ts) → the forward stage (a Predictor) → Prediction,
// each stage timed through an injected observer. The server's transports, `npm run eval` and the benchmarks call
// this; nothing else composes the stages. One pipeline per thread: it owns one 28×28 input buffer, reused per call.
// Not here: validating requests (src/protocol.ts, the transports), which model is served (server/model-holder.ts).

import { FastPreprocessor, type CanvasSpec, type StrokeSession } from '../preprocess/index.js';
import { decodePng, toInk, type PngLimits } from '../image/index.js';
import { loadCore } from '../wasm/core.js';
import { INPUT_SIZE, NO_INK, type Prediction, type Predictor } from './predictor.js';

export type Stage = 'preprocess' | 'forward';

/** Told the duration of every stage run (seconds). Called on the hot path: it must not allocate. */
export interface StageObserver {
  observe(stage: Stage, seconds: number): void;
}

/** Anything that renders itself into the 28×28 input: a live StrokeSession. */
export interface Drawing {
  toMnist(out: Float32Array): boolean;
}

const UNOBSERVED: StageObserver = { observe: () => undefined };
const now = (): number => performance.now() / 1000;

export class InferencePipeline {
  /** The 28×28 input the preprocessing stage writes and the forward stage reads (one call at a time per thread). */
  readonly input = new Float32Array(INPUT_SIZE);

  constructor(readonly preprocessor: FastPreprocessor, private readonly observer: StageObserver = UNOBSERVED) {}

  /** A pipeline on a fresh core of its own (long-lived: live sessions keep their points in its memory). */
  static async create(observer?: StageObserver): Promise<InferencePipeline> {
    return new InferencePipeline(new FastPreprocessor(await loadCore()), observer);
  }

  /** A new, empty live drawing on a canvas of this spec (free() it when done). */
  session(spec: CanvasSpec): StrokeSession {
    return this.preprocessor.session(spec);
  }

  /** A live drawing's current state → prediction (NO_INK without ink). Allocates only the prediction. */
  predictDrawing(p: Predictor, drawing: Drawing): Prediction {
    const t0 = now();
    const ink = drawing.toMnist(this.input);
    this.observer.observe('preprocess', now() - t0);
    return ink ? this.forward(p, this.input) : NO_INK;
  }

  /** Whole strokes ([x, y] points each) drawn on `canvas` → prediction. */
  predictStrokes(p: Predictor, strokes: ReadonlyArray<ReadonlyArray<readonly [number, number]>>, canvas: CanvasSpec): Prediction {
    const t0 = now();
    const ink = this.strokesToMnist(strokes, canvas, this.input);
    this.observer.observe('preprocess', now() - t0);
    return ink ? this.forward(p, this.input) : NO_INK;
  }

  /** A width×height coverage raster (ink high, values ≥ 0) → prediction. */
  predictRaster(p: Predictor, pixels: ArrayLike<number>, width: number, height: number): Prediction {
    const t0 = now();
    const ink = this.preprocessor.rasterToMnist(pixels, width, height, this.input);
    this.observer.observe('preprocess', now() - t0);
    return ink ? this.forward(p, this.input) : NO_INK;
  }

  /** PNG bytes (any colour type; dark ink on light or light on dark) → prediction. Throws PngError for a bad file. */
  predictPng(p: Predictor, bytes: Uint8Array, limits?: PngLimits): Prediction {
    const t0 = now();
    const ink = this.pngToMnist(bytes, this.input, limits);
    this.observer.observe('preprocess', now() - t0);
    return ink ? this.forward(p, this.input) : NO_INK;
  }

  /** An MNIST-style 28×28 input, already preprocessed → prediction (the forward stage alone). */
  predictTensor(p: Predictor, input: ArrayLike<number>): Prediction {
    return this.forward(p, input);
  }

  /** n inputs back to back (n·784 values) → probabilities (n·10) and digits (n). */
  predictBatch(p: Predictor, inputs: Float32Array, n: number): { probs: Float32Array; digits: Int32Array } {
    const t0 = now();
    const r = p.predictBatch(inputs, n);
    this.observer.observe('forward', now() - t0);
    return r;
  }

  /** The preprocessing stage alone, for strokes: false (out all zeros) without ink. */
  strokesToMnist(strokes: ReadonlyArray<ReadonlyArray<readonly [number, number]>>, canvas: CanvasSpec, out: Float32Array): boolean {
    const s = this.preprocessor.session(canvas);
    try {
      for (const stroke of strokes) s.addStroke(stroke);
      return s.toMnist(out);
    } finally {
      s.free();
    }
  }

  /** The preprocessing stage alone, for a PNG: decode → ink coverage → the raster path. */
  pngToMnist(bytes: Uint8Array, out: Float32Array, limits?: PngLimits): boolean {
    const img = decodePng(bytes, limits);
    return this.preprocessor.rasterToMnist(toInk(img.gray, img.width, img.height), img.width, img.height, out);
  }

  private forward(p: Predictor, input: ArrayLike<number>): Prediction {
    const t0 = now();
    const pred = p.predict(input);
    this.observer.observe('forward', now() - t0);
    return pred;
  }
}
