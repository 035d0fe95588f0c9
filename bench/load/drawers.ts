// node build/bench/load/drawers.mjs [--drawers N] [--quick] [--serve <serve.js>] [--models DIR] | [--port P --pid PID]
//   [--path /ws] [--batch B] [--points P] [--strokes S] [--deadline S] [--json FILE]
// N concurrent WebSocket drawers (default 10,000; --quick 1,000) from this process (pinned to core 1) against a server
// in its own process (core 0): started here from --serve (default this checkout's build/cli/serve.js) or given by
// --port (and --pid for its memory). Each drawer draws a full digit (3 strokes, 300 points, `move`s of 4) awaiting
// every prediction. Reports served / refused (503) / errors, predictions, wall time and the server's RSS before the
// drawers, with all of them open, and after all have drawn. A hard deadline (--deadline, 240 s) stops everything.
// Part of `npm run bench:server`; the file-descriptor limit (20,000 per process) is why client and server are apart.

import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { digitDrawing, runDrawers, type DrawersReport } from './drawer-client.js';
import { pinLoadToCore1, rssBytes, startProcess, stopProcess, taskset } from './processes.js';

export interface DrawersRun extends Omit<DrawersReport, 'finals' | 'failures'> {
  failures: string[];
  server: string;
  points: number;
  strokes: number;
  rss: { beforeBytes: number; openBytes: number; drawnBytes: number; growthBytes: number };
}

let root = dirname(fileURLToPath(import.meta.url));
while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const num = (name: string, fallback: number): number => {
  const v = flag(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) { console.error(`error: ${name} takes a positive number, got "${v}"`); process.exit(2); }
  return n;
};
const quick = args.includes('--quick');
const drawers = Math.round(num('--drawers', quick ? 1000 : 10_000));
const points = Math.round(num('--points', 300));
const strokes = Math.round(num('--strokes', 3));
const deadlineS = num('--deadline', quick ? 60 : 240);
const batch = Math.round(num('--batch', 200));
const jsonOut = flag('--json');
pinLoadToCore1();

const MiB = 2 ** 20;
const started = Date.now();
const attachPort = flag('--port');
let server: Awaited<ReturnType<typeof startProcess>> | undefined;
let port: number, pid: number, serverName: string;
// The deadline covers the server's start too; runDrawers gets what is left of it.
const hardStop = setTimeout(() => {
  console.error(`error: the ${deadlineS} s deadline passed: stopping`);
  if (server) server.child.kill('SIGKILL');
  process.exit(1);
}, (deadlineS + 15) * 1000);
hardStop.unref();
try {
  if (attachPort !== undefined) {
    port = Number(attachPort);
    pid = Number(flag('--pid') ?? NaN);
    serverName = `port ${port}`;
  } else {
    const serveJs = resolve(flag('--serve') ?? join(root, 'build', 'cli', 'serve.js'));
    const models = resolve(flag('--models') ?? process.env.BENCH_MODELS_DIR ?? join(root, 'models'));
    server = await startProcess([process.execPath, serveJs, '--port', '0', '--host', '127.0.0.1', '--workers', '1', '--models', models],
      /on http:\/\/127\.0\.0\.1:(\d+)/, { cwd: dirname(dirname(dirname(serveJs))) });
    port = server.port;
    pid = server.child.pid!;
    serverName = serveJs;
  }
  const before = rssBytes(pid);
  let open = NaN, drawn = NaN;
  console.log(`${drawers} drawers (${strokes} strokes, ${points} points, moves of 4) → ${serverName}${taskset ? ' (server core 0, load core 1)' : ''}`);
  const r = await runDrawers({ port, path: flag('--path') ?? '/ws', drawers, batch, deadlineMs: deadlineS * 1000 - (Date.now() - started),
    drawing: (i) => digitDrawing(i, points, strokes), onOpen: () => { open = rssBytes(pid); }, onDrawn: () => { drawn = rssBytes(pid); } });
  const { finals: _finals, ...rest } = r;
  const run: DrawersRun = { ...rest, server: serverName, points, strokes, rss: { beforeBytes: before, openBytes: open, drawnBytes: drawn, growthBytes: drawn - before } };
  console.log(`served ${r.served}, refused (503) ${r.refused}, connect failures ${r.connectFailures}, complete ${r.complete}, ` +
    `errors ${r.errors}${r.timedOut ? ', TIMED OUT' : ''}`);
  console.log(`predictions ${r.predictions} of ${r.expectedPredictions} owed; p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms per message; ` +
    `ramp ${(r.rampMs / 1000).toFixed(1)} s, drawing ${(r.drawMs / 1000).toFixed(1)} s, wall ${(r.wallMs / 1000).toFixed(1)} s`);
  console.log(`server RSS ${(before / MiB).toFixed(1)} MiB before, ${(open / MiB).toFixed(1)} MiB with all open, ${(drawn / MiB).toFixed(1)} MiB ` +
    `after drawing: growth ${((drawn - before) / MiB).toFixed(1)} MiB`);
  for (const f of r.failures.slice(0, 5)) console.log(`  ${f}`);
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify(run, null, 2) + '\n');
  process.exitCode = r.timedOut ? 1 : 0;
} finally {
  if (server) await stopProcess(server.child);
  clearTimeout(hardStop);
}
