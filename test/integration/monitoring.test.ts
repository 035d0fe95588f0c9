// The monitoring files tested against the real thing: promtool checks prometheus.yml, the rules and their unit tests;
// then the real server (a tiny model trained here on real MNIST, HTTP + WebSocket traffic flowing) is scraped by a
// real Prometheus run from the project's own prometheus.yml (only targets, rule path and evaluation interval
// rewritten), and every PromQL expression of the dashboard and of rules.yml must return data.
// Static lint of the dashboard: metric names exist in the server's /metrics, latency panels use `_bucket` and `le`,
// datasource uid matches the provisioning file. Needs /usr/bin/prometheus (Debian's 2.42): fails without it in CI,
// skips the Prometheus parts (saying so in the test names) elsewhere.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { Registry } from 'prom-client';
import { ModelRegistry } from '../../src/model/registry.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { ModelHolder } from '../../src/server/model-holder.js';
import { startServer, type RunningServer } from '../../src/server/app.js';
import { webDirs } from '../../src/server/serve.js';
import { addTrainedModel, mnistSplit } from '../helpers/model.js';
import { freePort } from '../helpers/ports.js';
import { pollUntil } from '../helpers/poll.js';
import { tempDir } from '../helpers/temp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const HAVE_PROMETHEUS = existsSync(PROMETHEUS) && existsSync(PROMTOOL);
// In CI a missing Prometheus is a failure (.ci/run installs it); on a developer machine the tests that need it skip.
const SKIP_PROMETHEUS = !HAVE_PROMETHEUS && !process.env.CI;
const NEEDS = SKIP_PROMETHEUS ? ' (skipped: /usr/bin/prometheus not installed; `apt-get install prometheus`)' : '';
const run = promisify(execFile);

// ---- the files under test ---------------------------------------------------------------------------------------

interface Target { expr: string; refId: string; format?: string; datasource?: { uid?: string } }
interface Panel { id: number; type: string; title: string; datasource?: { type?: string; uid?: string }; targets?: Target[]; panels?: Panel[] }
interface Dashboard { uid?: string; panels: Panel[]; templating?: { list: unknown[] } }
interface Rule { record?: string; alert?: string; expr: string }

const dashboard = JSON.parse(readFileSync(join(ROOT, 'grafana/dashboards/doodle-digits.json'), 'utf8')) as Dashboard;
const panels: Panel[] = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
const rules: Rule[] = (parseYaml(readFileSync(join(ROOT, 'prometheus/rules.yml'), 'utf8')) as { groups: Array<{ rules: Rule[] }> })
  .groups.flatMap((g) => g.rules);
const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
const datasourceUid = (parseYaml(readFileSync(join(ROOT, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as
  { datasources: Array<{ uid: string; type: string }> }).datasources.find((d) => d.type === 'prometheus')?.uid;

/**
 * Grafana's built-in variables → what Grafana would send for a 5-minute range at a 1 s scrape, except that the rate
 * window is 15 s rather than Grafana's 4 s minimum: rate() needs two samples inside it, and scrapes here have just begun.
 */
const GRAFANA_VARS: Record<string, string> = { __rate_interval: '15s', __interval: '1s', __range: '1m' };
function substitute(expr: string): string {
  const out = expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => {
    const v = GRAFANA_VARS[name];
    if (v === undefined) throw new Error(`unknown Grafana variable ${whole} in ${expr}`);
    return v;
  });
  return out;
}

const dashboardExprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr })));

/** Alert expressions are `signal <op> number` or `absent(signal)`: the signal must have data on a healthy server. */
function alertSignal(expr: string): string {
  const e = expr.trim();
  const absent = /^absent\((.*)\)$/s.exec(e);
  if (absent) return absent[1]!;
  const cmp = /^(.*\S)\s*(?:>=|<=|==|!=|>|<)\s*-?[\d.]+(?:e-?\d+)?$/s.exec(e);
  if (cmp) return cmp[1]!;
  throw new Error(`alert expression of an unknown shape (make it "signal > threshold" or "absent(signal)"): ${expr}`);
}

/**
 * Metric names in a PromQL expression. A small lexer, enough for this project's expressions: drop strings, label
 * matchers `{…}`, ranges `[…]` and grouping clauses `by (…)`…; what remains that is an identifier not followed by
 * `(` (a function) and not a keyword is a metric name.
 */
function metricNames(expr: string): string[] {
  const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const m of bare.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    if (m[2] === undefined && !KEYWORDS.has(m[1]!.toLowerCase())) names.push(m[1]!);
  }
  return names;
}

// ---- the real server, a tiny model, traffic ---------------------------------------------------------------------


let tmp: string;
let holder: ModelHolder | undefined;
let server: RunningServer | undefined;
let base: string;
let metricsText: string;
let traffic: ReturnType<typeof startTraffic> | undefined;
let prometheus: ChildProcess | undefined;
let promBase: string;
let promLog = '';

/** Trains a small MLP for one epoch on 5000 real MNIST images and makes it the registry's current model (with
 * trainingSeconds in metrics.json, as `npm run train` writes it: the server exports it as a gauge). */
const registerModel = async (registry: ModelRegistry): Promise<void> => {
  await addTrainedModel(registry, { sizes: [784, 32, 10], epochs: 1, limit: 5000, augment: false, seed: 1 }, true);
};

/**
 * Keeps every route, WebSocket message type and a few error kinds busy every 100 ms, so that each rate() window
 * Prometheus sees has increments in it. One invalid WS message per second stays under the abuse limit.
 */
function startTraffic(): { stop: () => Promise<void>; ticks: () => number } {
  const images = mnistSplit('test').images;
  const image = (k: number) => Array.from(images.subarray(k * 784, (k + 1) * 784), (v) => v / 255);
  const ws = new WebSocket(`ws://127.0.0.1:${server!.port}/ws`);
  ws.on('message', () => {});
  ws.on('error', () => {});
  const opened = new Promise<void>((resolve) => ws.once('open', () => {
    ws.send(JSON.stringify({ type: 'hello', width: 280, height: 280, brush: 18 }));
    resolve();
  }));
  let stopped = false;
  let done = 0;
  const post = (path: string, body: string) => fetch(base + path, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
    .then((r) => r.arrayBuffer());
  const loop = (async () => {
    await opened;
    for (let tick = 0; !stopped; tick++) {
      await Promise.all([
        post('/predict', JSON.stringify({ image: image(tick % 100) })),
        post('/v2/models/mnist/infer', JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: image((tick + 1) % 100) }] })),
        fetch(base + '/v2/health/ready').then((r) => r.arrayBuffer()),
        fetch(base + '/v2').then((r) => r.arrayBuffer()),
        fetch(base + '/index.html').then((r) => r.arrayBuffer()),
        fetch(base + '/no-such-page').then((r) => r.arrayBuffer()),
        tick % 5 === 0 ? post('/predict', '{nope') : undefined,
      ]);
      if (ws.readyState === WebSocket.OPEN) {
        const x = 60 + (tick % 10) * 10;
        ws.send(JSON.stringify({ type: 'begin', x, y: 40 }));
        ws.send(JSON.stringify({ type: 'move', points: [x, 120, x, 240] }));
        ws.send(JSON.stringify({ type: 'end' }));
        ws.send(JSON.stringify({ type: 'predict' }));
        if (tick % 10 === 0) ws.send('{nope');
        if (tick % 10 === 5) ws.send(JSON.stringify({ type: 'clear' }));
        if (tick % 20 === 10) ws.send(JSON.stringify({ type: 'hello', width: 280, height: 280, brush: 18 }));
      }
      done++;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    ticks: () => done,
    stop: async () => {
      stopped = true;
      await loop.catch(() => {});
      ws.close();
    },
  };
}

/** The project's prometheus.yml with only what must change to run here: targets, rule file path, evaluation interval. */
function testConfig(serverPort: number, promPort: number): string {
  const cfg = parseYaml(readFileSync(join(ROOT, 'prometheus.yml'), 'utf8')) as {
    global: Record<string, unknown>; rule_files: string[];
    scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
  };
  // Recording rules need a couple of evaluations within the test's few seconds.
  cfg.global.evaluation_interval = '1s';
  cfg.rule_files = cfg.rule_files.map((f) => join(ROOT, f));
  const targets: Record<string, string> = { 'doodle-digits': `127.0.0.1:${serverPort}`, prometheus: `127.0.0.1:${promPort}` };
  for (const job of cfg.scrape_configs) {
    const target = targets[job.job_name];
    if (target === undefined) throw new Error(`prometheus.yml: job ${job.job_name} has no test target`);
    job.static_configs = [{ targets: [target] }];
  }
  return stringifyYaml(cfg);
}

async function startPrometheus(serverPort: number): Promise<void> {
  const port = await freePort();
  promBase = `http://127.0.0.1:${port}`;
  const config = join(tmp, 'prometheus.yml');
  writeFileSync(config, testConfig(serverPort, port));
  prometheus = spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${join(tmp, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--storage.tsdb.retention.time=1h', '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer) => { promLog = (promLog + String(d)).slice(-4000); };
  prometheus.stdout!.on('data', keep);
  prometheus.stderr!.on('data', keep);
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (prometheus.exitCode !== null) throw new Error(`prometheus exited with ${prometheus.exitCode}:\n${promLog}`);
    const ok = await fetch(`${promBase}/-/ready`).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`prometheus not ready within 20 s:\n${promLog}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface QueryResult { status: string; error?: string; data?: { resultType: string; result: unknown[] } }
const query = async (expr: string): Promise<QueryResult> =>
  (await fetch(`${promBase}/api/v1/query?${new URLSearchParams({ query: expr })}`)).json() as Promise<QueryResult>;

beforeAll(async () => {
  tmp = tempDir('monitoring');
  const registry = new ModelRegistry(join(tmp, 'models'));
  await registerModel(registry);
  const metrics = createMetrics(new Registry());
  // Wired as src/server/serve.ts does, so doodle_model_loads_total exists.
  holder = new ModelHolder(registry, { onSwap: () => metrics.modelLoads.inc({ result: 'ok' }) });
  await holder.load();
  server = await startServer({ host: '127.0.0.1', port: 0, holder, metrics, staticDirs: webDirs() });
  base = `http://127.0.0.1:${server.port}`;
  traffic = startTraffic();
  if (!SKIP_PROMETHEUS) await startPrometheus(server.port);
  // A few whole ticks of traffic (each one touches every route, message type and error kind): every counter exists.
  await pollUntil(() => traffic!.ticks() >= 3, 'three ticks of traffic', 30_000);
  metricsText = await (await fetch(base + '/metrics')).text();
}, 90_000);

afterAll(async () => {
  await traffic?.stop();
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((r) => prometheus!.once('exit', r));
    prometheus.kill('SIGTERM');
    const timer = setTimeout(() => prometheus!.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  await server?.close();
  holder?.stop();
}, 20_000);

// ---- tests ------------------------------------------------------------------------------------------------------

describe('promtool', () => {
  it(`is installed (required in CI)${NEEDS}`, () => {
    if (SKIP_PROMETHEUS) return;
    expect(existsSync(PROMETHEUS), `${PROMETHEUS} is missing: .ci/run installs Debian's prometheus`).toBe(true);
    expect(existsSync(PROMTOOL), `${PROMTOOL} is missing`).toBe(true);
  });

  it.skipIf(SKIP_PROMETHEUS)(`check config, check rules and the rules' unit tests pass${NEEDS}`, async () => {
    for (const args of [['check', 'config', 'prometheus.yml'], ['check', 'rules', 'prometheus/rules.yml'], ['test', 'rules', 'prometheus/rules.test.yml']]) {
      const r = await run(PROMTOOL, args, { cwd: ROOT }).catch((err: { stdout?: string; stderr?: string; code?: number }) => err);
      expect('code' in r ? r.code : 0, `promtool ${args.join(' ')}:\n${r.stdout}${r.stderr}`).toBe(0);
    }
  });

  it('prometheus.yml scrapes the server at localhost:3000/metrics every second and loads the rules', () => {
    const cfg = parseYaml(readFileSync(join(ROOT, 'prometheus.yml'), 'utf8')) as {
      rule_files: string[]; scrape_configs: Array<{ job_name: string; scrape_interval?: string; metrics_path?: string; static_configs: Array<{ targets: string[] }> }>;
    };
    const job = cfg.scrape_configs.find((j) => j.job_name === 'doodle-digits');
    expect(job).toMatchObject({ scrape_interval: '1s', static_configs: [{ targets: ['localhost:3000'] }] });
    expect(job?.metrics_path ?? '/metrics').toBe('/metrics');
    expect(cfg.scrape_configs.map((j) => j.job_name)).toContain('prometheus');
    expect(cfg.rule_files).toEqual(['prometheus/rules.yml']);
  });
});

describe('dashboard lint', () => {
  it('has a stable uid, and every panel and target uses the provisioned datasource', () => {
    expect(dashboard.uid).toBe('doodle-digits');
    expect(datasourceUid).toBeTruthy();
    for (const p of panels) {
      expect(p.datasource?.uid, `panel "${p.title}"`).toBe(datasourceUid);
      for (const t of p.targets ?? []) expect(t.datasource?.uid ?? datasourceUid, `panel "${p.title}" ${t.refId}`).toBe(datasourceUid);
    }
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
  });

  it('latency quantiles come from `_bucket` series aggregated by `le`; the heatmap reads bucket rates', () => {
    const quantilePanels = panels.filter((p) => (p.targets ?? []).some((t) => t.expr.includes('histogram_quantile')));
    expect(quantilePanels.length).toBeGreaterThanOrEqual(3);
    for (const p of panels) {
      for (const t of p.targets ?? []) {
        if (!t.expr.includes('histogram_quantile')) continue;
        expect(t.expr, `panel "${p.title}" ${t.refId}`).toMatch(/_bucket\b/);
        expect(t.expr, `panel "${p.title}" ${t.refId}`).toMatch(/by \([^)]*\ble\b/);
      }
    }
    for (const p of panels.filter((q) => q.type === 'heatmap')) {
      for (const t of p.targets ?? []) {
        expect(t.format, `panel "${p.title}"`).toBe('heatmap');
        expect(t.expr).toMatch(/_bucket\b/);
        expect(t.expr).toMatch(/by \(le\)/);
      }
    }
  });

  it('every metric in the dashboard and the rules is exported by the real server (or recorded by a rule)', () => {
    const exported = new Set(metricsText.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => /^[\w:]+/.exec(l)![0]));
    const synthetic = new Set(['up']); // added by Prometheus to every scrape
    const exprs = [...dashboardExprs, ...rules.map((r) => ({ where: r.record ?? r.alert!, expr: r.expr }))];
    const seen = new Set<string>();
    for (const { where, expr } of exprs) {
      const names = metricNames(expr);
      expect(names.length, `${where}: no metric in ${expr}`).toBeGreaterThan(0);
      for (const name of names) {
        seen.add(name);
        expect(exported.has(name) || recorded.has(name) || synthetic.has(name), `${where}: ${name} is not exported by the server`).toBe(true);
      }
    }
    // The lexer itself: it must find the histogram and rule names, not functions or labels.
    expect(metricNames('histogram_quantile(0.99, sum by (le, route) (rate(a_bucket{route="x"}[1m]))) / b:c:d offset 5m'))
      .toEqual(['a_bucket', 'b:c:d']);
    for (const name of ['doodle_http_request_duration_seconds_bucket', 'doodle_ws_message_duration_seconds_bucket',
      'doodle_inference_stage_duration_seconds_bucket', 'doodle_predictions_total', 'doodle_errors_total', 'doodle_ws_connections',
      'doodle_model_info', 'doodle_model_test_accuracy_ratio', 'doodle_model_created_timestamp_seconds',
      'doodle_model_training_duration_seconds', 'doodle_process_cpu_seconds_total', 'doodle_process_resident_memory_bytes']) {
      expect(seen, `the dashboard or rules should show ${name}`).toContain(name);
    }
  });
});

describe.skipIf(SKIP_PROMETHEUS)(`a real Prometheus scraping the real server${NEEDS}`, () => {
  const all = () => [
    ...dashboardExprs.map(({ where, expr }) => ({ where, expr: substitute(expr) })),
    ...rules.map((r) => ({ where: r.record ?? `alert ${r.alert} (signal)`, expr: r.alert ? alertSignal(r.expr) : r.expr })),
  ];

  it('scrapes the server (up == 1) and evaluates every rule without error', async () => {
    const deadline = Date.now() + 20_000;
    let rulesState: Array<{ name: string; health: string; lastError?: string }> = [];
    for (;;) {
      const body = await (await fetch(`${promBase}/api/v1/rules`)).json() as { data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> } };
      rulesState = body.data.groups.flatMap((g) => g.rules);
      const up = await query('up{job="doodle-digits"}');
      if (rulesState.length === rules.length && rulesState.every((r) => r.health === 'ok')
        && (up.data?.result[0] as { value: [number, string] } | undefined)?.value[1] === '1') break;
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const targets = await (await fetch(`${promBase}/api/v1/targets`)).json() as { data: { activeTargets: Array<{ labels: { job: string }; health: string; lastError: string }> } };
    const doodle = targets.data.activeTargets.find((t) => t.labels.job === 'doodle-digits');
    expect(doodle, 'no doodle-digits target').toMatchObject({ health: 'up', lastError: '' });
    expect(rulesState.map((r) => r.name).sort()).toEqual(rules.map((r) => r.record ?? r.alert).sort());
    for (const r of rulesState) expect(r.health, `${r.name}: ${r.lastError ?? ''}`).toBe('ok');
    const up = await query('up{job="doodle-digits"}');
    expect(up.data?.result).toMatchObject([{ value: [expect.any(Number), '1'] }]);
  });

  it('every dashboard and rule expression returns data', async () => {
    const exprs = all();
    expect(exprs.length).toBeGreaterThan(30);
    // Poll until every expression has data (recorded series need rule evaluations after ≥ 2 scrapes), bounded.
    const deadline = Date.now() + 30_000;
    let results: QueryResult[] = [];
    for (;;) {
      results = await Promise.all(exprs.map((e) => query(e.expr)));
      if (results.every((r) => r.status === 'success' && (r.data?.result.length ?? 0) > 0) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    exprs.forEach((e, i) => {
      const r = results[i]!;
      expect(r.status, `${e.where}: ${e.expr}\n${r.error ?? ''}`).toBe('success');
      expect(r.data?.result.length, `${e.where}: no data for ${e.expr}`).toBeGreaterThan(0);
    });
  }, 45_000);

  it('alert expressions evaluate, and the health alerts are quiet on a healthy server', async () => {
    for (const r of rules.filter((x) => x.alert)) {
      const res = await query(r.expr);
      expect(res.status, `${r.alert}: ${res.error ?? ''}`).toBe('success');
      if (r.alert === 'DoodleNoModelLoaded' || r.alert === 'DoodleTargetDown') expect(res.data?.result, r.alert).toEqual([]);
    }
  });
});
