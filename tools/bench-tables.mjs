// Regenerates the README's benchmark section from bench/results/bench.json (written by `npm run bench`) and, for the
// server, bench/results/server.json beside it (written by `npm run bench:server` and by `npm run bench`'s server part,
// so never older than bench.json's copy), between the markers <!-- bench:start --> and <!-- bench:end -->, so the
// tables always match committed results files.
// Usage: node tools/bench-tables.mjs [--check] [results.json]   (--check: exit 1 if the README differs, write nothing)

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const file = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? join(root, 'bench', 'results', 'bench.json');
const b = JSON.parse(readFileSync(file, 'utf8'));
const p = b.parts;
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const int = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const table = (head, rows) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const out = [];
out.push(`Measured by \`npm run bench\` on ${b.machine.cpu} (${b.machine.cores} cores), Node ${b.node}, commit ${b.commit}, ${b.date.slice(0, 10)}` +
  ` — [bench/results/bench.json](bench/results/bench.json). Reproduce: \`npm ci && npm start\` (for a model), then \`npm run bench\`` +
  ` (~5 min; \`-- --quick\` for a 1-minute smoke run, \`-- --compare old.json\` for ratios). The machine is shared: absolute` +
  ` figures move by ±30% from minute to minute; ratios measured in the same run much less.`);
if (p.kernels) {
  out.push('\n### Kernels (single thread, GFLOP/s; the ceiling is the in-run SIMD mul+add probe)\n');
  out.push(table(['M,K,N', 'NN (min–max)', 'NT', 'TN', '% of ceiling', 'wasm scalar', 'JS loop', 'NN / JS'],
    p.kernels.matmul.map((r) => [`${r.M},${r.K},${r.N}`, `${f1(r.NN.gflops)} (${f1(r.flops / (r.NN.maxMs * 1e6))}–${f1(r.flops / (r.NN.minMs * 1e6))})`,
      f1(r.NT.gflops), f1(r.TN.gflops), `${Math.round((100 * r.NN.gflops) / r.simdCeiling.gflops)}%`, f2(r.wasmScalar.gflops), f2(r.js.gflops), `${f1(r.ratioNNOverJs)}×`])));
  out.push('\nFirst layer (784→256) on real MNIST test images, dense vs zeros skipped:\n');
  out.push(table(['product', 'batch', 'input non-zeros', 'dense ms', 'zeros skipped ms', 'speed-up'],
    p.kernels.sparseFirstLayer.map((r) => [r.product, r.batch, `${(100 * r.density).toFixed(1)}%`, r.dense.medianMs.toFixed(3), r.sparse.medianMs.toFixed(3), `${f2(r.speedup)}×`])));
}
if (p.train || p.tfjs) {
  out.push('\n### Training: one epoch of W2 (784-256-128-10, batch 128, SGD momentum 0.9, lr 0.05, 60k images)\n');
  const rows = (p.train?.variants ?? []).map((v) => [v.variant, f2(v.secondsPerEpoch), int(v.samplesPerSec), `${(100 * v.testAccuracy).toFixed(2)}%`]);
  const tt = p.tfjs?.training;
  if (tt) rows.push([`TensorFlow.js-WASM, same workload${tt.secondsPer60kExtrapolated ? ' (extrapolated)' : ''}`, f2(tt.tfjs.secondsPer60k), int(tt.tfjs.samplesPerSec), `${(100 * tt.tfjs.testAccuracy).toFixed(2)}%`]);
  out.push(table(['variant', 's/epoch', 'samples/s', 'test accuracy after 1 epoch'], rows));
}
if (p.inference) {
  const r = p.inference, o = r.onnxRuntime;
  out.push(`\n### Inference in-process (no transport), beside ONNX Runtime ${o.version} and TensorFlow.js-WASM on the same model\n`);
  const rows = [['ours', f1(r.batch1.p50Us), f1(r.batch1.p99Us), int(r.throughput.batch64SamplesPerSec)],
    ['ONNX Runtime, 1 thread', f1(o.threads1.batch1P50Us), f1(o.threads1.batch1P99Us), int(o.threads1.batch64SamplesPerSec)],
    ['ONNX Runtime, 2 threads', f1(o.threads2.batch1P50Us), f1(o.threads2.batch1P99Us), int(o.threads2.batch64SamplesPerSec)]];
  const t = p.tfjs?.inference;
  if (t) rows.push(['TensorFlow.js-WASM (its own run)', f1(t.batch1.tfjs.p50Us), f1(t.batch1.tfjs.p99Us), int(t.batch64.tfjsImagesPerSec)]);
  out.push(table(['', 'batch-1 p50 µs', 'batch-1 p99 µs', 'batch-64 samples/s'], rows));
  const su = r.strokeUpdate;
  out.push(`\nOne stroke update (extend 4 points + normalise + forward, p50): preprocess ${f1(su.preprocessP50Us)} µs + forward ` +
    (su.forwardOneP50Us !== undefined ? `${f1(su.forwardOneP50Us)} µs (one-row, the server's path; batched B = 1: ${f1(su.forwardP50Us)} µs).` : `${f1(su.forwardP50Us)} µs.`));
}
const serverFile = join(dirname(file), 'server.json');
const server = existsSync(serverFile) ? JSON.parse(readFileSync(serverFile, 'utf8')) : p.server;
if (server) {
  const s = server;
  if (s.targets) {
    // Issue 10's table, rows as bench/server.bench.ts printed them (one rendering of the figures, the bench's).
    out.push(`\n### Server targets (issue 10): today | new | target\n`);
    const load = s.loadAverage ? ` (load average ${f1(s.loadAverage.start)}–${f1(s.loadAverage.end)} on ${s.machine.cores} cores)` : '';
    out.push(`Measured by \`npm run bench:server\` on ${s.date.slice(0, 10)}, commit ${s.commit}${load} ([bench/results/server.json](bench/results/server.json));` +
      ` today: ${s.targets.todaySource}. Ratios are against the bare uWebSockets.js server of the same run.\n`);
    out.push(table(['measure', 'today', 'new', 'target'], s.targets.table.map((r) => [r.measure, r.today, r.new, r.target])));
  }
  out.push(`\n### Server (${s.httpClient}; server on core 0, load on core 1; ${s.seconds} s per row; the bare uWebSockets.js server is the transport's ceiling)\n`);
  out.push(table(['POST /predict connections', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'errors', 'bare uWS req/s', 'ours / bare'],
    s.rows.filter((r) => r.scenario === 'http_predict').map((r) => [r.connections, int(r.ours.requestsPerSec), f2(r.ours.p50Ms), f2(r.ours.p90Ms), f2(r.ours.p99Ms), r.ours.errors, int(r.bare.requestsPerSec), `${f2(r.ours.requestsPerSec / r.bare.requestsPerSec)}×`])));
  out.push('');
  const ws = s.rows.filter((r) => r.scenario === 'ws_strokes');
  if (ws.some((r) => r.barePredict)) {
    out.push(table(['WebSocket drawers', 'predictions/s', 'p50 ms', 'p90 ms', 'p99 ms', 'errors', 'bare uWS echo msg/s', 'bare parse + fixed answer msg/s', 'ours / bare answer'],
      ws.map((r) => [r.drawers, int(r.ours.messagesPerSec), f2(r.ours.p50Ms), f2(r.ours.p90Ms), f2(r.ours.p99Ms), r.ours.errors, int(r.bareEcho.messagesPerSec), int(r.barePredict.messagesPerSec), `${f2(r.ours.messagesPerSec / r.barePredict.messagesPerSec)}×`])));
  } else {
    out.push(table(['WebSocket drawers', 'predictions/s', 'p50 ms', 'p90 ms', 'p99 ms', 'errors', 'bare uWS echo msg/s', 'ours / bare'],
      ws.map((r) => [r.drawers, int(r.ours.messagesPerSec), f2(r.ours.p50Ms), f2(r.ours.p90Ms), f2(r.ours.p99Ms), r.ours.errors, int(r.bareEcho.messagesPerSec), `${f2(r.ours.messagesPerSec / r.bareEcho.messagesPerSec)}×`])));
  }
  const bin = s.rows.filter((r) => r.scenario === 'http_predict_binary');
  if (bin.length > 0) {
    out.push('');
    out.push(table(['POST /predict 784 float32, connections', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'bare uWS req/s (reads the body)', 'ours / bare'],
      bin.map((r) => [r.connections, int(r.ours.requestsPerSec), f2(r.ours.p50Ms), f2(r.ours.p99Ms), r.ours.errors, int(r.bare.requestsPerSec), `${f2(r.ours.requestsPerSec / r.bare.requestsPerSec)}×`])));
  }
}
const readme = join(root, 'README.md');
const text = readFileSync(readme, 'utf8');
const start = text.indexOf('<!-- bench:start -->'), end = text.indexOf('<!-- bench:end -->');
if (start < 0 || end < start) { console.error('error: README.md has no <!-- bench:start --> … <!-- bench:end --> markers'); process.exit(1); }
const next = text.slice(0, start) + '<!-- bench:start -->\n' + out.join('\n') + '\n' + text.slice(end);
if (check) {
  if (next !== text) { console.error(`error: README's benchmark section does not match ${file} → run \`node tools/bench-tables.mjs\``); process.exit(1); }
  console.log(`README benchmark section matches ${file}`);
} else {
  writeFileSync(readme, next);
  console.log(`README benchmark section regenerated from ${file}`);
}
