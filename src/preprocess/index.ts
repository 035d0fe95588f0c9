// Preprocessing shared by the server and the browser client: strokes → coverage raster → MNIST-style 28×28 input,
// in TypeScript (the reference) and on the wasm core (fast-strokes.ts: the caller hands it the core instance).
// No Node or DOM APIs and no imports from the rest of src/. The oracles in reference.ts are
// deliberately not re-exported (tests and benches import them directly).

export {
  PREPROCESSING_VERSION, SIDE, INK_BOX, CENTRE_OF_MASS, INK_THRESHOLD, type CanvasSpec, type PixelBox,
} from './spec.js';
export { StrokeRaster, rasterizeStrokes } from './stroke-raster.js';
export { normalizeToMnist } from './normalize.js';
export { coverageFromRgba, type InkPolarity } from './image-data.js';
export { FastPreprocessor, StrokeSession, type PreprocessCore } from './fast-strokes.js';
