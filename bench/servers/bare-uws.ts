// The ceiling for bench/server.bench.ts: a bare uWebSockets.js server that does only the transport work of ours —
// POST /predict reads the body and JSON-parses it (an application/octet-stream body is only read), answers a
// constant; /ws echoes each message; /ws-predict JSON-parses each message and answers a fixed prediction-shaped
// message with a per-connection seq (the ceiling for our stroke protocol; bench/load/drawer-client.ts checks it like
// ours) — with no preprocessing, no model.
// Run: node build/bench/servers/bare-uws.mjs <port>; prints "listening <port>".

import { loadUws } from '../../src/server/uws.js';

const uws = loadUws();
const port = Number(process.argv[2] ?? 0);
const answer = JSON.stringify({ digit: 0, probs: new Array(10).fill(0.1), model: 'bare' });
const fixed = JSON.stringify({ digit: 7, probs: [0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.91, 0.01, 0.01], model: 'bare' }).slice(1);
uws.App()
  .post('/predict', (res, req) => {
    const binary = req.getHeader('content-type') === 'application/octet-stream';
    let aborted = false;
    res.onAborted(() => { aborted = true; });
    const chunks: Buffer[] = [];
    res.onData((chunk, isLast) => {
      chunks.push(Buffer.from(new Uint8Array(chunk).slice()));
      if (!isLast) return;
      const bytes = Buffer.concat(chunks);
      const ok = binary ? bytes.length === 784 * 4 : (JSON.parse(bytes.toString('utf8')) as { image: number[] }).image.length === 784;
      if (!aborted) res.cork(() => res.writeHeader('content-type', 'application/json').end(ok ? answer : '{}'));
    });
  })
  .ws('/ws', { maxPayloadLength: 64 * 1024, message: (ws, message) => { ws.send(message, false); } })
  .ws<{ seq: number }>('/ws-predict', {
    maxPayloadLength: 64 * 1024,
    idleTimeout: 120,
    open: (ws) => { ws.getUserData().seq = 0; },
    message: (ws, message) => {
      const m = JSON.parse(Buffer.from(message).toString('utf8')) as { type: string };
      ws.send(typeof m.type === 'string' ? `{"type":"prediction","seq":${++ws.getUserData().seq},${fixed}` : '{"type":"error"}', false);
    },
  })
  .listen('127.0.0.1', port, (listen) => {
    if (!listen) { console.error('cannot listen'); process.exit(1); }
    console.log(`listening ${uws.us_socket_local_port(listen as never)}`);
  });
