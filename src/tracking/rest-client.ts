// HTTP calls to an MLflow tracking server: JSON in and out under /api/2.0/mlflow/, raw bytes for the artifact proxy,
// a timeout on every call (AbortSignal.timeout), and one error type that names the endpoint, the HTTP status and
// MLflow's {error_code, message}. Credentials in the URI (http://user:pass@host) become a Basic Authorization header.
// Not here: which endpoints to call in which order (rest-store.ts).

export class MlflowRestError extends Error {
  constructor(
    readonly method: string,
    readonly endpoint: string,
    readonly status: number | undefined,
    readonly errorCode: string | undefined,
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    const what = status === undefined ? detail : `HTTP ${status}${errorCode ? ` ${errorCode}` : ''}: ${detail}`;
    super(`MLflow ${method} ${endpoint} failed: ${what}`, options);
    this.name = 'MlflowRestError';
  }
}

export const API = '/api/2.0/mlflow';
export const ARTIFACTS_API = '/api/2.0/mlflow-artifacts/artifacts';

export class RestClient {
  private readonly origin: string;
  private readonly basePath: string;
  private readonly authorization: string | undefined;

  /** `baseUrl` is the tracking URI (http(s)://host:port[/prefix]); `timeoutMs` bounds every request. */
  constructor(baseUrl: string, readonly timeoutMs: number) {
    const url = new URL(baseUrl);
    this.authorization = url.username !== ''
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
      : undefined;
    this.origin = `${url.protocol}//${url.host}`;
    this.basePath = url.pathname.replace(/\/+$/, '');
  }

  /** GET with a query string or POST with a JSON body to `${API}/${path}`; resolves to the parsed JSON reply. */
  async json(method: 'GET' | 'POST', path: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    const endpoint = `${API}/${path}`;
    let url = `${this.origin}${this.basePath}${endpoint}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    let body: string | undefined;
    if (method === 'GET') {
      const query = new URLSearchParams(Object.entries(payload).map(([k, v]) => [k, String(v)])).toString();
      if (query !== '') url += `?${query}`;
    } else {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(payload);
    }
    const text = await this.send(method, endpoint, url, headers, body);
    if (text.trim() === '') return {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // reported below
    }
    throw new MlflowRestError(method, endpoint, 200, undefined, `reply is not a JSON object: ${text.slice(0, 200)}`);
  }

  /** PUT raw bytes to the artifact proxy at `${ARTIFACTS_API}/${path}` (path segments already URL-encoded). */
  async putArtifact(path: string, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
    const endpoint = `${ARTIFACTS_API}/${path}`;
    const headers = { 'content-type': 'application/octet-stream' };
    await this.send('PUT', endpoint, `${this.origin}${this.basePath}${endpoint}`, headers, bytes);
  }

  private async send(
    method: string, endpoint: string, url: string, headers: Record<string, string>, body: string | Uint8Array<ArrayBuffer> | undefined,
  ): Promise<string> {
    if (this.authorization !== undefined) headers['authorization'] = this.authorization;
    let response: Response;
    let text: string;
    for (let attempt = 1; ; attempt++) {
      try {
        response = await fetch(url, { method, headers, body: body ?? null, signal: AbortSignal.timeout(this.timeoutMs) });
        text = await response.text();
        break;
      } catch (err) {
        // A kept-alive connection the server closed while idle (uvicorn closes them after 5 s) fails as the request
        // goes out, normally before the server read it: one fresh attempt, as browsers make. At worst (a reset after
        // the server handled it) a metric point is recorded twice; params accept the same value again.
        if (attempt === 1 && staleConnection(err as Error)) continue;
        throw this.unreachable(method, endpoint, err as Error);
      }
    }
    if (!response.ok) {
      let errorCode: string | undefined;
      let message = text.trim().slice(0, 500) || response.statusText;
      try {
        const parsed = JSON.parse(text) as { error_code?: unknown; message?: unknown };
        if (typeof parsed.error_code === 'string') errorCode = parsed.error_code;
        if (typeof parsed.message === 'string') message = parsed.message;
      } catch {
        // not MLflow's JSON error body: keep the raw text
      }
      throw new MlflowRestError(method, endpoint, response.status, errorCode, message);
    }
    return text;
  }

  private unreachable(method: string, endpoint: string, e: Error): MlflowRestError {
    const detail = e.name === 'TimeoutError'
      ? `no reply within ${this.timeoutMs} ms from ${this.origin}`
      : `cannot reach ${this.origin}: ${causeText(e)}`;
    return new MlflowRestError(method, endpoint, undefined, undefined, detail, { cause: e });
  }
}

function staleConnection(e: Error): boolean {
  const code = (e.cause as { code?: unknown } | undefined)?.code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET';
}

/** fetch() reports network failures as "fetch failed" with the system error as `cause`. */
function causeText(e: Error): string {
  const cause = e.cause as { message?: unknown } | undefined;
  return cause !== undefined && typeof cause.message === 'string' ? cause.message : e.message;
}
