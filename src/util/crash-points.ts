// Test-only crash points, so tests can kill a process at the worst moments of its durable writes (kill -9 semantics:
// no exit handlers, no flushing). Each durable write calls crashPoint("<kind> <file>: <phase>") just before and just
// after it takes effect. Two environment variables, read once, drive it; with neither set a call is one comparison:
//   DOODLE_CRASH_AT=<point>[#<n>]  SIGKILL this process at the n-th time (default 1) it reaches <point>
//   DOODLE_CRASH_TRACE=<file>      append every point reached to <file>, one per line (to enumerate them)
// Imports nothing from src/.

import { appendFileSync } from 'node:fs';

let armed: { point: string | undefined; nth: number; trace: string | undefined } | undefined;
const reached = new Map<string, number>();

export function crashPoint(point: string): void {
  armed ??= parse(process.env.DOODLE_CRASH_AT, process.env.DOODLE_CRASH_TRACE);
  if (armed.point === undefined && armed.trace === undefined) return;
  if (armed.trace !== undefined) appendFileSync(armed.trace, `${point}\n`);
  if (point !== armed.point) return;
  const n = (reached.get(point) ?? 0) + 1;
  reached.set(point, n);
  if (n === armed.nth) process.kill(process.pid, 'SIGKILL');
}

function parse(at: string | undefined, trace: string | undefined): NonNullable<typeof armed> {
  const m = at === undefined || at === '' ? undefined : /^(.*?)(?:#(\d+))?$/.exec(at);
  return { point: m?.[1], nth: m?.[2] === undefined ? 1 : Number(m[2]), trace: trace === '' ? undefined : trace };
}
