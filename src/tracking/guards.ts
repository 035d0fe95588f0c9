// Ends a run with the status its process deserves: SIGINT/SIGTERM → KILLED (installRunGuards), a thrown error →
// FAILED and a normal return → FINISHED (runWithStatus). The module never exits the process: after a signal it calls
// the caller's onSignal (the CLI decides how to stop) or, without one, re-raises the signal with the handler removed
// so that Node's default action (terminate) applies.

import type { Run } from './types.js';

export type OnSignal = (signal: NodeJS.Signals, endError?: unknown) => void;

function reRaise(signal: NodeJS.Signals): void {
  process.kill(process.pid, signal);
}

/**
 * On the first of `signals`: end(run, 'KILLED'), remove the handlers, then onSignal(signal, endError?). A second
 * signal while the run is still ending skips the wait. Returns a function that removes the handlers.
 */
export function installRunGuards(
  run: Pick<Run, 'end'>,
  onSignal: OnSignal = reRaise,
  signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'],
): () => void {
  let ending = false;
  let delivered = false;
  const uninstall = (): void => {
    for (const s of signals) process.off(s, handler);
  };
  const deliver = (signal: NodeJS.Signals, endError?: unknown): void => {
    if (delivered) return;
    delivered = true;
    uninstall();
    onSignal(signal, endError);
  };
  function handler(signal: NodeJS.Signals): void {
    if (ending) {
      deliver(signal);
      return;
    }
    ending = true;
    run.end('KILLED').then(() => deliver(signal), (err: unknown) => deliver(signal, err));
  }
  for (const s of signals) process.on(s, handler);
  return uninstall;
}

/** Runs `body`, then ends the run FINISHED, or FAILED (and rethrows) when `body` throws. */
export async function runWithStatus<T>(run: Pick<Run, 'end'>, body: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await body();
  } catch (err) {
    await run.end('FAILED').catch(() => undefined); // the body's error is the one worth reporting
    throw err;
  }
  await run.end('FINISHED');
  return result;
}
