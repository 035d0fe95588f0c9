// The project's Python tools (MLflow, DVC, numpy) live in .venv/, installed by `npm run setup:python`. A test that
// needs them skips with the reason outside CI and fails under CI=true, the rule the Chromium and Prometheus tests follow:
//   const skip = skipWithoutVenv('MLflow tests');      describe.skipIf(skip)(…, () => { beforeAll(requireVenv); … })

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './paths.js';

export const venvDir = join(projectRoot, '.venv');

/** A program of the venv: python, mlflow, dvc, pip. */
export const venvBin = (tool: string): string => join(venvDir, 'bin', tool);

export const hasVenv = existsSync(venvBin('python')) && existsSync(join(venvDir, '.requirements.sha256'));

/** True when the caller should skip: no venv and not under CI (then it says why, once). */
export function skipWithoutVenv(what: string): boolean {
  const skip = !hasVenv && !process.env.CI;
  if (skip) console.warn(`${what} skipped: no .venv (npm run setup:python installs MLflow and DVC); set CI=1 to make this a failure`);
  return skip;
}

/** For beforeAll: under CI a missing venv is a failure with the fix in its message. */
export function requireVenv(): void {
  if (!hasVenv) throw new Error(`no .venv at ${venvDir}: run npm run setup:python (CI runs it in .ci/run)`);
}
