// One run in an MLflow file store: <experiment>/<run_id>/{meta.yaml, metrics/, params/, tags/, artifacts/}, with
// metric lines "<timestamp_ms> <value> <step>\n", one file per param and per tag ('/' in a key makes sub-folders).
// see: mlflow/store/tracking/file_store.py (create_run, _make_persisted_run_info_dict, _log_run_metric, set_tag).
// Crash safety: the folder is built under a dot-prefixed staging name, renamed into place, and only then given its
// meta.yaml. MLflow lists every sub-folder of an experiment (dot names included) and skips one without meta.yaml;
// a staged folder holding meta.yaml would be listed as a run whose folder it then cannot find, breaking the listing.

import { makeDirs } from '../util/atomic-write.js';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { copyArtifact, localArtifactRoot } from './local-artifacts.js';
import { fsyncDir, writeFileAtomic } from '../util/atomic-write.js';
import { crashPoint } from '../util/crash-points.js';
import { isAlive } from '../util/stale-temps.js';
import { emitYamlMap } from './meta-yaml.js';
import { pyFloatRepr } from './py-format.js';
import { RUN_STATUS_CODE, UnsupportedArtifactStoreError, type KeyValue, type LogBatch, type RunBackend, type RunStatus } from './types.js';

/** SourceType.LOCAL (mlflow/entities/source_type.py), the value MLflow's file store always writes. */
const SOURCE_TYPE_LOCAL = 4;
export const RUN_FOLDERS = ['metrics', 'params', 'tags', 'artifacts'] as const;

export interface RunInfo {
  readonly runId: string;
  readonly experimentId: string;
  runName: string;
  readonly userId: string;
  readonly startTime: number;
  endTime: number | null;
  status: number;
  readonly artifactUri: string;
}

/**
 * A run's meta.yaml with the fields MLflow writes: RunInfo's properties plus the legacy ones it still persists for
 * old readers (tags: [], source_*: '' / LOCAL, entry_point_name: ''); deleted_time: null only at creation.
 */
export function runMetaYaml(info: RunInfo, atCreation: boolean): string {
  return emitYamlMap({
    artifact_uri: info.artifactUri,
    ...(atCreation ? { deleted_time: null } : {}),
    end_time: info.endTime,
    entry_point_name: '',
    experiment_id: info.experimentId,
    lifecycle_stage: 'active',
    run_id: info.runId,
    run_name: info.runName,
    run_uuid: info.runId,
    source_name: '',
    source_type: SOURCE_TYPE_LOCAL,
    source_version: '',
    start_time: info.startTime,
    status: info.status,
    tags: [],
    user_id: info.userId,
  });
}

const writerMarker = (): string => `.writer-${process.pid}`;

/**
 * Removes the run folders in `experimentDir` that a dead process placed but never gave a meta.yaml (MLflow would
 * skip them as malformed), and the markers of completed ones. Returns the paths removed.
 */
export function sweepRunFolders(experimentDir: string): string[] {
  const removed: string[] = [];
  let runs;
  try {
    runs = readdirSync(experimentDir, { withFileTypes: true }).filter((e) => e.isDirectory() && /^[0-9a-f]{32}$/.test(e.name));
  } catch {
    return removed;
  }
  for (const run of runs) {
    const dir = join(experimentDir, run.name);
    let marker: string | undefined;
    try {
      marker = readdirSync(dir).find((n) => /^\.writer-\d+$/.test(n));
    } catch {
      continue;
    }
    if (marker === undefined || isAlive(Number(marker.slice('.writer-'.length)))) continue;
    const complete = existsSync(join(dir, 'meta.yaml'));
    const target = complete ? join(dir, marker) : dir;
    rmSync(target, { recursive: true, force: true });
    removed.push(target);
  }
  return removed;
}

/** The dot-prefixed name a run folder is built under: not a run id, and never holding a meta.yaml. */
export function stagingName(runId: string): string {
  return `.${runId}.${process.pid}.staging`; // the pid: src/util/stale-temps.ts removes it once its writer is dead
}

export type CreationStage = 'staged' | 'placed';

/**
 * Creates <experimentDir>/<run_id> complete (sub-folders, tag files, meta.yaml) or not at all. `observe` sees each
 * intermediate state, for tests. Returns the run folder.
 */
export function createRunDirectory(
  experimentDir: string,
  info: RunInfo,
  tags: readonly KeyValue[],
  observe?: (stage: CreationStage, dir: string) => void,
): string {
  const staging = join(experimentDir, stagingName(info.runId));
  const runDir = join(experimentDir, info.runId);
  let placed = false;
  try {
    mkdirSync(staging);
    // Until meta.yaml is in place: a folder placed without one (a crash right after the rename) is no run, and
    // sweepRunFolders removes it once this process is gone.
    writeFileSync(join(staging, writerMarker()), '');
    for (const folder of RUN_FOLDERS) mkdirSync(join(staging, folder));
    for (const { key, value } of tags) writeFileAtomic(join(staging, 'tags', key), value);
    for (const folder of RUN_FOLDERS) fsyncDir(join(staging, folder));
    fsyncDir(staging);
    observe?.('staged', staging);
    crashPoint('mlflow run folder: before rename');
    renameSync(staging, runDir);
    placed = true;
    fsyncDir(experimentDir);
    crashPoint('mlflow run folder: after rename');
    observe?.('placed', runDir);
    writeFileAtomic(join(runDir, 'meta.yaml'), runMetaYaml(info, true));
    rmSync(join(runDir, writerMarker()), { force: true });
    return runDir;
  } catch (err) {
    rmSync(placed ? runDir : staging, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Appends with one write() on an O_APPEND descriptor, so a line is never interleaved or cut by a process crash. The
 * first line creates the file atomically (writeFileAtomic): opening with O_APPEND|O_CREAT and dying before the write
 * would leave an empty metric file, which MLflow's reader fails on (found by kill -9 at this point).
 */
function appendLine(path: string, text: string): void {
  makeDirs(dirname(path));
  crashPoint(`append ${basename(path)}: before`);
  if (!existsSync(path)) {
    writeFileAtomic(path, text);
  } else {
    const bytes = Buffer.from(text, 'utf8');
    const fd = openSync(path, 'a');
    try {
      const written = writeSync(fd, bytes);
      if (written !== bytes.length) throw new Error(`short write to ${path}: ${written} of ${bytes.length} bytes`);
    } finally {
      closeSync(fd);
    }
  }
  crashPoint(`append ${basename(path)}: after`);
}

export class FileRun implements RunBackend {
  readonly runId: string;
  readonly experimentId: string;
  private readonly touchedMetrics = new Set<string>();

  constructor(readonly runDir: string, private readonly info: RunInfo) {
    this.runId = info.runId;
    this.experimentId = info.experimentId;
  }

  // The same order as MLflow's FileStore.log_batch: params, then metrics, then tags.
  async logBatch(batch: LogBatch): Promise<void> {
    for (const { key, value } of batch.params) writeFileAtomic(join(this.runDir, 'params', key), value);
    for (const m of batch.metrics) {
      const path = join(this.runDir, 'metrics', m.key);
      appendLine(path, `${m.timestamp} ${pyFloatRepr(m.value)} ${m.step}\n`);
      this.touchedMetrics.add(path);
    }
    for (const { key, value } of batch.tags) {
      writeFileAtomic(join(this.runDir, 'tags', key), value);
      // MLflow keeps run_name and the mlflow.runName tag in step (FileStore.set_tag → update_run_info).
      if (key === 'mlflow.runName' && value !== this.info.runName) {
        this.info.runName = value;
        writeFileAtomic(join(this.runDir, 'meta.yaml'), runMetaYaml(this.info, false));
      }
    }
  }

  /** Copies into the run's artifact folder atomically (local-artifacts.ts). */
  async logArtifact(localPath: string, artifactPath: string | undefined): Promise<void> {
    const root = localArtifactRoot(this.info.artifactUri);
    if (root === undefined) {
      throw new UnsupportedArtifactStoreError(
        `this run's artifact location ${this.info.artifactUri} is not a local folder; only file-store artifact ` +
          'locations are written by this module (use an MLflow server for remote artifact stores)',
      );
    }
    copyArtifact(root, localPath, artifactPath);
  }

  /** Metric appends are not fsynced one by one; ending the run makes them durable before the status says so. */
  async end(status: RunStatus, endTimeMs: number): Promise<void> {
    for (const path of this.touchedMetrics) {
      const fd = openSync(path, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    this.info.status = RUN_STATUS_CODE[status];
    this.info.endTime = endTimeMs;
    writeFileAtomic(join(this.runDir, 'meta.yaml'), runMetaYaml(this.info, false));
  }
}
