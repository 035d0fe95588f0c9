// Writes small Parquet datasets in the Spark job's layout (docs/data.md: <dir>/current → <version>/source=<name>/
// part-*.parquet + manifest.json) with hyparquet-writer, so the reader's checks can be tried on crafted files in unit
// tests. The real job's output is tested against the same reader in test/integration/spark.test.ts.

import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';

export interface FixtureRow {
  readonly source: string;
  readonly index: number;
  readonly label: number;
  readonly image: Uint8Array;
  readonly split: string;
  /** Defaults to SHA-256(image ‖ label), as the job computes it. */
  readonly id?: string;
}

export const rowId = (image: Uint8Array, label: number): string =>
  createHash('sha256').update(image).update(Uint8Array.of(label)).digest('hex');

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** One part file's bytes with the job's schema (label as INT32 with INTEGER(8, signed), timestamps in µs). */
export function partFile(rows: readonly FixtureRow[]): Uint8Array {
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'id', data: rows.map((r) => r.id ?? rowId(r.image, r.label)), nullable: false },
      { name: 'index', data: BigInt64Array.from(rows, (r) => BigInt(r.index)), nullable: false },
      { name: 'label', data: Int32Array.from(rows, (r) => r.label), nullable: false },
      { name: 'image', data: rows.map((r) => r.image), nullable: false },
      { name: 'split', data: rows.map((r) => r.split), nullable: false },
      { name: 'created_at', data: rows.map(() => null) },
      { name: 'origin', data: rows.map(() => null) },
    ],
    schema: [
      { name: 'spark_schema', num_children: 7 },
      { name: 'id', type: 'BYTE_ARRAY', repetition_type: 'REQUIRED', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
      { name: 'index', type: 'INT64', repetition_type: 'REQUIRED' },
      { name: 'label', type: 'INT32', repetition_type: 'REQUIRED', logical_type: { type: 'INTEGER', bitWidth: 8, isSigned: true } },
      { name: 'image', type: 'BYTE_ARRAY', repetition_type: 'REQUIRED' },
      { name: 'split', type: 'BYTE_ARRAY', repetition_type: 'REQUIRED', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
      { name: 'created_at', type: 'INT64', repetition_type: 'OPTIONAL', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } },
      { name: 'origin', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
    ],
    rowGroupSize: 64, // several row groups even in a small file, as the reader streams them
  });
  return new Uint8Array(buffer);
}

/**
 * Writes `rows` as version `version` of the dataset at `dir` (one part file per source, or `partsPerSource`, rows
 * dealt round-robin so that indices arrive out of order), its manifest last, then points `current` at it.
 */
export function writeDataset(dir: string, version: string, rows: readonly FixtureRow[], partsPerSource = 1): string {
  const at = join(dir, version);
  const bySource = new Map<string, FixtureRow[]>();
  for (const r of rows) {
    const list = bySource.get(r.source);
    if (list === undefined) bySource.set(r.source, [r]);
    else list.push(r);
  }
  const counts: Record<string, Record<string, Record<string, number>>> = {};
  for (const [source, list] of bySource) {
    mkdirSync(join(at, `source=${encodeURIComponent(source)}`), { recursive: true });
    for (let p = 0; p < partsPerSource; p++) {
      const part = list.filter((_, i) => i % partsPerSource === p);
      writeFileSync(join(at, `source=${encodeURIComponent(source)}`, `part-${String(p).padStart(5, '0')}-fixture.c000.snappy.parquet`), partFile(part));
    }
    for (const r of list) {
      const bySplit = (counts[source] ??= {});
      const byLabel = (bySplit[r.split] ??= {});
      byLabel[String(r.label)] = (byLabel[String(r.label)] ?? 0) + 1;
    }
  }
  writeFileSync(join(at, '_SUCCESS'), '');
  writeManifest(at, version, counts);
  writeFileSync(join(dir, 'current'), `${version}\n`);
  return at;
}

/** (Re)writes the manifest of the version folder `at` from the part files now on disk. */
export function writeManifest(at: string, version: string, counts: Record<string, Record<string, Record<string, number>>>): void {
  const files = readdirSync(at, { withFileTypes: true }).filter((e) => e.isDirectory()).flatMap((e) =>
    readdirSync(join(at, e.name)).filter((n) => n.endsWith('.parquet')).sort().map((n) => {
      const bytes = readFileSync(join(at, e.name, n));
      return { path: `${e.name}/${n}`, bytes: bytes.length, sha256: sha256(bytes) };
    }));
  const total = Object.values(counts).flatMap((s) => Object.values(s).flatMap((l) => Object.values(l))).reduce((a, n) => a + n, 0);
  writeFileSync(join(at, 'manifest.json'), JSON.stringify({
    format: 'doodle-digits-dataset', version: 1, dataset: version, created_at: new Date().toISOString(),
    rows: { total, by_source: counts }, dropped: { duplicate: {}, invalid: {} }, files,
  }, null, 2));
}

/** Rows of MNIST arrays (images count·784, labels count) as a source's rows. */
export function mnistRows(source: string, split: string, images: Uint8Array, labels: Uint8Array, count: number): FixtureRow[] {
  return Array.from({ length: count }, (_, i) => ({ source, index: i, label: labels[i]!, image: images.subarray(784 * i, 784 * (i + 1)), split }));
}
