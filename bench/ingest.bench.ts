// npm run bench:ingest [-- --ks 1,4,16] [--masters local[1],local[2]] [--driver-memory 4g] — how the Spark ingestion job scales: MNIST ×k
// (all 70,000 images; copy c > 0 of it shifted by a distinct non-zero (dx, dy) within ±2 px, written as extra IDX
// sources, so every row is distinct and none is dropped as a duplicate) on each master, timed end to end (JVM start
// included, as a user waits for it), with rows/s and the marginal rate between the largest two k (the fixed cost of
// starting Spark cancels out there). The Node ingester (`npm run data`, k = 1) beside it. Validates each run first:
// the new version's manifest must count 70,000·k rows and drop none. Not part of `npm run bench` (minutes, a JVM).
// Writes bench/results/ingest.json.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMnist } from '../src/data/mnist.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const ks = (flag('--ks') ?? '1,4,16').split(',').map(Number);
const masters = (flag('--masters') ?? 'local[1],local[2]').split(',');
// Spark's default 1g heap (the driver is the executor in local mode) runs out at k = 16 (1.12M rows, 880 MB of
// images, cached between the dedup and the write): measured, java.lang.OutOfMemoryError in the cached-batch builder.
const driverMemory = flag('--driver-memory') ?? '4g';
if (ks.some((k) => !Number.isInteger(k) || k < 1 || k > 25) || masters.some((m) => !/^local\[\d+\]$/.test(m))) {
  console.error('usage: npm run bench:ingest -- [--ks 1,4,16 (each 1..25)] [--masters local[1],local[2]]');
  process.exit(2);
}
for (const [what, path] of [['the venv (npm run setup:python)', join(root, '.venv', 'bin', 'spark-submit')], ['MNIST (npm run data)', join(root, 'mnist')]] as const) {
  if (!existsSync(path)) {
    console.error(`error: bench:ingest needs ${what}: ${path} is missing`);
    process.exit(1);
  }
}

const mnist = loadMnist(join(root, 'mnist'));
const ROWS = mnist.train.count + mnist.test.count;
const work = mkdtempSync(join(tmpdir(), 'doodle-bench-ingest-'));

/** The non-zero shifts within ±2 px, nearest first: copy c (1-based) uses SHIFTS[c − 1]. */
const SHIFTS: Array<[number, number]> = [];
for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) if (dx !== 0 || dy !== 0) SHIFTS.push([dx, dy]);
SHIFTS.sort((a, b) => Math.max(Math.abs(a[0]), Math.abs(a[1])) - Math.max(Math.abs(b[0]), Math.abs(b[1])));

function idx(magic: number, dims: number[], payload: Uint8Array): Uint8Array {
  const header = new DataView(new ArrayBuffer(4 + 4 * dims.length));
  header.setUint32(0, magic);
  dims.forEach((d, i) => header.setUint32(4 + 4 * i, d));
  const out = new Uint8Array(header.byteLength + payload.length);
  out.set(new Uint8Array(header.buffer), 0);
  out.set(payload, header.byteLength);
  return out;
}

/** MNIST train then test, every image moved by (dx, dy) with zeros shifted in, as one IDX pair. */
function writeCopy(c: number): string {
  const [dx, dy] = SHIFTS[c - 1]!;
  const images = new Uint8Array(ROWS * 784);
  const labels = new Uint8Array(ROWS);
  let row = 0;
  for (const split of [mnist.train, mnist.test]) {
    for (let i = 0; i < split.count; i++, row++) {
      labels[row] = split.labels[i]!;
      const src = split.images.subarray(784 * i, 784 * (i + 1));
      const dst = images.subarray(784 * row, 784 * (row + 1));
      for (let y = 0; y < 28; y++) {
        const sy = y - dy;
        if (sy < 0 || sy >= 28) continue;
        for (let x = 0; x < 28; x++) {
          const sx = x - dx;
          if (sx >= 0 && sx < 28) dst[28 * y + x] = src[28 * sy + sx]!;
        }
      }
    }
  }
  const at = join(work, `copy-${c}`);
  mkdirSync(at);
  writeFileSync(join(at, 'images-idx3-ubyte'), idx(0x803, [ROWS, 28, 28], images));
  writeFileSync(join(at, 'labels-idx1-ubyte'), idx(0x801, [ROWS], labels));
  return at;
}

interface Run { master: string; k: number; rows: number; seconds: number; rowsPerSec: number }
const runs: Run[] = [];
mkdirSync(join(work, 'no-feedback'));
const copies = Array.from({ length: Math.max(...ks) - 1 }, (_, i) => writeCopy(i + 1));

try {
  console.log(`Spark ingestion of MNIST ×k — ${cpus()[0]?.model}, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}`);
  console.log('master | k | rows | seconds | rows/s');
  for (const master of masters) {
    for (const k of ks) {
      const out = join(work, `out-${master.replace(/\W/g, '')}-${k}`);
      const extra = copies.slice(0, k - 1).flatMap((dir, i) => ['--idx', `copy-${i + 1}=${join(dir, 'images-idx3-ubyte')},${join(dir, 'labels-idx1-ubyte')}`]);
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [join(root, 'tools', 'ingest-spark.mjs'), '--master', master, '--out', out,
        '--mnist', join(root, 'mnist'), '--feedback', join(work, 'no-feedback'), '--conf', `spark.driver.memory=${driverMemory}`, ...extra], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
      const seconds = (performance.now() - t0) / 1000;
      if (r.status !== 0) throw new Error(`ingest:spark ${master} k=${k} exited ${r.status}:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-3000)}`);
      const version = readFileSync(join(out, 'current'), 'utf8').trim();
      const manifest = JSON.parse(readFileSync(join(out, version, 'manifest.json'), 'utf8')) as { rows: { total: number } };
      if (manifest.rows.total !== ROWS * k) throw new Error(`${master} k=${k}: the dataset has ${manifest.rows.total} rows, expected ${ROWS * k}`);
      rmSync(out, { recursive: true, force: true });
      const run = { master, k, rows: manifest.rows.total, seconds, rowsPerSec: manifest.rows.total / seconds };
      runs.push(run);
      console.log(`${master} | ${k} | ${run.rows.toLocaleString('en-US')} | ${seconds.toFixed(1)} | ${Math.round(run.rowsPerSec).toLocaleString('en-US')}`);
    }
  }
  // The Node ingester: copies and validates the four IDX files (k = 1; it has no notion of other sources).
  const nodeOut = join(work, 'node-mnist');
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(root, 'build', 'cli', 'data.js'), '--from', join(root, 'mnist'), '--out', nodeOut], { cwd: root, encoding: 'utf8' });
  const nodeSeconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`npm run data exited ${r.status}: ${r.stderr}`);
  console.log(`node (npm run data) | 1 | ${ROWS.toLocaleString('en-US')} | ${nodeSeconds.toFixed(2)} | ${Math.round(ROWS / nodeSeconds).toLocaleString('en-US')}`);

  const scaling = masters.map((master) => {
    const mine = runs.filter((x) => x.master === master).sort((a, b) => a.k - b.k);
    const [a, b] = [mine[mine.length - 2], mine[mine.length - 1]];
    const marginal = a !== undefined && b !== undefined ? (b.rows - a.rows) / (b.seconds - a.seconds) : undefined;
    return { master, marginalRowsPerSec: marginal, secondsRatioLargestToSmallest: mine[mine.length - 1]!.seconds / mine[0]!.seconds,
      kRatio: mine[mine.length - 1]!.k / mine[0]!.k };
  });
  for (const s of scaling) {
    console.log(`${s.master}: time ×${s.secondsRatioLargestToSmallest.toFixed(2)} for k ×${s.kRatio}` +
      (s.marginalRowsPerSec === undefined ? '' : `; marginal ${Math.round(s.marginalRowsPerSec).toLocaleString('en-US')} rows/s between the largest two k`));
  }
  const dir = process.env.BENCH_RESULTS_DIR ?? join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'ingest.json');
  writeFileSync(`${file}.tmp`, JSON.stringify({
    date: new Date().toISOString(), machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryBytes: totalmem(), loadAverage: loadavg()[0] },
    node: process.versions.node, driverMemory, rowsPerCopy: ROWS, runs, node_ingester: { k: 1, rows: ROWS, seconds: nodeSeconds, rowsPerSec: ROWS / nodeSeconds }, scaling,
  }, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
  console.log(`results → ${file}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
