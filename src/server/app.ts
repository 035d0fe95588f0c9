// The HTTP + WebSocket server on uWebSockets.js: the web client, POST /predict (JSON or PNG), the Open Inference
// Protocol v2, live stroke streaming on /ws, and /metrics. Every handler registers onAborted first, copies what it
// needs from the request synchronously, and corks writes made after an await (see http.ts).
// Not here: process lifecycle (cli/serve.ts), the model's lifecycle (model-holder.ts).

import type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, us_listen_socket } from 'uWebSockets.js';
import { loadUws, type UwsModule } from './uws.js';
import { begin, HttpError, parseJsonBody, receiveBody, send, sendJson, type Exchange } from './http.js';
import { loadStatic, type StaticFile } from './static.js';
import { readMnistImageJson, readTensorBytes } from './image-body.js';
import type { ModelHolder } from './model-holder.js';
import type { CounterSeries, ErrorKind, HistogramSeries, Route, ServerMetrics } from '../metrics/metrics.js';
import { LIMITS, DEFAULT_CANVAS, ProtocolError, parseClientMessage, parsePredictBody, parseFeedbackBody, parseInferRequest, type CanvasSpec, type InferRequest,
  type ErrorCode } from '../protocol.js';
import { StrokeRaster, normalizeToMnist, rasterizeStrokes } from '../preprocess/index.js';
import { decodePng, toInk, PngError } from '../image/index.js';
import { FeedbackStore, FeedbackFullError } from '../feedback/store.js';
import { NO_INK, INPUT_SIZE, CLASSES, type Prediction, type Predictor } from '../inference.js';

export const MODEL_NAME = 'mnist';
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly holder: ModelHolder;
  readonly metrics: ServerMetrics;
  /** Folders of static files for the web client (later ones override earlier ones). */
  readonly staticDirs: readonly string[];
  /** Where corrections (POST /feedback) are stored; without it the endpoint answers 503. */
  readonly feedbackDir?: string | undefined;
  /** Replaces the /metrics body (e.g. the aggregate of several workers). */
  readonly metricsText?: () => Promise<{ text: string; contentType: string }>;
}

export interface RunningServer {
  readonly port: number;
  /** Stops accepting, closes every WebSocket (1001 going away) and resolves when done. */
  close(): Promise<void>;
  /** Closes the listen socket and every connection at once, synchronously: for a thread that is exiting now, whose
   * event loop will not turn again (uWS's sockets left open there make Node abort the whole process). */
  closeNow(): void;
}

interface Session {
  spec: CanvasSpec;
  raster: StrokeRaster;
  inStroke: boolean;
  seq: number;
  /** A prediction is owed but was held back by backpressure: the next drain sends the latest state. */
  owed: boolean;
  errorTimes: number[];
  closed: boolean;
}

/** uWS's own cap on a WebSocket message: beyond it uWS drops the TCP connection at once, without a close frame (the
 * client sees 1006), and never buffers the rest. Between LIMITS.maxWsMessageBytes and this cap the message handler
 * closes properly, with 1009 and a reason. 256 KiB × maxConnections bounds what uWS may buffer at 64 MiB. */
export const WS_HARD_CAP_BYTES = 256 * 1024;

/** Above this many buffered bytes a connection is "slow": stroke updates coalesce until it drains. */
const BACKPRESSURE_BYTES = 16 * 1024;

export function startServer(o: ServerOptions): Promise<RunningServer> {
  const uws: UwsModule = loadUws();
  const app: TemplatedApp = uws.App();
  const files = loadStatic(o.staticDirs);
  const sockets = new Set<WebSocket<Session>>();
  const m = o.metrics;
  const input = new Float32Array(INPUT_SIZE); // one request at a time per thread: safe to reuse

  // ---- inference helpers -----------------------------------------------------------------------------------------
  const predictor = (): Predictor => {
    const p = o.holder.predictor;
    if (!p) throw new HttpError(503, 'not_ready', 'no model loaded yet');
    return p;
  };
  // Hot-path metric series, each found once (at its first use, so the exposition lists what happened, as before).
  const stageSeries: Partial<Record<'preprocess' | 'forward', HistogramSeries>> = {};
  const predictionSeries = new Map<string, Array<CounterSeries | undefined>>(); // transport → digit 0–9, 10 = none
  const wsSeries = new Map<string, HistogramSeries>();
  const observeStage = (stage: 'preprocess' | 'forward', t0: bigint): void =>
    (stageSeries[stage] ??= m.stageDuration.series(stage)).observe(Number(process.hrtime.bigint() - t0) / 1e9);
  const timed = <T>(stage: 'preprocess' | 'forward', fn: () => T): T => {
    const t0 = process.hrtime.bigint();
    try {
      return fn();
    } finally {
      observeStage(stage, t0);
    }
  };
  /** A drawing (a StrokeRaster, or anything with its toMnist) → the model input in `input` → the prediction, each
   * stage timed; allocates nothing of its own (the live path runs this per WebSocket message). */
  const predictFrom = (p: Predictor, drawing: { toMnist(out: Float32Array): boolean }): Prediction => {
    let t0 = process.hrtime.bigint();
    const ink = drawing.toMnist(input);
    observeStage('preprocess', t0);
    if (!ink) return NO_INK;
    t0 = process.hrtime.bigint();
    const pred = p.predict(input);
    observeStage('forward', t0);
    return pred;
  };
  const predictRaster = (p: Predictor, pixels: ArrayLike<number>, width: number, height: number): Prediction =>
    predictFrom(p, { toMnist: (out) => normalizeToMnist(pixels, width, height, out) });
  const countDigit = (digit: number | null, transport: string): void => {
    let byDigit = predictionSeries.get(transport);
    if (byDigit === undefined) predictionSeries.set(transport, byDigit = []);
    const k = digit === null ? 10 : digit;
    (byDigit[k] ??= m.predictions.series(digit === null ? 'none' : String(digit), transport)).inc();
  };
  const count = (pred: Prediction, transport: string): void => countDigit(pred.digit, transport);
  const observeWs = (type: string, t0: bigint): void => {
    let series = wsSeries.get(type);
    if (series === undefined) wsSeries.set(type, series = m.wsDuration.series(type));
    series.observe(Number(process.hrtime.bigint() - t0) / 1e9);
  };

  // ---- HTTP ---------------------------------------------------------------------------------------------------
  const fail = (ex: Exchange, err: unknown): void => {
    const e = err instanceof HttpError ? err
      : err instanceof ProtocolError ? new HttpError(400, protocolKind(err.code), err.message)
      : err instanceof PngError ? new HttpError(400, 'bad_png', `PNG: ${err.message}`)
      : new HttpError(500, 'internal', 'internal error');
    if (e.status === 500) console.error(err);
    m.errors.inc({ kind: e.kind, transport: 'http' });
    // After a 413 the rest of the body is still coming: close the connection instead of reading it.
    send(ex, e.status, JSON.stringify({ error: e.message }), 'application/json', e.headers, e.status === 413);
  };
  const observe = (route: Route, method: string, ex: Exchange, t0: bigint): void => {
    m.httpDuration.observe({ route, method, status: String(ex.status) }, Number(process.hrtime.bigint() - t0) / 1e9);
  };
  /** A request without a body; `work` may be async (its writes are corked by send()). */
  const handle = (route: Route, method: string, res: HttpResponse, work: (ex: Exchange) => Promise<void> | void): void => {
    const ex = begin(res, method === 'HEAD');
    const t0 = process.hrtime.bigint();
    try {
      const r = work(ex);
      if (r) {
        r.then(() => observe(route, method, ex, t0), (err: unknown) => { fail(ex, err); observe(route, method, ex, t0); });
        return;
      }
    } catch (err) {
      fail(ex, err);
    }
    observe(route, method, ex, t0);
  };
  /** GET and HEAD alike (HEAD answers the same status and headers, without the body). `read` copies what `work`
   * needs from the request synchronously (uWS invalidates it after the callback). */
  const get = <P>(pattern: string, route: Route, read: (req: HttpRequest) => P, work: (ex: Exchange, p: P) => Promise<void> | void): void => {
    const on = (method: 'GET' | 'HEAD') => (res: HttpResponse, req: HttpRequest): void => {
      const p = read(req);
      handle(route, method, res, (ex) => work(ex, p));
    };
    app.get(pattern, on('GET'));
    app.head(pattern, on('HEAD'));
  };
  const none = (): undefined => undefined;
  /** A POST: the body is collected, then `work` runs synchronously inside uWS's callback (see receiveBody). */
  const handleBody = (route: Route, res: HttpResponse, req: HttpRequest, work: (ex: Exchange, body: Buffer) => void): void => {
    const ex = begin(res);
    const t0 = process.hrtime.bigint();
    receiveBody(ex, req.getHeader('content-length'), LIMITS.maxBodyBytes, (err, body) => {
      try {
        if (err) throw err;
        work(ex, body);
      } catch (e) {
        fail(ex, e);
      }
      observe(route, 'POST', ex, t0);
    });
  };

  app.post('/predict', (res, req) => {
    const type = req.getHeader('content-type').split(';')[0]!.trim().toLowerCase();
    handleBody('predict', res, req, (ex, body) => {
      const p = predictor();
      let pred: Prediction;
      if (type === 'image/png') {
        const img = decodePng(body);
        const ink = toInk(img.gray, img.width, img.height);
        pred = predictRaster(p, ink, img.width, img.height);
      } else if (type === 'application/octet-stream') {
        readTensorBytes(body, input);
        pred = timed('forward', () => p.predict(input));
      } else if ((type === 'application/json' || type === '') && readMnistImageJson(body, input)) {
        pred = timed('forward', () => p.predict(input)); // the common body, read straight into the input
      } else if (type === 'application/json' || type === '') {
        const parsed = parsePredictBody(parseJsonBody(body));
        if (parsed.kind === 'mnist') pred = timed('forward', () => p.predict(parsed.image));
        else if (parsed.kind === 'raster') pred = predictRaster(p, parsed.image, parsed.width, parsed.height);
        else {
          const raster = timed('preprocess', () => rasterizeStrokes(parsed.strokes, parsed.canvas));
          pred = predictFrom(p, raster);
        }
      } else {
        throw new HttpError(415, 'bad_request', `unsupported content-type "${type}": use application/json, image/png or application/octet-stream`);
      }
      count(pred, 'http');
      sendJson(ex, 200, { digit: pred.digit, probs: pred.probs, model: p.version });
    });
  });

  // Corrections from the web client: stored as a dataset for later training (src/feedback/store.ts).
  const feedback = o.feedbackDir !== undefined ? new FeedbackStore(o.feedbackDir) : undefined;
  app.post('/feedback', (res, req) => {
    handleBody('feedback', res, req, (ex, body) => {
      if (!feedback) throw new HttpError(503, 'not_ready', 'this server does not store feedback (no feedback folder)');
      const f = parseFeedbackBody(parseJsonBody(body));
      let id: string;
      try {
        id = feedback.add({ label: f.label, predicted: f.predicted, model: f.model, width: f.canvas.width,
          height: f.canvas.height, brush: f.canvas.brush, strokes: f.strokes, image: f.image });
      } catch (err) {
        if (err instanceof FeedbackFullError) throw new HttpError(507, 'limit', err.message);
        throw err;
      }
      m.feedback.inc({ label: String(f.label) });
      sendJson(ex, 200, { stored: true, id });
    });
  });

  // Open Inference Protocol v2 (KServe): health, metadata, infer.
  const modelName = (req: HttpRequest): string => req.getParameter(0) ?? '';
  get('/v2/health/live', 'health', none, (ex) => sendJson(ex, 200, { live: true }));
  get('/v2/health/ready', 'health', none, (ex) => {
    const ready = o.holder.predictor !== undefined;
    sendJson(ex, ready ? 200 : 503, { ready });
  });
  get('/v2', 'v2_meta', none, (ex) => sendJson(ex, 200, { name: 'doodle-digits', version: '0.1.0', extensions: ['binary_tensor_data'] }));
  get('/v2/models/:name', 'v2_meta', modelName, (ex, name) => {
    checkModelName(name);
    const p = o.holder.predictor;
    sendJson(ex, 200, {
      name: MODEL_NAME, versions: p ? [p.version] : [], platform: 'doodle-digits-wasm',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, INPUT_SIZE] }],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, CLASSES] }, { name: 'digit', datatype: 'INT32', shape: [-1] }],
    });
  });
  get('/v2/models/:name/ready', 'v2_meta', modelName, (ex, name) => {
    checkModelName(name);
    const ready = o.holder.predictor !== undefined;
    sendJson(ex, ready ? 200 : 503, { name: MODEL_NAME, ready });
  });
  app.post('/v2/models/:name/infer', (res, req) => {
    const name = req.getParameter(0) ?? '';
    const headerBytes = req.getHeader('inference-header-content-length'); // the binary tensor data extension
    handleBody('v2_infer', res, req, (ex, body) => {
      checkModelName(name);
      const request = headerBytes === '' ? parseInferRequest(parseJsonBody(body)) : parseBinaryInferRequest(body, headerBytes);
      const p = predictor();
      const { probs, digits } = timed('forward', () => p.predictBatch(request.data, request.n));
      for (const d of digits) countDigit(d, 'v2');
      const outputs = [
        { name: 'probabilities', datatype: 'FP32', shape: [request.n, CLASSES], data: Array.from(probs) },
        { name: 'digit', datatype: 'INT32', shape: [request.n], data: Array.from(digits) },
      ].filter((out) => request.outputs === undefined || request.outputs.includes(out.name));
      sendJson(ex, 200, { model_name: MODEL_NAME, model_version: p.version, ...(request.id !== undefined ? { id: request.id } : {}), outputs });
    });
  });

  get('/metrics', 'metrics', none, async (ex) => {
    for (const g of [m.modelInfo, m.modelAccuracy, m.modelCreated, m.modelTrainingSeconds]) g.reset();
    const served = o.holder.predictor;
    if (served) {
      const version = served.version;
      m.modelInfo.set({ version }, 1);
      m.modelAccuracy.set({ version }, served.facts.testAccuracy);
      m.modelCreated.set({ version }, Date.parse(served.facts.createdAt) / 1000);
      if (served.facts.trainingSeconds !== undefined) m.modelTrainingSeconds.set({ version }, served.facts.trainingSeconds);
    }
    const { text, contentType } = o.metricsText ? await o.metricsText() : { text: await m.registry.metrics(), contentType: m.registry.contentType };
    send(ex, 200, text, contentType);
  });

  // Known paths with a wrong method → 405 with Allow, labelled with their route; everything else → static files or 404.
  const GET = 'GET, HEAD';
  const KNOWN: Array<[RegExp, Route, string]> = [
    [/^\/predict$/, 'predict', 'POST'], [/^\/feedback$/, 'feedback', 'POST'], [/^\/v2\/models\/[^/]+\/infer$/, 'v2_infer', 'POST'],
    [/^\/v2\/health\/(live|ready)$/, 'health', GET], [/^\/v2(\/models\/[^/]+(\/ready)?)?$/, 'v2_meta', GET],
    [/^\/metrics$/, 'metrics', GET], [/^\/ws$/, 'ws', 'GET'],
  ];
  app.any('/*', (res, req) => {
    const raw = req.getMethod().toUpperCase();
    // The metric label takes only known methods: a client inventing methods must not invent series.
    const method = KNOWN_METHODS.has(raw) ? raw : 'OTHER';
    const url = req.getUrl();
    const readable = method === 'GET' || method === 'HEAD';
    const file: StaticFile | undefined = readable ? files.get(url) : undefined;
    const known = KNOWN.find(([re]) => re.test(url)) ?? (files.has(url) ? [/./, 'static', GET] as const : undefined);
    handle(file ? 'static' : known?.[1] ?? 'not_found', method, res, (ex) => {
      if (file) return send(ex, 200, file.body, file.contentType, { 'cache-control': 'no-cache' });
      if (known) {
        throw new HttpError(405, 'method_not_allowed', `${raw.slice(0, 20)} is not allowed on ${url}; use ${known[2]}`, { allow: known[2] });
      }
      throw new HttpError(404, 'not_found', `no such endpoint: ${raw.slice(0, 20)} ${url.slice(0, 200)}`);
    });
  });

  // ---- WebSocket ------------------------------------------------------------------------------------------------
  const sendWs = (ws: WebSocket<Session>, msg: object): void => {
    const s = ws.getUserData();
    if (s.closed) return;
    ws.send(JSON.stringify(msg), false);
  };
  let versionFor = '', versionJson = '""';
  const answer = (ws: WebSocket<Session>, force: boolean): void => {
    const s = ws.getUserData();
    if (!force && ws.getBufferedAmount() > BACKPRESSURE_BYTES) {
      s.owed = true; // latest state wins: the drain handler sends one prediction for everything that came meanwhile
      return;
    }
    s.owed = false;
    const p = o.holder.predictor;
    if (!p) return wsError(ws, 'not_ready', 'no model loaded yet');
    const pred = predictFrom(p, s.raster);
    count(pred, 'ws');
    if (s.closed) return;
    // The message JSON.stringify would make, from a template (~5× cheaper, measured): numbers print the same way
    // (probabilities are finite), the version is JSON-quoted once per model.
    if (p.version !== versionFor) { versionFor = p.version; versionJson = JSON.stringify(p.version); }
    const q = pred.probs;
    ws.send(`{"type":"prediction","seq":${++s.seq},"digit":${pred.digit},"probs":[${q[0]},${q[1]},${q[2]},${q[3]},${q[4]},` +
      `${q[5]},${q[6]},${q[7]},${q[8]},${q[9]}],"model":${versionJson}}`, false);
  };
  const wsError = (ws: WebSocket<Session>, code: ErrorCode, message: string): void => {
    const s = ws.getUserData();
    m.errors.inc({ kind: code === 'limit' ? 'limit' : 'bad_message', transport: 'ws' });
    const now = Date.now();
    s.errorTimes.push(now);
    while (s.errorTimes.length > 0 && s.errorTimes[0]! < now - LIMITS.errorWindowMs) s.errorTimes.shift();
    if (s.errorTimes.length > LIMITS.maxErrorsPerWindow) {
      m.errors.inc({ kind: 'abuse', transport: 'ws' });
      sendWs(ws, { type: 'error', code: 'limit', message: 'too many invalid messages: closing the connection' });
      ws.end(1008, 'too many invalid messages');
      return;
    }
    sendWs(ws, { type: 'error', code, message });
  };

  app.ws<Session>('/ws', {
    maxPayloadLength: WS_HARD_CAP_BYTES,
    idleTimeout: 120,
    maxBackpressure: 1024 * 1024,
    closeOnBackpressureLimit: 1, // a client that lets 1 MiB pile up is not reading: drop it (typed as a number in this d.ts)
    sendPingsAutomatically: true,
    upgrade: (res, req, context) => {
      if (sockets.size >= LIMITS.maxConnections) {
        m.errors.inc({ kind: 'limit', transport: 'ws' });
        res.writeStatus('503 Service Unavailable').writeHeader('content-type', 'application/json')
          .end(JSON.stringify({ error: `too many drawers on this server (${LIMITS.maxConnections}): try again shortly` }));
        return;
      }
      const spec = { ...DEFAULT_CANVAS };
      const session: Session = { spec, raster: new StrokeRaster(spec), inStroke: false, seq: 0, owed: false, errorTimes: [], closed: false };
      res.upgrade(session, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'), context);
    },
    open: (ws) => {
      sockets.add(ws);
      m.wsConnections.inc();
    },
    message: (ws, message, isBinary) => {
      const t0 = process.hrtime.bigint();
      let type = 'invalid';
      const s = ws.getUserData();
      if (message.byteLength > LIMITS.maxWsMessageBytes) {
        m.errors.inc({ kind: 'too_large', transport: 'ws' });
        observeWs(type, t0);
        ws.end(1009, `message of ${message.byteLength} bytes exceeds the ${LIMITS.maxWsMessageBytes}-byte limit`);
        return;
      }
      try {
        if (isBinary) throw new ProtocolError('binary_unsupported', 'binary messages are not supported: send JSON text');
        // Decode now: uWS neuters `message` when this callback returns.
        const msg = parseClientMessage(Buffer.from(message).toString('utf8'), s.spec);
        type = msg.type;
        switch (msg.type) {
          case 'hello':
            s.spec = { width: msg.width, height: msg.height, brush: msg.brush };
            s.raster = new StrokeRaster(s.spec);
            s.inStroke = false;
            break;
          case 'begin':
            if (s.raster.strokes >= LIMITS.maxStrokes) throw new ProtocolError('limit', `more than ${LIMITS.maxStrokes} strokes: send "clear" first`);
            if (s.raster.points + 1 > LIMITS.maxPointsPerDrawing) throw new ProtocolError('limit', `more than ${LIMITS.maxPointsPerDrawing} points: send "clear" first`);
            s.raster.begin(msg.x, msg.y);
            s.inStroke = true;
            break;
          case 'move':
            if (!s.inStroke) throw new ProtocolError('bad_message', '"move" outside a stroke: send "begin" first');
            if (s.raster.points + msg.points.length / 2 > LIMITS.maxPointsPerDrawing) {
              throw new ProtocolError('limit', `more than ${LIMITS.maxPointsPerDrawing} points: send "clear" first`);
            }
            s.raster.extend(msg.points);
            break;
          case 'end':
            if (s.inStroke) s.raster.end();
            s.inStroke = false;
            break;
          case 'clear':
            s.raster.clear();
            s.inStroke = false;
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
        observeWs(type, t0);
      }
    },
    drain: (ws) => {
      const s = ws.getUserData();
      if (s.owed && ws.getBufferedAmount() <= BACKPRESSURE_BYTES) answer(ws, false);
    },
    close: (ws) => {
      ws.getUserData().closed = true;
      sockets.delete(ws);
      m.wsConnections.dec();
    },
  });

  return new Promise((resolve, reject) => {
    app.listen(o.host, o.port, (listen: us_listen_socket | false) => {
      if (!listen) {
        reject(new Error(`cannot listen on ${o.host}:${o.port} (in use, or not allowed) → pick another with PORT=… or --port`));
        return;
      }
      const port = uws.us_socket_local_port(listen as unknown as Parameters<UwsModule['us_socket_local_port']>[0]);
      // Each step once: closing a uWS listen socket or app twice is a use-after-free (the process dies with SIGSEGV).
      let listening = true, open = true;
      const stopListening = (): void => { if (listening) uws.us_listen_socket_close(listen); listening = false; };
      const closeApp = (): void => { if (open) (app as unknown as { close(): void }).close(); open = false; }; // not in this d.ts
      resolve({
        port,
        close: async () => {
          stopListening();
          for (const ws of [...sockets]) ws.end(1001, 'server shutting down');
          // Work in flight is synchronous, so nothing is left to finish. Give the close frames a moment to flush,
          // then drop idle keep-alive HTTP connections too: otherwise they keep answering and hold the port and the
          // process open.
          await new Promise((resolve) => setTimeout(resolve, 50));
          closeApp();
        },
        closeNow: () => {
          stopListening();
          closeApp();
        },
      });
    });
  });
}

/** A request of the binary tensor data extension: `headerBytes` of JSON, then the tensors' bytes. */
function parseBinaryInferRequest(body: Buffer, headerBytes: string): InferRequest {
  const n = /^\d{1,9}$/.test(headerBytes.trim()) ? Number(headerBytes.trim()) : NaN;
  if (!(n >= 2 && n <= body.length)) {
    throw new HttpError(400, 'bad_request', `Inference-Header-Content-Length must be the byte length of the JSON header ` +
      `(2..${body.length}), got ${JSON.stringify(headerBytes.slice(0, 20))}`);
  }
  return parseInferRequest(parseJsonBody(body.subarray(0, n)), body.subarray(n));
}

function checkModelName(name: string): void {
  if (name !== MODEL_NAME) throw new HttpError(404, 'not_found', `model "${name.slice(0, 100)}" not found (this server has "${MODEL_NAME}")`);
}

function protocolKind(code: ErrorCode): ErrorKind {
  return code === 'bad_json' ? 'bad_json' : code === 'limit' ? 'limit' : 'bad_request';
}


