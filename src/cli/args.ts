// Shared CLI plumbing: argv parsing that turns a usage mistake into one `error:` line plus the usage (exit 2), and
// the runner that maps main()'s result to the exit code (a thrown error → one `error:` line, exit 1).
// Only cli/ sets exit codes.

import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  override name = 'UsageError';
}

/** parseArgs with strict options and no positionals unless allowed; throws UsageError with node's first sentence. */
export function parseFlags<T extends ParseArgsConfig['options']>(options: T, allowPositionals = false) {
  try {
    return parseArgs({ options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split('. ')[0]!.replace(/\.$/, ''));
  }
}

/** Runs main: a number ≥ 0 becomes the exit code, −1 keeps the process running (a server); UsageError → 2. */
export function runCli(main: () => Promise<number>, usage: string): void {
  main().then((code) => { if (code >= 0) process.exitCode = code; }, (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}\n\n${usage}`);
      process.exitCode = 2;
      return;
    }
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
