// The Run the trainer holds: validates every call at the boundary, keeps calls in order (each waits for the one
// before, so end() lands after the logs that preceded it), enforces MLflow's param immutability, and makes end()
// idempotent. Writing is the backend's job. As in MLflow, an ended run still accepts data (MLflow only refuses
// deleted runs), so a log that races a signal handler's end('KILLED') does not turn into an error.

import { basename } from 'node:path';
import { statSync } from 'node:fs';
import type { KeyValue, MetricPoint, Run, RunBackend, RunStatus } from './types.js';
import {
  checkArtifactPath, checkKey, checkMetricValue, checkStep, checkTagValue, checkTimestamp, paramText,
} from './validate.js';

const STATUSES: readonly RunStatus[] = ['FINISHED', 'FAILED', 'KILLED'];

export class TrackedRun implements Run {
  readonly runId: string;
  readonly experimentId: string;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly params = new Map<string, string>();
  private ending: Promise<void> | undefined;

  constructor(private readonly backend: RunBackend, private readonly now: () => number = Date.now) {
    this.runId = backend.runId;
    this.experimentId = backend.experimentId;
  }

  /** Runs `op` after every earlier call has settled; a failed call does not block the ones after it. */
  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const result = this.tail.then(op);
    this.tail = result.catch(() => undefined);
    return result;
  }

  async logParams(params: Record<string, string | number | boolean>): Promise<void> {
    const batch: KeyValue[] = Object.entries(params).map(([key, value]) => {
      checkKey('param', key);
      return { key, value: paramText(key, value) };
    });
    if (batch.length === 0) return;
    return this.enqueue(async () => {
      for (const { key, value } of batch) {
        const before = this.params.get(key);
        if (before !== undefined && before !== value) {
          throw new Error(
            `param ${JSON.stringify(key)} was already logged as ${JSON.stringify(before)} in run ${this.runId}; ` +
              `MLflow params are immutable, so ${JSON.stringify(value)} cannot replace it (log a metric or a tag instead)`,
          );
        }
      }
      const fresh = batch.filter(({ key }) => !this.params.has(key));
      if (fresh.length === 0) return;
      await this.backend.logBatch({ params: fresh, metrics: [], tags: [] });
      for (const { key, value } of fresh) this.params.set(key, value);
    });
  }

  async logMetrics(metrics: Record<string, number>, step: number, timestampMs?: number): Promise<void> {
    checkStep(step);
    const timestamp = timestampMs ?? this.now();
    checkTimestamp('metric timestampMs', timestamp);
    const points: MetricPoint[] = Object.entries(metrics).map(([key, value]) => {
      checkKey('metric', key);
      checkMetricValue(key, value);
      return { key, value, timestamp, step };
    });
    if (points.length === 0) return;
    return this.enqueue(() => this.backend.logBatch({ params: [], metrics: points, tags: [] }));
  }

  async setTags(tags: Record<string, string>): Promise<void> {
    const batch: KeyValue[] = Object.entries(tags).map(([key, value]) => {
      checkKey('tag', key);
      checkTagValue(key, value);
      return { key, value };
    });
    if (batch.length === 0) return;
    return this.enqueue(() => this.backend.logBatch({ params: [], metrics: [], tags: batch }));
  }

  async logArtifact(localPath: string, artifactPath?: string): Promise<void> {
    const folder = checkArtifactPath(artifactPath);
    let isFile: boolean;
    try {
      isFile = statSync(localPath).isFile();
    } catch (err) {
      throw new Error(`logArtifact: cannot read ${localPath}: ${(err as Error).message}`, { cause: err });
    }
    if (!isFile) throw new Error(`logArtifact: ${localPath} is not a regular file (log the files of a folder one by one)`);
    if (basename(localPath) === '') throw new Error(`logArtifact: ${localPath} has no file name`);
    return this.enqueue(() => this.backend.logArtifact(localPath, folder));
  }

  end(status: RunStatus): Promise<void> {
    if (!STATUSES.includes(status)) {
      return Promise.reject(new Error(`end: status must be one of ${STATUSES.join(', ')}, got ${String(status)}`));
    }
    // The first call wins; a later one (e.g. a signal guard's KILLED after the trainer's FINISHED) is a no-op. A
    // failed end (server unreachable) may be tried again.
    if (this.ending === undefined) {
      const endTime = this.now();
      this.ending = this.enqueue(() => this.backend.end(status, endTime));
      this.ending.catch(() => {
        this.ending = undefined;
      });
    }
    return this.ending;
  }
}
