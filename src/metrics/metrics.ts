// The server's Prometheus metrics, on an injected prom-client Registry (tests and workers never share the global
// one). Prefix `doodle_`, base units (seconds), `_total` on counters, bounded labels only (route names from a fixed
// set, never raw URLs; digits 0–9 or "none"; error kinds from a fixed list).
// Only this folder imports prom-client.

import { Counter, Gauge, Registry, collectDefaultMetrics, AggregatorRegistry } from 'prom-client';
import { FastCounter, FastHistogram } from './fast.js';

export { type CounterSeries, type HistogramSeries } from './fast.js';

// Sub-millisecond resolution where this server lives (tens of µs), up to a second for pathological cases.
const LATENCY_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
  0.1, 0.25, 0.5, 1];
const STAGE_BUCKETS = [0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005];

export const ROUTES = ['predict', 'feedback', 'v2_infer', 'v2_meta', 'health', 'metrics', 'ws', 'static', 'not_found'] as const;
export type Route = (typeof ROUTES)[number];
export const ERROR_KINDS = ['bad_json', 'bad_request', 'too_large', 'not_found', 'method_not_allowed', 'bad_png',
  'bad_message', 'limit', 'not_ready', 'internal', 'abuse'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

export interface ServerMetrics {
  readonly registry: Registry;
  // The hot paths' metrics (src/metrics/fast.ts): find a series once with series(...), then observe/inc it.
  readonly httpDuration: FastHistogram<'route' | 'method' | 'status'>;
  readonly wsDuration: FastHistogram<'type'>;
  readonly stageDuration: FastHistogram<'stage'>;
  readonly predictions: FastCounter<'digit' | 'transport'>;
  readonly wsConnections: Gauge;
  readonly errors: Counter<'kind' | 'transport'>;
  readonly modelInfo: Gauge<'version'>;
  readonly modelLoads: Counter<'result'>;
  readonly feedback: Counter<'label'>;
  readonly modelAccuracy: Gauge<'version'>;
  readonly modelCreated: Gauge<'version'>;
  readonly modelTrainingSeconds: Gauge<'version'>;
}

export function createMetrics(registry = new Registry(), options: { defaultMetrics?: boolean; labels?: Record<string, string> } = {}): ServerMetrics {
  if (options.labels) registry.setDefaultLabels(options.labels);
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'doodle_' });
  const registers = [registry];
  return {
    registry,
    httpDuration: new FastHistogram({
      name: 'doodle_http_request_duration_seconds', help: 'HTTP request latency in the server, by route',
      labelNames: ['route', 'method', 'status'], buckets: LATENCY_BUCKETS, registers,
    }),
    wsDuration: new FastHistogram({
      name: 'doodle_ws_message_duration_seconds', help: 'WebSocket message handling latency, by message type',
      labelNames: ['type'], buckets: LATENCY_BUCKETS, registers,
    }),
    stageDuration: new FastHistogram({
      name: 'doodle_inference_stage_duration_seconds', help: 'Time per inference stage (preprocess, forward)',
      labelNames: ['stage'], buckets: STAGE_BUCKETS, registers,
    }),
    predictions: new FastCounter({
      name: 'doodle_predictions_total', help: 'Predictions answered, by predicted digit ("none" for an empty canvas)',
      labelNames: ['digit', 'transport'], registers,
    }),
    wsConnections: new Gauge({ name: 'doodle_ws_connections', help: 'Open WebSocket connections', registers }),
    errors: new Counter({
      name: 'doodle_errors_total', help: 'Requests or messages answered with an error, by kind',
      labelNames: ['kind', 'transport'], registers,
    }),
    modelInfo: new Gauge({
      name: 'doodle_model_info', help: 'The model being served (value 1, version in the label)', labelNames: ['version'],
      registers, aggregator: 'max', // every worker serves the same model: summing would count workers
    }),
    // Training visibility: what the registry knows about the served model (one series, the current version).
    modelAccuracy: new Gauge({
      name: 'doodle_model_test_accuracy_ratio', help: 'Test-set accuracy of the served model, measured when it was trained',
      labelNames: ['version'], registers, aggregator: 'max',
    }),
    modelCreated: new Gauge({
      name: 'doodle_model_created_timestamp_seconds', help: 'When the served model was trained (Unix time)',
      labelNames: ['version'], registers, aggregator: 'max',
    }),
    modelTrainingSeconds: new Gauge({
      name: 'doodle_model_training_duration_seconds', help: 'How long training the served model took',
      labelNames: ['version'], registers, aggregator: 'max',
    }),
    feedback: new Counter({
      name: 'doodle_feedback_total', help: 'Corrections stored from the web client, by the digit people said it was',
      labelNames: ['label'], registers,
    }),
    modelLoads: new Counter({
      name: 'doodle_model_loads_total', help: 'Model loads and reloads, by result', labelNames: ['result'], registers,
    }),
  };
}

/** Sums the metrics of several workers' registries (their getMetricsAsJSON()) into one text exposition. */
export async function aggregateMetrics(perWorker: Array<Awaited<ReturnType<Registry['getMetricsAsJSON']>>>): Promise<{ text: string; contentType: string }> {
  const merged = AggregatorRegistry.aggregate(perWorker);
  return { text: await merged.metrics(), contentType: merged.contentType };
}
