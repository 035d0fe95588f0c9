// Atomic file writes: the data goes to a temporary file in the same directory, is fsynced, then renamed over the
// target (rename is atomic within a filesystem), and the directory is fsynced so the rename itself survives a crash.
// A reader sees the old file or the new one, never a half-written one. Errors name the target, never the temporary.
// Also the checks a command makes before long work: can this folder be created and written to? Folders are created
// one level at a time, never with a recursive mkdir: Node's spins forever (100% CPU, deaf to SIGTERM) on a path like
// /proc/x, whose parent exists but refuses children with ENOENT. Temporary names carry the pid (stale-temps.ts sweeps
// those of dead writers); crash points (crash-points.ts) sit on each side of the rename. Imports nothing from src/.

import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { crashPoint } from './crash-points.js';

/** A file or folder that cannot be written; the message names the path the caller asked for. */
export class WriteError extends Error {
  override name = 'WriteError';
  constructor(readonly path: string, message: string, readonly code?: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Writes `data` to `path` atomically, creating parent directories. Throws WriteError naming `path`. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  try {
    makeDirs(dir);
  } catch (err) {
    throw err instanceof WriteError ? new WriteError(path, `cannot write ${path}: ${err.message}`, err.code, { cause: err }) : err;
  }
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileDurable(tmp, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    crashPoint(`write ${basename(path)}: before rename`);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new WriteError(path, `cannot write ${path} (${reason(err)})`, code(err), { cause: err });
  }
  fsyncDir(dir);
  crashPoint(`write ${basename(path)}: after rename`);
}

/**
 * `mkdir -p dir` without a recursive mkdir (see the header): finds the nearest existing ancestor, checks it is a
 * folder, then creates the missing levels one by one. Returns the folders it created, outermost first. Throws
 * WriteError naming `dir`.
 */
export function makeDirs(dir: string): string[] {
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    const kind = pathKind(at);
    if (kind === 'dir') break;
    if (kind === 'other') {
      throw new WriteError(dir, at === resolve(dir) ? `${dir} is not a folder`
        : `cannot create folder ${dir}: ${at} is not a folder`, 'ENOTDIR');
    }
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) break; // the root itself is missing: mkdir below reports why
    at = parent;
  }
  const created: string[] = [];
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (err) {
      if (code(err) === 'EEXIST' && pathKind(level) === 'dir') continue; // made meanwhile by someone else
      removeDirs(created);
      throw new WriteError(dir, `cannot create folder ${dir}${level === resolve(dir) ? '' : ` (at ${level})`} ` +
        `(${refused(err, 'folders')})`, code(err), { cause: err });
    }
    created.push(level);
  }
  return created;
}

/**
 * Checks, before long work, that files can be written in `dir`: creates it (makeDirs), creates and removes a probe
 * file in it. On failure, removes the folders it created and throws WriteError naming `dir`.
 */
export function ensureWritableDir(dir: string): string[] {
  const created = makeDirs(dir);
  const probe = join(dir, `.write-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    closeSync(openSync(probe, 'wx'));
    rmSync(probe, { force: true });
  } catch (err) {
    removeDirs(created);
    throw new WriteError(dir, `cannot write to folder ${dir} (${refused(err, 'files')})`, code(err), { cause: err });
  }
  return created;
}

/** ensureWritableDir for the folder of an output file, and checks the file itself is not a folder. */
export function ensureWritableFile(path: string): string[] {
  if (pathKind(path) === 'dir') throw new WriteError(path, `cannot write ${path}: it is a folder`, 'EISDIR');
  try {
    return ensureWritableDir(dirname(path));
  } catch (err) {
    throw err instanceof WriteError ? new WriteError(path, `cannot write ${path}: ${err.message}`, err.code, { cause: err }) : err;
  }
}

function pathKind(path: string): 'dir' | 'other' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'other';
  } catch (err) {
    const c = code(err);
    if (c === 'ENOENT') return 'missing';
    if (c === 'ENOTDIR') return 'missing'; // an ancestor is a file: the walk up finds it and says so
    throw new WriteError(path, `cannot use ${path} (${reason(err)})`, c, { cause: err });
  }
}

/** Removes folders that makeDirs/ensureWritableDir created (innermost first), if still empty. */
export function removeDirs(created: readonly string[]): void {
  for (const dir of [...created].reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      // best effort: it is empty unless someone else wrote into it meanwhile, and then it is theirs
    }
  }
}

function code(err: unknown): string | undefined {
  const c = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof c === 'string' ? c : undefined;
}

/** reason(), but ENOENT in a folder that exists (e.g. /proc) says what it means there. */
function refused(err: unknown, what: 'files' | 'folders'): string {
  return code(err) === 'ENOENT' ? `ENOENT: this file system does not allow new ${what} there` : reason(err);
}

/** "EACCES: permission denied" from "EACCES: permission denied, open '/x/.y.123.tmp'": the system's reason, without
 * the path (which may be the temporary file's). */
function reason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return code(err) !== undefined ? message.replace(/, \w+ '.*$/s, '') : message;
}

/** Creates `path` (which must not exist) with `bytes` and fsyncs it, so that a later rename cannot expose unwritten
 * data after a crash. For callers that stage several files and rename them themselves. */
export function writeFileDurable(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, 'wx', 0o644);
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsyncs a directory so that renames and creations inside it are durable (a no-op where unsupported). */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms cannot open or fsync directories; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
