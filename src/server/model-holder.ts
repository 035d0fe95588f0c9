// The served model and its lifecycle: load the registry's current model at start (fail fast with a hint), reload
// on request (SIGHUP) and when `models/current` changes, swapping only after the new model has loaded and answered
// a warm-up prediction. Predictions are synchronous, so work in flight always finishes on the model it started with.

import { readFileSync, watchFile, unwatchFile } from 'node:fs';
import { dirname, join } from 'node:path';
import { ModelRegistry } from '../model/registry.js';
import { loadModel } from '../model/model-file.js';
import { Predictor, INPUT_SIZE } from '../inference.js';

export interface HolderEvents {
  onSwap?(version: string, previous: string | undefined): void;
  onError?(err: Error): void;
}

/** What a reload did: swapped models, found the current one already served, found none, or failed (old model kept). */
export type ReloadOutcome =
  | { kind: 'swapped'; version: string }
  | { kind: 'unchanged'; version: string }
  | { kind: 'no-current' }
  | { kind: 'failed'; error: Error };

export class ModelHolder {
  private current: Predictor | undefined;
  private loading: Promise<ReloadOutcome> | undefined;
  private watching = false;

  constructor(private readonly registry: ModelRegistry, private readonly events: HolderEvents = {}) {}

  get predictor(): Predictor | undefined {
    return this.current;
  }

  get version(): string | undefined {
    return this.current?.version;
  }

  /** Loads the current model; throws with a hint when there is none (start-up must fail fast). */
  async load(): Promise<void> {
    const version = this.registry.currentVersion();
    if (version === undefined) {
      throw new Error(`no current model in ${this.registry.root} → run \`npm run train\` (or \`npm start\`, which trains one)`);
    }
    await this.swapTo(version);
  }

  /** Reloads if the registry's current version differs from the served one. Errors keep the old model serving.
   * Calls made while a reload runs share it (and its outcome). */
  reload(): Promise<ReloadOutcome> {
    this.loading ??= (async (): Promise<ReloadOutcome> => {
      try {
        const version = this.registry.currentVersion();
        if (version === undefined) return { kind: 'no-current' };
        if (version === this.version) return { kind: 'unchanged', version };
        await this.swapTo(version);
        return { kind: 'swapped', version };
      } catch (err) {
        this.events.onError?.(err as Error);
        return { kind: 'failed', error: err as Error };
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /** Polls models/current (a rename replaces it atomically; stat polling sees that on every filesystem). */
  watch(intervalMs = 1000): void {
    if (this.watching) return;
    this.watching = true;
    watchFile(join(this.registry.root, 'current'), { interval: intervalMs, persistent: false }, () => void this.reload());
  }

  stop(): void {
    if (this.watching) unwatchFile(join(this.registry.root, 'current'));
    this.watching = false;
  }

  private async swapTo(version: string): Promise<void> {
    const path = this.registry.resolve(version);
    const model = loadModel(path);
    const next = await Predictor.create(model, version, 64, trainingSeconds(join(dirname(path), 'metrics.json')));
    // Warm-up: a prediction must work (and compile the hot paths) before the model takes traffic.
    const probe = next.predict(new Float32Array(INPUT_SIZE).fill(0.5));
    if (!probe.probs.every(Number.isFinite)) throw new Error(`model ${version} answers non-finite probabilities`);
    const previous = this.current?.version;
    this.current = next;
    this.events.onSwap?.(version, previous);
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
