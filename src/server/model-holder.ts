// The served model and its lifecycle, over a model source (the local registry's models/current, or an MLflow
// registry alias: src/tracking/model-source.ts): load the source's current model at start (fail fast with a hint),
// reload on request (SIGHUP) and whenever the source says it may have changed, swapping only after the new model has
// loaded, verified and answered a warm-up prediction. Predictions are synchronous, so work in flight always finishes
// on the model it started with.

import { readFileSync, watchFile, unwatchFile } from 'node:fs';
import { dirname, join } from 'node:path';
import { ModelRegistry } from '../model/registry.js';
import { loadModel, type LoadedModel } from '../model/model-file.js';
import { Predictor, INPUT_SIZE } from '../inference/index.js';

/** A verified model ready to become a Predictor, and its training time when known (informational). */
export interface SourcedModel {
  readonly model: LoadedModel;
  readonly trainingSeconds?: number | undefined;
}

/** Where served models come from. `current` and `load` may fail (the holder keeps the old model); `load` verifies. */
export interface ModelSource {
  /** What names the served version, for log lines: `models/current`, `models:/doodle-digits@champion`. */
  readonly name: string;
  /** The version that should be served now (a label the server reports), or undefined when there is none. */
  current(): Promise<string | undefined> | string | undefined;
  load(version: string): Promise<SourcedModel> | SourcedModel;
  /** Start-up's message when `current` names nothing: what to do about it. */
  missingHint(): string;
  /** Calls `changed` whenever the current version may have changed (a file watch, a poll timer). */
  watch(changed: () => void): void;
  /** The holder now serves `version` (after the warm-up). */
  served?(version: string): void;
  stop(): void;
}

export interface HolderEvents {
  onSwap?(version: string, previous: string | undefined): void;
  /** A reload failed (the old model keeps serving); `repeated` when the previous reload failed the same way. */
  onError?(err: Error, repeated: boolean): void;
  /** A reload worked again after failing (e.g. the tracking server is back). */
  onRecovered?(): void;
}

/** What a reload did: swapped models, found the current one already served, found none, or failed (old model kept). */
export type ReloadOutcome =
  | { kind: 'swapped'; version: string }
  | { kind: 'unchanged'; version: string }
  | { kind: 'no-current' }
  | { kind: 'failed'; error: Error; repeated: boolean };

export class ModelHolder {
  private current: Predictor | undefined;
  private loading: Promise<ReloadOutcome> | undefined;
  private watching = false;
  private lastFailure: string | undefined;
  private readonly source: ModelSource;

  /** A ModelRegistry is the local source (models/current, polled every `watch` interval). */
  constructor(source: ModelSource | ModelRegistry, private readonly events: HolderEvents = {}) {
    this.source = source instanceof ModelRegistry ? new LocalRegistrySource(source) : source;
  }

  get predictor(): Predictor | undefined {
    return this.current;
  }

  get version(): string | undefined {
    return this.current?.version;
  }

  get sourceName(): string {
    return this.source.name;
  }

  /** Loads the current model; throws with a hint when there is none (start-up must fail fast). */
  async load(): Promise<void> {
    const version = await this.source.current();
    if (version === undefined) throw new Error(this.source.missingHint());
    await this.swapTo(version);
  }

  /** Reloads if the source's current version differs from the served one. Errors keep the old model serving.
   * Calls made while a reload runs share it (and its outcome). */
  reload(): Promise<ReloadOutcome> {
    this.loading ??= (async (): Promise<ReloadOutcome> => {
      try {
        const outcome = await this.reloadOnce();
        if (this.lastFailure !== undefined) {
          this.lastFailure = undefined;
          this.events.onRecovered?.();
        }
        return outcome;
      } catch (err) {
        const error = err as Error;
        const repeated = error.message === this.lastFailure;
        this.lastFailure = error.message;
        this.events.onError?.(error, repeated);
        return { kind: 'failed', error, repeated };
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /** Follows the source. `intervalMs` is the local registry's stat-poll interval (an MLflow source has its own). */
  watch(intervalMs?: number): void {
    if (this.watching) return;
    this.watching = true;
    if (intervalMs !== undefined && this.source instanceof LocalRegistrySource) this.source.intervalMs = intervalMs;
    this.source.watch(() => void this.reload());
  }

  stop(): void {
    this.source.stop();
    this.watching = false;
  }

  private async reloadOnce(): Promise<ReloadOutcome> {
    const version = await this.source.current();
    if (version === undefined) return { kind: 'no-current' };
    if (version === this.version) return { kind: 'unchanged', version };
    await this.swapTo(version);
    return { kind: 'swapped', version };
  }

  private async swapTo(version: string): Promise<void> {
    const { model, trainingSeconds } = await this.source.load(version);
    const next = await Predictor.create(model, version, 64, trainingSeconds);
    // Warm-up: a prediction must work (and compile the hot paths) before the model takes traffic.
    const probe = next.predict(new Float32Array(INPUT_SIZE).fill(0.5));
    if (!probe.probs.every(Number.isFinite)) throw new Error(`model ${version} answers non-finite probabilities`);
    const previous = this.current?.version;
    this.current = next;
    this.source.served?.(version);
    this.events.onSwap?.(version, previous);
  }
}

/** The local registry: models/current names the version; a rename replaces it atomically, and stat polling sees
 * that on every filesystem. */
export class LocalRegistrySource implements ModelSource {
  readonly name = 'models/current';
  intervalMs = 1000;
  private watched = false;

  constructor(readonly registry: ModelRegistry) {}

  current(): string | undefined {
    return this.registry.currentVersion();
  }

  load(version: string): SourcedModel {
    const path = this.registry.resolve(version);
    return { model: loadModel(path), trainingSeconds: trainingSeconds(join(dirname(path), 'metrics.json')) };
  }

  missingHint(): string {
    return `no current model in ${this.registry.root} → run \`npm run train\` (or \`npm start\`, which trains one)`;
  }

  watch(changed: () => void): void {
    this.watched = true;
    watchFile(join(this.registry.root, 'current'), { interval: this.intervalMs, persistent: false }, changed);
  }

  stop(): void {
    if (this.watched) unwatchFile(join(this.registry.root, 'current'));
    this.watched = false;
  }
}

/** trainingSeconds from a registry version's metrics.json; undefined if absent or unreadable (it is informational). */
function trainingSeconds(path: string): number | undefined {
  try {
    const v = (JSON.parse(readFileSync(path, 'utf8')) as { trainingSeconds?: unknown }).trainingSeconds;
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
