// Correction feedback: drawings people labelled after a wrong guess, kept as a dataset for later training.
// One JSON file per record (`<yyyymmdd-hhmmss>-<random>.json`, written atomically), so the set is append-only, a
// crash never leaves a half record, and concurrent server threads never interleave. Bounded: past `maxRecords`
// new records are refused (the caller answers 507). Format: docs/feedback.md. Imports only src/util/.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { makeDirs, writeFileAtomic } from '../util/atomic-write.js';

export interface FeedbackRecord {
  readonly label: number;
  readonly predicted: number | null;
  readonly model: string | null;
  readonly width: number;
  readonly height: number;
  readonly brush: number;
  readonly strokes: ReadonlyArray<ReadonlyArray<readonly [number, number]>>;
  /** The normalised 28×28 input (784 values in [0, 1]) the client saw. */
  readonly image: ArrayLike<number>;
}

export const FEEDBACK_FORMAT = 'doodle-digits-feedback';
/** Where `npm run serve` and `npm start` store corrections, relative to the working directory. */
export const DEFAULT_FEEDBACK_DIR = 'feedback';
export const FEEDBACK_VERSION = 1;

export class FeedbackFullError extends Error {
  override name = 'FeedbackFullError';
}

export class FeedbackStore {
  private count: number;

  constructor(readonly dir: string, readonly maxRecords = 10_000) {
    makeDirs(dir);
    this.count = readdirSync(dir).filter((n) => n.endsWith('.json') && !n.startsWith('.')).length;
  }

  get size(): number {
    return this.count;
  }

  /** Stores one record; returns its id. Throws FeedbackFullError once maxRecords are stored. */
  add(record: FeedbackRecord, now = new Date()): string {
    if (this.count >= this.maxRecords) {
      throw new FeedbackFullError(`feedback store is full (${this.maxRecords} records in ${this.dir}); export and clear it`);
    }
    const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const id = `${stamp}-${randomBytes(6).toString('hex')}`;
    const doc = {
      format: FEEDBACK_FORMAT, version: FEEDBACK_VERSION, id, createdAt: now.toISOString(),
      label: record.label, predicted: record.predicted, model: record.model,
      canvas: { width: record.width, height: record.height, brush: record.brush },
      strokes: record.strokes, image: Array.from(record.image, (v) => Math.round(v * 1e6) / 1e6),
    };
    writeFileAtomic(join(this.dir, `${id}.json`), JSON.stringify(doc) + '\n');
    this.count++;
    return id;
  }
}
