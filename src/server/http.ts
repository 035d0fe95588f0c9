// HTTP plumbing for uWebSockets.js handlers, obeying its lifetime rules: register onAborted before any await, read
// the request's headers synchronously, use or copy body chunks before the callback returns (uWS neuters them), and cork
// every write made after an await. One error type carries its HTTP status and JSON body.

import type { HttpResponse } from 'uWebSockets.js';
import type { ErrorKind } from '../metrics/metrics.js';

export class HttpError extends Error {
  constructor(readonly status: number, readonly kind: ErrorKind, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
  }
}

export const STATUS_TEXT: Record<number, string> = {
  200: '200 OK', 400: '400 Bad Request', 404: '404 Not Found', 405: '405 Method Not Allowed', 413: '413 Payload Too Large',
  415: '415 Unsupported Media Type', 500: '500 Internal Server Error', 503: '503 Service Unavailable',
  507: '507 Insufficient Storage',
};

/** Response state shared by a handler's steps: aborted (client gone), the status written (for metrics), and whether
 * the request was HEAD (the same status and headers as GET, no body). */
export interface Exchange {
  readonly res: HttpResponse;
  readonly head: boolean;
  aborted: boolean;
  status: number;
}

export function begin(res: HttpResponse, head = false): Exchange {
  const ex: Exchange = { res, head, aborted: false, status: 0 };
  res.onAborted(() => { ex.aborted = true; });
  return ex;
}

/**
 * Collects the body up to `limit` bytes and calls `done` with it — synchronously, inside uWS's last onData callback,
 * not through a promise: uWS does not drain the microtask queue after its native callbacks, so a promise-resolved
 * continuation would wait for the next event-loop turn (measured: the server sat ~50% idle under load).
 * Rejects with 413 as soon as the limit is exceeded (before buffering more). The body is valid only until `done`
 * returns (a one-chunk body is uWS's own memory, lent without a copy): `done` must not keep it or views of it.
 */
export function receiveBody(ex: Exchange, contentLength: string, limit: number, done: (err: HttpError | undefined, body: Buffer) => void): void {
  const declared = Number(contentLength || NaN);
  if (declared > limit) {
    done(new HttpError(413, 'too_large', `body of ${declared} bytes exceeds the ${limit}-byte limit`), EMPTY);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  ex.res.onData((chunk, isLast) => {
    if (finished) return;
    size += chunk.byteLength;
    if (size > limit) {
      finished = true;
      done(new HttpError(413, 'too_large', `body exceeds the ${limit}-byte limit`), EMPTY);
      return;
    }
    if (isLast && chunks.length === 0) {
      // The whole body in one chunk (the usual case): lent to `done` as it is, no copy; valid until done returns.
      finished = true;
      done(undefined, Buffer.from(chunk));
      return;
    }
    chunks.push(Buffer.from(new Uint8Array(chunk).slice())); // copy: uWS reuses the chunk's memory after we return
    if (isLast) {
      finished = true;
      done(undefined, Buffer.concat(chunks, size));
    }
  });
}

const EMPTY = Buffer.alloc(0);

/** Writes a complete response (corked), unless the client has gone. HEAD: the headers, with the body's length as
 * its Content-Length, and no body. */
export function send(ex: Exchange, status: number, body: string | Uint8Array, contentType: string,
  headers: Record<string, string> = {}, closeConnection = false): void {
  ex.status = status;
  if (ex.aborted) return;
  ex.res.cork(() => {
    ex.res.writeStatus(STATUS_TEXT[status] ?? String(status));
    ex.res.writeHeader('content-type', contentType);
    for (const [k, v] of Object.entries(headers)) ex.res.writeHeader(k, v);
    if (ex.head) {
      // endWithoutBody() takes no arguments here: in this uWS build any argument (the d.ts offers a reported length and
      // closeConnection) makes it write nothing and abort the process; so the length goes in as a header. HEAD never
      // has a body to skip, so it never needs closeConnection.
      ex.res.writeHeader('content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength));
      ex.res.endWithoutBody();
    } else ex.res.end(body, closeConnection);
  });
}

export function sendJson(ex: Exchange, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(ex, status, JSON.stringify(value), 'application/json', headers);
}

/** JSON.parse with a 400 that says where the JSON broke. */
export function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, 'bad_json', `body is not valid JSON: ${(err as Error).message}`);
  }
}
