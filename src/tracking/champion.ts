// registerChampion: what a promotion does in the MLflow Model Registry, as one call that never throws (training must
// not fail because the registry did): register `doodle-digits` (if new), add a version whose source is the run's
// artifact folder holding model.safetensors (reused when this run's same content is registered already), check it downloads and verifies, then
// move the alias `champion` to it. The servers following models:/doodle-digits@champion pick it up on their next poll.

import { resolveTrackingUri } from './uri.js';
import {
  CHAMPION_ALIAS, CONTENT_HASH_TAG, MlflowModelRegistry, REGISTERED_MODEL, TRAINING_SECONDS_TAG, type MlflowModelVersion,
} from './model-registry.js';

export interface RegisterChampionOptions {
  /** MLFLOW_TRACKING_URI: only an http(s):// tracking server has a model registry here; anything else is skipped. */
  readonly trackingUri: string | undefined;
  /** The run that logged the model file. */
  readonly runId: string;
  /** The model file's content hash (encodeModel's), stored as the version's content_hash tag and checked on download. */
  readonly contentHash: string;
  /** The run's artifact folder holding model.safetensors (default '': the artifact root, where run.ts logs it). */
  readonly artifactDir?: string | undefined;
  readonly name?: string | undefined;
  readonly alias?: string | undefined;
  /** Stored as the version's training_seconds tag (the served model's gauge), when given. */
  readonly trainingSeconds?: number | undefined;
  /** Per request (default 10 s). */
  readonly timeoutMs?: number | undefined;
}

export type ChampionResult =
  | { readonly kind: 'registered'; readonly name: string; readonly alias: string; readonly version: string;
      readonly previous: string | undefined; readonly message: string }
  | { readonly kind: 'skipped'; readonly message: string }
  | { readonly kind: 'failed'; readonly message: string; readonly error: Error };

export async function registerChampion(o: RegisterChampionOptions): Promise<ChampionResult> {
  const name = o.name ?? REGISTERED_MODEL;
  const alias = o.alias ?? CHAMPION_ALIAS;
  let target;
  try {
    target = resolveTrackingUri(o.trackingUri);
  } catch (err) {
    return { kind: 'failed', message: `MLflow registry: ${(err as Error).message}`, error: err as Error };
  }
  if (target.kind !== 'rest') {
    return { kind: 'skipped', message: 'MLflow registry: skipped (it needs an http(s):// MLFLOW_TRACKING_URI; the local registry has the model)' };
  }
  const registry = new MlflowModelRegistry(target.baseUrl, o.timeoutMs ?? 10_000);
  try {
    await registry.ensureModel(name);
    const versions = await registry.list(name);
    const existing = versions.find((v) => v.runId === o.runId && v.tags[CONTENT_HASH_TAG] === o.contentHash && v.status === 'READY');
    const mv: MlflowModelVersion = existing
      ?? await registry.createVersion(name, o.runId, o.artifactDir ?? '', {
        [CONTENT_HASH_TAG]: o.contentHash,
        ...(o.trainingSeconds !== undefined && Number.isFinite(o.trainingSeconds) ? { [TRAINING_SECONDS_TAG]: String(o.trainingSeconds) } : {}),
      });
    // The alias moves only to a version every follower can load: download it once and verify it here.
    await registry.download(mv);
    const previous = versions.find((v) => v.aliases.includes(alias))?.version;
    await registry.setAlias(name, alias, mv.version);
    const was = previous === undefined ? 'first' : previous === mv.version ? 'unchanged' : `was version ${previous}`;
    return { kind: 'registered', name, alias, version: mv.version, previous,
      message: `MLflow registry: ${name} version ${mv.version} (run ${o.runId}) is @${alias} (${was})` };
  } catch (err) {
    const e = err as Error;
    return { kind: 'failed', error: e,
      message: `MLflow registry: could not make the model ${name}@${alias}: ${e.message} (the local registry has it; training is unaffected)` };
  }
}
