// Installs the project's Python tools (MLflow, DVC, numpy: python/requirements.txt, every version exact) into
// .venv/. Idempotent: a second run with the same requirements does nothing (a stamp in .venv/ holds their hash).
// Usage: node tools/setup-python.mjs [--freeze]
//   --freeze  re-resolve python/requirements.in in a scratch venv and rewrite python/requirements.txt from it.
// Exit codes: 0 ok, 1 failure (the message names the step), 2 usage.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const venv = join(root, '.venv');
const requirements = join(root, 'python', 'requirements.txt');
const stamp = join(venv, '.requirements.sha256');
const USAGE = `Usage: npm run setup:python -- [--freeze]

Installs python/requirements.txt (MLflow, DVC, numpy; exact versions) into .venv/; does nothing when it is current.
  --freeze    re-resolve python/requirements.in and rewrite python/requirements.txt
  -h, --help  this text

Exit codes: 0 ok, 1 failure, 2 usage.`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const unknown = args.filter((a) => a !== '--freeze');
if (unknown.length > 0) {
  console.error(`error: unknown argument "${unknown[0]}"\n\n${USAGE}`);
  process.exit(2);
}

function run(what, cmd, cmdArgs) {
  const r = spawnSync(cmd, cmdArgs, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error || r.status !== 0) {
    console.error(`error: ${what} failed (${r.error ? r.error.message : `${cmd} exited with ${r.status}`})`);
    process.exit(1);
  }
}

const python = process.env.PYTHON ?? 'python3';
const version = spawnSync(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
if (version.status !== 0) {
  console.error(`error: no ${python} on PATH (Python 3.11 or newer is needed; set PYTHON to use another)`);
  process.exit(1);
}
const [major, minor] = version.stdout.trim().split('.').map(Number);
if (major !== 3 || minor < 11) {
  console.error(`error: ${python} is Python ${version.stdout.trim()}; 3.11 or newer is needed (set PYTHON to use another)`);
  process.exit(1);
}

const started = Date.now();
if (args.includes('--freeze')) {
  const scratch = mkdtempSync(join(tmpdir(), 'doodle-freeze-'));
  try {
    run('creating a scratch venv', python, ['-m', 'venv', scratch]);
    run('installing python/requirements.in', join(scratch, 'bin', 'pip'),
      ['install', '--disable-pip-version-check', '-q', '-r', join(root, 'python', 'requirements.in')]);
    const frozen = spawnSync(join(scratch, 'bin', 'pip'), ['freeze', '--disable-pip-version-check'], { encoding: 'utf8' });
    if (frozen.status !== 0) {
      console.error('error: pip freeze failed');
      process.exit(1);
    }
    const tmp = `${requirements}.${process.pid}.tmp`;
    writeFileSync(tmp, '# Every package of .venv/, exact: generated from requirements.in by `npm run setup:python -- --freeze`; do not edit.\n' + frozen.stdout);
    renameSync(tmp, requirements);
    console.log(`python/requirements.txt: ${frozen.stdout.trim().split('\n').length} packages`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const hash = createHash('sha256').update(readFileSync(requirements)).digest('hex');
if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash && existsSync(join(venv, 'bin', 'python'))) {
  console.log('.venv is up to date with python/requirements.txt');
  process.exit(0);
}
if (!existsSync(join(venv, 'bin', 'python'))) run('creating .venv', python, ['-m', 'venv', venv]);
console.log('installing python/requirements.txt into .venv/ (a few minutes on a fresh machine)…');
run('pip install', join(venv, 'bin', 'pip'),
  ['install', '--disable-pip-version-check', '-q', '--no-deps', '-r', requirements]);
run('pip check', join(venv, 'bin', 'pip'), ['check', '--disable-pip-version-check']);
writeFileSync(stamp, hash + '\n');
console.log(`.venv ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
