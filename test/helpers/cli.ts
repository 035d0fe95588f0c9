// Runs a bundled CLI (test/setup/global.ts builds them once per run) as a child process, as `npm run <name>` would.

import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { cliPath } from './paths.js';

export interface CliResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs `name` to completion (bounded by `timeout`, 120 s by default). */
export function runCli(name: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number; input?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [cliPath(name), ...args], {
    cwd: options.cwd, env: options.env, encoding: 'utf8', timeout: options.timeout ?? 120_000, input: options.input,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `name` in the background (the caller stops it). */
export function spawnCli(name: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, [cliPath(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
}
