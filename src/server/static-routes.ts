// The web client's static files (read once at start-up: static.ts) and the fallbacks for everything else: a known
// path with the wrong method → 405 with Allow, labelled with its route; an unknown one → 404. Registered last, as
// uWS's catch-all.

import { HttpError, send } from './http.js';
import { loadStatic, type StaticFile } from './static.js';
import type { RouteContext } from './routes.js';
import type { Route } from '../metrics/metrics.js';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
const GET = 'GET, HEAD';
const KNOWN: Array<[RegExp, Route, string]> = [
  [/^\/predict$/, 'predict', 'POST'], [/^\/feedback$/, 'feedback', 'POST'], [/^\/v2\/models\/[^/]+\/infer$/, 'v2_infer', 'POST'],
  [/^\/v2\/health\/(live|ready)$/, 'health', GET], [/^\/v2(\/models\/[^/]+(\/ready)?)?$/, 'v2_meta', GET],
  [/^\/metrics$/, 'metrics', GET], [/^\/ws$/, 'ws', 'GET'],
];

export function staticRoutes({ app, http }: RouteContext, dirs: readonly string[]): void {
  const files = loadStatic(dirs);
  app.any('/*', (res, req) => {
    const raw = req.getMethod().toUpperCase();
    // The metric label takes only known methods: a client inventing methods must not invent series.
    const method = KNOWN_METHODS.has(raw) ? raw : 'OTHER';
    const url = req.getUrl();
    const readable = method === 'GET' || method === 'HEAD';
    const file: StaticFile | undefined = readable ? files.get(url) : undefined;
    const known = KNOWN.find(([re]) => re.test(url)) ?? (files.has(url) ? [/./, 'static', GET] as const : undefined);
    http.handle(file ? 'static' : known?.[1] ?? 'not_found', method, res, (ex) => {
      if (file) return send(ex, 200, file.body, file.contentType, { 'cache-control': 'no-cache' });
      if (known) {
        throw new HttpError(405, 'method_not_allowed', `${raw.slice(0, 20)} is not allowed on ${url}; use ${known[2]}`, { allow: known[2] });
      }
      throw new HttpError(404, 'not_found', `no such endpoint: ${raw.slice(0, 20)} ${url.slice(0, 200)}`);
    });
  });
}
