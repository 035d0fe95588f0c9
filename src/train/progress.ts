// Training progress for people: a live one-line bar on a terminal (epoch, step, loss, samples/s, ETA), plain log
// lines otherwise (CI logs, pipes). Writes to the stream it is given; knows nothing about training itself.

import type { EpochResult, StepProgress } from './trainer.js';

export interface ProgressStream {
  write(text: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export class Progress {
  private lastDraw = 0;
  private lastLoggedQuarter = -1;

  constructor(private readonly out: ProgressStream, private readonly live = out.isTTY === true) {}

  step(p: StepProgress): void {
    if (this.live) {
      const now = performance.now();
      if (now - this.lastDraw < 100 && p.step !== p.steps) return; // ≤ 10 redraws a second
      this.lastDraw = now;
      const width = Math.max(10, Math.min(30, (this.out.columns ?? 80) - 70));
      const filled = Math.round((width * p.step) / p.steps);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      this.out.write(`\r\x1b[2Kepoch ${p.epoch}/${p.epochs} ${bar} ${p.step}/${p.steps} loss ${p.loss.toFixed(4)} ` +
        `${formatRate(p.samplesPerSec)} samples/s ETA ${formatDuration(p.etaSec)}`);
    } else {
      const quarter = Math.floor((4 * p.step) / p.steps);
      if (quarter === this.lastLoggedQuarter || quarter === 0 || quarter === 4) return;
      this.lastLoggedQuarter = quarter;
      this.out.write(`epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)} ` +
        `${formatRate(p.samplesPerSec)} samples/s ETA ${formatDuration(p.etaSec)}\n`);
    }
  }

  epoch(r: EpochResult, epochs: number): void {
    this.lastLoggedQuarter = -1;
    this.out.write(`${this.live ? '\r\x1b[2K' : ''}epoch ${r.epoch}/${epochs} loss ${r.loss.toFixed(4)} ` +
      `train ${(100 * r.trainAccuracy).toFixed(2)}% test ${(100 * r.test.accuracy).toFixed(2)}% ` +
      `${formatRate(r.samplesPerSec)} samples/s ${r.seconds.toFixed(1)} s lr ${r.lr.toPrecision(3)}\n`);
  }
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '--:--';
  const s = Math.round(sec);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function formatRate(r: number): string {
  return Math.round(r).toLocaleString('en-US');
}
