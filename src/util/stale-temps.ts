// Leftovers of a process that died mid-write (kill -9, power loss): the temporary files and staging folders of the
// atomic writes. Every such name carries its writer's pid, so a sweep removes exactly those whose writer is gone and
// never one a live process (a concurrent training, another server thread) is still writing. `npm run train` and
// `npm run serve` sweep the folders they write into at start. Imports nothing from src/.

import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** The temporary names in use, each with the writer's pid as group 1. */
const PATTERNS = [
  /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/, // writeFileAtomic, copyArtifact: .<name>.<pid>.<hex>.tmp
  /^\.incoming-(\d+)-[A-Za-z0-9]{6}$/, // the model registry's version being added
  /^\.[0-9a-f]{32}\.(\d+)\.staging$/, // an MLflow run folder being created
  /^doodle-artifacts-(\d+)-[A-Za-z0-9]{6}$/, // a training's artifact staging folder (in the OS temp folder)
];

/** The one line a command prints about what it swept: "removed N files left by an interrupted write: a, b, c, …". */
export function sweptLine(paths: readonly string[]): string {
  const shown = paths.slice(0, 3).join(', ') + (paths.length > 3 ? ', …' : '');
  return `removed ${paths.length} file${paths.length === 1 ? '' : 's'} left by an interrupted write: ${shown}`;
}

/** The pid in a temporary name, or undefined when `name` is not one of ours. */
export function tempOwner(name: string): number | undefined {
  for (const p of PATTERNS) {
    const m = p.exec(name);
    if (m !== null) return Number(m[1]);
  }
  return undefined;
}

export function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, but is someone else's
  }
}

/**
 * Removes the temporary files and folders in `dir` whose writer is dead; with `depth` > 0 also in its sub-folders,
 * that many levels down. Returns the paths removed. A missing or unreadable folder is skipped, never an error: the
 * sweep is housekeeping, and the write that needs the folder reports its own problem.
 */
export function sweepStaleTemps(dir: string, depth = 0): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    const owner = tempOwner(e.name);
    if (owner !== undefined) {
      if (!isAlive(owner)) {
        rmSync(path, { recursive: true, force: true });
        removed.push(path);
      }
    } else if (depth > 0 && e.isDirectory()) {
      removed.push(...sweepStaleTemps(path, depth - 1));
    }
  }
  return removed;
}
