// Learning-rate schedules as pure functions of progress: lr(step) for step in [0, total).
//   constant: lr0.   cosine: lr0·½(1 + cos(π·t)) after a linear warm-up.   step: lr0·γ^⌊epoch/every⌋.
// Not here: the optimizer (src/nn/optimizer.ts).

export type ScheduleName = 'constant' | 'cosine' | 'step';
export const SCHEDULES: readonly ScheduleName[] = ['constant', 'cosine', 'step'];

export interface ScheduleOptions {
  readonly name: ScheduleName;
  readonly lr: number;
  readonly totalSteps: number;
  readonly stepsPerEpoch: number;
  /** Linear warm-up steps (cosine only). */
  readonly warmupSteps?: number;
  /** step schedule: multiply by gamma every `every` epochs. */
  readonly gamma?: number;
  readonly every?: number;
}

export function learningRate(o: ScheduleOptions, step: number): number {
  switch (o.name) {
    case 'constant':
      return o.lr;
    case 'cosine': {
      const warm = o.warmupSteps ?? 0;
      if (step < warm) return (o.lr * (step + 1)) / warm;
      const t = (step - warm) / Math.max(1, o.totalSteps - warm);
      return 0.5 * o.lr * (1 + Math.cos(Math.PI * Math.min(1, t)));
    }
    case 'step':
      return o.lr * (o.gamma ?? 0.1) ** Math.floor(step / o.stepsPerEpoch / (o.every ?? 10));
  }
}
