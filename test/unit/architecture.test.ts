// Keeps the module boundaries of the house style true as the tree grows: the leaf modules import nothing from the
// rest of src/, only cli/ exits the process, each third-party runtime (prom-client, uWebSockets.js, the wasm loader)
// has one home, web/ shares only the protocol and the preprocessing with the server, the AssemblyScript core imports
// only itself, and the README's architecture picture names every part of the tree.

import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every module a file names: static imports and re-exports, side-effect imports, dynamic import() and require(). */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/\b(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
}

const rel = (file: string) => relative(root, file);

/** Files of src/ and web/ naming `pkg`, outside the one folder allowed to. */
function outsiders(pkg: string, home: string): string[] {
  return [...files(join(root, 'src')), ...files(join(root, 'web'))]
    .filter((file) => imports(file).some((spec) => spec === pkg || spec.startsWith(`${pkg}/`)))
    .map(rel).filter((path) => !path.startsWith(home + '/'));
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

  it('only src/cli/ ends the process or sets its exit code', () => {
    const exits = files(join(root, 'src')).filter((file) => !rel(file).startsWith('src/cli/'))
      .filter((file) => /process\.exit\(|process\.exitCode\s*=|process\.abort\(/.test(readFileSync(file, 'utf8')));
    expect(exits.map(rel)).toEqual([]);
  });

  it('no recursive mkdir outside src/util/ (it spins forever under /proc: util makes folders level by level)', () => {
    const recursive = files(join(root, 'src')).filter((file) => !rel(file).startsWith('src/util/'))
      .filter((file) => /mkdirSync\([^)]*recursive:\s*true/.test(readFileSync(file, 'utf8')));
    expect(recursive.map(rel)).toEqual([]);
  });

  it('only src/metrics/ imports prom-client', () => {
    expect(outsiders('prom-client', 'src/metrics')).toEqual([]);
  });

  it('only src/server/ imports uWebSockets.js', () => {
    expect(outsiders('uWebSockets.js', 'src/server')).toEqual([]);
  });

  it('web/ imports only its own files, src/protocol.ts and src/preprocess/', () => {
    const web = files(join(root, 'web'));
    expect(web.length).toBeGreaterThan(2);
    for (const file of web) {
      for (const spec of imports(file)) {
        const target = spec.startsWith('.') ? rel(resolve(dirname(file), spec)) : spec;
        const ok = target.startsWith('web/') || target === 'src/protocol.js' || target.startsWith('src/preprocess/');
        expect(ok, `${rel(file)} imports ${spec}`).toBe(true);
      }
    }
  });

  it('what web/ shares (src/protocol.ts, src/preprocess/) imports nothing but itself: it runs in the browser too', () => {
    const shared = [join(root, 'src', 'protocol.ts'), ...files(join(root, 'src', 'preprocess'))];
    for (const file of shared) {
      for (const spec of imports(file)) {
        const target = spec.startsWith('.') ? rel(resolve(dirname(file), spec)) : spec;
        const ok = target === 'src/protocol.js' || target.startsWith('src/preprocess/');
        expect(ok, `${rel(file)} imports ${spec}`).toBe(true);
      }
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

describe("README's architecture picture", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const picture = /## Architecture\n```\n([\s\S]*?)\n```/.exec(readme)?.[1] ?? '';

  it('names every folder and top-level module of src/, and web/ and assembly/', () => {
    expect(picture.length).toBeGreaterThan(200);
    const parts = readdirSync(join(root, 'src')).map((name) => `src/${name}${statSync(join(root, 'src', name)).isDirectory() ? '/' : ''}`);
    const missing = [...parts, 'web/', 'assembly/'].filter((part) => !picture.includes(part));
    expect(missing).toEqual([]);
  });

  it('names every command of src/cli/ and every module of src/server/', () => {
    const names = (dir: string) => readdirSync(join(root, 'src', dir)).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, ''));
    const missing = [...names('cli').filter((n) => n !== 'args'), ...names('server')]
      .filter((name) => !new RegExp(`(^|[^\\w-])${name}([^\\w-]|$)`, 'm').test(picture));
    expect(missing).toEqual([]);
  });
});
