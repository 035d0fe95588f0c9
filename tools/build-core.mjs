// Builds the AssemblyScript core (asconfig.json targets) and the benchmark's SIMD probe, skipping any output that is
// newer than every source it depends on, so `npm run train`/`npm start` do not pay ~10 s of compiling each time.
// Usage: node tools/build-core.mjs [--force] [target …]   (targets: release, debug, peak; default all)

import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asc = join(root, 'node_modules', '.bin', 'asc');
const args = process.argv.slice(2);
const force = args.includes('--force');
const wanted = args.filter((a) => a !== '--force');

const TARGETS = {
  release: { out: 'build/core.wasm', cmd: ['--target', 'release'] },
  debug: { out: 'build/core.debug.wasm', cmd: ['--target', 'debug'] },
  peak: {
    out: 'build/peak.wasm',
    cmd: ['assembly/probe/peak.ts', '--enable', 'simd', '-O3', '--runtime', 'stub', '--initialMemory', '1', '-o', 'build/peak.wasm'],
  },
};

function newestSource() {
  let newest = statSync(join(root, 'asconfig.json')).mtimeMs;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(join(root, 'assembly'));
  newest = Math.max(newest, statSync(join(root, 'node_modules', 'assemblyscript', 'package.json')).mtimeMs);
  return newest;
}

const sources = newestSource();
for (const name of wanted.length > 0 ? wanted : Object.keys(TARGETS)) {
  const target = TARGETS[name];
  if (!target) {
    console.error(`error: unknown target "${name}" (release, debug, peak)`);
    process.exit(2);
  }
  const out = statSync(join(root, target.out), { throwIfNoEntry: false });
  if (!force && out && out.mtimeMs >= sources) continue;
  const result = spawnSync(asc, target.cmd, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`error: asc failed building ${target.out}`);
    process.exit(result.status ?? 1);
  }
}
