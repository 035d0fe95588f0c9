// The metrics.json document written by `npm run train` (beside the model in the registry, as an MLflow artifact)
// and by `npm run eval`: overall and per-class accuracy and the confusion matrix (rows = true digit); the same matrix
// as the MLflow table artifact confusion_matrix.json.

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

/**
 * The confusion matrix as an MLflow table artifact (confusion_matrix.json): pandas' "split" layout without index,
 * the file `mlflow.log_table` writes and `mlflow.load_table` reads. One row per true digit:
 * {"columns":["true_digit","predicted_0",…,"predicted_9"],"data":[[0,971,0,…],[1,0,1120,…],…]}.
 */
export function confusionTable(e: Evaluation): { columns: string[]; data: number[][] } {
  return {
    columns: ['true_digit', ...e.confusion.map((_, p) => `predicted_${p}`)],
    data: e.confusion.map((row, t) => [t, ...row]),
  };
}

/** The mlflow.loggedArtifacts tag log_table leaves (Python's json.dumps spacing), which load_table searches for. */
export const CONFUSION_TABLE_TAG = '[{"path": "confusion_matrix.json", "type": "table"}]';
