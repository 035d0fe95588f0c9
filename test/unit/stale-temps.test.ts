// The leftovers sweep (src/util/stale-temps.ts): it recognises each temporary name the writers use, removes those of
// dead processes, and leaves a live process's and everything else alone. kill -9 itself: crash-train.test.ts.

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, sweepStaleTemps, tempOwner } from '../../src/util/stale-temps.js';
import { tempDir } from '../helpers/temp.js';

/** The pid of a process that has exited (so no longer alive, barring reuse within the test). */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

describe('stale temporaries', () => {
  it('reads the writer pid from every temporary name in use, and from nothing else', () => {
    expect(tempOwner('.current.123.0a1b2c3d.tmp')).toBe(123);
    expect(tempOwner('.model.safetensors.45.ffffffff.tmp')).toBe(45);
    expect(tempOwner('.incoming-678-Ab12Cd')).toBe(678);
    expect(tempOwner(`.${'0123456789abcdef'.repeat(2)}.9.staging`)).toBe(9);
    expect(tempOwner('doodle-artifacts-77-xY12zz')).toBe(77);
    for (const name of ['current', 'model.safetensors', '.current.tmp', '.incoming-x-abcdef', 'metrics.json', '.trash', '20261203-120000-0123456789ab']) {
      expect(tempOwner(name), name).toBeUndefined();
    }
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(deadPid())).toBe(false);
  });

  it('removes a dead writer\'s files and folders, at the depth asked, and keeps a live writer\'s', () => {
    const dir = tempDir('stale');
    const dead = deadPid();
    mkdirSync(join(dir, 'run', 'params'), { recursive: true });
    writeFileSync(join(dir, `.current.${dead}.0a1b2c3d.tmp`), 'x');
    mkdirSync(join(dir, `.incoming-${dead}-abcdef`));
    writeFileSync(join(dir, 'run', 'params', `.lr.${dead}.0a1b2c3d.tmp`), 'x');
    writeFileSync(join(dir, `.mine.${process.pid}.0a1b2c3d.tmp`), 'live');
    writeFileSync(join(dir, 'current'), 'v');
    expect(sweepStaleTemps(dir).sort()).toEqual([join(dir, `.current.${dead}.0a1b2c3d.tmp`), join(dir, `.incoming-${dead}-abcdef`)].sort());
    expect(existsSync(join(dir, 'run', 'params', `.lr.${dead}.0a1b2c3d.tmp`))).toBe(true); // depth 0: not below
    expect(sweepStaleTemps(dir, 2)).toEqual([join(dir, 'run', 'params', `.lr.${dead}.0a1b2c3d.tmp`)]);
    expect(readdirSync(dir).sort()).toEqual([`.mine.${process.pid}.0a1b2c3d.tmp`, 'current', 'run']);
    expect(sweepStaleTemps(join(dir, 'missing'))).toEqual([]);
  });
});
