// One temp-dir helper for every test file: `tempDir(prefix)` makes a fresh folder under the OS temp dir (or under
// build/ with `{ inBuild: true }`, where bare imports of a bundle resolve from node_modules); test/setup/cleanup.ts
// removes every folder made this way after the file's tests, so no test file writes its own afterAll for it.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from './paths.js';

const made: string[] = [];

export function tempDir(prefix: string, options: { inBuild?: boolean } = {}): string {
  const parent = options.inBuild ? join(projectRoot, 'build') : tmpdir();
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, options.inBuild ? `.test-${prefix}-` : `doodle-${prefix}-`));
  made.push(dir);
  return dir;
}

/** Called by test/setup/cleanup.ts after each file. */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
