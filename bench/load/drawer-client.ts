// Many concurrent WebSocket drawers against one server: open N sockets in batches (so the listen backlog never
// overflows), keep them all open, then let every drawer draw its digit closed-loop (each message awaits its answer)
// and check every answer: a `prediction` with the next seq, a digit 0–9 that is the argmax of ten probabilities in
// [0, 1] summing to 1. Used by bench/load/drawers.ts (10,000 drawers, its own process) and
// test/integration/drawers.test.ts (2,000). Not here: starting servers, measuring their memory (the callers do).

import WebSocket from 'ws';
import { Random } from '../../src/random.js';
import { place } from '../../test/helpers/digits.js';

/** One drawing as strokes of flat [x0, y0, x1, y1, …] canvas coordinates (280×280). */
export type Drawing = number[][];

/**
 * Drawer i's digit (i mod 10), from test/helpers/digits.ts's templates, resampled to `points` points spread along
 * the ink by length and cut into `strokes` strokes (each starts where the previous ended, so the digit looks the same
 * whatever the cut): several strokes, as people draw.
 */
export function digitDrawing(i: number, points = 300, strokes = 3): Drawing {
  const rng = new Random(1000 + i);
  const side = 140 + rng.int(80);
  const box = { x: 20 + rng.int(280 - 40 - side + 1), y: 20 + rng.int(280 - 40 - side + 1), w: side * 0.8, h: side };
  const path = place(i % 10, box, rng).flat();
  const seg: number[] = [0];
  for (let k = 1; k < path.length; k++) seg.push(seg[k - 1]! + Math.hypot(path[k]![0] - path[k - 1]![0], path[k]![1] - path[k - 1]![1]));
  const total = seg[seg.length - 1]!;
  const pts: number[] = [];
  for (let n = 0, k = 0; n < points; n++) {
    const s = (total * n) / (points - 1);
    while (k + 2 < seg.length && seg[k + 1]! < s) k++;
    const t = seg[k + 1]! > seg[k]! ? Math.min(1, (s - seg[k]!) / (seg[k + 1]! - seg[k]!)) : 0;
    const a = path[k]!, b = path[k + 1] ?? a;
    pts.push(Math.round((a[0] + t * (b[0] - a[0])) * 10) / 10, Math.round((a[1] + t * (b[1] - a[1])) * 10) / 10);
  }
  const per = Math.ceil(points / strokes);
  const out: Drawing = [];
  for (let s = 0; s < strokes; s++) {
    const from = Math.max(0, s * per - 1); // repeat the previous stroke's last point: no gap in the ink
    const to = Math.min(points, (s + 1) * per);
    if (to - from >= 1) out.push(pts.slice(2 * from, 2 * to));
  }
  return out;
}

/** The messages that draw `d`: per stroke `begin`, `move`s of `movePoints` points, `end`; then one `predict`. */
export function drawingMessages(d: Drawing, movePoints = 4): string[] {
  const msgs: string[] = [];
  for (const s of d) {
    msgs.push(JSON.stringify({ type: 'begin', x: s[0], y: s[1] }));
    for (let k = 2; k < s.length; k += 2 * movePoints) msgs.push(JSON.stringify({ type: 'move', points: s.slice(k, k + 2 * movePoints) }));
    msgs.push('{"type":"end"}');
  }
  msgs.push('{"type":"predict"}');
  return msgs;
}

export interface DrawersOptions {
  readonly port: number;
  readonly host?: string;
  /** The WebSocket path (default /ws; bench/servers/bare-uws.ts's /ws-predict is the transport's ceiling). */
  readonly path?: string;
  readonly drawers: number;
  /** Handshakes in flight at once while ramping up (default 200: below uWS's listen backlog of 512). */
  readonly batch?: number;
  /** Drawer i's drawing (default digitDrawing(i)). */
  readonly drawing?: (i: number) => Drawing;
  readonly movePoints?: number;
  /** Everything stops (sockets terminated) this long after the start, whatever is left; the report says so. */
  readonly deadlineMs: number;
  /** Called when every drawer is connected (or refused), before any draws; and when all have drawn, before closing. */
  readonly onOpen?: () => void | Promise<void>;
  readonly onDrawn?: () => void | Promise<void>;
}

export interface DrawerFinal { readonly drawer: number; readonly digit: number; readonly probs: number[]; readonly drawing: Drawing }

export interface DrawersReport {
  drawers: number;
  /** Upgraded to a WebSocket. */
  served: number;
  /** Answered 503 at the upgrade (the server's drawer limit). */
  refused: number;
  /** Other failures to connect (another status, a reset, a timeout). */
  connectFailures: number;
  /** Served drawers that got a valid answer to every message they sent. */
  complete: number;
  predictions: number;
  /** Answers the served drawers were owed (one per message). */
  expectedPredictions: number;
  /** Error messages, invalid answers and unexpected closes, over all drawers. */
  errors: number;
  /** The first few failures, each naming its drawer. */
  failures: string[];
  timedOut: boolean;
  rampMs: number;
  drawMs: number;
  wallMs: number;
  /** Per message, send → answer, while all drawers draw at once. */
  p50Ms: number;
  p99Ms: number;
  /** Each complete drawer's last answer (to the final `predict`): the prediction of its whole drawing. */
  finals: DrawerFinal[];
}

interface Drawer {
  ws: WebSocket;
  msgs: string[];
  sent: number;
  answered: number;
  failed: boolean;
  sentAt: number;
  done: () => void;
}

/** Checks one answer; returns what is wrong with it, or '' if it is a valid prediction with seq `seq`. */
export function checkPrediction(text: string, seq: number): string {
  let m: { type?: unknown; seq?: unknown; digit?: unknown; probs?: unknown; code?: unknown; message?: unknown };
  try { m = JSON.parse(text) as typeof m; } catch { return `not JSON: ${text.slice(0, 80)}`; }
  if (m.type === 'error') return `error ${String(m.code)}: ${String(m.message)}`;
  if (m.type !== 'prediction') return `type ${String(m.type)}, expected prediction`;
  if (m.seq !== seq) return `seq ${String(m.seq)}, expected ${seq}`;
  const p = m.probs;
  if (!Array.isArray(p) || p.length !== 10 || !p.every((v) => typeof v === 'number' && v >= 0 && v <= 1)) return `probs ${JSON.stringify(p)}`;
  const sum = (p as number[]).reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-3) return `probs sum to ${sum}`;
  if (typeof m.digit !== 'number' || !Number.isInteger(m.digit) || m.digit < 0 || m.digit > 9) return `digit ${String(m.digit)}`;
  if ((p as number[])[m.digit]! < Math.max(...(p as number[]))) return `digit ${m.digit} is not the argmax of ${JSON.stringify(p)}`;
  return '';
}

/** The q-quantile of ascending `sorted` (the value at rank ⌊q·n⌋; NaN when empty): the benches' latency percentiles. */
export const quantile = (sorted: Float64Array, q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

export async function runDrawers(o: DrawersOptions): Promise<DrawersReport> {
  const t0 = performance.now();
  const host = o.host ?? '127.0.0.1';
  const batch = o.batch ?? 200;
  const drawingOf = o.drawing ?? ((i: number) => digitDrawing(i));
  const r: DrawersReport = { drawers: o.drawers, served: 0, refused: 0, connectFailures: 0, complete: 0, predictions: 0, expectedPredictions: 0,
    errors: 0, failures: [], timedOut: false, rampMs: NaN, drawMs: NaN, wallMs: NaN, p50Ms: NaN, p99Ms: NaN, finals: [] };
  const fail = (i: number, what: string): void => {
    r.errors++;
    if (r.failures.length < 20) r.failures.push(`drawer ${i}: ${what}`);
  };
  const sockets: WebSocket[] = [];
  const drawers: Array<Drawer | undefined> = new Array<Drawer | undefined>(o.drawers);
  const latencies: number[] = [];
  const lasts = new Map<number, { digit: number; probs: number[] }>();
  // The hard deadline: terminate every socket this run opened; every pending promise below settles on close.
  let wake: () => void = () => {};
  const deadline = setTimeout(() => {
    r.timedOut = true;
    for (const ws of sockets) ws.terminate();
    wake();
  }, o.deadlineMs);
  const expired = new Promise<void>((resolve) => { wake = resolve; });

  const connect = (i: number): Promise<void> => new Promise<void>((resolve) => {
    const ws = new WebSocket(`ws://${host}:${o.port}${o.path ?? '/ws'}`, { perMessageDeflate: false, handshakeTimeout: 30_000 });
    sockets.push(ws);
    let settled = false;
    const settle = (outcome: 'served' | 'refused' | string): void => {
      if (settled) return;
      settled = true;
      if (outcome === 'served') r.served++;
      else if (outcome === 'refused') r.refused++;
      else { r.connectFailures++; if (r.failures.length < 20) r.failures.push(`drawer ${i}: could not connect: ${outcome}`); }
      resolve();
    };
    ws.on('unexpected-response', (req, res) => {
      settle(res.statusCode === 503 ? 'refused' : `HTTP ${res.statusCode}`);
      res.resume();
      req.destroy();
    });
    ws.on('error', (err) => settle(err.message));
    ws.on('close', () => {
      settle('closed during the handshake');
      const d = drawers[i];
      if (d && d.answered < d.msgs.length && !d.failed) { d.failed = true; fail(i, `closed after ${d.answered} of ${d.msgs.length} answers`); }
      d?.done();
    });
    ws.on('open', () => {
      const msgs = drawingMessages(drawingOf(i), o.movePoints ?? 4);
      drawers[i] = { ws, msgs, sent: 0, answered: 0, failed: false, sentAt: 0, done: () => {} };
      settle('served');
    });
    ws.on('message', (data) => {
      const d = drawers[i];
      if (!d) return;
      const text = String(data);
      if (d.answered >= d.sent) { if (!d.failed) { d.failed = true; fail(i, `unsolicited message ${text.slice(0, 80)}`); } return; }
      latencies.push(performance.now() - d.sentAt);
      d.answered++;
      const wrong = checkPrediction(text, d.answered);
      if (wrong) { if (!d.failed) { d.failed = true; fail(i, `answer ${d.answered}: ${wrong}`); } d.done(); return; }
      r.predictions++;
      if (d.answered === d.msgs.length) {
        const m = JSON.parse(text) as { digit: number; probs: number[] };
        lasts.set(i, { digit: m.digit, probs: m.probs });
        d.done();
        return;
      }
      d.sentAt = performance.now();
      ws.send(d.msgs[d.sent++]!);
    });
  });

  try {
    // Ramp: `batch` handshakes at a time, every socket kept open.
    for (let start = 0; start < o.drawers && !r.timedOut; start += batch) {
      const ids = Array.from({ length: Math.min(batch, o.drawers - start) }, (_, k) => start + k);
      await Promise.race([Promise.all(ids.map(connect)), expired]);
    }
    r.rampMs = performance.now() - t0;
    if (!r.timedOut) await o.onOpen?.();

    // Draw: every connected drawer at once, each message awaiting its answer.
    const t1 = performance.now();
    const live = drawers.filter((d): d is Drawer => d !== undefined);
    r.expectedPredictions = live.reduce((a, d) => a + d.msgs.length, 0);
    await Promise.race([Promise.all(live.map((d) => new Promise<void>((resolve) => {
      d.done = resolve;
      if (d.ws.readyState !== WebSocket.OPEN) { resolve(); return; }
      d.sentAt = performance.now();
      d.ws.send(d.msgs[d.sent++]!);
    }))), expired]);
    r.drawMs = performance.now() - t1;
    if (!r.timedOut) await o.onDrawn?.();
    for (const [i, d] of drawers.entries()) {
      if (!d) continue;
      const last = lasts.get(i);
      if (!d.failed && last && d.answered === d.msgs.length) {
        r.complete++;
        r.finals.push({ drawer: i, ...last, drawing: drawingOf(i) });
      } else if (!d.failed && r.timedOut) {
        d.failed = true;
        fail(i, `deadline: ${d.answered} of ${d.msgs.length} answers`);
      }
    }

    // Close: every socket, waiting for the close handshakes (bounded by the deadline).
    await Promise.race([Promise.all(sockets.map((ws) => new Promise<void>((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) { resolve(); return; }
      ws.once('close', () => resolve());
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
      else ws.terminate();
    }))), expired]);
  } finally {
    clearTimeout(deadline);
    for (const ws of sockets) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  }
  const sorted = Float64Array.from(latencies).sort();
  r.p50Ms = quantile(sorted, 0.5);
  r.p99Ms = quantile(sorted, 0.99);
  r.wallMs = performance.now() - t0;
  return r;
}
