// Global setup of the integration project: bundles every CLI in src/cli/ once per run into build/test-cli/, the
// way `npm run build:cli` does, so that no test file bundles its own.

import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { cliBundleDir, projectRoot } from '../helpers/paths.js';

export default async function setup(): Promise<void> {
  rmSync(cliBundleDir, { recursive: true, force: true });
  const entries = readdirSync(join(projectRoot, 'src', 'cli')).filter((f) => f.endsWith('.ts')).map((f) => join(projectRoot, 'src', 'cli', f));
  await build({ entryPoints: entries, bundle: true, platform: 'node', format: 'esm', packages: 'external', outdir: cliBundleDir, logLevel: 'warning' });
}
