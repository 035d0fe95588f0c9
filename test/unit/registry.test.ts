// The model registry on real temp directories. Not here: the file format (model.test.ts), `npm run models`
// (test/integration/cli.test.ts).

import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ModelFileError, RegistryError } from '../../src/model/errors.js';
import { loadModel } from '../../src/model/model-file.js';
import { syntheticModel } from '../helpers/model.js';
import { ModelRegistry } from '../../src/model/registry.js';

const dirs: string[] = [];
function tempRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dd-registry-'));
  dirs.push(dir);
  return join(dir, 'models'); // not created: the registry must create it
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const model = (seed: number, testAccuracy: number) => syntheticModel(seed, testAccuracy, [4, 3, 2]);
const at = (day: number, seconds = 0): Date => new Date(Date.UTC(2025, 0, day, 9, 30, seconds));

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error, got none');
}

describe('ModelRegistry', () => {
  it('starts empty, without creating anything, when the root does not exist', () => {
    const root = tempRoot();
    const registry = new ModelRegistry(root);
    expect(registry.list()).toEqual([]);
    expect(registry.currentVersion()).toBeUndefined();
    expect(existsSync(root)).toBe(false);
  });

  it('adds a complete version named <UTC yyyymmdd-hhmmss>-<12 hex of the content hash>', () => {
    const root = tempRoot();
    const registry = new ModelRegistry(root);
    const m = model(1, 0.9);
    const metrics = { testAccuracy: 0.9, testLoss: 0.31, epochs: 3 };
    const info = registry.add(m.bytes, m.contentHash, metrics, at(7, 15));
    expect(info).toEqual({
      version: `20250107-093015-${m.contentHash.slice(0, 12)}`,
      testAccuracy: 0.9,
      createdAt: '2025-01-07T09:30:15Z',
      current: false,
      path: join(root, info.version, 'model.safetensors'),
    });
    expect(readdirSync(root)).toEqual([info.version]); // the temp dir is gone
    expect(readdirSync(join(root, info.version)).sort()).toEqual(['metrics.json', 'model.safetensors']);
    expect(JSON.parse(readFileSync(join(root, info.version, 'metrics.json'), 'utf8'))).toEqual(metrics);
    expect(Buffer.from(readFileSync(info.path)).equals(Buffer.from(m.bytes))).toBe(true);
    expect(loadModel(info.path).version).toBe(info.version);
    expect(registry.currentVersion()).toBeUndefined(); // add alone does not promote
  });

  it('lists oldest → newest whatever the order of adding, and marks current', () => {
    const registry = new ModelRegistry(tempRoot());
    const c = registry.add(model(3, 0.7).bytes, model(3, 0.7).contentHash, { testAccuracy: 0.7 }, at(9));
    const a = registry.add(model(1, 0.9).bytes, model(1, 0.9).contentHash, { testAccuracy: 0.9 }, at(5));
    const b = registry.add(model(2, 0.8).bytes, model(2, 0.8).contentHash, { testAccuracy: 0.8 }, at(7));
    registry.promote(b.version);
    const listed = registry.list();
    expect(listed.map((v) => v.version)).toEqual([a.version, b.version, c.version]);
    expect(listed.map((v) => v.current)).toEqual([false, true, false]);
    expect(listed.map((v) => v.testAccuracy)).toEqual([0.9, 0.8, 0.7]);
  });

  it('adding the same content twice is idempotent, even with other metadata or another time', () => {
    const root = tempRoot();
    const registry = new ModelRegistry(root);
    const m = model(1, 0.9);
    const first = registry.add(m.bytes, m.contentHash, { testAccuracy: 0.9 }, at(7));
    const again = registry.add(m.bytes, m.contentHash, { testAccuracy: 0.9 }, at(8));
    expect(again).toEqual(first);
    expect(readdirSync(root)).toEqual([first.version]);
  });

  it('refuses bytes that do not match their hash, invalid models and invalid metrics', () => {
    const registry = new ModelRegistry(tempRoot());
    const m = model(1, 0.9);
    const other = model(2, 0.9);
    expect(() => registry.add(m.bytes, other.contentHash, { testAccuracy: 0.9 })).toThrow(/does not match the model's own/);
    const damaged = Uint8Array.from(m.bytes);
    damaged[damaged.length - 1] = damaged[damaged.length - 1]! ^ 0x80;
    expect(() => registry.add(damaged, m.contentHash, { testAccuracy: 0.9 })).toThrow(ModelFileError);
    expect(() => registry.add(m.bytes, m.contentHash, { testAccuracy: 1.2 })).toThrow(/testAccuracy must be a number in \[0, 1\], got 1\.2/);
    expect(registry.list()).toEqual([]);
  });

  it('promotes by id or unique prefix after validating the model, and writes the id to <root>/current', () => {
    const root = tempRoot();
    const registry = new ModelRegistry(root);
    const a = registry.add(model(1, 0.9).bytes, model(1, 0.9).contentHash, { testAccuracy: 0.9 }, at(5));
    const b = registry.add(model(2, 0.8).bytes, model(2, 0.8).contentHash, { testAccuracy: 0.8 }, at(7));
    registry.promote(a.version);
    expect(readFileSync(join(root, 'current'), 'utf8')).toBe(`${a.version}\n`);
    registry.promote('20250107');
    expect(registry.currentVersion()).toBe(b.version);
    expect(thrown(() => registry.promote('2099'))).toBeInstanceOf(RegistryError);

    // A version whose model no longer validates cannot become current; current stays where it was.
    const bytes = readFileSync(a.path);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x01;
    writeFileSync(a.path, bytes);
    const err = thrown(() => registry.promote(a.version));
    expect(err).toBeInstanceOf(ModelFileError);
    expect(err.message).toMatch(/content hash mismatch \(file corrupted\?\)/);
    expect(registry.currentVersion()).toBe(b.version);
  });

  it('promotion rules: first model; better or equal; worse only when forced; same content is already current', () => {
    const registry = new ModelRegistry(tempRoot());
    const add = (seed: number, acc: number, force = false): ReturnType<ModelRegistry['addAndMaybePromote']> => {
      const m = model(seed, acc);
      return registry.addAndMaybePromote(m.bytes, m.contentHash, { testAccuracy: acc }, { force, createdAt: at(seed) });
    };
    const first = add(1, 0.9);
    expect([first.promoted, first.info.current]).toEqual([true, true]);
    expect(first.reason).toBe('first model: there was no current version');

    const better = add(2, 0.95);
    expect(better.promoted).toBe(true);
    expect(better.reason).toBe(`test accuracy 95.00% ≥ 90.00% of current ${first.info.version}`);

    const equal = add(3, 0.95);
    expect(equal.promoted).toBe(true);
    expect(registry.currentVersion()).toBe(equal.info.version);

    const worse = add(4, 0.94);
    expect([worse.promoted, worse.info.current]).toEqual([false, false]);
    expect(worse.reason).toBe(`test accuracy 94.00% < 95.00% of current ${equal.info.version}; current kept ` +
      `(promote anyway: \`npm run models -- promote ${worse.info.version}\`)`);
    expect(registry.currentVersion()).toBe(equal.info.version);

    const forced = add(5, 0.5, true);
    expect(forced.promoted).toBe(true);
    expect(forced.reason).toBe(`forced: test accuracy 50.00% < 95.00% of current ${equal.info.version}`);
    expect(registry.currentVersion()).toBe(forced.info.version);

    const same = add(5, 0.5);
    expect(same.promoted).toBe(false);
    expect(same.reason).toBe(`${forced.info.version} is already current (same content)`);
    expect(registry.list()).toHaveLength(5);
  });

  it('resolves ids, unique prefixes, current and file paths; errors are clear', () => {
    const root = tempRoot();
    const registry = new ModelRegistry(root);
    expect(thrown(() => registry.resolve('current')).message).toBe(`no current model in ${root} → run \`npm run train\``);
    const a = registry.add(model(1, 0.9).bytes, model(1, 0.9).contentHash, { testAccuracy: 0.9 }, at(5));
    const b = registry.add(model(2, 0.8).bytes, model(2, 0.8).contentHash, { testAccuracy: 0.8 }, at(7));
    registry.promote(b.version);
    expect(registry.resolve(a.version)).toBe(a.path);
    expect(registry.resolve('20250105')).toBe(a.path);
    expect(registry.resolve('current')).toBe(b.path);
    expect(registry.resolve(b.path)).toBe(b.path);
    expect(registry.resolve(relative(process.cwd(), b.path))).toBe(b.path);

    const ambiguous = thrown(() => registry.resolve('2025'));
    expect(ambiguous).toBeInstanceOf(RegistryError);
    expect(ambiguous.message).toBe(`"2025" is ambiguous: it matches ${a.version}, ${b.version} → give more of the version id`);
    expect(thrown(() => registry.resolve('1999')).message).toBe(`no version "1999" in ${root} → list them with \`npm run models\``);
    expect(thrown(() => registry.resolve('')).message).toMatch(/^no version "" in /);
    expect(thrown(() => registry.resolve(join(root, 'x.safetensors'))).message).toBe(`model not found at ${join(root, 'x.safetensors')}`);
    expect(thrown(() => registry.resolve(join(root, 'metrics.json'))).message).toMatch(/is not a \.safetensors file$/);
  });

  it('a current that names a deleted version is a clear error, and the next add repairs it', () => {
    const root = tempRoot();
    const registry = new ModelRegistry(root);
    const a = registry.add(model(1, 0.9).bytes, model(1, 0.9).contentHash, { testAccuracy: 0.9 }, at(5));
    registry.promote(a.version);
    rmSync(join(root, a.version), { recursive: true });
    const err = thrown(() => registry.currentVersion());
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.message).toBe(`${join(root, 'current')} names version "${a.version}", which does not exist → ` +
      'promote another with `npm run models -- promote <version>` or run `npm run train`');
    expect(thrown(() => registry.resolve('current')).message).toBe(err.message);
    expect(registry.list()).toEqual([]);

    const m = model(2, 0.1);
    const next = registry.addAndMaybePromote(m.bytes, m.contentHash, { testAccuracy: 0.1 }, {});
    expect(next.promoted).toBe(true);
    expect(next.reason).toBe(`the current file named a missing version "${a.version}"`);
    expect(registry.currentVersion()).toBe(next.info.version);
  });

  it('ignores temp dirs, stray files and directories that are not versions', () => {
    const root = tempRoot();
    const registry = new ModelRegistry(root);
    const a = registry.add(model(1, 0.9).bytes, model(1, 0.9).contentHash, { testAccuracy: 0.9 }, at(5));
    mkdirSync(join(root, '.incoming-abc123'));
    writeFileSync(join(root, '.incoming-abc123', 'model.safetensors'), 'half');
    mkdirSync(join(root, 'notes'));
    mkdirSync(join(root, '20250106-000000-0123456789ab')); // a version-like dir without a model
    writeFileSync(join(root, 'README'), 'hi');
    expect(registry.list().map((v) => v.version)).toEqual([a.version]);
    expect(thrown(() => registry.promote('.incoming-abc123'))).toBeInstanceOf(RegistryError);
  });

  it('a broken metrics.json is reported with its path, not skipped', () => {
    const root = tempRoot();
    const registry = new ModelRegistry(root);
    const a = registry.add(model(1, 0.9).bytes, model(1, 0.9).contentHash, { testAccuracy: 0.9 }, at(5));
    writeFileSync(join(root, a.version, 'metrics.json'), '{"testAccuracy":');
    expect(thrown(() => registry.list()).message).toBe(
      `${join(root, a.version, 'metrics.json')} is not valid JSON → fix it or delete the version directory`);
  });
});
