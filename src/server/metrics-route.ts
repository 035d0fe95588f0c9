// GET /metrics: the Prometheus exposition — this thread's registry, or the aggregate of every worker thread
// (`metricsText`) — with the served model's facts (version, test accuracy, creation time, training time) set at
// scrape time.

import { send } from './http.js';
import type { RouteContext } from './routes.js';

export type MetricsText = () => Promise<{ text: string; contentType: string }>;

export function metricsRoute({ http, holder, metrics: m }: RouteContext, metricsText: MetricsText | undefined): void {
  http.get('/metrics', 'metrics', () => undefined, async (ex) => {
    for (const g of [m.modelInfo, m.modelAccuracy, m.modelCreated, m.modelTrainingSeconds]) g.reset();
    const served = holder.predictor;
    if (served) {
      const version = served.version;
      m.modelInfo.set({ version }, 1);
      m.modelAccuracy.set({ version }, served.facts.testAccuracy);
      m.modelCreated.set({ version }, Date.parse(served.facts.createdAt) / 1000);
      if (served.facts.trainingSeconds !== undefined) m.modelTrainingSeconds.set({ version }, served.facts.trainingSeconds);
    }
    const { text, contentType } = metricsText ? await metricsText() : { text: await m.registry.metrics(), contentType: m.registry.contentType };
    send(ex, 200, text, contentType);
  });
}
