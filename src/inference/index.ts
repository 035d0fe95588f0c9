// Inference: the composed pipeline (pipeline.ts: input → preprocessing → forward → Prediction) and the served model's
// forward stage (predictor.ts).

export { InferencePipeline, type Drawing, type Stage, type StageObserver } from './pipeline.js';
export { Predictor, NO_INK, INPUT_SIZE, CLASSES, type Prediction, type ModelFacts } from './predictor.js';
