// The server's model source for a models:/ URI (the shape src/server/model-holder.ts's ModelSource asks for):
// `current()` asks the registry which version the alias (or the fixed version) names, `load()` gives that version's
// model, verified, from a local cache keyed by content hash or else downloaded, and `watch()` polls the alias.
//   <cacheDir>/<content hash>.safetensors      verified model files (written atomically; restarts reuse them)
//   <cacheDir>/<name>@<alias>.json             the version last served for that URI (<name>.v<N>.json for a fixed one)
// A tracking server that cannot be reached at start-up is tolerated only when that last-served record and its file are
// cached: then the source serves them with a warning and catches up once the server answers. Later failures throw;
// the holder keeps the old model and retries at the next poll.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedModel } from '../model/model-file.js';
import { makeDirs, writeFileAtomic } from '../util/atomic-write.js';
import { CONTENT_HASH_TAG, MlflowModelRegistry, TRAINING_SECONDS_TAG, verifyModel, type MlflowModelVersion } from './model-registry.js';
import { formatModelUri, type ModelUri } from './model-uri.js';
import { MlflowRestError } from './rest-client.js';

/** How often a server following an alias asks the registry, unless told otherwise (serve --poll-seconds). */
export const DEFAULT_POLL_SECONDS = 10;

export interface MlflowSourceOptions {
  /** The http(s):// tracking server. */
  readonly trackingUri: string;
  readonly uri: ModelUri;
  readonly pollMs: number;
  readonly cacheDir: string;
  readonly timeoutMs?: number | undefined;
  readonly log: (line: string) => void;
}

export class MlflowModelSource {
  private readonly registry: MlflowModelRegistry;
  private readonly known = new Map<string, MlflowModelVersion>();
  private started = false; // current() has been answered once (from the registry or, at start-up, the cache)
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: MlflowSourceOptions) {
    this.registry = new MlflowModelRegistry(o.trackingUri, o.timeoutMs ?? 5_000);
  }

  /** e.g. "models:/doodle-digits@champion". */
  get name(): string {
    return formatModelUri(this.o.uri);
  }

  /** e.g. "models:/doodle-digits@champion at 127.0.0.1:5000". */
  get description(): string {
    return `${formatModelUri(this.o.uri)} at ${new URL(this.o.trackingUri).host}`;
  }

  async current(): Promise<string> {
    let mv: MlflowModelVersion;
    try {
      mv = await this.registry.resolve(this.o.uri);
    } catch (err) {
      const cached = !this.started && unreachable(err) ? this.lastServed() : undefined;
      if (cached === undefined) throw this.explain(err);
      this.started = true;
      this.o.log(`warning: ${(err as Error).message}; serving the cached ${cached.name}/${cached.version} (last served for ` +
        `${formatModelUri(this.o.uri)}) until the registry answers`);
      mv = cached;
    }
    this.started = true;
    const label = `${mv.name}/${mv.version}`;
    this.known.set(label, mv);
    return label;
  }

  async load(label: string): Promise<{ model: LoadedModel; trainingSeconds: number | undefined }> {
    const mv = this.known.get(label);
    if (mv === undefined) throw new Error(`${label} was not resolved from ${this.description}`);
    const seconds = Number(mv.tags[TRAINING_SECONDS_TAG]);
    const trainingSeconds = mv.tags[TRAINING_SECONDS_TAG] !== undefined && Number.isFinite(seconds) ? seconds : undefined;
    const cached = this.fromCache(mv);
    if (cached !== undefined) return { model: cached, trainingSeconds };
    const { bytes, model } = await this.registry.download(mv);
    makeDirs(this.o.cacheDir);
    writeFileAtomic(this.cachePath(model.metadata.contentHash), bytes);
    return { model, trainingSeconds };
  }

  missingHint(): string {
    return `${this.description} names no model version`;
  }

  watch(changed: () => void): void {
    if (this.o.uri.kind !== 'alias' || this.timer !== undefined) return; // a fixed version never changes
    this.timer = setInterval(changed, this.o.pollMs);
    this.timer.unref(); // the server's sockets keep the process alive, not the poll
  }

  served(label: string): void {
    const mv = this.known.get(label);
    if (mv === undefined) return;
    try {
      makeDirs(this.o.cacheDir);
      writeFileAtomic(this.pointerPath(), `${JSON.stringify(mv, null, 2)}\n`);
    } catch (err) {
      this.o.log(`warning: cannot record the served version in ${this.o.cacheDir}: ${(err as Error).message}`);
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The cached, verified file of `mv`, if there is one (a corrupt copy is ignored and replaced by a download). */
  private fromCache(mv: MlflowModelVersion): LoadedModel | undefined {
    const hash = mv.tags[CONTENT_HASH_TAG];
    if (hash === undefined || !/^[0-9a-f]{64}$/.test(hash)) return undefined;
    const path = this.cachePath(hash);
    if (!existsSync(path)) return undefined;
    try {
      return verifyModel(readFileSync(path), mv, path);
    } catch {
      return undefined;
    }
  }

  private lastServed(): MlflowModelVersion | undefined {
    try {
      const mv = JSON.parse(readFileSync(this.pointerPath(), 'utf8')) as MlflowModelVersion;
      return typeof mv.tags?.[CONTENT_HASH_TAG] === 'string' && this.fromCache(mv) !== undefined ? mv : undefined;
    } catch {
      return undefined;
    }
  }

  private explain(err: unknown): Error {
    if (!this.started && unreachable(err)) {
      return new Error(`${(err as Error).message} (following ${formatModelUri(this.o.uri)}; nothing cached in ${this.o.cacheDir} ` +
        'to serve meanwhile) → start the tracking server or check MLFLOW_TRACKING_URI', { cause: err });
    }
    return err as Error;
  }

  private cachePath(hash: string): string {
    return join(this.o.cacheDir, `${hash}.safetensors`);
  }

  private pointerPath(): string {
    const u = this.o.uri;
    const key = u.kind === 'alias' ? `${u.name}@${u.alias}` : `${u.name}.v${u.version}`;
    return join(this.o.cacheDir, `${key.replace(/[^\w.@-]/g, '_')}.json`);
  }
}

/** The server did not answer (network, timeout) or failed on its side: worth waiting for, unlike a 4xx. */
function unreachable(err: unknown): boolean {
  return err instanceof MlflowRestError && (err.status === undefined || err.status >= 500);
}
