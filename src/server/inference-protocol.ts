// The Open Inference Protocol v2 (KServe): server and model health, metadata, and infer — JSON tensors, or the binary
// tensor data extension (a JSON header of Inference-Header-Content-Length bytes, then raw FP32/UINT8 data). The
// request parsers live with the other validators in protocol.ts; inputs are already 28×28, so infer is the
// pipeline's forward stage alone.

import { HttpError, parseJsonBody, sendJson } from './http.js';
import type { RouteContext } from './routes.js';
import { parseBinaryInferRequest, parseInferRequest } from '../protocol.js';
import { CLASSES, INPUT_SIZE } from '../inference/index.js';

export const MODEL_NAME = 'mnist';

export function inferenceProtocolRoutes({ app, http, holder, pipeline, hot }: RouteContext): void {
  const modelName = (req: { getParameter(i: number): string | undefined }): string => req.getParameter(0) ?? '';
  http.get('/v2/health/live', 'health', none, (ex) => sendJson(ex, 200, { live: true }));
  http.get('/v2/health/ready', 'health', none, (ex) => {
    const ready = holder.predictor !== undefined;
    sendJson(ex, ready ? 200 : 503, { ready });
  });
  http.get('/v2', 'v2_meta', none, (ex) => sendJson(ex, 200, { name: 'doodle-digits', version: '0.1.0', extensions: ['binary_tensor_data'] }));
  http.get('/v2/models/:name', 'v2_meta', modelName, (ex, name) => {
    checkModelName(name);
    const p = holder.predictor;
    sendJson(ex, 200, {
      name: MODEL_NAME, versions: p ? [p.version] : [], platform: 'doodle-digits-wasm',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, INPUT_SIZE] }],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, CLASSES] }, { name: 'digit', datatype: 'INT32', shape: [-1] }],
    });
  });
  http.get('/v2/models/:name/ready', 'v2_meta', modelName, (ex, name) => {
    checkModelName(name);
    const ready = holder.predictor !== undefined;
    sendJson(ex, ready ? 200 : 503, { name: MODEL_NAME, ready });
  });
  app.post('/v2/models/:name/infer', (res, req) => {
    const name = req.getParameter(0) ?? '';
    const headerBytes = req.getHeader('inference-header-content-length'); // the binary tensor data extension
    http.post('v2_infer', res, req, (ex, body) => {
      checkModelName(name);
      const request = headerBytes === '' ? parseInferRequest(parseJsonBody(body)) : parseBinaryInferRequest(body, headerBytes);
      const p = http.predictor();
      const { probs, digits } = pipeline.predictBatch(p, request.data, request.n);
      for (const d of digits) hot.countDigit(d, 'v2');
      const outputs = [
        { name: 'probabilities', datatype: 'FP32', shape: [request.n, CLASSES], data: Array.from(probs) },
        { name: 'digit', datatype: 'INT32', shape: [request.n], data: Array.from(digits) },
      ].filter((out) => request.outputs === undefined || request.outputs.includes(out.name));
      sendJson(ex, 200, { model_name: MODEL_NAME, model_version: p.version, ...(request.id !== undefined ? { id: request.id } : {}), outputs });
    });
  });
}

const none = (): undefined => undefined;

function checkModelName(name: string): void {
  if (name !== MODEL_NAME) throw new HttpError(404, 'not_found', `model "${name.slice(0, 100)}" not found (this server has "${MODEL_NAME}")`);
}
