// Loads uWebSockets.js's native addon directly. The package's own entry silently falls back to a slow pure-JS
// server when the binary does not load (wrong Node ABI, glibc); a server that quietly runs 30× slower is worse than
// one that refuses to start, so we require the binary ourselves and fail with the reason.
// Only src/server/ imports uWebSockets.js.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Uws from 'uWebSockets.js';

export type UwsModule = typeof Uws;

export function loadUws(): UwsModule {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('uWebSockets.js/package.json'));
  const binary = join(root, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
  try {
    return require(binary) as UwsModule;
  } catch (err) {
    throw new Error(`uWebSockets.js native addon did not load (${binary}): ${(err as Error).message.split('\n')[0]} → ` +
      `use Node.js 20 on Linux x64/arm64 (glibc) or macOS; refusing to start on the slow JavaScript fallback`);
  }
}
