// `npm run ingest:spark`: runs spark/ingest.py (the PySpark ingestion job) with the spark-submit of .venv/.
// It checks the command line, the venv and Java first (clear errors, exit 1/2, nothing started), then hands over:
// the job's own output and exit code are passed through. On a cluster, call spark-submit directly (docs/data.md).
// Usage: node tools/ingest-spark.mjs [flags] (see USAGE). Exit codes: 0 ok, 1 failure, 2 usage.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sparkSubmit = join(root, '.venv', 'bin', 'spark-submit');
const python = join(root, '.venv', 'bin', 'python');
const USAGE = `Usage: npm run ingest:spark -- [flags]

Ingests MNIST (+ extra IDX sources + feedback records) with Spark into a new version of a Parquet dataset
(partitioned by source, with manifest.json), then points <out>/current at it (docs/data.md, "Spark ingestion").
  --master <url>          Spark master (default: local[*]; e.g. local[2], spark://host:7077)
  --out <dir>             dataset root (default: data/parquet); any Hadoop URI (hdfs://, s3a://)
  --mnist <dir>           folder of the four MNIST IDX files (default: mnist)
  --feedback <dir>        feedback records (default: feedback, skipped when that folder does not exist)
  --idx <name>=<images>,<labels>
                          an extra IDX source, split by hash (repeatable)
  --keep <n>              complete versions kept besides current (default: 5)
  --conf <key>=<value>    a Spark setting passed to spark-submit (repeatable)
  -h, --help              this text
Exit codes: 0 ok, 1 failure, 2 usage error (unknown flag, bad value).`;

function usageError(message, showUsage = true) {
  console.error(`error: ${message}${showUsage ? `\n\n${USAGE}` : ''}`);
  process.exit(2);
}

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}

let values;
try {
  ({ values } = parseArgs({
    args: process.argv.slice(2), strict: true, allowPositionals: false, options: {
      master: { type: 'string' }, out: { type: 'string' }, mnist: { type: 'string' }, feedback: { type: 'string' },
      idx: { type: 'string', multiple: true }, keep: { type: 'string' }, conf: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (err) {
  usageError(err.message.split(/\.\s/)[0].replace(/\.$/, ''));
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
for (const flag of ['master', 'out', 'mnist', 'feedback']) {
  if (values[flag] !== undefined && values[flag].trim() === '') usageError(`--${flag} must not be empty`, false);
}
if (values.keep !== undefined && !/^[1-9]\d*$/.test(values.keep)) {
  usageError(`--keep must be a whole number ≥ 1, got "${values.keep}"`, false);
}
for (const spec of values.idx ?? []) {
  if (!/^[a-z0-9][a-z0-9-]{0,62}=[^,]+,[^,]+$/.test(spec)) {
    usageError(`--idx "${spec}": expected <name>=<images>,<labels> with a lowercase name [a-z0-9-]`, false);
  }
}
for (const kv of values.conf ?? []) {
  if (!/^[^=\s]+=/.test(kv)) usageError(`--conf "${kv}": expected <key>=<value>`, false);
}

if (!existsSync(sparkSubmit) || !existsSync(python)) {
  fail(`no spark-submit in .venv (${sparkSubmit}): run npm run setup:python (it installs PySpark)`);
}
const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
const probe = spawnSync(java, ['-version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) {
  fail(`no Java: ${process.env.JAVA_HOME ? `${java} does not run` : 'no java on PATH'} (Spark needs Java 17 or newer; install OpenJDK 17 or set JAVA_HOME)`);
}
const major = Number(/version "(\d+)/.exec(probe.stderr)?.[1] ?? 0);
if (major < 17) fail(`${java} is Java ${major || '(unknown version)'}; Spark 4 needs Java 17 or newer (set JAVA_HOME)`);

const master = values.master ?? 'local[*]';
const local = /^local(\[|$)/.test(master);
const conf = [
  'spark.ui.showConsoleProgress=false',
  // One machine: few shuffle partitions (Spark's 200 are meant for a cluster) and the driver on loopback.
  ...(local ? ['spark.sql.shuffle.partitions=4', 'spark.driver.host=127.0.0.1', 'spark.driver.bindAddress=127.0.0.1'] : []),
  `spark.pyspark.python=${python}`,
  ...(values.conf ?? []), // last: the caller's settings win
];
const jobArgs = [];
for (const flag of ['mnist', 'out', 'feedback', 'keep']) if (values[flag] !== undefined) jobArgs.push(`--${flag}`, values[flag]);
for (const spec of values.idx ?? []) jobArgs.push('--idx', spec);
const submitArgs = [
  '--master', master,
  '--driver-java-options', `-Dlog4j2.configurationFile=file:${join(root, 'spark', 'log4j2.properties')}`,
  ...conf.flatMap((kv) => ['--conf', kv]),
  join(root, 'spark', 'ingest.py'), ...jobArgs,
];
const child = spawn(sparkSubmit, submitArgs, {
  stdio: ['inherit', 'pipe', 'inherit'],
  env: { ...process.env, PYSPARK_PYTHON: python, PYSPARK_DRIVER_PYTHON: python, PYTHONWARNINGS: 'ignore::FutureWarning' },
});
// spark-submit merges the Python driver's stderr into its stdout: the job's `error:`/`warning:` lines go back to
// stderr here, the summary stays on stdout.
createInterface({ input: child.stdout }).on('line', (line) => {
  (/^(error|warning): /.test(line) ? process.stderr : process.stdout).write(`${line}\n`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('error', (err) => fail(`cannot start ${sparkSubmit}: ${err.message}`));
child.on('close', (code, signal) => {
  if (signal) fail(`spark-submit was stopped by ${signal}`);
  process.exit(code ?? 1);
});
