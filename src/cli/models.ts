// `npm run models`: lists the registered model versions (oldest first, `*` = current), or
// `npm run models -- promote <version|prefix>` switches the current one. `--root <dir>` (default models), `--json`.
// Errors: one line `error: …` on stderr, exit 1 (2 for usage errors). Not here: training or registry rules
// (src/model/registry.ts).

import { parseArgs } from 'node:util';
import { ModelFileError, RegistryError } from '../model/errors.js';
import { ModelRegistry, type VersionInfo } from '../model/registry.js';

const USAGE = `usage: npm run models -- [list] [--root <dir>] [--json]
       npm run models -- promote <version|prefix> [--root <dir>] [--json]

  list              the model versions, oldest first; * marks the current one (the default)
  promote <ref>     make <ref> (a version id or a unique prefix of one) the current model

  --root <dir>      the registry directory (default: models)
  --json            machine-readable output on stdout
  -h, --help        this help`;

class UsageError extends Error {}

function run(argv: string[]): number {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        root: { type: 'string', default: 'models' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = args;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const registry = new ModelRegistry(values.root);
  const [command = 'list', ...rest] = positionals;
  switch (command) {
    case 'list':
      if (rest.length > 0) throw new UsageError(`list takes no arguments, got "${rest.join(' ')}"`);
      return list(registry, values.json);
    case 'promote':
      if (rest.length !== 1) throw new UsageError('promote takes exactly one version id or prefix');
      return promote(registry, rest[0]!, values.json);
    default:
      throw new UsageError(`unknown command "${command}" (commands: list, promote)`);
  }
}

function list(registry: ModelRegistry, json: boolean): number {
  const versions = registry.list();
  let current: string | undefined;
  try {
    current = registry.currentVersion();
  } catch (err) {
    if (!(err instanceof RegistryError)) throw err;
    console.error(`warning: ${err.message}`); // still list what is there: that is how one picks a replacement
  }
  if (json) {
    console.log(JSON.stringify({ root: registry.root, current: current ?? null, versions }, null, 2));
    return 0;
  }
  if (versions.length === 0) {
    console.log('no models yet → run `npm run train`');
    return 0;
  }
  const rows = [
    ['', 'VERSION', 'TEST ACC', 'CREATED (UTC)'],
    ...versions.map((v) => [v.current ? '*' : '', v.version, percent(v.testAccuracy), v.createdAt.replace('T', ' ').replace('Z', '')]),
  ];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const row of rows) {
    const cells = row.map((cell, c) => (c === 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)));
    console.log(cells.join('  ').trimEnd());
  }
  return 0;
}

function promote(registry: ModelRegistry, ref: string, json: boolean): number {
  let previous: string | undefined;
  try {
    previous = registry.currentVersion();
  } catch (err) {
    if (!(err instanceof RegistryError)) throw err; // a dangling current is what promote repairs
  }
  registry.promote(ref);
  const now = registry.currentVersion()!;
  const byId = new Map<string, VersionInfo>(registry.list().map((v) => [v.version, v]));
  const label = (id: string | undefined): string => {
    const info = id === undefined ? undefined : byId.get(id);
    return id === undefined ? '(none)' : info === undefined ? `${id} (missing)` : `${id} (${percent(info.testAccuracy)})`;
  };
  if (json) {
    console.log(JSON.stringify({ previous: previous ?? null, current: now, changed: previous !== now }, null, 2));
  } else if (previous === now) {
    console.log(`${label(now)} is already current; nothing changed`);
  } else {
    console.log(`current: ${label(previous)} → ${label(now)}`);
  }
  return 0;
}

function percent(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

try {
  process.exitCode = run(process.argv.slice(2));
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof UsageError) {
    console.error(`error: ${message} (see --help)`);
    process.exitCode = 2;
  } else if (err instanceof RegistryError || err instanceof ModelFileError) {
    console.error(`error: ${message}`);
    process.exitCode = 1;
  } else {
    // Not an expected failure: keep the stack, it is a bug report.
    console.error(`error: ${message}`);
    if (err instanceof Error && err.stack !== undefined) console.error(err.stack);
    process.exitCode = 1;
  }
}
