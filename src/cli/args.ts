// Shared CLI plumbing, one convention for every `npm run` command: argv parsing (strict; `--help`/`-h` on every
// command; `--flag -3` read as a value), one usage format ("Usage: npm run <cmd> -- [flags]", the flag lines, the
// exit codes), and the runner that maps main()'s result to the exit code: 0 ok, 1 failure (one `error:` line),
// 2 usage (the `error:` line, then the usage for a malformed command line). Only cli/ sets exit codes, and only
// through process.exitCode: the process ends on its own once nothing is left to do.

import { parseArgs, type ParseArgsConfig } from 'node:util';

/** The footer of every usage text. */
export const EXIT_CODES = 'Exit codes: 0 ok, 1 failure, 2 usage error (unknown flag, bad value).';

/** A mistake on the command line: exit 2. `showUsage` false for a bad value, whose message names the flag already. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(message: string, readonly showUsage = true) {
    super(message);
  }
}

/** A bad flag value (exit 2, one line: the message says which flag and what is allowed). */
export function badValue(message: string): UsageError {
  return new UsageError(message, false);
}

/** Thrown by parseFlags on --help/-h: runCli prints the usage on stdout and exits 0, before main does any work. */
class HelpRequested extends Error {
  override name = 'HelpRequested';
}

type Options = NonNullable<ParseArgsConfig['options']>;
const HELP = { help: { type: 'boolean', short: 'h' } } as const;

/** "-1", "-0.5", "-2e3", "-.5": a negative number, not a flag (no option of ours is a digit). */
const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/**
 * parseArgs, strict, plus --help/-h (which ends the command here: see runCli). `--flag -N` becomes `--flag=-N` when
 * --flag takes a value, so that a negative number reaches the flag's own validation instead of parseArgs' "argument
 * is ambiguous". Any parse error becomes a UsageError with node's first sentence.
 */
export function parseFlags<T extends Options>(options: T, allowPositionals = false, argv: readonly string[] = process.argv.slice(2)) {
  const all = { ...options, ...HELP };
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv, all), options: all, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split(/\.\s/)[0]!.replace(/\.$/, ''));
  }
  if ((parsed.values as Record<string, unknown>).help === true) throw new HelpRequested();
  return parsed;
}

function joinNegativeValues(argv: readonly string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    const long = /^--([^=]+)$/.exec(arg)?.[1];
    const short = /^-([^-])$/.exec(arg)?.[1];
    const name = long ?? (short === undefined ? undefined : Object.keys(options).find((k) => options[k]!.short === short));
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/**
 * Runs main: a number ≥ 0 becomes the exit code, −1 keeps the process running (a server). With `expected`, an error
 * it does not recognise is reported as a bug, with its stack; otherwise every error is one `error:` line.
 */
export function runCli(main: () => Promise<number>, usage: string, expected?: (err: unknown) => boolean): void {
  let work: Promise<number>;
  try {
    work = main(); // an async main never throws here, but a sync throw must not escape with a stack either
  } catch (err) {
    work = Promise.reject(err);
  }
  work.then((code) => { if (code >= 0) process.exitCode = code; }, (err: unknown) => {
    if (err instanceof HelpRequested) {
      console.log(usage);
      process.exitCode = 0;
    } else if (err instanceof UsageError) {
      console.error(err.showUsage ? `error: ${err.message}\n\n${usage}` : `error: ${err.message} (see --help)`);
      process.exitCode = 2;
    } else {
      console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
      if (expected !== undefined && !expected(err)) {
        console.error('(an internal error, not a problem with the input: please report it with the stack below)');
        console.error(err instanceof Error ? err.stack : err);
      }
      process.exitCode = 1;
    }
  });
}
