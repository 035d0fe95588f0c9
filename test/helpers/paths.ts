// Where things are, for every test: the project root and the CLI bundles built once per run by test/setup/global.ts.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The folder test/setup/global.ts bundles src/cli/*.ts into, once per `vitest run` (inside build/, so that bare
 * imports resolve from node_modules as with `npm run build:cli`). */
export const cliBundleDir = join(projectRoot, 'build', 'test-cli');

/** The bundled CLI `name` (`train`, `serve`, `data`, …): run it with `process.execPath`. */
export function cliPath(name: string): string {
  return join(cliBundleDir, `${name}.js`);
}
