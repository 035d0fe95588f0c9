// The Spark job's test kit: whether it can run here (the venv's spark-submit and Java 17+; the skip rule of
// test/helpers/python.ts: skip with the reason outside CI, fail under CI=true), `npm run ingest:spark` as a child in
// its own process group (so a test can SIGKILL the whole job), a standalone cluster (a master and two 1-core
// workers from PySpark's own spark-class, on loopback ports), and an independent reader of a dataset version:
// pyarrow in the venv's Python, which knows nothing of Spark.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { hasVenv, venvBin, venvDir } from './python.js';
import { projectRoot } from './paths.js';
import { freePort } from './ports.js';
import { pollUntil } from './poll.js';

const javaProbe = spawnSync(process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java', ['-version'], { encoding: 'utf8' });
export const hasJava = javaProbe.status === 0 && Number(/version "(\d+)/.exec(javaProbe.stderr)?.[1] ?? 0) >= 17;
export const hasSpark = hasVenv && existsSync(venvBin('spark-submit'));

/** True when the caller should skip: no venv with PySpark, or no Java 17+, and not under CI (it says why, once). */
export function skipWithoutSpark(what: string): boolean {
  const skip = !(hasSpark && hasJava) && !process.env.CI;
  if (skip) {
    const missing = [!hasSpark && 'no .venv with PySpark (npm run setup:python)', !hasJava && 'no Java 17+ on PATH or JAVA_HOME'].filter(Boolean).join(', ');
    console.warn(`${what} skipped: ${missing}; set CI=1 to make this a failure`);
  }
  return skip;
}

/** For beforeAll: under CI a missing Spark or Java is a failure naming the fix. */
export function requireSpark(): void {
  if (!hasSpark) throw new Error(`no spark-submit in ${venvDir}: run npm run setup:python (CI runs it in .ci/run)`);
  if (!hasJava) throw new Error('no Java 17+ (java on PATH or JAVA_HOME): Spark needs it; the CI machines have OpenJDK 17');
}

export interface JobResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
export interface Job { child: ChildProcess; done: Promise<JobResult> }

/** Settings that keep a test's job small on 2 shared cores. */
export const SMALL = ['--conf', 'spark.ui.enabled=false', '--conf', 'spark.driver.memory=1g', '--conf', 'spark.sql.shuffle.partitions=2'];

/** Starts `npm run ingest:spark -- …args` (the tool itself, with node) as the leader of a new process group. */
export function startIngest(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Job {
  const child = spawn(process.execPath, [join(projectRoot, 'tools', 'ingest-spark.mjs'), ...args], {
    cwd: projectRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<JobResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function runIngest(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<JobResult> {
  return startIngest(args, env).done;
}

/** SIGKILL to a whole process group (the tool, spark-submit's JVM, the Python driver and its workers). */
export function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

export interface Cluster { url: string; stop(): void }

/** A standalone master and two workers (1 core, 1 GB each) on loopback, started with PySpark's spark-class. */
export async function startCluster(workDir: string): Promise<Cluster> {
  const sparkClass = join(venvDir, 'lib', 'python3.11', 'site-packages', 'pyspark', 'bin', 'spark-class');
  const found = existsSync(sparkClass) ? sparkClass : spawnSync(venvBin('python'), ['-c',
    'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "bin", "spark-class"))'], { encoding: 'utf8' }).stdout.trim();
  const procs: ChildProcess[] = [];
  const logs: string[] = [];
  const env = { ...process.env, SPARK_LOCAL_IP: '127.0.0.1', SPARK_LOG_DIR: workDir, SPARK_WORKER_DIR: workDir };
  const start = (args: string[]): void => {
    const p = spawn(found, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout!.on('data', (d: Buffer) => logs.push(d.toString()));
    p.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
    procs.push(p);
  };
  const stop = (): void => { for (const p of procs) killGroup(p); };
  try {
    const [port, ui] = [await freePort(), await freePort()];
    start(['org.apache.spark.deploy.master.Master', '--host', '127.0.0.1', '--port', String(port), '--webui-port', String(ui)]);
    const url = `spark://127.0.0.1:${port}`;
    for (let i = 0; i < 2; i++) {
      start(['org.apache.spark.deploy.worker.Worker', url, '--host', '127.0.0.1', '--cores', '1', '--memory', '1g',
        '--port', String(await freePort()), '--webui-port', String(await freePort()), '--work-dir', join(workDir, `worker-${i}`)]);
    }
    // The master's JSON status page says when both workers have registered.
    await pollUntil(async () => {
      const status = await (await fetch(`http://127.0.0.1:${ui}/json/`)).json() as { aliveworkers?: number };
      return status.aliveworkers === 2;
    }, 'a standalone master with 2 alive workers', 60_000, 250).catch((err: Error) => {
      throw new Error(`${err.message}\n${logs.join('').slice(-3000)}`);
    });
    return { url, stop };
  } catch (err) {
    stop();
    throw err;
  }
}

/** What pyarrow finds in one dataset version (see READER below). */
export interface Reading {
  rows: number;
  by_source: Record<string, Record<string, Record<string, number>>>;
  schema: Record<string, string>;
  physical: Record<string, string>;
  compression: string[];
  files: string[];
  bad_ids: number;
  bad_images: number;
  duplicate_ids: number;
  content_digest: string;
  feedback: Array<{ index: number; id: string; label: number; split: string; created_at: string; origin: string; image: string }>;
}

// Reads <version>/ as a Hive-partitioned Parquet dataset with pyarrow and recomputes everything the tests compare:
// per file its schema, the physical type of every column and the codecs; per row id == sha256(image ‖ label).
const READER = String.raw`
import glob, hashlib, json, sys
import pyarrow.dataset as ds
import pyarrow.parquet as pq
vdir = sys.argv[1]
# The part files, not the folder: manifest.json sits beside them and is no Parquet.
parts = sorted(glob.glob(vdir + '/source=*/*.parquet'))
dataset = ds.dataset(parts, format='parquet', partitioning='hive', partition_base_dir=vdir)
schema, physical, compression = {}, {}, set()
for f in dataset.files:
    pf = pq.ParquetFile(f)
    for field in pf.schema_arrow:
        schema[field.name] = str(field.type)
    meta = pf.metadata
    for i in range(meta.num_columns):
        physical[meta.schema.column(i).name] = meta.schema.column(i).physical_type
    for g in range(meta.num_row_groups):
        for i in range(meta.num_columns):
            compression.add(meta.row_group(g).column(i).compression)
t = dataset.to_table()
by_source, ids, feedback = {}, [], []
bad_ids = bad_images = 0
cols = {name: t.column(name).to_pylist() for name in t.column_names}
for k in range(t.num_rows):
    image, label, source, split = cols['image'][k], cols['label'][k], cols['source'][k], cols['split'][k]
    if len(image) != 784: bad_images += 1
    if hashlib.sha256(image + bytes([label])).hexdigest() != cols['id'][k]: bad_ids += 1
    ids.append(cols['id'][k])
    c = by_source.setdefault(source, {}).setdefault(split, {})
    c[str(label)] = c.get(str(label), 0) + 1
    if source == 'feedback':
        feedback.append({'index': cols['index'][k], 'id': cols['id'][k], 'label': label, 'split': split,
                         'created_at': cols['created_at'][k].isoformat(), 'origin': cols['origin'][k], 'image': image.hex()})
digest = hashlib.sha256(''.join(i + '\n' for i in sorted(ids)).encode()).hexdigest()
print(json.dumps({'rows': t.num_rows, 'by_source': by_source, 'schema': schema, 'physical': physical,
                  'compression': sorted(compression), 'files': sorted(dataset.files), 'bad_ids': bad_ids,
                  'bad_images': bad_images, 'duplicate_ids': len(ids) - len(set(ids)), 'content_digest': digest,
                  'feedback': sorted(feedback, key=lambda r: r['index'])}))
`;

/** The independent reading of `<out>/<version>/`. */
export function readDataset(versionDir: string): Reading {
  const r = spawnSync(venvBin('python'), ['-c', READER, versionDir], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`pyarrow could not read ${versionDir}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Reading;
}
