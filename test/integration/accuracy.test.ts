// The inference pipeline (wasm preprocessing: src/inference/, src/preprocess/fast-strokes.ts) is at least as accurate
// as the full-canvas TypeScript reference it replaced (stroke-raster.ts + normalize.ts), on the same trained model:
// MNIST test images through the PNG path, and drawn digits small, off-centre, thick and thin. Prints both figures.

import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelRegistry } from '../../src/model/registry.js';
import { loadModel } from '../../src/model/model-file.js';
import { InferencePipeline, Predictor, type Prediction } from '../../src/inference/index.js';
import { decodePng, encodeGrayPng, toInk } from '../../src/image/index.js';
import { normalizeToMnist, rasterizeStrokes, type CanvasSpec } from '../../src/preprocess/index.js';
import { Random } from '../../src/random.js';
import { place } from '../helpers/digits.js';
import { addTrainedModel, mnistSplit } from '../helpers/model.js';

let pipeline: InferencePipeline;
let predictor: Predictor;
const input = new Float32Array(784);
const reference = (pixels: ArrayLike<number>, w: number, h: number): Prediction =>
  normalizeToMnist(pixels, w, h, input) ? predictor.predict(input) : { digit: null, probs: [] };

beforeAll(async () => {
  const registry = new ModelRegistry(join(mkdtempSync(join(tmpdir(), 'doodle-accuracy-')), 'models'));
  const version = await addTrainedModel(registry, { sizes: [784, 128, 10], epochs: 2, limit: 30000, augment: true, seed: 5 });
  predictor = await Predictor.create(loadModel(registry.resolve(version)), version);
  pipeline = await InferencePipeline.create();
}, 120_000);

describe('accuracy of the pipeline against the reference preprocessing', () => {
  it('MNIST test images as PNGs: at least as accurate (2,000 images)', () => {
    const test = mnistSplit('test');
    const n = 2000;
    let fast = 0, ref = 0;
    const image = new Float32Array(784);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 784; k++) image[k] = test.images[i * 784 + k]! / 255;
      const png = encodeGrayPng(image, 28, 28);
      if (pipeline.predictPng(predictor, png).digit === test.labels[i]) fast++;
      const img = decodePng(png);
      if (reference(toInk(img.gray, img.width, img.height), 28, 28).digit === test.labels[i]) ref++;
    }
    console.log(`MNIST test via PNG, ${n} images: pipeline ${(100 * fast / n).toFixed(2)}%, reference ${(100 * ref / n).toFixed(2)}%`);
    expect(ref / n).toBeGreaterThan(0.9); // the model is a real one
    expect(fast).toBeGreaterThanOrEqual(ref - 0.001 * n);
  });

  it.each([
    ['centred', { x: 70, y: 30, w: 140, h: 220 }, 18],
    ['small', { x: 10, y: 190, w: 50, h: 75 }, 18],
    ['off-centre', { x: 160, y: 10, w: 100, h: 150 }, 18],
    ['thick', { x: 60, y: 30, w: 150, h: 220 }, 40],
    ['thin', { x: 60, y: 30, w: 150, h: 220 }, 6],
  ] as const)('drawn digits, %s: at least as accurate (120 drawings)', (name, box, brush) => {
    const rng = new Random(21);
    const canvas: CanvasSpec = { width: 280, height: 280, brush };
    let fast = 0, ref = 0, n = 0;
    for (let trial = 0; trial < 12; trial++) {
      for (let d = 0; d <= 9; d++) {
        const strokes = place(d, box, rng);
        n++;
        if (pipeline.predictStrokes(predictor, strokes, canvas).digit === d) fast++;
        if (reference(rasterizeStrokes(strokes, canvas).pixels, 280, 280).digit === d) ref++;
      }
    }
    console.log(`drawn digits, ${name} (brush ${brush}), ${n} drawings: pipeline ${(100 * fast / n).toFixed(1)}%, reference ${(100 * ref / n).toFixed(1)}%`);
    expect(fast).toBeGreaterThanOrEqual(ref - 1); // one drawing of slack: the two renderers differ by ≤ 0.02 per pixel
  });
});
