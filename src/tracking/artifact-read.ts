// Reads one artifact file's bytes from where an MLflow model version points: `runs:/<run_id>/<path>` (through the run's
// artifact root), `mlflow-artifacts:/<path>` (the tracking server's artifact proxy, GET
// /api/2.0/mlflow-artifacts/artifacts/<path>) or `file:///<path>` (an artifact root this machine can read, as a
// server started with --no-serve-artifacts hands out). Any other scheme (s3:, gs:, …) is refused with the reason.
// see: mlflow/store/artifact/runs_artifact_repo.py, mlflow_artifacts_repo.py. Not here: verifying the bytes.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ARTIFACTS_API, MlflowRestError, type RestClient } from './rest-client.js';

export interface ArtifactServer {
  readonly client: RestClient;
  /** The tracking URI (http(s)://[user:pass@]host:port[/prefix]): the artifact proxy lives under it. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
}

export async function readArtifact(server: ArtifactServer, uri: string): Promise<Uint8Array> {
  const runs = /^runs:\/([\w-]+)\/(.+)$/i.exec(uri);
  if (runs !== null) {
    const reply = await server.client.json('GET', 'runs/get', { run_id: runs[1]! });
    const root = ((reply['run'] as { info?: { artifact_uri?: unknown } } | undefined)?.info?.artifact_uri);
    if (typeof root !== 'string' || root === '') throw new Error(`MLflow runs/get ${runs[1]}: the reply has no artifact_uri`);
    return readArtifact(server, `${root.replace(/\/+$/, '')}/${runs[2]!.replace(/^\/+/, '')}`);
  }
  const proxied = /^mlflow-artifacts:(?:\/\/([^/]*))?(\/.*)$/i.exec(uri);
  if (proxied !== null) {
    if ((proxied[1] ?? '') !== '') {
      throw new Error(`artifact ${uri} names another artifact server (${proxied[1]}): only the tracking server's own proxy is read`);
    }
    const path = proxied[2]!.split('/').filter((s) => s !== '').join('/');
    return getBytes(server, `${ARTIFACTS_API}/${path}`);
  }
  if (/^file:\/\//i.test(uri)) {
    const path = fileURLToPath(uri);
    try {
      return await readFile(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(`artifact ${uri}: cannot read ${path} (${code ?? String(err)}): the file:// artifact root must be readable ` +
        'from this machine, or start the MLflow server with artifact proxying (the default)', { cause: err });
    }
  }
  throw new Error(`artifact ${uri}: scheme not supported (runs:/, mlflow-artifacts:/ and file:// are): ` +
    'serve artifacts through the tracking server (`mlflow server --serve-artifacts`, the default)');
}

/** GET raw bytes under the tracking URI, with its credentials and the timeout. */
async function getBytes(server: ArtifactServer, endpoint: string): Promise<Uint8Array> {
  const url = new URL(server.baseUrl);
  const headers: Record<string, string> = {};
  if (url.username !== '') {
    headers['authorization'] = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  }
  const target = `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}${endpoint}`;
  let response: Response;
  let bytes: Uint8Array;
  try {
    response = await fetch(target, { headers, signal: AbortSignal.timeout(server.timeoutMs) });
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (err) {
    const e = err as Error;
    const cause = (e.cause as { message?: unknown } | undefined)?.message;
    const detail = e.name === 'TimeoutError' ? `no reply within ${server.timeoutMs} ms from ${url.host}`
      : `cannot reach ${url.host}: ${typeof cause === 'string' ? cause : e.message}`;
    throw new MlflowRestError('GET', endpoint, undefined, undefined, detail, { cause: err });
  }
  if (!response.ok) {
    const text = new TextDecoder().decode(bytes.subarray(0, 500)).trim();
    throw new MlflowRestError('GET', endpoint, response.status, undefined, response.status === 404 ? 'artifact not found' : text || response.statusText);
  }
  return bytes;
}
