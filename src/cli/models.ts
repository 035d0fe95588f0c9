// `npm run models`: lists the registered model versions (oldest first, `*` = current) and, when MLFLOW_TRACKING_URI
// is a tracking server, the versions of doodle-digits in its MLflow Model Registry (with their aliases); or
// `npm run models -- promote <version|prefix>` switches the local current one. `--models <dir>` (default models;
// `--root` is its old name, still accepted), `--json`. Errors: one line `error: …` on stderr, exit 1 (2 for usage:
// args.ts). Not here: training or registry rules (src/model/registry.ts, src/tracking/model-registry.ts).

import { badValue, EXIT_CODES, parseFlags, runCli, UsageError } from './args.js';
import { ModelFileError, RegistryError } from '../model/errors.js';
import { ModelRegistry, type VersionInfo } from '../model/registry.js';
import { WriteError } from '../util/atomic-write.js';
import { readEnvironment } from '../config.js';
import { MlflowModelRegistry, REGISTERED_MODEL, type MlflowModelVersion } from '../tracking/model-registry.js';
import { resolveTrackingUri } from '../tracking/uri.js';
import { registerChampion, type ChampionResult } from '../tracking/champion.js';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const USAGE = `Usage: npm run models -- [flags]                list the versions, oldest first (* = current)
       npm run models -- promote <ref> [flags]  make <ref> (a version id or a unique prefix of one) current
  --models <dir>   the model registry (default models; --root is accepted as its old name)
  --json           machine-readable output on stdout; npm prints its "> doodle-digits@… models" banner on stdout
                   too, so run it as \`npm run -s models -- --json\` (or node build/cli/models.js --json) to parse it
  -h, --help       this text
With MLFLOW_TRACKING_URI=http(s)://… the list also shows the MLflow registry's versions of ${REGISTERED_MODEL}
(version, run id, aliases, creation time); a registry that cannot be read is an error (exit 1) after the local list.
There, promote also moves the registry's @champion to the version's MLflow run (a failure there is a warning).
${EXIT_CODES}`;

async function main(): Promise<number> {
  const { values, positionals } = parseFlags({
    models: { type: 'string' }, root: { type: 'string' }, json: { type: 'boolean' },
  }, true);
  if (values.models !== undefined && values.root !== undefined && values.models !== values.root) {
    throw badValue('--root is the old name of --models: give one of them');
  }
  const json = values.json ?? false;
  const registry = new ModelRegistry(values.models ?? values.root ?? 'models');
  const [command = 'list', ...rest] = positionals;
  switch (command) {
    case 'list':
      if (rest.length > 0) throw new UsageError(`list takes no arguments, got "${rest.join(' ')}"`);
      return list(registry, json, await mlflowVersions());
    case 'promote':
      if (rest.length !== 1) throw new UsageError('promote takes exactly one version id or prefix');
      return promote(registry, rest[0]!, json, readEnvironment().mlflowTrackingUri);
    default:
      throw new UsageError(`unknown command "${command}" (commands: list, promote)`);
  }
}

/** The MLflow registry's side of the list: none without a tracking server, else its versions or why they are missing. */
type MlflowSide = undefined | { where: string; versions: MlflowModelVersion[] } | { where: string; error: string };

async function mlflowVersions(): Promise<MlflowSide> {
  const uri = readEnvironment().mlflowTrackingUri;
  let target;
  try {
    target = resolveTrackingUri(uri);
  } catch (err) {
    return { where: uri ?? '', error: (err as Error).message };
  }
  if (target.kind !== 'rest') return undefined;
  const url = new URL(target.baseUrl);
  url.username = '';
  url.password = '';
  const where = url.href.replace(/\/+$/, '');
  try {
    return { where, versions: await new MlflowModelRegistry(target.baseUrl).list(REGISTERED_MODEL) };
  } catch (err) {
    return { where, error: (err as Error).message };
  }
}

function list(registry: ModelRegistry, json: boolean, mlflow: MlflowSide): number {
  const versions = registry.list();
  let current: string | undefined;
  try {
    current = registry.currentVersion();
  } catch (err) {
    if (!(err instanceof RegistryError)) throw err;
    console.error(`warning: ${err.message}`); // still list what is there: that is how one picks a replacement
  }
  const failed = mlflow !== undefined && 'error' in mlflow;
  if (failed) console.error(`error: the MLflow registry at ${mlflow.where} cannot be read: ${mlflow.error}`);
  if (json) {
    const side = mlflow === undefined ? null : 'error' in mlflow ? { trackingUri: mlflow.where, error: mlflow.error } : {
      trackingUri: mlflow.where, name: REGISTERED_MODEL,
      versions: mlflow.versions.map((v) => ({ version: v.version, runId: v.runId, aliases: v.aliases, createdAt: iso(v.createdAtMs),
        status: v.status, source: v.source, contentHash: v.tags['content_hash'] ?? null })),
    };
    console.log(JSON.stringify({ root: registry.root, current: current ?? null, versions, mlflow: side }, null, 2));
    return failed ? 1 : 0;
  }
  if (versions.length === 0) console.log('no models yet → run `npm run train`');
  else {
    table([
      ['', 'VERSION', 'TEST ACC', 'CREATED (UTC)'],
      ...versions.map((v) => [v.current ? '*' : '', v.version, percent(v.testAccuracy), v.createdAt.replace('T', ' ').replace('Z', '')]),
    ], [2]);
  }
  if (mlflow !== undefined && 'versions' in mlflow) {
    console.log(`\nMLflow registry at ${mlflow.where}, model ${REGISTERED_MODEL}:`);
    if (mlflow.versions.length === 0) console.log('  no versions yet → train with MLFLOW_TRACKING_URI set (a promotion registers one)');
    else {
      table([
        ['VERSION', 'RUN ID', 'ALIASES', 'CREATED (UTC)'],
        ...mlflow.versions.map((v) => [v.version, v.runId, v.aliases.map((a) => `@${a}`).join(' '), iso(v.createdAtMs).replace('T', ' ').replace(/\.\d+Z$/, '')]),
      ], []);
    }
  }
  return failed ? 1 : 0;
}

/** Columns padded to their widest cell; `right` ones aligned right. */
function table(rows: string[][], right: number[]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const row of rows) {
    const cells = row.map((cell, c) => (right.includes(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)));
    console.log(cells.join('  ').trimEnd());
  }
}

function iso(ms: number): string {
  return Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : '';
}

async function promote(registry: ModelRegistry, ref: string, json: boolean, trackingUri: string | undefined): Promise<number> {
  let previous: string | undefined;
  try {
    previous = registry.currentVersion();
  } catch (err) {
    if (!(err instanceof RegistryError)) throw err; // a dangling current is what promote repairs
  }
  registry.promote(ref);
  const now = registry.currentVersion()!;
  const byId = new Map<string, VersionInfo>(registry.list().map((v) => [v.version, v]));
  const label = (id: string | undefined): string => {
    const info = id === undefined ? undefined : byId.get(id);
    return id === undefined ? '(none)' : info === undefined ? `${id} (missing)` : `${id} (${percent(info.testAccuracy)})`;
  };
  const mlflow = await moveChampion(byId.get(now), trackingUri);
  if (json) {
    console.log(JSON.stringify({ previous: previous ?? null, current: now, changed: previous !== now,
      ...(mlflow === undefined ? {} : { mlflow: { kind: mlflow.kind, message: mlflow.message, ...(mlflow.kind === 'registered' ? { version: mlflow.version } : {}) } }) }, null, 2));
  } else if (previous === now) {
    console.log(`${label(now)} is already current; nothing changed`);
  } else {
    console.log(`current: ${label(previous)} → ${label(now)}`);
  }
  return 0;
}

/**
 * With an http(s) MLFLOW_TRACKING_URI, a promotion also moves the MLflow registry's @champion to this version's
 * run (its metrics.json names the run and the content hash). A failure there is a warning: the local promotion stands.
 */
async function moveChampion(info: VersionInfo | undefined, trackingUri: string | undefined): Promise<ChampionResult | undefined> {
  if (info === undefined || resolveTrackingUri(trackingUri).kind !== 'rest') return undefined;
  let doc: { runId?: unknown; contentHash?: unknown } = {};
  try {
    doc = JSON.parse(readFileSync(join(dirname(info.path), 'metrics.json'), 'utf8')) as typeof doc;
  } catch { /* no metrics.json: reported below */ }
  if (typeof doc.runId !== 'string' || typeof doc.contentHash !== 'string') {
    const message = `MLflow registry: @champion not moved (version ${info.version} has no MLflow run in its metrics.json)`;
    console.error(`warning: ${message}`);
    return { kind: 'skipped', message };
  }
  const r = await registerChampion({ trackingUri, runId: doc.runId, contentHash: doc.contentHash });
  if (r.kind === 'failed') console.error(`warning: ${r.message}`);
  else console.error(r.message);
  return r;
}

function percent(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

// Registry and model-file errors are the expected failures (one line); anything else is a bug and keeps its stack.
runCli(main, USAGE, (err) => err instanceof RegistryError || err instanceof ModelFileError || err instanceof WriteError);
