// The metrics.json document written by `npm run train` (beside the model in the registry, as an MLflow artifact)
// and by `npm run eval`: overall and per-class accuracy and the confusion matrix (rows = true digit).

import type { Evaluation } from './evaluate.js';

export interface MetricsDocument {
  testAccuracy: number;
  testLoss: number;
  count: number;
  correct: number;
  perClassAccuracy: Record<string, number>;
  confusionMatrix: number[][];
  [extra: string]: unknown;
}

export function metricsDocument(e: Evaluation, extra: Record<string, unknown> = {}): MetricsDocument {
  return {
    testAccuracy: e.accuracy,
    testLoss: e.meanLoss,
    count: e.count,
    correct: e.correct,
    perClassAccuracy: Object.fromEntries(e.perClassAccuracy.map((a, i) => [String(i), a])),
    confusionMatrix: e.confusion,
    ...extra,
  };
}
