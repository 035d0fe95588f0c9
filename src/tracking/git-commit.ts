// The commit checked out in the git repository around a folder, read from .git without spawning git, for MLflow's
// mlflow.source.git.commit tag (MLflow's GitRunContext asks GitPython the same about its entry point's folder,
// searching parent folders). Handles a plain .git folder, a worktree or submodule (.git file "gitdir: …", refs in
// the `commondir`), loose refs and packed-refs. Anything else (no repository, unreadable, unborn branch) → undefined.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The git folder of the repository containing `dir` (searching upwards), or undefined. */
function gitDir(dir: string): string | undefined {
  for (let at = resolve(dir); ; at = dirname(at)) {
    const dotGit = join(at, '.git');
    if (existsSync(dotGit)) {
      if (statSync(dotGit).isDirectory()) return dotGit;
      const pointer = /^gitdir:\s*(.+)$/m.exec(read(dotGit) ?? '')?.[1]?.trim();
      return pointer === undefined ? undefined : isAbsolute(pointer) ? pointer : resolve(at, pointer);
    }
    if (dirname(at) === at) return undefined;
  }
}

function lookUpRef(dirs: readonly string[], ref: string): string | undefined {
  for (const dir of dirs) {
    const loose = read(join(dir, ...ref.split('/')));
    if (loose !== undefined && SHA.test(loose)) return loose;
  }
  for (const dir of dirs) {
    for (const line of (read(join(dir, 'packed-refs')) ?? '').split('\n')) {
      const [sha, name] = line.trim().split(' ');
      if (name === ref && sha !== undefined && SHA.test(sha)) return sha;
    }
  }
  return undefined;
}

/** The full hex commit id HEAD points at in the repository around `dir`, or undefined. */
export function gitCommit(dir: string): string | undefined {
  try {
    const git = gitDir(dir);
    if (git === undefined) return undefined;
    const common = read(join(git, 'commondir'));
    const dirs = common === undefined ? [git] : [git, resolve(git, common)];
    const head = read(join(git, 'HEAD'));
    if (head === undefined) return undefined;
    if (SHA.test(head)) return head; // detached HEAD
    const ref = /^ref:\s*(\S+)$/.exec(head)?.[1];
    return ref === undefined ? undefined : lookUpRef(dirs, ref);
  } catch {
    return undefined;
  }
}
