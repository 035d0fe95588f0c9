// POST /predict: one drawing → one prediction, as {digit, probs, model}. Bodies: JSON (a 28×28 `image`, read
// straight into the input; a `raster` of any size; `strokes` on a canvas), image/png, and application/octet-stream
// (784 float32 little-endian, or 784 uint8). Each input goes through the one pipeline (src/inference/).
// Not here: the body formats' validation (protocol.ts, image-body.ts), the route frame (routes.ts).

import { HttpError, parseJsonBody, send } from './http.js';
import { readMnistImageJson, readTensorBytes } from './image-body.js';
import { VersionJson, type RouteContext } from './routes.js';
import { parsePredictBody } from '../protocol.js';
import type { Prediction } from '../inference/index.js';

export function predictRoute({ app, http, pipeline, hot }: RouteContext): void {
  const version = new VersionJson();
  app.post('/predict', (res, req) => {
    const type = mediaType(req.getHeader('content-type'));
    http.post('predict', res, req, (ex, body) => {
      const p = http.predictor();
      let pred: Prediction;
      if (type === 'image/png') {
        pred = pipeline.predictPng(p, body);
      } else if (type === 'application/octet-stream') {
        readTensorBytes(body, pipeline.input);
        pred = pipeline.predictTensor(p, pipeline.input);
      } else if ((type === 'application/json' || type === '') && readMnistImageJson(body, pipeline.input)) {
        pred = pipeline.predictTensor(p, pipeline.input); // the common body, read straight into the input
      } else if (type === 'application/json' || type === '') {
        const parsed = parsePredictBody(parseJsonBody(body));
        if (parsed.kind === 'mnist') pred = pipeline.predictTensor(p, parsed.image);
        else if (parsed.kind === 'raster') pred = pipeline.predictRaster(p, parsed.image, parsed.width, parsed.height);
        else pred = pipeline.predictStrokes(p, parsed.strokes, parsed.canvas);
      } else {
        throw new HttpError(415, 'bad_request', `unsupported content-type "${type}": use application/json, image/png or application/octet-stream`);
      }
      hot.count(pred, 'http');
      send(ex, 200, predictionJson(pred, version.of(p.version)), 'application/json');
    });
  });
}

/** {"digit":…,"probs":[…],"model":…} as JSON.stringify writes it, from a template: numbers print the same way
 * (probabilities are finite), `versionJson` is already quoted. */
export function predictionJson(pred: Prediction, versionJson: string): string {
  const q = pred.probs;
  return `{"digit":${pred.digit},"probs":[${q[0]},${q[1]},${q[2]},${q[3]},${q[4]},${q[5]},${q[6]},${q[7]},${q[8]},${q[9]}],` +
    `"model":${versionJson}}`;
}

/** The media type of a Content-Type header, lower-cased, without parameters (the exact common values as they are). */
function mediaType(header: string): string {
  if (header === 'application/octet-stream' || header === 'application/json' || header === 'image/png') return header;
  return header.split(';')[0]!.trim().toLowerCase();
}
