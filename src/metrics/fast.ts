// Histograms and counters for the hot paths (a WebSocket message, a stroke update, a prediction), cheaper than
// prom-client's own: prom-client hashes the label object on every observe (~1–2 µs each, measured; a stroke update
// observes three times), while a series here is found once (`series(...labelValues)`) and observing is a bucket
// search and three adds. prom-client reads them at scrape time through its custom-metric interface (`get()`), in
// the exact shape its own Histogram and Counter produce, so the exposition, the worker aggregation
// (AggregatorRegistry, aggregator "sum") and every dashboard query stay as they were (test/unit/metrics.test.ts
// compares the text with prom-client's for the same observations).

import type { Registry } from 'prom-client';

type Labels = Record<string, string | number>;
interface MetricValue { metricName?: string; labels: Labels; value: number; exemplar?: null }
interface MetricJson { name: string; help: string; type: 'histogram' | 'counter'; values: MetricValue[]; aggregator: 'sum' }

interface Options<L extends string> { name: string; help: string; labelNames: readonly L[]; registers: readonly Registry[] }

abstract class FastMetric<L extends string, S> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum' as const;
  abstract readonly type: 'histogram' | 'counter';
  protected readonly all = new Map<string, { labels: Labels; series: S }>();

  constructor(protected readonly o: Options<L>) {
    this.name = o.name;
    this.help = o.help;
    for (const r of o.registers) r.registerMetric(this as never);
  }

  protected abstract make(): S;

  /** The series for these label values (in labelNames order); keep it: finding it is the cost saved. */
  series(...values: string[]): S {
    const key = values.join('\u0000');
    let entry = this.all.get(key);
    if (entry === undefined) {
      if (values.length !== this.o.labelNames.length) {
        throw new Error(`${this.name}: ${values.length} label values for [${this.o.labelNames.join(', ')}]`);
      }
      const labels: Labels = {};
      this.o.labelNames.forEach((n, i) => { labels[n] = values[i]!; });
      entry = { labels, series: this.make() };
      this.all.set(key, entry);
    }
    return entry.series;
  }

  protected seriesOf(labels: Partial<Record<L, string | number>>): S {
    return this.series(...this.o.labelNames.map((n) => String(labels[n] ?? '')));
  }

  reset(): void {
    this.all.clear();
  }

  abstract get(): Promise<MetricJson>;
}

export class HistogramSeries {
  /** counts[i]: observations in (buckets[i-1], buckets[i]]; the last slot: above every bucket (+Inf only). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(private readonly buckets: Float64Array) {
    this.counts = new Float64Array(buckets.length + 1);
  }
  observe(value: number): void {
    const b = this.buckets;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

export class FastHistogram<L extends string> extends FastMetric<L, HistogramSeries> {
  readonly type = 'histogram' as const;
  private readonly bounds: Float64Array;

  constructor(o: Options<L> & { buckets: readonly number[] }) {
    super(o);
    this.bounds = Float64Array.from(o.buckets);
  }

  protected make(): HistogramSeries {
    return new HistogramSeries(this.bounds);
  }

  /** prom-client's call shape, for code off the hot path. */
  observe(labels: Partial<Record<L, string | number>>, value: number): void {
    this.seriesOf(labels).observe(value);
  }

  async get(): Promise<MetricJson> {
    const values: MetricValue[] = [];
    for (const { labels, series } of this.all.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += series.counts[i]!;
        values.push({ labels: { le, ...labels }, value: cumulative, metricName: `${this.name}_bucket`, exemplar: null });
      });
      values.push({ labels: { le: '+Inf', ...labels }, value: series.count, metricName: `${this.name}_bucket`, exemplar: null });
      values.push({ labels: { ...labels }, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...labels }, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

export class CounterSeries {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

export class FastCounter<L extends string> extends FastMetric<L, CounterSeries> {
  readonly type = 'counter' as const;

  protected make(): CounterSeries {
    return new CounterSeries();
  }

  /** prom-client's call shape, for code off the hot path. */
  inc(labels: Partial<Record<L, string | number>>, by = 1): void {
    this.seriesOf(labels).inc(by);
  }

  async get(): Promise<MetricJson> {
    const values = [...this.all.values()].map(({ labels, series }) => ({ labels: { ...labels }, value: series.value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
