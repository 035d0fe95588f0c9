// The run a training holds: a Run that never throws into the training. Tracking that cannot start (server down,
// experiment deleted, unwritable ./mlruns) turns into a training without tracking; a call that fails is warned about
// once per kind (params, metrics, tags, artifacts, status) and recorded, and summary() names everything that did not
// reach MLflow. A server that stops answering (no reply, a timeout, 502/503/504) `maxUnanswered` times in a row is
// taken as down: later calls are recorded at once instead of each waiting out the request timeout, and only the final
// status is tried once more. Artifacts for a store this client cannot write (s3:, gs:) are skipped, not failures.
// Not here: validation, ordering or any I/O of its own (the wrapped Run does that).

import { basename } from 'node:path';
import { MlflowRestError } from './rest-client.js';
import { startRun } from './start-run.js';
import { UnsupportedArtifactStoreError, type Run, type RunStatus, type StartRunOptions } from './types.js';

export type Warn = (line: string) => void;

/** Consecutive unanswered requests after which the server is taken as down. */
export const MAX_UNANSWERED = 2;

type Kind = 'params' | 'metrics' | 'tags' | 'artifacts' | 'status';

function unanswered(err: unknown): boolean {
  return err instanceof MlflowRestError && (err.status === undefined || err.status === 502 || err.status === 503 || err.status === 504);
}

/** [1,2,3,5,7,8] → "1–3, 5, 7–8". */
export function stepRanges(steps: readonly number[]): string {
  const sorted = [...new Set(steps)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}–${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

export class BestEffortRun {
  private tail: Promise<void> = Promise.resolve();
  private unansweredStreak = 0;
  private down = false;
  private readonly warned = new Set<string>();
  private readonly lostParams: string[] = [];
  /** metric key → the steps it was not logged at. */
  private readonly lostMetrics = new Map<string, number[]>();
  private readonly lostTags: string[] = [];
  private readonly lostArtifacts: string[] = [];
  private readonly skippedArtifacts: string[] = [];
  private lostStatus: RunStatus | undefined;
  private ending: Promise<void> | undefined;

  /** `inner` undefined: tracking is off for this run (`offReason` says why); every call is recorded as not logged. */
  constructor(
    private readonly inner: Run | undefined,
    private readonly warn: Warn,
    private readonly offReason = '',
    private readonly maxUnanswered = MAX_UNANSWERED,
  ) {}

  /** startRun, or a run without tracking (with a warning) when that fails. */
  static async start(opts: StartRunOptions, warn: Warn): Promise<BestEffortRun> {
    try {
      return new BestEffortRun(await startRun(opts), warn);
    } catch (err) {
      const reason = (err as Error).message;
      warn(`MLflow tracking is off for this run: ${reason}. Training continues and the model is saved locally.`);
      return new BestEffortRun(undefined, warn, reason);
    }
  }

  get runId(): string | undefined {
    return this.inner?.runId;
  }

  /** True while nothing has failed to reach MLflow (artifacts skipped for an unsupported store do not count). */
  get complete(): boolean {
    return this.inner !== undefined && this.lostParams.length === 0 && this.lostMetrics.size === 0 &&
      this.lostTags.length === 0 && this.lostArtifacts.length === 0 && this.lostStatus === undefined;
  }

  logParams(params: Record<string, string | number | boolean>): Promise<void> {
    return this.attempt('params', (run) => run.logParams(params), () => this.lostParams.push(...Object.keys(params)));
  }

  logMetrics(metrics: Record<string, number>, step: number): Promise<void> {
    const timestampMs = Date.now(); // when it was measured, not when a queue behind a slow server sends it
    return this.attempt('metrics', (run) => run.logMetrics(metrics, step, timestampMs), () => {
      for (const key of Object.keys(metrics)) {
        const steps = this.lostMetrics.get(key) ?? [];
        steps.push(step);
        this.lostMetrics.set(key, steps);
      }
    });
  }

  setTags(tags: Record<string, string>): Promise<void> {
    return this.attempt('tags', (run) => run.setTags(tags), () => this.lostTags.push(...Object.keys(tags)));
  }

  logArtifact(localPath: string, artifactPath?: string): Promise<void> {
    const name = `${artifactPath ? `${artifactPath}/` : ''}${basename(localPath)}`;
    return this.attempt('artifacts', (run) => run.logArtifact(localPath, artifactPath), () => this.lostArtifacts.push(name), (err) => {
      if (!(err instanceof UnsupportedArtifactStoreError)) return false;
      this.skippedArtifacts.push(name);
      this.warnOnce('unsupported', `MLflow artifacts skipped: ${err.message}. Params and metrics are still logged.`);
      return true;
    });
  }

  /** Ends the run with `status` (tried even when the server looked down). The first call wins; never rejects. */
  end(status: RunStatus): Promise<void> {
    return this.endWith(() => status);
  }

  /** Ends a training that finished: FINISHED when everything reached MLflow, else FAILED (an incomplete record). */
  finish(): Promise<void> {
    return this.endWith(() => (this.complete ? 'FINISHED' : 'FAILED'));
  }

  /** One line naming what did not reach MLflow, or undefined when everything did. Call after end(). */
  summary(): string | undefined {
    if (this.inner === undefined) return `nothing of this run was logged to MLflow (tracking could not start: ${this.offReason})`;
    const parts: string[] = [];
    if (this.lostParams.length > 0) parts.push(`params ${this.lostParams.join(', ')}`);
    // Keys lost at the same steps are named together: "metrics loss, lr at steps 3–8".
    const bySteps = new Map<string, string[]>();
    for (const [key, steps] of this.lostMetrics) {
      const ranges = stepRanges(steps);
      bySteps.set(ranges, [...(bySteps.get(ranges) ?? []), key]);
    }
    for (const [ranges, keys] of bySteps) parts.push(`metrics ${keys.join(', ')} at step${/[–,]/.test(ranges) ? 's' : ''} ${ranges}`);
    if (this.lostTags.length > 0) parts.push(`tags ${this.lostTags.join(', ')}`);
    if (this.lostArtifacts.length > 0) parts.push(`artifacts ${this.lostArtifacts.join(', ')}`);
    if (this.lostStatus !== undefined) parts.push(`run status ${this.lostStatus}`);
    const lost = parts.length === 0 ? undefined : `MLflow run ${this.inner.runId} is incomplete; not logged: ${parts.join('; ')}`;
    const skipped = this.skippedArtifacts.length === 0 ? undefined
      : `MLflow run ${this.inner.runId}: artifacts not stored (unsupported artifact store): ${this.skippedArtifacts.join(', ')}`;
    return lost === undefined ? skipped : skipped === undefined ? lost : `${lost}. ${skipped}`;
  }

  private endWith(status: () => RunStatus): Promise<void> {
    this.ending ??= this.enqueue(async () => {
      const chosen = status();
      if (this.inner === undefined) return;
      try {
        await this.inner.end(chosen);
      } catch (err) {
        this.lostStatus = chosen;
        this.warnOnce('status', `MLflow: could not set the run status ${chosen}: ${(err as Error).message}`);
      }
    });
    return this.ending;
  }

  /**
   * Runs `op` in turn; on failure records the call through `lose` and warns once per kind. `absorb` may claim an
   * error as handled (returns true) before that.
   */
  private attempt(kind: Kind, op: (run: Run) => Promise<void>, lose: () => void, absorb?: (err: unknown) => boolean): Promise<void> {
    return this.enqueue(async () => {
      if (this.inner === undefined || this.down) {
        lose();
        return;
      }
      try {
        await op(this.inner);
        this.unansweredStreak = 0;
      } catch (err) {
        if (absorb?.(err)) return;
        lose();
        this.warnOnce(kind, `MLflow: ${kind} not logged: ${(err as Error).message}`);
        this.unansweredStreak = unanswered(err) ? this.unansweredStreak + 1 : 0;
        if (this.unansweredStreak >= this.maxUnanswered) {
          this.down = true;
          this.warn(`MLflow: the tracking server did not answer ${this.unansweredStreak} requests in a row; ` +
            'not sending the rest of this run (only the final status is tried once more)');
        }
      }
    });
  }

  private warnOnce(kind: string, line: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.warn(line);
  }

  /** Serial: a call starts after the one before has settled, so the down/streak state is the one it left. */
  private enqueue(op: () => Promise<void>): Promise<void> {
    const result = this.tail.then(op).catch((err: unknown) => {
      this.warn(`MLflow: unexpected tracking error: ${(err as Error).message}`); // op never throws; belt and braces
    });
    this.tail = result;
    return result;
  }
}
