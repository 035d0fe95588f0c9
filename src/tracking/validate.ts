// MLflow's rules for names and values of run data, checked once where data enters the module, so that neither the
// file store nor an MLflow server ever sees something MLflow itself would refuse.
// see: mlflow/utils/validation.py (validate_param_and_metric_name, path_not_unique, MAX_* limits).
// Not here: param immutability (tracked-run.ts) or anything that touches disk or network.

/** MLflow's limits (validation.py): key length, param and tag value length, experiment name length (code points). */
export const LIMITS = {
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
  experimentNameLength: 500,
} as const;

// `^[/\w.\- :]*$` in Python: `\w` on a str is Unicode-aware (letters, digits and numerics of any script, and `_`).
// MLflow drops the colon on Windows, where it cannot appear in a file name.
const NAME_WITH_COLON = /^[/\p{L}\p{N}_.\- :]*$/u;
const NAME_WITHOUT_COLON = /^[/\p{L}\p{N}_.\- ]*$/u;

export type KeyKind = 'param' | 'metric' | 'tag';

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** posixpath.normpath, which MLflow uses to refuse names that would alias another file path. */
export function posixNormpath(path: string): string {
  if (path === '') return '.';
  // POSIX keeps exactly two leading slashes; one or three and more collapse to one.
  const initial = path.startsWith('/') ? (path.startsWith('//') && !path.startsWith('///') ? 2 : 1) : 0;
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..' || (initial === 0 && parts.length === 0) || parts[parts.length - 1] === '..') parts.push(part);
    else if (parts.length > 0) parts.pop();
  }
  const joined = '/'.repeat(initial) + parts.join('/');
  return joined === '' ? '.' : joined;
}

/** Throws unless `key` is a name MLflow accepts for a param, metric or tag (it also becomes a file path). */
export function checkKey(kind: KeyKind, key: unknown, platform: NodeJS.Platform = process.platform): asserts key is string {
  if (typeof key !== 'string' || key === '') {
    throw new Error(`invalid ${kind} key ${JSON.stringify(key)}: a key must be a non-empty string`);
  }
  const colon = platform !== 'win32';
  if (!(colon ? NAME_WITH_COLON : NAME_WITHOUT_COLON).test(key)) {
    throw new Error(
      `invalid ${kind} key ${JSON.stringify(key)}: MLflow names may only contain alphanumerics, underscores (_), ` +
        `dashes (-), periods (.), spaces ( )${colon ? ', colons (:)' : ''} and slashes (/)`,
    );
  }
  const norm = posixNormpath(key);
  if (norm !== key || norm === '.' || norm.startsWith('..') || norm.startsWith('/')) {
    throw new Error(
      `invalid ${kind} key ${JSON.stringify(key)}: MLflow stores keys as file paths and this one would resolve to ` +
        `${JSON.stringify(norm)} (no leading '/', '..', '.' segments, or doubled or trailing slashes)`,
    );
  }
  if (codePoints(key) > LIMITS.keyLength) {
    throw new Error(`invalid ${kind} key ${JSON.stringify(key.slice(0, 40))}…: longer than ${LIMITS.keyLength} characters`);
  }
}

/** Params are recorded as text: numbers and booleans as JavaScript prints them (3, 0.001, true). */
export function paramText(key: string, value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    throw new Error(`param ${JSON.stringify(key)}: value must be a string, number or boolean, got ${typeof value}`);
  }
  const text = String(value);
  if (codePoints(text) > LIMITS.paramValueLength) {
    throw new Error(`param ${JSON.stringify(key)}: value is longer than MLflow's ${LIMITS.paramValueLength} characters`);
  }
  return text;
}

export function checkTagValue(key: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') throw new Error(`tag ${JSON.stringify(key)}: value must be a string, got ${typeof value}`);
  if (codePoints(value) > LIMITS.tagValueLength) {
    throw new Error(`tag ${JSON.stringify(key)}: value is longer than MLflow's ${LIMITS.tagValueLength} characters`);
  }
}

/** A metric value is any double, NaN and ±Infinity included (MLflow stores them as nan / inf). */
export function checkMetricValue(key: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') throw new Error(`metric ${JSON.stringify(key)}: value must be a number, got ${typeof value}`);
}

export function checkStep(step: unknown): asserts step is number {
  if (typeof step !== 'number' || !Number.isSafeInteger(step)) {
    throw new Error(`metric step must be an integer, got ${String(step)}`);
  }
}

export function checkTimestamp(what: string, ms: unknown): asserts ms is number {
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) {
    throw new Error(`${what} must be a non-negative integer of milliseconds since the epoch, got ${String(ms)}`);
  }
}

export function checkExperimentName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '') throw new Error('experimentName must be a non-empty string');
  if (codePoints(name) > LIMITS.experimentNameLength) {
    throw new Error(`experimentName is longer than MLflow's ${LIMITS.experimentNameLength} characters`);
  }
}

/** An artifact sub-folder: relative, '/'-separated, no empty, '.' or '..' segments. Returns it without a trailing '/'. */
export function checkArtifactPath(artifactPath: string | undefined): string | undefined {
  if (artifactPath === undefined || artifactPath === '') return undefined;
  const trimmed = artifactPath.replace(/\/+$/, '');
  const bad = trimmed === '' || trimmed.startsWith('/') || trimmed.includes('\\') || trimmed.includes('\0') ||
    trimmed.split('/').some((s) => s === '' || s === '.' || s === '..');
  if (bad) {
    throw new Error(`invalid artifactPath ${JSON.stringify(artifactPath)}: use a relative folder like "model" or "plots/epoch1"`);
  }
  return trimmed;
}
