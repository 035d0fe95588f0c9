// `npm run models`: lists the registered model versions (oldest first, `*` = current), or
// `npm run models -- promote <version|prefix>` switches the current one. `--models <dir>` (default models; `--root`
// is its old name, still accepted), `--json`. Errors: one line `error: …` on stderr, exit 1 (2 for usage: args.ts).
// Not here: training or registry rules (src/model/registry.ts).

import { badValue, EXIT_CODES, parseFlags, runCli, UsageError } from './args.js';
import { ModelFileError, RegistryError } from '../model/errors.js';
import { ModelRegistry, type VersionInfo } from '../model/registry.js';
import { WriteError } from '../util/atomic-write.js';

const USAGE = `Usage: npm run models -- [flags]                list the versions, oldest first (* = current)
       npm run models -- promote <ref> [flags]  make <ref> (a version id or a unique prefix of one) current
  --models <dir>   the model registry (default models; --root is accepted as its old name)
  --json           machine-readable output on stdout; npm prints its "> doodle-digits@… models" banner on stdout
                   too, so run it as \`npm run -s models -- --json\` (or node build/cli/models.js --json) to parse it
  -h, --help       this text
${EXIT_CODES}`;

async function main(): Promise<number> {
  const { values, positionals } = parseFlags({
    models: { type: 'string' }, root: { type: 'string' }, json: { type: 'boolean' },
  }, true);
  if (values.models !== undefined && values.root !== undefined && values.models !== values.root) {
    throw badValue('--root is the old name of --models: give one of them');
  }
  const json = values.json ?? false;
  const registry = new ModelRegistry(values.models ?? values.root ?? 'models');
  const [command = 'list', ...rest] = positionals;
  switch (command) {
    case 'list':
      if (rest.length > 0) throw new UsageError(`list takes no arguments, got "${rest.join(' ')}"`);
      return list(registry, json);
    case 'promote':
      if (rest.length !== 1) throw new UsageError('promote takes exactly one version id or prefix');
      return promote(registry, rest[0]!, json);
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

// Registry and model-file errors are the expected failures (one line); anything else is a bug and keeps its stack.
runCli(main, USAGE, (err) => err instanceof RegistryError || err instanceof ModelFileError || err instanceof WriteError);
