// The MLflow Model Registry of a tracking server, over REST API 2.0 (which MLflow 3 serves): registered models,
// their versions (source: the run's artifact folder holding model.safetensors, `runs:/<run_id>` for the root; tag
// `content_hash`), aliases, and the verified download of a version's model file. Named MlflowModelRegistry to keep it apart from the LOCAL registry (src/model/registry.ts).
// see: https://mlflow.org/docs/latest/rest-api.html (Model Registry), mlflow/server/handlers.py (_validate_source_run).
// Not here: when to register (champion.ts) or how the server follows an alias (model-source.ts).

import { decodeModel, type LoadedModel } from '../model/model-file.js';
import { readArtifact } from './artifact-read.js';
import { MlflowRestError, RestClient } from './rest-client.js';
import type { ModelUri } from './model-uri.js';

/** The registered model a promotion creates versions of, and the alias that names the one to serve. */
export const REGISTERED_MODEL = 'doodle-digits';
export const CHAMPION_ALIAS = 'champion';
/** The model file inside a version's source folder. */
export const MODEL_FILE = 'model.safetensors';
/** Model version tag holding the sha256 of the model file's data section (model-file.ts contentHash). */
export const CONTENT_HASH_TAG = 'content_hash';
/** Model version tag with the training time in seconds (optional, informational: the served model's gauge). */
export const TRAINING_SECONDS_TAG = 'training_seconds';

export interface MlflowModelVersion {
  readonly name: string;
  /** MLflow's version number, as the decimal string REST uses. */
  readonly version: string;
  readonly runId: string;
  readonly source: string;
  /** READY, PENDING_REGISTRATION or FAILED_REGISTRATION. */
  readonly status: string;
  /** creation_timestamp, ms since the epoch. */
  readonly createdAtMs: number;
  readonly tags: Readonly<Record<string, string>>;
  /** Aliases pointing at this version (filled by list(); get calls return them too). */
  readonly aliases: readonly string[];
}

/** A registry answer that means "not there" (the name or alias is unknown), with what to do about it. */
export class MlflowRegistryError extends Error {
  override name = 'MlflowRegistryError';
}

const READY_TIMEOUT_MS = 30_000;

export class MlflowModelRegistry {
  private readonly client: RestClient;

  /** `trackingUri` is an http(s):// tracking server; `timeoutMs` bounds every request. */
  constructor(readonly trackingUri: string, readonly timeoutMs = 10_000) {
    this.client = new RestClient(trackingUri, timeoutMs);
  }

  /** Creates the registered model; one that exists already is fine. */
  async ensureModel(name: string): Promise<void> {
    try {
      await this.client.json('POST', 'registered-models/create', { name });
    } catch (err) {
      if (!(err instanceof MlflowRestError && err.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw err;
    }
  }

  /**
   * A new version of `name` whose source is the run's artifact folder `dir` ('' = the artifact root) holding
   * model.safetensors, waited for until READY. A folder, not the file: MLflow's own client downloads a version's
   * source as a directory (models:/… of a single file gives nothing).
   */
  async createVersion(name: string, runId: string, dir: string, tags: Record<string, string>): Promise<MlflowModelVersion> {
    const folder = dir.replace(/^\/+|\/+$/g, '');
    const reply = await this.client.json('POST', 'model-versions/create', {
      name, source: `runs:/${runId}${folder === '' ? '' : `/${folder}`}`, run_id: runId,
      tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    });
    let mv = toVersion(reply['model_version'], 'model-versions/create');
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (mv.status === 'PENDING_REGISTRATION' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      mv = await this.getVersion(name, mv.version);
    }
    if (mv.status !== 'READY') throw new MlflowRegistryError(`model version ${name}/${mv.version} is ${mv.status}, not READY`);
    return mv;
  }

  async getVersion(name: string, version: string): Promise<MlflowModelVersion> {
    try {
      return toVersion((await this.client.json('GET', 'model-versions/get', { name, version }))['model_version'], 'model-versions/get');
    } catch (err) {
      if (isMissing(err)) throw new MlflowRegistryError(`${this.where()} has no version ${version} of model "${name}" → list them with \`npm run models\``);
      throw err;
    }
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.client.json('POST', 'registered-models/alias', { name, alias, version });
  }

  /** The version `alias` points at; MlflowRegistryError when the model or the alias does not exist. */
  async getByAlias(name: string, alias: string): Promise<MlflowModelVersion> {
    try {
      return toVersion((await this.client.json('GET', 'registered-models/alias', { name, alias }))['model_version'], 'registered-models/alias');
    } catch (err) {
      // MLflow answers an unknown alias with INVALID_PARAMETER_VALUE "alias … not found", an unknown model with 404.
      if (isMissing(err) || (err instanceof MlflowRestError && /not found/i.test(err.detail))) {
        throw new MlflowRegistryError(`${this.where()} has no alias "${alias}" on model "${name}" (${(err as MlflowRestError).detail}) → ` +
          'train with MLFLOW_TRACKING_URI set (a promotion moves the alias) or set it in the MLflow UI');
      }
      throw err;
    }
  }

  resolve(uri: ModelUri): Promise<MlflowModelVersion> {
    return uri.kind === 'alias' ? this.getByAlias(uri.name, uri.alias) : this.getVersion(uri.name, uri.version);
  }

  /** Every version of `name`, oldest first, with its aliases; [] when the model is not registered. */
  async list(name: string): Promise<MlflowModelVersion[]> {
    let aliases: Array<{ alias?: unknown; version?: unknown }>;
    try {
      const model = (await this.client.json('GET', 'registered-models/get', { name }))['registered_model'] as { aliases?: unknown } | undefined;
      aliases = Array.isArray(model?.aliases) ? model.aliases as typeof aliases : [];
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
    const versions: MlflowModelVersion[] = [];
    let pageToken: string | undefined;
    do {
      const reply = await this.client.json('GET', 'model-versions/search', {
        filter: `name='${name.replaceAll("'", "\\'")}'`, max_results: 1000, ...(pageToken ? { page_token: pageToken } : {}),
      });
      const page = Array.isArray(reply['model_versions']) ? reply['model_versions'] as unknown[] : [];
      versions.push(...page.map((v) => toVersion(v, 'model-versions/search')));
      pageToken = typeof reply['next_page_token'] === 'string' && reply['next_page_token'] !== '' ? reply['next_page_token'] : undefined;
    } while (pageToken !== undefined);
    return versions
      .map((v) => ({ ...v, aliases: aliases.filter((a) => String(a.version) === v.version).map((a) => String(a.alias)) }))
      .sort((a, b) => Number(a.version) - Number(b.version));
  }

  /** The version's model file, decoded and verified: its own content hash, and the version's content_hash tag. */
  async download(mv: MlflowModelVersion): Promise<{ bytes: Uint8Array; model: LoadedModel }> {
    const reply = await this.client.json('GET', 'model-versions/get-download-uri', { name: mv.name, version: mv.version });
    const base = typeof reply['artifact_uri'] === 'string' && reply['artifact_uri'] !== '' ? reply['artifact_uri'] : mv.source;
    // The source is the model's folder; a version registered with the file itself as its source works too.
    const uri = /\.safetensors$/i.test(base) ? base : `${base.replace(/\/+$/, '')}/${MODEL_FILE}`;
    const bytes = await readArtifact({ client: this.client, baseUrl: this.trackingUri, timeoutMs: this.timeoutMs }, uri);
    return { bytes, model: verifyModel(bytes, mv, uri) };
  }

  private where(): string {
    return `the MLflow registry at ${new URL(this.trackingUri).host}`;
  }
}

/** Decodes `bytes` (which checks the file's own data hash) and checks it is the content the version's tag names. */
export function verifyModel(bytes: Uint8Array, mv: MlflowModelVersion, from: string): LoadedModel {
  const model = decodeModel(bytes, `${mv.name}/${mv.version} (${from})`);
  const expected = mv.tags[CONTENT_HASH_TAG];
  if (expected !== undefined && expected !== model.metadata.contentHash) {
    throw new MlflowRegistryError(`model version ${mv.name}/${mv.version}: the file's content hash ${model.metadata.contentHash.slice(0, 12)}… ` +
      `differs from the version's ${CONTENT_HASH_TAG} tag ${expected.slice(0, 12)}… (${from})`);
  }
  return model;
}

function isMissing(err: unknown): boolean {
  return err instanceof MlflowRestError && (err.status === 404 || err.errorCode === 'RESOURCE_DOES_NOT_EXIST');
}

function toVersion(raw: unknown, endpoint: string): MlflowModelVersion {
  const v = (raw ?? {}) as Record<string, unknown>;
  if (typeof v['name'] !== 'string' || (typeof v['version'] !== 'string' && typeof v['version'] !== 'number')) {
    throw new Error(`MLflow ${endpoint}: the reply has no model_version (is this an MLflow tracking server?)`);
  }
  const tags: Record<string, string> = {};
  if (Array.isArray(v['tags'])) for (const t of v['tags'] as Array<{ key?: unknown; value?: unknown }>) tags[String(t.key)] = String(t.value ?? '');
  return {
    name: v['name'], version: String(v['version']), runId: typeof v['run_id'] === 'string' ? v['run_id'] : '',
    source: typeof v['source'] === 'string' ? v['source'] : '', status: typeof v['status'] === 'string' ? v['status'] : 'READY',
    createdAtMs: Number(v['creation_timestamp'] ?? 0), tags,
    aliases: Array.isArray(v['aliases']) ? (v['aliases'] as unknown[]).map(String) : [],
  };
}
