// The model registry: versions of the model on disk and which one is current.
//   <root>/<version>/model.safetensors   the model file (model-file.ts), validated before it is added
//   <root>/<version>/metrics.json        the caller's metrics, at least {"testAccuracy": 0..1}
//   <root>/current                       one line: the current version id, replaced atomically
// A version directory is written complete under a dot-prefixed temp name and renamed into place. Not here: training,
// or deciding what a model is worth beyond comparing testAccuracy.

import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve as resolvePath, sep } from 'node:path';
import { fsyncDir, makeDirs, writeFileAtomic } from '../util/atomic-write.js';
import { crashPoint } from '../util/crash-points.js';
import { sweepStaleTemps } from '../util/stale-temps.js';
import { ModelFileError, RegistryError } from './errors.js';
import { decodeModel, loadModel } from './model-file.js';
import { SHA256_HEX_PATTERN, isVersionId, makeVersionId, versionCreatedAt } from './version-id.js';

export interface VersionInfo {
  version: string;
  testAccuracy: number;
  /** When the version was registered (from its id): ISO-8601 UTC, to the second. */
  createdAt: string;
  current: boolean;
  /** Absolute path of the version's model.safetensors. */
  path: string;
}

export type Metrics = Record<string, unknown> & { testAccuracy: number };

const MODEL_FILE = 'model.safetensors';
const METRICS_FILE = 'metrics.json';
const CURRENT_FILE = 'current';
/** + the pid: src/util/stale-temps.ts removes a version folder left half-made by a dead process. */
const TEMP_PREFIX = `.incoming-${process.pid}-`;

/**
 * One directory of versions. Safe for concurrent readers and writers in the sense that no reader ever sees a
 * half-written version or `current` (both appear by rename). It is not a transaction: two processes promoting at
 * once both succeed and the last rename wins, and two processes adding identical weights in different seconds may
 * create two version ids for one content hash. Inject a ModelRegistry per root; tests use temp dirs.
 */
export class ModelRegistry {
  readonly root: string;

  constructor(root: string) {
    this.root = resolvePath(root);
  }

  /** Every complete version, oldest → newest. Temp dirs, stray files and dirs without a model are ignored. */
  list(): VersionInfo[] {
    const current = this.readCurrent();
    return this.versionIds().map((id) => this.info(id, id === current));
  }

  /** The current version id; undefined when there is none yet; a RegistryError when it names a missing version. */
  currentVersion(): string | undefined {
    const raw = this.readCurrent();
    if (raw === undefined) return undefined;
    if (!this.exists(raw)) {
      throw new RegistryError(
        `${join(this.root, CURRENT_FILE)} names version "${raw}", which does not exist → ` +
          'promote another with `npm run models -- promote <version>` or run `npm run train`',
      );
    }
    return raw;
  }

  /** A version id, a unique prefix of one, 'current', or a path to a .safetensors file → absolute model path. */
  resolve(ref: string): string {
    if (ref === 'current') {
      const version = this.currentVersion();
      if (version === undefined) throw new RegistryError(`no current model in ${this.root} → run \`npm run train\``);
      return this.modelPath(version);
    }
    if (ref.endsWith('.safetensors') || ref.includes('/') || ref.includes(sep)) {
      const path = resolvePath(ref);
      if (!ref.endsWith('.safetensors')) throw new RegistryError(`${path} is not a .safetensors file`);
      if (!existsSync(path) || !statSync(path).isFile()) throw new RegistryError(`model not found at ${path}`);
      return path;
    }
    return this.modelPath(this.findVersion(ref));
  }

  /**
   * Registers validated model bytes as a new version (or returns the existing version with the same content hash).
   * `contentHash` must be the one encodeModel returned; `createdAt` (default now) dates the version id.
   */
  add(modelBytes: Uint8Array, contentHash: string, metrics: Metrics, createdAt: Date = new Date()): VersionInfo {
    if (!SHA256_HEX_PATTERN.test(contentHash)) throw new RangeError(`content hash must be 64 lowercase hex digits, got "${contentHash}"`);
    checkMetrics(metrics, 'metrics');
    const model = decodeModel(modelBytes, `model being added (${contentHash.slice(0, 12)})`);
    if (model.metadata.contentHash !== contentHash) {
      throw new RangeError(`content hash ${contentHash} does not match the model's own ${model.metadata.contentHash}`);
    }
    const existing = this.findByHash(contentHash);
    if (existing !== undefined) return existing;

    const version = makeVersionId(createdAt, contentHash);
    const target = join(this.root, version);
    makeDirs(this.root); // level by level: a recursive mkdir can spin forever (under /proc)
    const temp = mkdtempSync(join(this.root, TEMP_PREFIX));
    try {
      writeFileAtomic(join(temp, MODEL_FILE), modelBytes);
      writeFileAtomic(join(temp, METRICS_FILE), `${JSON.stringify(metrics, null, 2)}\n`);
      crashPoint('registry version: before rename');
      renameSync(temp, target); // atomic: the version appears complete or not at all
    } catch (err) {
      rmSync(temp, { recursive: true, force: true });
      // Another process added the same content in the same second: theirs is ours.
      const raced = this.findByHash(contentHash);
      if (raced !== undefined) return raced;
      throw err;
    }
    fsyncDir(this.root);
    crashPoint('registry version: after rename');
    return this.info(version, version === this.readCurrent());
  }

  /** Removes version folders and `current` temporaries that a dead process left half-made; returns their paths. */
  sweepStale(): string[] {
    return sweepStaleTemps(this.root);
  }

  /** Makes `version` (an id or a unique prefix) current, after checking its model loads. */
  promote(version: string): void {
    const id = this.findVersion(version);
    loadModel(this.modelPath(id));
    writeFileAtomic(join(this.root, CURRENT_FILE), `${id}\n`);
  }

  /**
   * add(), then promote iff there is no (valid) current version, or the new test accuracy is ≥ the current one's,
   * or `force`. `reason` says which rule decided, for the trainer to print.
   */
  addAndMaybePromote(
    modelBytes: Uint8Array,
    contentHash: string,
    metrics: Metrics,
    opts: { force?: boolean; createdAt?: Date } = {},
  ): { info: VersionInfo; promoted: boolean; reason: string } {
    const info = this.add(modelBytes, contentHash, metrics, opts.createdAt);
    const current = this.readCurrent();
    const promoteNew = (reason: string): { info: VersionInfo; promoted: boolean; reason: string } => {
      this.promote(info.version);
      return { info: { ...info, current: true }, promoted: true, reason };
    };
    if (current === undefined) return promoteNew('first model: there was no current version');
    if (!this.exists(current)) return promoteNew(`the current file named a missing version "${current}"`);
    if (current === info.version) return { info, promoted: false, reason: `${info.version} is already current (same content)` };

    const best = this.info(current, true).testAccuracy;
    const ours = percent(info.testAccuracy);
    const theirs = `${percent(best)} of current ${current}`;
    if (info.testAccuracy >= best) return promoteNew(`test accuracy ${ours} ≥ ${theirs}`);
    if (opts.force === true) return promoteNew(`forced: test accuracy ${ours} < ${theirs}`);
    return {
      info,
      promoted: false,
      reason: `test accuracy ${ours} < ${theirs}; current kept (promote anyway: \`npm run models -- promote ${info.version}\`)`,
    };
  }

  private modelPath(version: string): string {
    return join(this.root, version, MODEL_FILE);
  }

  private exists(version: string): boolean {
    return isVersionId(version) && existsSync(this.modelPath(version));
  }

  /** Complete version ids, sorted (= oldest first: ids start with the UTC time). */
  private versionIds(): string[] {
    let entries;
    try {
      entries = readdirSync(this.root, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return entries
      .filter((e) => e.isDirectory() && isVersionId(e.name) && existsSync(this.modelPath(e.name)))
      .map((e) => e.name)
      .sort();
  }

  /** The raw content of `current` (trimmed), or undefined when the file does not exist. */
  private readCurrent(): string | undefined {
    try {
      return readFileSync(join(this.root, CURRENT_FILE), 'utf8').trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  private findVersion(ref: string): string {
    const ids = this.versionIds();
    if (ids.includes(ref)) return ref;
    const matches = ref === '' ? [] : ids.filter((id) => id.startsWith(ref));
    if (matches.length === 1) return matches[0]!;
    if (matches.length === 0) throw new RegistryError(`no version "${ref}" in ${this.root} → list them with \`npm run models\``);
    const shown = matches.slice(0, 5).join(', ') + (matches.length > 5 ? `, … (${matches.length} in all)` : '');
    throw new RegistryError(`"${ref}" is ambiguous: it matches ${shown} → give more of the version id`);
  }

  /** The existing version holding exactly this content hash, if any (the id carries only its first 12 hex). */
  private findByHash(contentHash: string): VersionInfo | undefined {
    const current = this.readCurrent();
    for (const id of this.versionIds()) {
      if (!id.endsWith(`-${contentHash.slice(0, 12)}`)) continue;
      try {
        if (loadModel(this.modelPath(id)).metadata.contentHash === contentHash) return this.info(id, id === current);
      } catch (err) {
        if (!(err instanceof ModelFileError)) throw err; // a corrupt copy is not a match: add a fresh one
      }
    }
    return undefined;
  }

  private info(version: string, current: boolean): VersionInfo {
    const file = join(this.root, version, METRICS_FILE);
    let metrics: unknown;
    try {
      metrics = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      const why = err instanceof SyntaxError ? 'is not valid JSON' : `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
      throw new RegistryError(`${file} ${why} → fix it or delete the version directory`);
    }
    checkMetrics(metrics, file);
    return { version, testAccuracy: metrics.testAccuracy, createdAt: versionCreatedAt(version), current, path: this.modelPath(version) };
  }
}

function checkMetrics(metrics: unknown, where: string): asserts metrics is Metrics {
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) throw new RegistryError(`${where} must be a JSON object`);
  const accuracy = (metrics as Record<string, unknown>).testAccuracy;
  if (typeof accuracy !== 'number' || !(accuracy >= 0 && accuracy <= 1)) {
    throw new RegistryError(`${where}: testAccuracy must be a number in [0, 1], got ${JSON.stringify(accuracy) ?? 'nothing'}`);
  }
}

function percent(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}
