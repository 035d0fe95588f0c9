// POST /feedback: a user's correction of a prediction (label, what was predicted, the drawing), stored as a dataset
// for later training (src/feedback/store.ts); 503 when this server has no feedback folder, 507 when it is full.

import { HttpError, parseJsonBody, sendJson } from './http.js';
import type { RouteContext } from './routes.js';
import { parseFeedbackBody } from '../protocol.js';
import { FeedbackStore, FeedbackFullError } from '../feedback/store.js';

export function feedbackRoute({ app, http, metrics }: RouteContext, dir: string | undefined): void {
  const feedback = dir !== undefined ? new FeedbackStore(dir) : undefined;
  app.post('/feedback', (res, req) => {
    http.post('feedback', res, req, (ex, body) => {
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
      metrics.feedback.inc({ label: String(f.label) });
      sendJson(ex, 200, { stored: true, id });
    });
  });
}
