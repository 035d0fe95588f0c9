// A real MLflow tracking server for tests (the `mlflow` of .venv/, see test/helpers/python.ts), and MLflow's own
// Python client to check what it holds. One server per test file (start-up takes ~5–15 s on a loaded machine).
//
//   const server = await startMlflowServer();                     // SQLite backend, proxied artifacts (the default)
//   const direct = await startMlflowServer({ serveArtifacts: false }); // a file:// artifact root clients write to
//   const run = await mlflowPython(server.url, 'print(json.dumps(client.get_run(RUN).info.status))', { RUN: id });
//   const reply = await mlflowRest(server.url, 'GET', 'metrics/get-history', { run_id: id, metric_key: 'loss' });

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from './ports.js';
import { pollUntil } from './poll.js';
import { venvBin } from './python.js';
import { tempDir } from './temp.js';

/** What MLflow must not do in tests: phone home. */
export const MLFLOW_ENV = { MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true', PYTHONUNBUFFERED: '1' } as const;

export interface MlflowServer {
  readonly url: string;
  readonly port: number;
  /** The folder holding mlflow.db and the artifacts. */
  readonly dir: string;
  /** Where run artifacts end up on disk (the proxy's destination, or the file:// root clients write to). */
  readonly artifactDir: string;
  readonly serveArtifacts: boolean;
  /** The server's output so far (for failure messages). */
  log(): string;
  /** SIGSTOP / SIGCONT of the server's process group: it accepts connections but answers nothing. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export async function startMlflowServer(options: { serveArtifacts?: boolean } = {}): Promise<MlflowServer> {
  const serveArtifacts = options.serveArtifacts ?? true;
  const dir = tempDir('mlflow-server');
  const artifactDir = join(dir, 'artifacts');
  const port = await freePort();
  const args = ['server', '--host', '127.0.0.1', '--port', String(port), '--workers', '1',
    '--backend-store-uri', `sqlite:///${join(dir, 'mlflow.db')}`];
  if (serveArtifacts) args.push('--artifacts-destination', artifactDir);
  else args.push('--no-serve-artifacts', '--default-artifact-root', pathToFileURL(artifactDir).href);
  let output = '';
  const child: ChildProcess = spawn(venvBin('mlflow'), args, {
    cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...MLFLOW_ENV },
  });
  child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const group = (signal: NodeJS.Signals): void => {
    try { process.kill(-child.pid!, signal); } catch { /* already gone */ }
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await pollUntil(async () => {
      if (child.exitCode !== null) throw new Error(`mlflow server exited with ${child.exitCode}:\n${output}`);
      return (await fetch(`${url}/health`)).ok;
    }, `mlflow server on ${url}`, 90_000, 200);
  } catch (err) {
    group('SIGKILL');
    throw new Error(`${(err as Error).message}\n--- mlflow server output ---\n${output}`);
  }
  return {
    url, port, dir, artifactDir, serveArtifacts,
    log: () => output,
    pause: () => group('SIGSTOP'),
    resume: () => group('SIGCONT'),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      group('SIGCONT');
      group('SIGTERM');
      const timer = setTimeout(() => group('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Runs `script` in the venv's Python with `import json, mlflow` done, `client = MlflowClient(tracking_uri)` made and
 * each entry of `vars` bound as a Python global (JSON-decoded); returns the JSON its last output line prints.
 * `trackingUri` may be a server URL or a file store folder.
 */
export function mlflowPython<T = unknown>(trackingUri: string, script: string, vars: Record<string, unknown> = {}): T {
  const prelude = [
    'import json, sys, mlflow',
    'from mlflow.tracking import MlflowClient',
    'globals().update(json.loads(sys.stdin.read()))',
    'client = MlflowClient(TRACKING_URI)',
    'mlflow.set_tracking_uri(TRACKING_URI)',
  ].join('\n');
  const r = spawnSync(venvBin('python'), ['-c', `${prelude}\n${script}`], {
    input: JSON.stringify({ ...vars, TRACKING_URI: trackingUri }), encoding: 'utf8', timeout: 120_000,
    env: { ...process.env, ...MLFLOW_ENV, MLFLOW_ALLOW_FILE_STORE: 'true' },
  });
  if (r.status !== 0) throw new Error(`MLflow client script failed (${r.status ?? r.signal}):\n${r.stderr}\n${script}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

/**
 * One call to the server's REST API 2.0 (`GET` with a query string, `POST` with a JSON body): for polling while a
 * training runs, where a Python client's start-up (seconds) would be too slow. Throws on an HTTP error.
 */
export async function mlflowRest<T = Record<string, unknown>>(
  url: string, method: 'GET' | 'POST', path: string, payload: Record<string, unknown> = {},
): Promise<T> {
  const query = method === 'GET' ? `?${new URLSearchParams(Object.entries(payload).map(([k, v]) => [k, String(v)]))}` : '';
  const body = method === 'POST' ? JSON.stringify(payload) : undefined;
  // A fresh connection per call (agent: false): a pooled one the server closed while idle would fail the call.
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = httpRequest(`${url}/api/2.0/mlflow/${path}${query}`, {
      method, agent: false, timeout: 10_000, headers: body === undefined ? {} : { 'content-type': 'application/json' },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no reply within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
  if (status < 200 || status >= 300) throw new Error(`${method} ${path}: HTTP ${status} ${text}`);
  return JSON.parse(text) as T;
}
