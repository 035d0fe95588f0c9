// What a training killed mid-write left in an MLflow file store: staging run folders and temporary files (their
// names carry the writer's pid: src/util/stale-temps.ts), and run folders placed without a meta.yaml
// (file-run.ts's writer marker). The trainer sweeps its store at start. Nothing for a tracking server (its own).

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sweepStaleTemps } from '../util/stale-temps.js';
import { sweepRunFolders } from './file-run.js';
import { resolveTrackingUri, type TrackingTarget } from './uri.js';

/** Removes a dead writer's leftovers from the file store `uri` names (experiments, runs, artifact folders); returns
 * their paths. A bad URI or a missing store is nothing to sweep (the run that uses it reports the problem). */
export function sweepTrackingStore(uri: string | undefined): string[] {
  let target: TrackingTarget;
  try {
    target = resolveTrackingUri(uri);
  } catch {
    return [];
  }
  if (target.kind !== 'file') return [];
  const removed = sweepStaleTemps(target.root, 8);
  let experiments: string[] = [];
  try {
    experiments = readdirSync(target.root, { withFileTypes: true }).filter((e) => e.isDirectory() && /^\d+$/.test(e.name)).map((e) => e.name);
  } catch {
    return removed;
  }
  for (const id of experiments) removed.push(...sweepRunFolders(join(target.root, id)));
  return removed;
}
