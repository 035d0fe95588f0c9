// The root of an MLflow file store (./mlruns) and its experiments, laid out exactly as MLflow's FileStore does:
// <root>/.trash/, <root>/0/meta.yaml (the Default experiment), <root>/<id>/meta.yaml with a random 18-digit id.
// see: mlflow/store/tracking/file_store.py (__init__, _create_experiment_with_id, create_experiment, search_experiments)
// and mlflow/utils/name_utils.py (_generate_unique_integer_id). Runs live in file-run.ts.

import { makeDirs } from '../util/atomic-write.js';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { fsyncDir, writeFileAtomic } from '../util/atomic-write.js';
import { emitYamlMap, parseFlatYaml } from './meta-yaml.js';
import { pathToPythonFileUri } from './py-format.js';

export const TRASH = '.trash';
export const DEFAULT_EXPERIMENT_ID = '0';
export const DEFAULT_EXPERIMENT_NAME = 'Default';
/** MLflow's _EXPERIMENT_ID_REGEX: the listing validates every folder name in the root against it. */
const EXPERIMENT_ID = /^[a-zA-Z0-9][\w-]{0,63}$/;
/** The model registry's folder in the same root, which MLflow's experiment listing skips. */
const MODELS_FOLDER = 'models';

export interface Experiment {
  readonly id: string;
  readonly name: string;
  readonly artifactLocation: string;
  readonly dir: string;
}

interface ExperimentMeta extends Experiment {
  readonly creationTime: number;
  readonly lifecycleStage: string;
}

/** An experiment's meta.yaml as MLflow writes it (keys sorted; tags live in a tags/ folder, not here). */
export function experimentMetaYaml(id: string, name: string, artifactLocation: string, timeMs: number): string {
  return emitYamlMap({
    artifact_location: artifactLocation,
    creation_time: timeMs,
    experiment_id: id,
    last_update_time: timeMs,
    lifecycle_stage: 'active',
    name,
  });
}

/** _generate_unique_integer_id: 18 decimal digits, the first not 0 (MLflow refills leading zeros). */
export function newExperimentId(): string {
  let id = String(randomInt(1, 10));
  for (let i = 1; i < 18; i++) id += String(randomInt(0, 10));
  return id;
}

export class FileStore {
  readonly rootUri: string;

  constructor(readonly root: string, private readonly now: () => number = Date.now) {
    // MLflow writes artifact locations as pathlib's as_uri() of the absolute root.
    this.rootUri = process.platform === 'win32' ? pathToFileURL(root).href : pathToPythonFileUri(root);
  }

  /** What MLflow's FileStore constructor ensures: the root, .trash/, and the Default experiment 0. */
  init(): void {
    makeDirs(join(this.root, TRASH)); // level by level: a recursive mkdir can spin forever (under /proc)
    // A Default experiment the user deleted sits in .trash/0; recreating 0 would block its restore.
    const known = existsSync(join(this.root, DEFAULT_EXPERIMENT_ID)) || existsSync(join(this.root, TRASH, DEFAULT_EXPERIMENT_ID));
    if (!known) this.tryCreate(DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME); // undefined: another process made it
  }

  /** The active experiment with this name, newest first as MLflow's get_experiment_by_name orders them. */
  find(name: string): Experiment | undefined {
    const matches = this.scan(this.root).filter((e) => e.name === name && e.lifecycleStage === 'active');
    matches.sort((a, b) => b.creationTime - a.creationTime || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return matches[0];
  }

  getOrCreate(name: string): Experiment {
    const found = this.find(name);
    if (found !== undefined) return found;
    if (this.scan(join(this.root, TRASH)).some((e) => e.name === name)) {
      throw new Error(
        `experiment "${name}" exists in deleted state in ${join(this.root, TRASH)}: restore it ` +
          '(`mlflow experiments restore`) or remove its folder from .trash to reuse the name',
      );
    }
    for (;;) {
      const id = newExperimentId();
      if (existsSync(join(this.root, TRASH, id))) continue;
      const created = this.tryCreate(id, name);
      if (created !== undefined) return created;
    }
  }

  /**
   * mkdir then an atomic meta.yaml, as MLflow does. Between the two (or after a crash there) the folder has no
   * meta.yaml: MLflow's listing logs it as a malformed experiment and skips it, and so does scan().
   * Returns undefined when the folder already exists (mkdir is the lock).
   */
  private tryCreate(id: string, name: string): Experiment | undefined {
    const dir = join(this.root, id);
    try {
      mkdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      throw err;
    }
    fsyncDir(this.root);
    const artifactLocation = `${this.rootUri}/${id}`;
    writeFileAtomic(join(dir, 'meta.yaml'), experimentMetaYaml(id, name, artifactLocation, this.now()));
    return { id, name, artifactLocation, dir };
  }

  private scan(parent: string): ExperimentMeta[] {
    if (!existsSync(parent)) return [];
    const out: ExperimentMeta[] = [];
    for (const entry of readdirSync(parent, { withFileTypes: true })) {
      if (!entry.isDirectory() || !EXPERIMENT_ID.test(entry.name) || entry.name === MODELS_FOLDER) continue;
      const dir = join(parent, entry.name);
      const metaPath = join(dir, 'meta.yaml');
      let text: string;
      try {
        text = readFileSync(metaPath, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const meta = parseFlatYaml(text, metaPath);
      const id = meta['experiment_id'] ?? entry.name;
      if (id !== entry.name) continue; // MLflow ignores an experiment whose recorded id differs from its folder
      out.push({
        id,
        name: meta['name'] ?? '',
        artifactLocation: meta['artifact_location'] ?? `${this.rootUri}/${id}`,
        dir,
        creationTime: Number(meta['creation_time'] ?? 0) || 0,
        lifecycleStage: meta['lifecycle_stage'] ?? 'active',
      });
    }
    return out;
  }
}
