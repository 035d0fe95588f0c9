// The real server (uWebSockets.js) on an ephemeral loopback port, serving a model trained here on real MNIST:
// every endpoint and WebSocket message type, the documented errors (after each of which it keeps serving),
// identical answers across input forms, drawn-digit robustness, metrics, model reload and graceful shutdown.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Registry } from 'prom-client';
import { ModelRegistry } from '../../src/model/registry.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { ModelHolder } from '../../src/server/model-holder.js';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { webDirs } from '../../src/server/serve.js';
import { rasterizeStrokes } from '../../src/preprocess/index.js';
import { InferencePipeline } from '../../src/inference/index.js';
import { encodeGrayPng } from '../../src/image/index.js';
import { Random } from '../../src/random.js';
import { place } from '../helpers/digits.js';
import { addTrainedModel, mnistSplit } from '../helpers/model.js';
import { spawn } from 'node:child_process';
import { connect as connectTcp } from 'node:net';
import { cliPath } from '../helpers/paths.js';
import { pollUntil } from '../helpers/poll.js';
import { LIMITS } from '../../src/protocol.js';
import { WS_HARD_CAP_BYTES } from '../../src/server/app.js';

const test = mnistSplit('test');

let tmp: string;
let registry: ModelRegistry;
let holder: ModelHolder;
let server: RunningServer;
let base: string;
let firstVersion: string;

const addModel = (seed: number, epochs: number): Promise<string> =>
  addTrainedModel(registry, { sizes: [784, 128, 10], epochs, limit: 30000, augment: true, seed });

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'doodle-server-'));
  registry = new ModelRegistry(join(tmp, 'models'));
  firstVersion = await addModel(1, 2);
  registry.promote(firstVersion);
  holder = new ModelHolder(registry);
  await holder.load();
  server = await startServer({ host: '127.0.0.1', port: 0, holder, metrics: createMetrics(new Registry()), staticDirs: webDirs(),
    feedbackDir: join(tmp, 'feedback') });
  base = `http://127.0.0.1:${server.port}`;
}, 120_000);

afterAll(async () => {
  await server?.close();
  holder?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const post = (path: string, body: string | Uint8Array, type = 'application/json') =>
  fetch(base + path, { method: 'POST', body: body as unknown as BodyInit, headers: { 'content-type': type } });
const mnistImage = (k: number): number[] => Array.from(test.images.subarray(k * 784, (k + 1) * 784), (v) => v / 255);

describe('HTTP', () => {
  it('serves the web client at / and /index.html, with content types, and no path traversal', async () => {
    for (const path of ['/', '/index.html']) {
      const r = await fetch(base + path);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await r.text()).toContain('Doodle Digits');
    }
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/web/index.html', '/..%2fpackage.json']) {
      const r = await fetch(base + path);
      expect(r.status, path).toBe(404);
      expect(await r.json()).toHaveProperty('error');
    }
  });

  it('POST /predict classifies 28×28 MNIST images', async () => {
    let correct = 0;
    for (let k = 0; k < 20; k++) {
      const r = await post('/predict', JSON.stringify({ image: mnistImage(k) }));
      expect(r.status).toBe(200);
      const body = await r.json() as { digit: number; probs: number[]; model: string };
      expect(body.model).toBe(firstVersion);
      expect(body.probs).toHaveLength(10);
      expect(body.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      if (body.digit === test.labels[k]) correct++;
    }
    expect(correct).toBeGreaterThanOrEqual(17);
  });

  it('POST /predict takes the input as JSON, as 784 float32s or as 784 uint8s, with the same answer', async () => {
    for (const k of [0, 5]) {
      const values = mnistImage(k);
      const pixels = test.images.subarray(k * 784, (k + 1) * 784);
      const floats = new Uint8Array(Float32Array.from(values).buffer);
      const spaced = JSON.stringify({ image: values }, null, 1); // the general JSON path, not the fast one
      const answers = await Promise.all([JSON.stringify({ image: values }), spaced].map((b) => post('/predict', b))
        .concat([post('/predict', floats, 'application/octet-stream'), post('/predict', pixels, 'application/octet-stream')])
        .map(async (r) => { const res = await r; expect(res.status).toBe(200); return await res.json() as { digit: number; probs: number[] }; }));
      for (const a of answers.slice(1)) {
        expect(a.digit).toBe(answers[0]!.digit);
        a.probs.forEach((p, d) => expect(p).toBeCloseTo(answers[0]!.probs[d]!, 6));
      }
    }
    const short = await post('/predict', new Uint8Array(100), 'application/octet-stream');
    expect(short.status).toBe(400);
    expect((await short.json() as { error: string }).error).toMatch(/must be 3136 bytes .* or 784 bytes .*got 100/);
    const big = new Float32Array(784).fill(2);
    const range = await post('/predict', new Uint8Array(big.buffer), 'application/octet-stream');
    expect(range.status).toBe(400);
    expect((await range.json() as { error: string }).error).toBe('value 0 = 2 is not in [0, 1]');
    const over = await post('/predict', JSON.stringify({ image: [...Array(783).fill(0), 1.5] }));
    expect(over.status).toBe(400);
    expect((await over.json() as { error: string }).error).toBe('image[783] = 1.5 is not in [0, 1]');
  });

  it('gives the same answer for the same drawing as strokes, as a raster, as a PNG and through /v2 infer', async () => {
    const rng = new Random(3);
    const strokes = place(7, { x: 60, y: 40, w: 150, h: 200 }, rng);
    const canvas = { width: 280, height: 280, brush: 18 };
    const viaStrokes = await (await post('/predict', JSON.stringify({ strokes, ...canvas }))).json() as { digit: number; probs: number[] };
    const raster = rasterizeStrokes(strokes, canvas);
    const viaRaster = await (await post('/predict', JSON.stringify({ image: Array.from(raster.pixels), width: 280, height: 280 }))).json() as { digit: number; probs: number[] };
    const viaPng = await (await post('/predict', encodeGrayPng(raster.pixels, 280, 280), 'image/png')).json() as { digit: number; probs: number[] };
    // The server's preprocessing of the strokes, computed here by the same pipeline, sent to /v2 as a tensor.
    const pipeline = await InferencePipeline.create();
    const input = new Float32Array(784);
    expect(pipeline.strokesToMnist(strokes, canvas, input)).toBe(true);
    const v2 = await (await post('/v2/models/mnist/infer', JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: Array.from(input) }] }))).json() as { outputs: Array<{ name: string; data: number[] }> };
    const viaV2 = v2.outputs.find((o) => o.name === 'probabilities')!.data;

    expect(viaStrokes.digit).toBe(7);
    viaV2.forEach((p, i) => expect(Math.abs(p - viaStrokes.probs[i]!)).toBeLessThan(1e-6));
    // A raster of the strokes (rendered by the full-canvas reference) and its PNG (8-bit grey levels) take the raster
    // path: the same digit, probabilities within the fast path's tolerance of the strokes'.
    for (const other of [viaRaster, viaPng]) {
      expect(other.digit).toBe(viaStrokes.digit);
      other.probs.forEach((p, i) => expect(Math.abs(p - viaStrokes.probs[i]!)).toBeLessThan(0.02));
    }
  });

  it('recognises digits drawn small and off-centre as well as centred ones', async () => {
    const rng = new Random(11);
    let centred = 0, small = 0, n = 0;
    for (let trial = 0; trial < 4; trial++) {
      for (let d = 0; d <= 9; d++) {
        const big = place(d, { x: 70, y: 30, w: 140, h: 220 }, rng);
        const tiny = place(d, { x: 10, y: 190, w: 50, h: 75 }, rng);
        const a = await (await post('/predict', JSON.stringify({ strokes: big }))).json() as { digit: number };
        const b = await (await post('/predict', JSON.stringify({ strokes: tiny, brush: 8 }))).json() as { digit: number };
        if (a.digit === d) centred++;
        if (b.digit === d) small++;
        n++;
      }
    }
    expect(centred / n).toBeGreaterThanOrEqual(0.7);
    expect(small / n).toBeGreaterThanOrEqual(centred / n - 0.1);
  });

  it.each([
    ['malformed JSON', '{"image": [1, 2', 400, /not valid JSON/],
    ['wrong type', JSON.stringify({ image: 'zero' }), 400, /"image" must be an array/],
    ['wrong length', JSON.stringify({ image: [0, 1] }), 400, /784 values/],
    ['out-of-range pixel', JSON.stringify({ image: new Array(784).fill(2) }), 400, /image\[0\] = 2 is not in \[0, 1\]/],
    ['null pixel', JSON.stringify({ image: new Array(784).fill(null) }), 400, /image\[0\] must be a number/],
    ['NaN literal', `{"image": [NaN${',0'.repeat(783)}]}`, 400, /not valid JSON/],
    ['Infinity (1e999)', `{"image": [1e999${',0'.repeat(783)}]}`, 400, /image\[0\] = Infinity is not in \[0, 1\]/],
    ['stroke coordinate Infinity', '{"strokes": [[[1e999, 10]]]}', 400, /must be finite/],
    ['raster size mismatch', JSON.stringify({ image: [0, 0, 0], width: 2, height: 2 }), 400, /width × height = 4/],
    ['huge raster', JSON.stringify({ image: [0], width: 100000, height: 1 }), 400, /width = 100000 is outside/],
    ['stroke coordinate out of range', JSON.stringify({ strokes: [[[10, 10], [5000, 10]]] }), 400, /outside \[-280, 560\]/],
    ['stroke point not a pair', JSON.stringify({ strokes: [[[10, 10, 3]]] }), 400, /must be \[x, y\]/],
    ['neither image nor strokes', JSON.stringify({ pixels: [] }), 400, /must have "image"/],
  ])('POST /predict rejects %s with a JSON error', async (_name, body, status, message) => {
    const r = await post('/predict', body);
    expect(r.status).toBe(status);
    expect((await r.json() as { error: string }).error).toMatch(message);
    expect((await fetch(base + '/v2/health/live')).status).toBe(200);
  });

  it('rejects bodies over the limit (413), bad PNGs, unknown content types, unknown paths and wrong methods', async () => {
    const big = await post('/predict', JSON.stringify({ image: new Array(1_200_000).fill(0.5) })); // ~4.8 MB > 4 MiB
    expect(big.status).toBe(413);
    const png = encodeGrayPng(new Float32Array(28 * 28), 28, 28);
    for (const cut of [8, 20, 33, 50, png.length - 5]) {
      const r = await post('/predict', png.subarray(0, cut), 'image/png');
      expect(r.status, `cut at ${cut}`).toBe(400);
      expect((await r.json() as { error: string }).error).toMatch(/^PNG: /);
    }
    const text = await post('/predict', 'hello', 'text/plain');
    expect(text.status).toBe(415);
    expect((await text.json() as { error: string }).error).toBe('unsupported content-type "text/plain": use application/json, image/png or application/octet-stream');
    const missing = await fetch(base + '/nope');
    expect(missing.status).toBe(404);
    const wrong = await fetch(base + '/predict');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect((await fetch(base + '/v2/health/ready')).status).toBe(200);
  });

  /** One request on its own connection, followed by a GET /v2/health/live on the same connection: what comes before
   * that second answer is exactly what the first request got on the wire (fetch hides a HEAD's body). */
  const raw = (method: string, path: string): Promise<{ status: number; headers: Record<string, string>; body: string }> =>
    new Promise((resolve, reject) => {
      const socket = connectTcp({ host: '127.0.0.1', port: server.port });
      let data = '';
      socket.on('error', reject);
      socket.on('data', (c) => {
        data += c.toString('latin1');
        if (!data.endsWith('{"live":true}')) return;
        socket.destroy();
        const first = data.slice(0, data.lastIndexOf('HTTP/1.1 '));
        const split = first.indexOf('\r\n\r\n');
        const [statusLine, ...lines] = first.slice(0, split).split('\r\n');
        const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
        resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: first.slice(split + 4) });
      });
      socket.write(`${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\nGET /v2/health/live HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`);
    });

  it('answers HEAD wherever GET works: the same status and headers, no body', async () => {
    for (const path of ['/', '/index.html', '/v2/health/live', '/v2/health/ready', '/v2', '/v2/models/mnist', '/v2/models/mnist/ready',
      '/v2/models/other', '/nope', '/metrics']) {
      const get = await raw('GET', path);
      const head = await raw('HEAD', path);
      expect(head.status, path).toBe(get.status);
      expect(head.headers['content-type'], path).toBe(get.headers['content-type']);
      expect(head.body, path).toBe('');
      expect(get.body.length, path).toBeGreaterThan(0);
      // /metrics changes between two scrapes and the 404 names the method; everything else has the same length.
      if (path !== '/metrics' && path !== '/nope') expect(Number(head.headers['content-length']), path).toBe(Buffer.byteLength(get.body, 'latin1'));
    }
    expect((await raw('GET', '/')).status).toBe(200);
  });

  it('answers a wrong method on a known route with 405, Allow and a JSON error, labelled with that route in metrics', async () => {
    const cases: Array<[string, string, string, string]> = [
      ['GET', '/predict', 'POST', 'predict'], ['PUT', '/feedback', 'POST', 'feedback'], ['GET', '/v2/models/mnist/infer', 'POST', 'v2_infer'],
      ['POST', '/metrics', 'GET, HEAD', 'metrics'], ['DELETE', '/v2/health/live', 'GET, HEAD', 'health'],
      ['POST', '/v2/models/mnist', 'GET, HEAD', 'v2_meta'], ['POST', '/', 'GET, HEAD', 'static'], ['POST', '/ws', 'GET', 'ws'],
    ];
    for (const [method, path, allow] of cases) {
      const r = await fetch(base + path, { method });
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.headers.get('allow'), `${method} ${path}`).toBe(allow);
      expect((await r.json() as { error: string }).error).toBe(`${method} is not allowed on ${path}; use ${allow}`);
    }
    const text = await (await fetch(base + '/metrics')).text();
    for (const [method, , , route] of cases) {
      expect(text).toMatch(new RegExp(`doodle_http_request_duration_seconds_count\\{route="${route}",method="${method}",status="405"\\} [1-9]`));
    }
    expect(text).not.toMatch(/route="not_found",method="(POST|PUT|DELETE)",status="405"/);
  });

  it('answers an empty canvas with no digit', async () => {
    const r = await (await post('/predict', JSON.stringify({ strokes: [] }))).json() as { digit: number | null; probs: number[] };
    expect(r.digit).toBeNull();
    expect(r.probs).toEqual(new Array(10).fill(0));
  });
});

describe('POST /feedback', () => {
  const drawing = () => ({ strokes: place(4, { x: 60, y: 40, w: 150, h: 200 }, new Random(5)), width: 280, height: 280, brush: 18 });
  it('stores a correction as one JSON file with the strokes, the 28×28 image and the label', async () => {
    const image = mnistImage(3);
    const r = await post('/feedback', JSON.stringify({ ...drawing(), label: 4, predicted: 9, model: holder.version, image }));
    expect(r.status).toBe(200);
    const { stored, id } = await r.json() as { stored: boolean; id: string };
    expect(stored).toBe(true);
    const doc = JSON.parse(readFileSync(join(tmp, 'feedback', `${id}.json`), 'utf8'));
    expect(doc).toMatchObject({ format: 'doodle-digits-feedback', version: 1, id, label: 4, predicted: 9, model: holder.version,
      canvas: { width: 280, height: 280, brush: 18 } });
    expect(doc.strokes).toEqual(drawing().strokes);
    doc.image.forEach((v: number, i: number) => expect(Math.abs(v - image[i]!)).toBeLessThan(1e-6));
  });

  it.each([
    [{ label: 10 }, /"label" must be a digit/],
    [{ label: 4, strokes: [] }, /the drawing is empty/],
    [{ label: 4, image: [0.5] }, /784 values/],
    [{ label: 4, predicted: 'seven' }, /"predicted" must be a digit/],
  ])('rejects %j with 400', async (patch, message) => {
    const r = await post('/feedback', JSON.stringify({ ...drawing(), image: mnistImage(3), ...patch }));
    expect(r.status).toBe(400);
    expect((await r.json() as { error: string }).error).toMatch(message);
  });

  it('refuses new records once the store is full (507)', async () => {
    const { FeedbackStore, FeedbackFullError } = await import('../../src/feedback/store.js');
    const store = new FeedbackStore(join(tmp, 'tiny-feedback'), 1);
    const record = { label: 1, predicted: null, model: null, width: 280, height: 280, brush: 18, strokes: [[[1, 2] as [number, number]]], image: new Float32Array(784) };
    expect(store.add(record)).toMatch(/^\d{8}-\d{6}-[0-9a-f]{12}$/);
    expect(() => store.add(record)).toThrow(FeedbackFullError);
    expect(new FeedbackStore(join(tmp, 'tiny-feedback'), 1).size).toBe(1);
  });
});

describe('Open Inference Protocol v2', () => {
  it('health, server and model metadata, readiness', async () => {
    expect(await (await fetch(base + '/v2/health/live')).json()).toEqual({ live: true });
    expect(await (await fetch(base + '/v2/health/ready')).json()).toEqual({ ready: true });
    expect(await (await fetch(base + '/v2')).json()).toMatchObject({ name: 'doodle-digits', extensions: ['binary_tensor_data'] });
    const meta = await (await fetch(base + '/v2/models/mnist')).json() as { name: string; versions: string[]; inputs: unknown[] };
    expect(meta).toMatchObject({ name: 'mnist', versions: [holder.version], inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 784] }] });
    expect(await (await fetch(base + '/v2/models/mnist/ready')).json()).toEqual({ name: 'mnist', ready: true });
    expect((await fetch(base + '/v2/models/other')).status).toBe(404);
  });

  it('infers batches of [N, 784] and [N, 28, 28] (nested) with the id echoed', async () => {
    const images = [0, 1, 2].map(mnistImage);
    const flat = await (await post('/v2/models/mnist/infer', JSON.stringify({ id: 'abc', inputs: [{ name: 'input', datatype: 'FP32', shape: [3, 784], data: images.flat() }] }))).json() as { id: string; model_name: string; outputs: Array<{ name: string; shape: number[]; datatype: string; data: number[] }> };
    expect(flat.id).toBe('abc');
    expect(flat.model_name).toBe('mnist');
    const digits = flat.outputs.find((o) => o.name === 'digit')!;
    expect(digits).toMatchObject({ shape: [3], datatype: 'INT32' });
    const nested = images.map((img) => Array.from({ length: 28 }, (_, r) => img.slice(r * 28, r * 28 + 28)));
    const three = await (await post('/v2/models/mnist/infer', JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [3, 28, 28], data: nested }], outputs: [{ name: 'digit' }] }))).json() as { outputs: Array<{ name: string; data: number[] }> };
    expect(three.outputs).toHaveLength(1);
    expect(three.outputs[0]!.data).toEqual(digits.data);
  });

  /** A request of the binary tensor data extension: the JSON header, then the raw tensor bytes. */
  const binaryInfer = (header: unknown, tensor: Uint8Array, headerLength?: string) => {
    const json = Buffer.from(JSON.stringify(header));
    return fetch(`${base}/v2/models/mnist/infer`, { method: 'POST', body: Buffer.concat([json, tensor]),
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': headerLength ?? String(json.length) } });
  };

  it('infers with the binary tensor data extension (FP32 little-endian or UINT8 pixels), as the JSON form does', async () => {
    const images = [0, 1, 2].map(mnistImage);
    const viaJson = await (await post('/v2/models/mnist/infer', JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [3, 784], data: images.flat() }] }))).json() as { outputs: Array<{ name: string; data: number[] }> };
    const floats = new Uint8Array(Float32Array.from(images.flat()).buffer);
    const pixels = test.images.subarray(0, 3 * 784);
    for (const [datatype, bytes] of [['FP32', floats], ['UINT8', pixels]] as const) {
      const r = await binaryInfer({ id: datatype, inputs: [{ name: 'input', datatype, shape: [3, 784], parameters: { binary_data_size: bytes.length } }] }, bytes);
      expect(r.status, datatype).toBe(200);
      const got = await r.json() as { id: string; outputs: Array<{ name: string; data: number[] }> };
      expect(got.id).toBe(datatype);
      const [probs, digits] = ['probabilities', 'digit'].map((name) => got.outputs.find((o) => o.name === name)!.data);
      expect(digits).toEqual(viaJson.outputs.find((o) => o.name === 'digit')!.data);
      probs!.forEach((p, i) => expect(p).toBeCloseTo(viaJson.outputs.find((o) => o.name === 'probabilities')!.data[i]!, 6));
    }
  });

  it.each([
    ['a header length past the body', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], parameters: { binary_data_size: 3136 } }] }, new Uint8Array(3136), '99999', /Inference-Header-Content-Length must be the byte length of the JSON header/],
    ['a header length that is not a number', { inputs: [] }, new Uint8Array(0), 'ten', /Inference-Header-Content-Length must be/],
    ['a binary_data_size that does not fit the shape', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], parameters: { binary_data_size: 784 } }] }, new Uint8Array(784), undefined, /binary_data_size must be 3136 \(1×784 FP32\), got 784/],
    ['fewer bytes than binary_data_size', { inputs: [{ name: 'input', datatype: 'UINT8', shape: [2, 784], parameters: { binary_data_size: 1568 } }] }, new Uint8Array(1000), undefined, /has 1000 bytes after the JSON header; binary_data_size says 1568/],
    ['a value outside [0, 1]', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], parameters: { binary_data_size: 3136 } }] }, new Uint8Array(new Float32Array(784).fill(3).buffer), undefined, /binary value 0 = 3 is not in \[0, 1\]/],
    ['INT8 data', { inputs: [{ name: 'input', datatype: 'INT8', shape: [1, 784], parameters: { binary_data_size: 784 } }] }, new Uint8Array(784), undefined, /datatype must be "FP32" or "UINT8", got "INT8"/],
  ])('rejects a bad binary inference request with 400: %s', async (_, header, tensor, length, message) => {
    const r = await binaryInfer(header, tensor, length);
    expect(r.status).toBe(400);
    expect((await r.json() as { error: string }).error).toMatch(message);
  });

  it('refuses binary_data_size in a plain JSON request (no Inference-Header-Content-Length)', async () => {
    const r = await post('/v2/models/mnist/infer', JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], parameters: { binary_data_size: 3136 } }] }));
    expect(r.status).toBe(400);
    expect((await r.json() as { error: string }).error).toMatch(/needs the binary tensor data extension/);
  });

  it.each([
    [{ inputs: [{ name: 'input', datatype: 'INT8', shape: [1, 784], data: new Array(784).fill(0) }] }, /datatype must be "FP32"/],
    [{ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 783], data: new Array(783).fill(0) }] }, /shape must be \[N, 784\] or \[N, 28, 28\]/],
    [{ inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 784], data: new Array(784).fill(0) }] }, /needs 1568/],
    [{ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: [...new Array(783).fill(0), 'x'] }] }, /data\[783\] = "x"/],
    [{ inputs: [] }, /exactly one tensor/],
    [{ inputs: [{ name: 'input', datatype: 'FP32', shape: [5000, 784], data: [] }] }, /exceeds the limit of 1024/],
  ])('rejects a bad inference request with 400 and {"error"}: %#', async (body, message) => {
    const r = await post('/v2/models/mnist/infer', JSON.stringify(body));
    expect(r.status).toBe(400);
    expect((await r.json() as { error: string }).error).toMatch(message);
  });
});

/** A WebSocket client that collects messages and can wait for the next one. */
async function connect(): Promise<{ ws: WebSocket; next: () => Promise<Record<string, unknown>>; closed: Promise<number>; reason: Promise<string> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
  const queue: Array<Record<string, unknown>> = [];
  const waiters: Array<(m: Record<string, unknown>) => void> = [];
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as Record<string, unknown>;
    const w = waiters.shift();
    if (w) w(m); else queue.push(m);
  });
  let gotReason: (r: string) => void = () => undefined;
  const reason = new Promise<string>((resolve) => { gotReason = resolve; });
  const closed = new Promise<number>((resolve) => ws.on('close', (code, why) => { gotReason(why.toString()); resolve(code); }));
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  const next = () => new Promise<Record<string, unknown>>((resolve, reject) => {
    const m = queue.shift();
    if (m) return resolve(m);
    const timer = setTimeout(() => reject(new Error('no message within 5 s')), 5000);
    waiters.push((msg) => { clearTimeout(timer); resolve(msg); });
  });
  return { ws, next, closed, reason };
}

describe('WebSocket /ws', () => {
  it('streams strokes and answers each change with a prediction (seq increasing, digit null when empty)', async () => {
    const c = await connect();
    c.ws.send(JSON.stringify({ type: 'hello', width: 280, height: 280, brush: 18 }));
    expect(await c.next()).toMatchObject({ type: 'prediction', seq: 1, digit: null, model: holder.version });
    const [stroke] = place(1, { x: 90, y: 30, w: 100, h: 220 }, new Random(2));
    c.ws.send(JSON.stringify({ type: 'begin', x: stroke![0]![0], y: stroke![0]![1] }));
    expect(await c.next()).toMatchObject({ type: 'prediction', seq: 2 });
    let last: Record<string, unknown> = {};
    for (let i = 1; i < stroke!.length; i += 2) {
      c.ws.send(JSON.stringify({ type: 'move', points: stroke!.slice(i, i + 2).flat() }));
      last = await c.next();
      expect(last.type).toBe('prediction');
    }
    c.ws.send(JSON.stringify({ type: 'end' }));
    const end = await c.next();
    expect(end.digit).toBe(1);
    expect((end.probs as number[]).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    c.ws.send(JSON.stringify({ type: 'predict' }));
    expect(await c.next()).toMatchObject({ type: 'prediction', digit: 1 });
    c.ws.send(JSON.stringify({ type: 'clear' }));
    expect(await c.next()).toMatchObject({ type: 'prediction', digit: null });
    c.ws.close();
  });

  it('answers bad messages with error messages and keeps the session', async () => {
    const c = await connect();
    const cases: Array<[string | Buffer, string]> = [
      ['{nope', 'bad_json'],
      ['[1,2]', 'bad_message'],
      [JSON.stringify({ type: 'dance' }), 'unknown_type'],
      [JSON.stringify({ type: 'move', points: [1, 2] }), 'bad_message'], // no stroke begun
      [JSON.stringify({ type: 'begin', x: 1e6, y: 0 }), 'out_of_range'],
      [JSON.stringify({ type: 'begin', x: 'a', y: 0 }), 'bad_message'],
      [JSON.stringify({ type: 'hello', width: 5, height: 280 }), 'out_of_range'],
      [Buffer.from([1, 2, 3]), 'binary_unsupported'],
    ];
    for (const [msg, code] of cases) {
      c.ws.send(msg);
      expect(await c.next()).toMatchObject({ type: 'error', code });
    }
    c.ws.send(JSON.stringify({ type: 'begin', x: 10, y: 10 }));
    c.ws.send(JSON.stringify({ type: 'move', points: new Array(2 * 1025).fill(20) }));
    expect(await c.next()).toMatchObject({ type: 'prediction' });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'limit' });
    c.ws.send(JSON.stringify({ type: 'predict' }));
    expect(await c.next()).toMatchObject({ type: 'prediction' });
    c.ws.close();
  });

  it('closes abusive connections: too many invalid messages (1008), oversized messages (1009 with a reason)', async () => {
    const a = await connect();
    for (let i = 0; i < 30; i++) a.ws.send('garbage');
    expect(await a.closed).toBe(1008);
    const b = await connect();
    b.ws.send('x'.repeat(LIMITS.maxWsMessageBytes + 1));
    expect(await b.closed).toBe(1009);
    expect(await b.reason).toBe(`message of ${LIMITS.maxWsMessageBytes + 1} bytes exceeds the ${LIMITS.maxWsMessageBytes}-byte limit`);
    const exact = await connect(); // the limit itself is allowed: answered (an error, since it is no valid message), not closed
    exact.ws.send(' '.repeat(LIMITS.maxWsMessageBytes));
    expect(await exact.next()).toMatchObject({ type: 'error', code: 'bad_json' });
    exact.ws.close();
    // Beyond uWS's hard cap the connection is dropped without a close frame, as docs/protocol.md says.
    const c = await connect();
    c.ws.send('x'.repeat(WS_HARD_CAP_BYTES + 1));
    expect(await c.closed).toBe(1006);
    expect((await fetch(base + '/v2/health/live')).status).toBe(200);
    const text = await (await fetch(base + '/metrics')).text();
    expect(text).toMatch(/doodle_errors_total\{kind="too_large",transport="ws"\} 1\n/);
  });
});

describe('WebSocket limits per thread', () => {
  it('refuses drawers beyond --max-drawers with 503, and new points beyond the drawing memory budget with "limit"', async () => {
    // A budget of 64 KiB: a few point blocks and grids; a drawer limit of 3.
    const small = await startServer({ host: '127.0.0.1', port: 0, holder, metrics: createMetrics(new Registry(), { defaultMetrics: false }),
      staticDirs: [], maxDrawers: 3, drawingMemoryBytes: 64 * 1024 });
    const open = async (): Promise<WebSocket> => {
      const ws = new WebSocket(`ws://127.0.0.1:${small.port}/ws`);
      await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
      return ws;
    };
    const answers = (ws: WebSocket): Array<Record<string, unknown>> => {
      const got: Array<Record<string, unknown>> = [];
      ws.on('message', (d) => got.push(JSON.parse(String(d)) as Record<string, unknown>));
      return got;
    };
    try {
      const drawers = [await open(), await open(), await open()];
      const refused = new WebSocket(`ws://127.0.0.1:${small.port}/ws`);
      const status = await new Promise<number>((resolve) => refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
      expect(status).toBe(503);
      // One drawer fills the budget with big strokes (each grows its points and grid) until the server says "limit".
      const got = answers(drawers[0]!);
      const rng = new Random(9);
      for (let k = 0; k < 40 && !got.some((m) => m.type === 'error'); k++) {
        drawers[0]!.send(JSON.stringify({ type: 'begin', x: rng.uniform(0, 280), y: rng.uniform(0, 280) }));
        const pts = Array.from({ length: 1000 }, () => [rng.uniform(-270, 550), rng.uniform(-270, 550)]).flat();
        drawers[0]!.send(JSON.stringify({ type: 'move', points: pts }));
        await pollUntil(() => got.length >= 2 * (k + 1), 'both answers', 5000); // one by one: errors in a burst would close it (1008)
      }
      const error = got.find((m) => m.type === 'error')!;
      expect(error).toMatchObject({ code: 'limit' });
      expect(error.message).toBe("this server's memory for drawings is full (64 KiB on this thread): try again shortly");
      // Another drawer is refused new points too, while predicting stays possible; clear gives the memory back.
      const other = answers(drawers[1]!);
      drawers[1]!.send(JSON.stringify({ type: 'begin', x: 10, y: 10 }));
      drawers[1]!.send(JSON.stringify({ type: 'predict' }));
      await pollUntil(() => other.length >= 2, 'two answers', 5000);
      expect(other[0], JSON.stringify(other)).toMatchObject({ type: 'error', code: 'limit' });
      expect(other[1]).toMatchObject({ type: 'prediction', digit: null });
      drawers[0]!.close();
      await pollUntil(async () => {
        const probe = new WebSocket(`ws://127.0.0.1:${small.port}/ws`);
        const ok = await new Promise<boolean>((resolve) => { probe.once('open', () => resolve(true)); probe.once('unexpected-response', () => resolve(false)); });
        probe.close();
        return ok;
      }, 'a drawer accepted again', 5000);
      const after = answers(drawers[1]!);
      drawers[1]!.send(JSON.stringify({ type: 'begin', x: 10, y: 10 }));
      await pollUntil(() => after.length >= 1, 'an answer', 5000);
      expect(after[0]).toMatchObject({ type: 'prediction' });
      for (const ws of drawers) ws.close();
    } finally {
      await small.close();
    }
  });
});

describe('metrics', () => {
  it('exposes latency histograms, predictions by digit, connections, errors and the model version', async () => {
    const r = await fetch(base + '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await r.text();
    expect(text).toMatch(/doodle_http_request_duration_seconds_bucket\{le="0.0001",route="predict",method="POST",status="200"\} \d+/);
    expect(text).toMatch(/doodle_ws_message_duration_seconds_count\{type="move"\} [1-9]/);
    expect(text).toMatch(/doodle_inference_stage_duration_seconds_count\{stage="preprocess"\} [1-9]/);
    expect(text).toMatch(/doodle_predictions_total\{digit="7",transport="http"\} [1-9]/);
    expect(text).toMatch(/doodle_errors_total\{kind="too_large",transport="http"\} 1/);
    expect(text).toMatch(/doodle_ws_connections \d/);
    expect(text).toContain(`doodle_model_info{version="${holder.version}"} 1`);
    expect(text).toMatch(/doodle_process_cpu_seconds_total/);
    expect(text).toMatch(new RegExp(`doodle_model_test_accuracy_ratio\\{version="${holder.version}"\\} 0\\.\\d+`));
    expect(text).toMatch(new RegExp(`doodle_model_created_timestamp_seconds\\{version="${holder.version}"\\} \\d{10}`));
  });
});

describe('model lifecycle', () => {
  it('refuses to start without a current model, with a hint', async () => {
    const empty = new ModelHolder(new ModelRegistry(join(tmp, 'no-models-here')));
    await expect(empty.load()).rejects.toThrow(/no current model in .*no-models-here → run `npm run train`/);
  });

  it('reloads when models/current changes, after a warm-up, and answers with the new version', async () => {
    holder.watch(100);
    const second = await addModel(2, 1);
    registry.promote(second);
    const deadline = Date.now() + 10_000;
    while (holder.version !== second && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(holder.version).toBe(second);
    const body = await (await post('/predict', JSON.stringify({ image: mnistImage(0) }))).json() as { model: string };
    expect(body.model).toBe(second);
    registry.promote(firstVersion);
    await holder.reload();
    expect(holder.version).toBe(firstVersion);
  }, 60_000);

  it('shuts down gracefully: WebSockets get 1001, new connections are refused', async () => {
    const other = await startServer({ host: '127.0.0.1', port: 0, holder, metrics: createMetrics(new Registry(), { defaultMetrics: false }), staticDirs: [] });
    const ws = new WebSocket(`ws://127.0.0.1:${other.port}/ws`);
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    await other.close();
    expect(await closed).toBe(1001);
    await expect(fetch(`http://127.0.0.1:${other.port}/v2/health/live`)).rejects.toThrow();
  });
});

describe('npm run serve --workers 2', () => {
  it('serves one port from two worker threads, sums their metrics, and stops cleanly on SIGTERM', async () => {
    let child: ReturnType<typeof spawn> | undefined;
    try {
      child = spawn(process.execPath, [cliPath('serve'), '--port', '0', '--host', '127.0.0.1', '--workers', '2',
        '--models', join(tmp, 'models')], { stdio: ['ignore', 'pipe', 'pipe'] });
      const proc = child;
      let out = '';
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "serving" line: ${out}`)), 30_000);
        const onData = (chunk: Buffer): void => {
          out += chunk.toString();
          const m = /serving model \S+ on http:\/\/127\.0\.0\.1:(\d+) with 2 worker threads/.exec(out);
          if (m) { clearTimeout(timer); resolve(Number(m[1])); }
        };
        proc.stdout!.on('data', onData);
        proc.stderr!.on('data', onData);
      });
      const url = `http://127.0.0.1:${port}`;
      const n = 40;
      for (let i = 0; i < n; i++) {
        const r = await fetch(url + '/predict', { method: 'POST', body: JSON.stringify({ image: mnistImage(i) }),
          headers: { 'content-type': 'application/json', connection: 'close' } });
        expect(r.status).toBe(200);
      }
      const text = await (await fetch(url + '/metrics')).text();
      const count = Number(/doodle_http_request_duration_seconds_count\{route="predict",method="POST",status="200"\} (\d+)/.exec(text)?.[1]);
      expect(count).toBe(n);
      expect(text).toMatch(/doodle_model_info\{version="[^"]+"\} 1\n/);
      const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
      proc.kill('SIGTERM');
      expect(await exit).toBe(0);
      expect(out).toContain('SIGTERM: shutting down');
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); // never leave a server behind
    }
  }, 60_000);
});
