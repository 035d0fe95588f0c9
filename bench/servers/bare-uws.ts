// The ceiling for bench/server.bench.ts: a bare uWebSockets.js server that does only the transport work of ours —
// POST /predict reads and JSON-parses the body, answers a constant; /ws echoes each message — with no preprocessing,
// no model. Run: node build/bench/servers/bare-uws.mjs <port>; prints "listening <port>".

import { loadUws } from '../../src/server/uws.js';

const uws = loadUws();
const port = Number(process.argv[2] ?? 0);
const answer = JSON.stringify({ digit: 0, probs: new Array(10).fill(0.1), model: 'bare' });
uws.App()
  .post('/predict', (res) => {
    let aborted = false;
    res.onAborted(() => { aborted = true; });
    const chunks: Buffer[] = [];
    res.onData((chunk, isLast) => {
      chunks.push(Buffer.from(new Uint8Array(chunk).slice()));
      if (!isLast) return;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { image: number[] };
      if (!aborted) res.cork(() => res.writeHeader('content-type', 'application/json').end(body.image.length === 784 ? answer : '{}'));
    });
  })
  .ws('/ws', { maxPayloadLength: 64 * 1024, message: (ws, message) => { ws.send(message, false); } })
  .listen('127.0.0.1', port, (listen) => {
    if (!listen) { console.error('cannot listen'); process.exit(1); }
    console.log(`listening ${uws.us_socket_local_port(listen as never)}`);
  });
