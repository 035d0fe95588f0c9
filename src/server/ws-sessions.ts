// Live stroke streaming on /ws: one session per drawer holding its points (a StrokeSession on the thread's pipeline
// core: points and a small working grid, ≤ 16 KB for a typical digit, ~20 KB for the load test's larger ones),
// answering every change with a prediction. Latest wins under backpressure: while the client has not read what was
// sent, updates coalesce into one prediction sent on drain. Per message the allocations are the decoded message (its
// text and the parsed object), the Prediction (an object and its ten probabilities) and the answer's text, which comes
// from a template. Bounded: drawers per thread (503 beyond), a memory budget for all drawings of the thread, message
// sizes, and a rate of invalid messages (then 1008). See docs/protocol.md.

import type { WebSocket } from 'uWebSockets.js';
import { seconds } from './hot-metrics.js';
import { VersionJson, type RouteContext } from './routes.js';
import { DEFAULT_CANVAS, LIMITS, ProtocolError, parseClientMessage, type CanvasSpec, type ErrorCode } from '../protocol.js';
import type { StrokeSession } from '../preprocess/index.js';

/** uWS's own cap on a WebSocket message: beyond it uWS drops the TCP connection at once, without a close frame (the
 * client sees 1006), and never buffers the rest. Between LIMITS.maxWsMessageBytes and this cap the message handler
 * closes properly, with 1009 and a reason. uWS buffers a message until it is complete, so maxDrawers × this is what
 * partly sent messages may hold at worst (800 MiB at 10,000 drawers). */
export const WS_HARD_CAP_BYTES = 80 * 1024;

/** Decodes a message straight from uWS's ArrayBuffer (no Buffer view; invalid bytes become U+FFFD as Buffer's did). */
const utf8 = new TextDecoder();

/** Above this many buffered bytes a connection is "slow": stroke updates coalesce until it drains. */
const BACKPRESSURE_BYTES = 16 * 1024;

export interface WsLimits {
  /** Open connections on this thread; the next upgrade gets 503. */
  readonly maxDrawers: number;
  /** Wasm memory all live drawings of this thread may hold; beyond it new points get "limit", new drawers 503. */
  readonly drawingMemoryBytes: number;
}

interface Session {
  spec: CanvasSpec;
  drawing: StrokeSession;
  seq: number;
  /** A prediction is owed but was held back by backpressure: the next drain sends the latest state. */
  owed: boolean;
  errorTimes: number[] | undefined;
  closed: boolean;
}

export interface WsSessions {
  /** Closes every connection with 1001 (going away). */
  closeAll(): void;
  readonly size: number;
}

export function wsSessions({ app, holder, metrics: m, hot, pipeline }: RouteContext, limits: WsLimits): WsSessions {
  const sockets = new Set<WebSocket<Session>>();
  const pool = pipeline.preprocessor.pool;
  const version = new VersionJson();
  const memoryFull = (): boolean => pool.bytesInUse >= limits.drawingMemoryBytes;
  const budget = limits.drawingMemoryBytes >= 2 ** 20 ? `${Math.round(limits.drawingMemoryBytes / 2 ** 20)} MiB` : `${Math.round(limits.drawingMemoryBytes / 1024)} KiB`;
  const memoryMessage = (): string => `this server's memory for drawings is full (${budget} on this thread): try again shortly`;

  const sendWs = (ws: WebSocket<Session>, msg: object): void => {
    if (!ws.getUserData().closed) ws.send(JSON.stringify(msg), false);
  };
  const answer = (ws: WebSocket<Session>, force: boolean): void => {
    const s = ws.getUserData();
    if (!force && ws.getBufferedAmount() > BACKPRESSURE_BYTES) {
      s.owed = true; // latest state wins: the drain handler sends one prediction for everything that came meanwhile
      return;
    }
    s.owed = false;
    const p = holder.predictor;
    if (!p) return wsError(ws, 'not_ready', 'no model loaded yet');
    const pred = pipeline.predictDrawing(p, s.drawing);
    hot.count(pred, 'ws');
    if (s.closed) return;
    // The message JSON.stringify would make, from a template (~5× cheaper, measured): numbers print the same way
    // (probabilities are finite), the version is JSON-quoted once per model.
    const q = pred.probs;
    ws.send(`{"type":"prediction","seq":${++s.seq},"digit":${pred.digit},"probs":[${q[0]},${q[1]},${q[2]},${q[3]},${q[4]},` +
      `${q[5]},${q[6]},${q[7]},${q[8]},${q[9]}],"model":${version.of(p.version)}}`, false);
  };
  const wsError = (ws: WebSocket<Session>, code: ErrorCode, message: string): void => {
    const s = ws.getUserData();
    m.errors.inc({ kind: code === 'limit' ? 'limit' : 'bad_message', transport: 'ws' });
    const now = Date.now();
    const times = s.errorTimes ??= [];
    times.push(now);
    while (times.length > 0 && times[0]! < now - LIMITS.errorWindowMs) times.shift();
    if (times.length > LIMITS.maxErrorsPerWindow) {
      m.errors.inc({ kind: 'abuse', transport: 'ws' });
      sendWs(ws, { type: 'error', code: 'limit', message: 'too many invalid messages: closing the connection' });
      ws.end(1008, 'too many invalid messages');
      return;
    }
    sendWs(ws, { type: 'error', code, message });
  };
  const refuse = (res: { writeStatus(s: string): { writeHeader(k: string, v: string): { end(b: string): unknown } } }, error: string): void => {
    m.errors.inc({ kind: 'limit', transport: 'ws' });
    res.writeStatus('503 Service Unavailable').writeHeader('content-type', 'application/json').end(JSON.stringify({ error }));
  };

  app.ws<Session>('/ws', {
    maxPayloadLength: WS_HARD_CAP_BYTES,
    idleTimeout: 120,
    maxBackpressure: 1024 * 1024,
    closeOnBackpressureLimit: 1, // a client that lets 1 MiB pile up is not reading: drop it (typed as a number in this d.ts)
    sendPingsAutomatically: true,
    upgrade: (res, req, context) => {
      if (sockets.size >= limits.maxDrawers) return refuse(res, `too many drawers on this server (${limits.maxDrawers}): try again shortly`);
      if (memoryFull()) return refuse(res, memoryMessage());
      const spec = { ...DEFAULT_CANVAS };
      const session: Session = { spec, drawing: pipeline.session(spec), seq: 0, owed: false, errorTimes: undefined, closed: false };
      res.upgrade(session, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'), context);
    },
    open: (ws) => {
      sockets.add(ws);
      m.wsConnections.inc();
    },
    message: (ws, message, isBinary) => {
      const t0 = seconds();
      let type = 'invalid';
      const s = ws.getUserData();
      if (message.byteLength > LIMITS.maxWsMessageBytes) {
        m.errors.inc({ kind: 'too_large', transport: 'ws' });
        hot.wsMessage(type, seconds() - t0);
        ws.end(1009, `message of ${message.byteLength} bytes exceeds the ${LIMITS.maxWsMessageBytes}-byte limit`);
        return;
      }
      try {
        if (isBinary) throw new ProtocolError('binary_unsupported', 'binary messages are not supported: send JSON text');
        // Decode now: uWS neuters `message` when this callback returns.
        const msg = parseClientMessage(utf8.decode(message), s.spec);
        type = msg.type;
        const d = s.drawing;
        switch (msg.type) {
          case 'hello':
            s.spec = { width: msg.width, height: msg.height, brush: msg.brush };
            d.free();
            s.drawing = pipeline.session(s.spec);
            break;
          case 'begin':
            if (d.strokes >= LIMITS.maxStrokes) throw new ProtocolError('limit', `more than ${LIMITS.maxStrokes} strokes: send "clear" first`);
            if (d.points + 1 > LIMITS.maxPointsPerDrawing) throw new ProtocolError('limit', `more than ${LIMITS.maxPointsPerDrawing} points: send "clear" first`);
            if (memoryFull()) throw new ProtocolError('limit', memoryMessage());
            d.begin(msg.x, msg.y);
            break;
          case 'move':
            if (!d.inStroke) throw new ProtocolError('bad_message', '"move" outside a stroke: send "begin" first');
            if (d.points + msg.points.length / 2 > LIMITS.maxPointsPerDrawing) {
              throw new ProtocolError('limit', `more than ${LIMITS.maxPointsPerDrawing} points: send "clear" first`);
            }
            if (memoryFull()) throw new ProtocolError('limit', memoryMessage());
            d.extend(msg.points);
            break;
          case 'end':
            if (d.inStroke) d.end();
            break;
          case 'clear':
            d.clear();
            break;
          case 'predict':
            break;
        }
        answer(ws, msg.type === 'predict');
      } catch (err) {
        if (err instanceof ProtocolError) wsError(ws, err.code, err.message);
        else {
          console.error(err);
          m.errors.inc({ kind: 'internal', transport: 'ws' });
          sendWs(ws, { type: 'error', code: 'bad_message', message: 'internal error' });
        }
      } finally {
        hot.wsMessage(type, seconds() - t0);
      }
    },
    drain: (ws) => {
      const s = ws.getUserData();
      if (s.owed && ws.getBufferedAmount() <= BACKPRESSURE_BYTES) answer(ws, false);
    },
    close: (ws) => {
      const s = ws.getUserData();
      s.closed = true;
      s.drawing.free();
      sockets.delete(ws);
      m.wsConnections.dec();
    },
  });

  return {
    closeAll: () => { for (const ws of [...sockets]) ws.end(1001, 'server shutting down'); },
    get size() { return sockets.size; },
  };
}
