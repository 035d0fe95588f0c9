// Keeps the module boundaries of the house style true as the tree grows: the leaf modules import nothing from the
// rest of src/, only cli/ exits the process, and the AssemblyScript core imports only itself.

import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

/** Resolved project-relative targets of a file's relative imports. */
function localTargets(file: string): string[] {
  return imports(file).filter((s) => s.startsWith('.')).map((s) => relative(root, resolve(dirname(file), s)));
}

describe('module boundaries', () => {
  it('leaf modules (data/, model/, util/, random.ts, config.ts) import nothing else from src/ but util/', () => {
    const leaves = [...files(join(root, 'src', 'data')), ...files(join(root, 'src', 'model')),
      ...files(join(root, 'src', 'util')), join(root, 'src', 'random.ts'), join(root, 'src', 'config.ts')];
    expect(leaves.length).toBeGreaterThan(4);
    for (const file of leaves) {
      const own = relative(root, dirname(file));
      for (const target of localTargets(file)) {
        const ok = target.startsWith(own) || target.startsWith(join('src', 'util'));
        expect(ok, `${relative(root, file)} imports ${target}`).toBe(true);
      }
    }
  });

  it('only src/cli/ calls process.exit', () => {
    for (const file of files(join(root, 'src'))) {
      if (relative(root, file).startsWith(join('src', 'cli'))) continue;
      expect(/process\.exit\(/.test(readFileSync(file, 'utf8')), relative(root, file)).toBe(false);
    }
  });

  it('assembly/ imports only assembly/', () => {
    for (const file of files(join(root, 'assembly'))) {
      for (const target of localTargets(file)) {
        expect(target.startsWith('assembly'), `${relative(root, file)} imports ${target}`).toBe(true);
      }
      for (const spec of imports(file)) expect(spec.startsWith('.'), `${relative(root, file)} imports ${spec}`).toBe(true);
    }
  });

  it('only src/wasm/ loads the AssemblyScript loader', () => {
    for (const file of files(join(root, 'src'))) {
      const uses = imports(file).includes('@assemblyscript/loader');
      if (uses) expect(relative(root, file).startsWith(join('src', 'wasm')), relative(root, file)).toBe(true);
    }
  });
});

describe('README', () => {
  it('shows the benchmark figures of the committed results file (tools/bench-tables.mjs --check)', () => {
    const r = spawnSync(process.execPath, [join(root, 'tools', 'bench-tables.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
