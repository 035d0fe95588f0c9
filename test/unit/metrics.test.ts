// The hot-path metrics (src/metrics/fast.ts) must expose exactly what prom-client's own Histogram and Counter
// would for the same observations: the text format, the JSON the worker threads send, and their aggregation.

import { describe, expect, it } from 'vitest';
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { FastCounter, FastHistogram, type HistogramSeries } from '../../src/metrics/fast.js';
import { Random } from '../../src/random.js';

const BUCKETS = [0.000001, 0.0000025, 0.00001, 0.0001, 0.001, 0.01, 0.1, 1];

/** The same observations into prom-client's metrics and ours, each on its own registry. */
function twin(seed: number, defaultLabels?: Record<string, string>): { ref: Registry; fast: Registry } {
  const ref = new Registry(), fast = new Registry();
  if (defaultLabels) { ref.setDefaultLabels(defaultLabels); fast.setDefaultLabels(defaultLabels); }
  const h = new Histogram({ name: 'x_seconds', help: 'a latency', labelNames: ['type', 'status'], buckets: BUCKETS, registers: [ref] });
  const c = new Counter({ name: 'x_total', help: 'a count', labelNames: ['digit'], registers: [ref] });
  const fh = new FastHistogram({ name: 'x_seconds', help: 'a latency', labelNames: ['type', 'status'], buckets: BUCKETS, registers: [fast] });
  const fc = new FastCounter({ name: 'x_total', help: 'a count', labelNames: ['digit'], registers: [fast] });
  const rng = new Random(seed);
  let move: HistogramSeries | undefined; // made at first use, as prom-client makes its series
  for (let i = 0; i < 2000; i++) {
    const v = 10 ** (-7 + 7.5 * rng.next()); // 1e-7 … 3 s: below the first bucket, on bounds, above the last
    const type = ['move', 'begin', 'predict'][i % 3]!;
    const status = i % 7 === 0 ? '400' : '200';
    h.observe({ type, status }, v);
    if (type === 'move' && status === '200') (move ??= fh.series('move', '200')).observe(v); else fh.observe({ type, status }, v);
    const digit = String(Math.floor(rng.next() * 10));
    c.inc({ digit });
    fc.series(digit).inc();
  }
  for (const le of BUCKETS) { h.observe({ type: 'edge', status: '200' }, le); fh.observe({ type: 'edge', status: '200' }, le); }
  return { ref, fast };
}

describe('FastHistogram and FastCounter', () => {
  it('give the same text exposition as prom-client for the same observations', async () => {
    const { ref, fast } = twin(1);
    expect(await fast.metrics()).toBe(await ref.metrics());
  });

  it('give the same JSON, and aggregate across workers as prom-client does (default labels included)', async () => {
    const a = twin(2, { worker: 'x' }), b = twin(3, { worker: 'x' });
    expect(await a.fast.getMetricsAsJSON()).toEqual(await a.ref.getMetricsAsJSON());
    const merged = (regs: Registry[]) => Promise.all(regs.map((r) => r.getMetricsAsJSON()))
      .then((parts) => AggregatorRegistry.aggregate(parts as never).metrics());
    expect(await merged([a.fast, b.fast])).toBe(await merged([a.ref, b.ref]));
  });

  it('refuses a series with the wrong number of label values, and reset() empties it', async () => {
    const r = new Registry();
    const h = new FastHistogram({ name: 'y_seconds', help: 'y', labelNames: ['type'], buckets: BUCKETS, registers: [r] });
    expect(() => h.series('a', 'b')).toThrow('y_seconds: 2 label values for [type]');
    h.series('a').observe(0.5);
    expect(await r.metrics()).toContain('y_seconds_count{type="a"} 1');
    h.reset();
    expect(await r.metrics()).not.toContain('y_seconds_count');
  });
});
