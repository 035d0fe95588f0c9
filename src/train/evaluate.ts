// Evaluation of an Mlp on a labelled set: accuracy, per-class accuracy and the confusion matrix
// (rows = true class, columns = predicted). Runs in batches of the network's maxBatch; no augmentation.

import type { Mlp } from '../nn/mlp.js';
import { toUnit } from './augment.js';

/** 28×28 u8 images (count·784 bytes) with labels 0..classes−1. */
export interface LabelledImages {
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

export interface Evaluation {
  readonly accuracy: number;
  readonly count: number;
  readonly correct: number;
  readonly perClassAccuracy: number[];
  /** confusion[t][p]: how many of class t were predicted as p. */
  readonly confusion: number[][];
  readonly meanLoss: number;
}

export function evaluate(mlp: Mlp, set: LabelledImages, limit = set.count): Evaluation {
  const classes = mlp.classes;
  const pixels = mlp.sizes[0]!;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const n = Math.min(limit, set.count);
  let correct = 0;
  let lossSum = 0;
  for (let start = 0; start < n; start += mlp.maxBatch) {
    const B = Math.min(mlp.maxBatch, n - start);
    const input = mlp.acts[0]!.data;
    const targets = mlp.targets.data;
    for (let b = 0; b < B; b++) {
      toUnit(input.subarray(b * pixels, (b + 1) * pixels), set.images, (start + b) * pixels);
      targets[b] = set.labels[start + b]!;
    }
    lossSum += mlp.loss(B) * B;
    correct += mlp.countCorrect(B);
    const predictions = mlp.predictions.data;
    for (let b = 0; b < B; b++) confusion[set.labels[start + b]!]![predictions[b]!]!++;
  }
  return summary(confusion, confusion.map((row) => row.reduce((x, y) => x + y, 0)), correct, n, lossSum);
}

/** The same Evaluation from per-image predictions (`predict(i)` for image i: the digit, null for no ink, and its
 * probabilities), for inputs that go through the whole inference pipeline (eval --via png). Loss: −log p(label),
 * with p floored at 1e-12 (a "no ink" answer, all zeros, counts as wrong at that loss). */
export function evaluatePredictions(labels: Uint8Array, count: number, classes: number,
  predict: (i: number) => { digit: number | null; probs: ArrayLike<number> }): Evaluation {
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const totals = new Array<number>(classes).fill(0); // per true class: a "no ink" answer is in no confusion cell
  let correct = 0;
  let lossSum = 0;
  for (let i = 0; i < count; i++) {
    const label = labels[i]!;
    totals[label]!++;
    const { digit, probs } = predict(i);
    if (digit === label) correct++;
    if (digit !== null) confusion[label]![digit]!++;
    lossSum -= Math.log(Math.max(1e-12, probs[label] ?? 0));
  }
  return summary(confusion, totals, correct, count, lossSum);
}

/** The Evaluation of a filled confusion matrix, given the images per true class. */
function summary(confusion: number[][], totals: number[], correct: number, count: number, lossSum: number): Evaluation {
  const perClassAccuracy = confusion.map((row, t) => (totals[t] === 0 ? 0 : row[t]! / totals[t]!));
  return { accuracy: count === 0 ? 0 : correct / count, count, correct, perClassAccuracy, confusion, meanLoss: count === 0 ? 0 : lossSum / count };
}
