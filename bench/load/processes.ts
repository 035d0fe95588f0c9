// The server processes a bench starts: pinned to core 0 (taskset, when there are ≥ 2 cores) while the load runs on
// core 1, started by waiting for the line that names their port, stopped for sure (SIGTERM, then SIGKILL), and their
// resident memory read from /proc. Shared by bench/server.bench.ts and bench/load/drawers.ts.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export const taskset = spawnSync('taskset', ['--version']).status === 0 && cpus().length >= 2;

/** Pins this process (the load generator) to core 1. */
export function pinLoadToCore1(): void {
  if (taskset) spawnSync('taskset', ['-cp', '1', String(process.pid)]);
}

/** Starts `cmd` on core 0 and resolves with its port once its output matches `ready` (group 1 = the port). */
export async function startProcess(cmd: string[], ready: RegExp, options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<{ child: ChildProcess; port: number }> {
  const full = taskset ? ['taskset', '-c', '0', ...cmd] : cmd;
  const child = spawn(full[0]!, full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd, env: options.env ?? process.env });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`server did not start within 30 s: ${out}`)); }, 30_000);
    const onData = (c: Buffer): void => {
      out += c.toString();
      const m = ready.exec(out);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}): ${out}`)); });
  });
  return { child, port };
}

/** Resident set size of a process, in bytes (NaN once it has gone). */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** SIGTERM, then SIGKILL if it has not exited within 5 s: a bench never leaves a server behind. */
export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}
