// 2,000 concurrent drawers against the real server (the bundled `serve` CLI as a child process, one thread, its
// default drawer limit): all connected at once, each draws a short digit (2 strokes, 24 points, `move`s of 4) over
// the WebSocket awaiting every answer; every drawer must be served and get a valid prediction for every message, and
// the final one must be what POST /predict answers for the same strokes. The 10,000-drawer load is the bench's
// (bench/load/drawers.ts). Bounded by the client's deadline (60 s), never a timed assertion.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { ModelRegistry } from '../../src/model/registry.js';
import { checkPrediction, digitDrawing, drawingMessages, runDrawers } from '../../bench/load/drawer-client.js';
import { addTrainedModel } from '../helpers/model.js';
import { spawnCli } from '../helpers/cli.js';
import { pollUntil } from '../helpers/poll.js';
import { tempDir } from '../helpers/temp.js';

const DRAWERS = 2000;
let serve: ChildProcess;
let port: number;

beforeAll(async () => {
  const models = join(tempDir('drawers'), 'models');
  await addTrainedModel(new ModelRegistry(models), { sizes: [784, 32, 10], epochs: 1, limit: 3000, augment: false, seed: 3 }, true);
  // The server's own environment, minus the settings this test chooses (a developer's PORT or WORKERS must not leak in).
  const { HOST: _h, PORT: _p, WORKERS: _w, ...env } = process.env;
  serve = spawnCli('serve', ['--models', models, '--host', '127.0.0.1', '--port', '0', '--workers', '1'], { env });
  let out = '';
  serve.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  serve.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
  port = Number((await pollUntil(() => /on http:\/\/127\.0\.0\.1:(\d+)/.exec(out), `the serving line of serve:\n${out}`, 60_000))[1]);
});

afterAll(() => {
  if (serve && serve.exitCode === null && serve.signalCode === null) serve.kill('SIGKILL'); // never leave a server behind
});

const shortDigit = (i: number) => digitDrawing(i, 24, 2);

it('checks answers the way the protocol states them, and draws digits of the asked size on the canvas', () => {
  const ok = '{"type":"prediction","seq":3,"digit":7,"probs":[0.01,0.01,0.01,0.01,0.01,0.01,0.01,0.91,0.01,0.01],"model":"m"}';
  expect(checkPrediction(ok, 3)).toBe('');
  expect(checkPrediction(ok, 4)).toBe('seq 3, expected 4');
  expect(checkPrediction(ok.replace('"digit":7', '"digit":6'), 3)).toMatch(/^digit 6 is not the argmax/);
  expect(checkPrediction(ok.replace('"digit":7', '"digit":null'), 3)).toBe('digit null');
  expect(checkPrediction(ok.replace('0.91', '0.5'), 3)).toMatch(/^probs sum to 0\.59/);
  expect(checkPrediction(ok.replace(',0.01]', ']'), 3)).toMatch(/^probs \[/);
  expect(checkPrediction('{"type":"error","code":"limit","message":"too many"}', 3)).toBe('error limit: too many');
  expect(checkPrediction('{"type":"pred', 3)).toMatch(/^not JSON/);
  for (let i = 0; i < 20; i++) {
    const d = digitDrawing(i);
    expect(d.length).toBe(3);
    // 300 points, plus each later stroke repeating its predecessor's last point.
    expect(d.reduce((a, s) => a + s.length / 2, 0)).toBe(302);
    expect(d.flat().every((v) => v >= 0 && v <= 280)).toBe(true);
    expect(drawingMessages(d).length).toBe(3 * 2 + d.reduce((a, s) => a + Math.ceil((s.length / 2 - 1) / 4), 0) + 1);
  }
});

it(`serves ${DRAWERS} concurrent drawers, each getting a valid prediction for every message`, async () => {
  const r = await runDrawers({ port, drawers: DRAWERS, batch: 250, drawing: shortDigit, deadlineMs: 60_000 });
  // One comparison of every count, so a failure shows them all (e.g. "refused: 1744" for a 256-drawer limit).
  expect({ served: r.served, refused: r.refused, connectFailures: r.connectFailures, complete: r.complete, errors: r.errors,
    timedOut: r.timedOut, predictions: r.predictions, firstFailures: r.failures.slice(0, 3) })
    .toEqual({ served: DRAWERS, refused: 0, connectFailures: 0, complete: DRAWERS, errors: 0, timedOut: false,
      predictions: r.expectedPredictions, firstFailures: [] });
  expect(r.expectedPredictions).toBe(DRAWERS * 11); // per stroke begin + 3 moves + end, twice, then predict

  // Each drawer's last answer is the prediction of its whole drawing: the same as POST /predict of its strokes
  // (a sample of 40 drawers, every digit).
  for (const f of r.finals.filter((_, k) => k % 50 === 0)) {
    const strokes = f.drawing.map((s) => Array.from({ length: s.length / 2 }, (_, k) => [s[2 * k]!, s[2 * k + 1]!]));
    const res = await fetch(`http://127.0.0.1:${port}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ strokes, width: 280, height: 280, brush: 18 }) });
    expect(res.status).toBe(200);
    const http = await res.json() as { digit: number; probs: number[] };
    expect(f.digit, `drawer ${f.drawer}`).toBe(http.digit);
    for (let k = 0; k < 10; k++) expect(Math.abs(f.probs[k]! - http.probs[k]!), `drawer ${f.drawer}, p[${k}]`).toBeLessThanOrEqual(0.02);
  }
}, 90_000);
