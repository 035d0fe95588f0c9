// Writing a run's artifacts straight into a local artifact root, as MLflow's LocalArtifactRepository does: used by
// the file store (./mlruns) and by a tracking server whose runs get file:// artifact URIs (`mlflow server
// --no-serve-artifacts --default-artifact-root file:///…`), where MLflow's own client also writes the files itself.
// see: mlflow/store/artifact/local_artifact_repo.py (log_artifact). Not here: which root a run has (the backends).

import { closeSync, copyFileSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { fsyncDir, makeDirs } from '../util/atomic-write.js';
import { crashPoint } from '../util/crash-points.js';

/** The local folder of an artifact URI (file:///… or an absolute path), or undefined for any other store. */
export function localArtifactRoot(artifactUri: string): string | undefined {
  if (/^file:/i.test(artifactUri)) {
    try {
      return fileURLToPath(artifactUri);
    } catch {
      return undefined; // file://otherhost/… is not a local folder
    }
  }
  return isAbsolute(artifactUri) ? artifactUri : undefined;
}

/**
 * Copies `localPath` to <root>/<artifactPath>/<basename>: to a temporary name beside the target, fsync, rename, so
 * the artifact appears whole or not at all (a reader never downloads half a model).
 */
export function copyArtifact(root: string, localPath: string, artifactPath: string | undefined): void {
  const folder = artifactPath === undefined ? root : join(root, ...artifactPath.split('/'));
  const target = join(folder, basename(localPath));
  const tmp = join(folder, `.${basename(localPath)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    makeDirs(folder);
    copyFileSync(localPath, tmp);
    const fd = openSync(tmp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    crashPoint(`artifact ${basename(localPath)}: before rename`);
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new Error(`logArtifact: copying ${localPath} to ${target} failed: ${(err as Error).message}`, { cause: err });
  }
  fsyncDir(folder);
  crashPoint(`artifact ${basename(localPath)}: after rename`);
}
