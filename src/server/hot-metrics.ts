// The metrics the request paths observe, each series found once and kept (src/metrics/fast.ts: observing a kept
// series is a bucket search and three adds, no label hashing, no allocation): stage durations (the pipeline's
// StageObserver), predictions by digit and transport, WebSocket message and HTTP request durations.
// Not here: defining the metrics (src/metrics/metrics.ts), the model facts /metrics reports (metrics-route.ts).

import type { CounterSeries, HistogramSeries, Route, ServerMetrics } from '../metrics/metrics.js';
import type { Prediction, Stage, StageObserver } from '../inference/index.js';

export type Transport = 'http' | 'ws' | 'v2';

export class HotMetrics implements StageObserver {
  private readonly stages = new Map<Stage, HistogramSeries>();
  private readonly digits = new Map<Transport, Array<CounterSeries | undefined>>(); // digit 0–9, 10 = none
  private readonly ws = new Map<string, HistogramSeries>();
  private readonly http = new Map<Route, Map<string, Map<number, HistogramSeries>>>(); // route → method → status

  constructor(readonly m: ServerMetrics) {}

  observe(stage: Stage, seconds: number): void {
    let s = this.stages.get(stage);
    if (s === undefined) this.stages.set(stage, s = this.m.stageDuration.series(stage));
    s.observe(seconds);
  }

  countDigit(digit: number | null, transport: Transport): void {
    let byDigit = this.digits.get(transport);
    if (byDigit === undefined) this.digits.set(transport, byDigit = []);
    const k = digit === null ? 10 : digit;
    (byDigit[k] ??= this.m.predictions.series(digit === null ? 'none' : String(digit), transport)).inc();
  }

  count(pred: Prediction, transport: Transport): void {
    this.countDigit(pred.digit, transport);
  }

  /** A WebSocket message of this type took `seconds`. */
  wsMessage(type: string, seconds: number): void {
    let s = this.ws.get(type);
    if (s === undefined) this.ws.set(type, s = this.m.wsDuration.series(type));
    s.observe(seconds);
  }

  /** An HTTP request on `route` answered `status` after `seconds` (method: a known method or OTHER). */
  httpRequest(route: Route, method: string, status: number, seconds: number): void {
    // Nested lookups, not one `route method status` key string built per request.
    let byMethod = this.http.get(route);
    if (byMethod === undefined) this.http.set(route, byMethod = new Map());
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) byMethod.set(method, byStatus = new Map());
    let s = byStatus.get(status);
    if (s === undefined) byStatus.set(status, s = this.m.httpDuration.series(route, method, String(status)));
    s.observe(seconds);
  }
}

/** Seconds since an arbitrary origin, as a double (performance.now() allocates nothing; hrtime.bigint() does). */
export const seconds = (): number => performance.now() / 1000;
