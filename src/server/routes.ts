// The frame every HTTP route runs in: an Exchange begun before any await, the body collected (POST), errors turned
// into their status and JSON body ({error}), and the request's duration observed by route, method and status.
// The route modules (predict-route.ts, feedback-route.ts, inference-protocol.ts, metrics-route.ts, static-routes.ts)
// register through it; app.ts wires them. Not here: what any route does.

import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { begin, HttpError, receiveBody, send, type Exchange } from './http.js';
import { seconds, type HotMetrics } from './hot-metrics.js';
import type { ModelHolder } from './model-holder.js';
import type { InferencePipeline, Predictor } from '../inference/index.js';
import type { ErrorKind, Route, ServerMetrics } from '../metrics/metrics.js';
import { LIMITS, ProtocolError, type ErrorCode } from '../protocol.js';
import { PngError } from '../image/index.js';

/** What every route module is handed. */
export interface RouteContext {
  readonly app: TemplatedApp;
  readonly holder: ModelHolder;
  readonly metrics: ServerMetrics;
  readonly hot: HotMetrics;
  readonly pipeline: InferencePipeline;
  readonly http: Routes;
}

export class Routes {
  constructor(private readonly app: TemplatedApp, private readonly holder: ModelHolder, private readonly m: ServerMetrics,
    private readonly hot: HotMetrics) {}

  /** The served model, or 503 while none is loaded. */
  predictor(): Predictor {
    const p = this.holder.predictor;
    if (!p) throw new HttpError(503, 'not_ready', 'no model loaded yet');
    return p;
  }

  /** Answers an error: HttpError as it is, ProtocolError and PngError as 400s, anything else as a logged 500. */
  fail(ex: Exchange, err: unknown): void {
    const e = err instanceof HttpError ? err
      : err instanceof ProtocolError ? new HttpError(400, protocolKind(err.code), err.message)
      : err instanceof PngError ? new HttpError(400, 'bad_png', `PNG: ${err.message}`)
      : new HttpError(500, 'internal', 'internal error');
    if (e.status === 500) console.error(err);
    this.m.errors.inc({ kind: e.kind, transport: 'http' });
    // After a 413 the rest of the body is still coming: close the connection instead of reading it.
    send(ex, e.status, JSON.stringify({ error: e.message }), 'application/json', e.headers, e.status === 413);
  }

  /** A request without a body; `work` may be async (its writes are corked by send()). */
  handle(route: Route, method: string, res: HttpResponse, work: (ex: Exchange) => Promise<void> | void): void {
    const ex = begin(res, method === 'HEAD');
    const t0 = seconds();
    try {
      const r = work(ex);
      if (r) {
        r.then(() => this.observe(route, method, ex, t0), (err: unknown) => { this.fail(ex, err); this.observe(route, method, ex, t0); });
        return;
      }
    } catch (err) {
      this.fail(ex, err);
    }
    this.observe(route, method, ex, t0);
  }

  /** GET and HEAD alike (HEAD answers the same status and headers, without the body). `read` copies what `work`
   * needs from the request synchronously (uWS invalidates it after the callback). */
  get<P>(pattern: string, route: Route, read: (req: HttpRequest) => P, work: (ex: Exchange, p: P) => Promise<void> | void): void {
    const on = (method: 'GET' | 'HEAD') => (res: HttpResponse, req: HttpRequest): void => {
      const p = read(req);
      this.handle(route, method, res, (ex) => work(ex, p));
    };
    this.app.get(pattern, on('GET'));
    this.app.head(pattern, on('HEAD'));
  }

  /** A POST: the body is collected, then `work` runs synchronously inside uWS's callback (see receiveBody); `body`
   * is valid only while `work` runs. */
  post(route: Route, res: HttpResponse, req: HttpRequest, work: (ex: Exchange, body: Buffer) => void): void {
    const ex = begin(res);
    const t0 = seconds();
    receiveBody(ex, req.getHeader('content-length'), LIMITS.maxBodyBytes, (err, body) => {
      try {
        if (err) throw err;
        work(ex, body);
      } catch (e) {
        this.fail(ex, e);
      }
      this.observe(route, 'POST', ex, t0);
    });
  }

  private observe(route: Route, method: string, ex: Exchange, t0: number): void {
    this.hot.httpRequest(route, method, ex.status, seconds() - t0);
  }
}

function protocolKind(code: ErrorCode): ErrorKind {
  return code === 'bad_json' ? 'bad_json' : code === 'limit' ? 'limit' : 'bad_request';
}

/** `"version"`, JSON-quoted, remembered for the last version asked (the served model changes rarely). */
export class VersionJson {
  private version = '';
  private json = '""';
  of(version: string): string {
    if (version !== this.version) { this.version = version; this.json = JSON.stringify(version); }
    return this.json;
  }
}
