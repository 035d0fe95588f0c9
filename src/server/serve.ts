// Runs the server for real: metrics registry, model holder (load, watch, SIGHUP reload), listen, and graceful
// shutdown on SIGINT/SIGTERM. Shared by `npm run serve` and `npm start`.

import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { Registry } from '../model/registry.js';
import { createMetrics } from '../metrics/metrics.js';
import { ModelHolder } from './model-holder.js';
import { startServer, type RunningServer } from './app.js';

export interface ServeOptions {
  readonly port: number;
  readonly host: string;
  readonly modelsDir: string;
  readonly log: (line: string) => void;
}

/** The web client's folders: web/ (sources) and build/web/ (the bundle), found from the project root. */
export function webDirs(): string[] {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return [join(dir, 'web'), join(dir, 'build', 'web')];
}

export async function serve(o: ServeOptions): Promise<RunningServer> {
  const metrics = createMetrics();
  const holder = new ModelHolder(new Registry(o.modelsDir), {
    onSwap: (version, previous) => {
      metrics.modelLoads.inc({ result: 'ok' });
      if (previous !== undefined) o.log(`model ${previous} → ${version}`);
    },
    onError: (err) => {
      metrics.modelLoads.inc({ result: 'error' });
      o.log(`model reload failed, still serving ${holder.version}: ${err.message}`);
    },
  });
  await holder.load();
  holder.watch();
  const server = await startServer({ host: o.host, port: o.port, holder, metrics, staticDirs: webDirs() });
  const shown = o.host === '0.0.0.0' ? 'localhost' : o.host;
  o.log(`serving model ${holder.version} on http://${shown}:${server.port} (Ctrl-C stops)`);

  process.on('SIGHUP', () => void holder.reload());
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    o.log(`${signal}: shutting down`);
    holder.stop();
    void server.close().then(() => { process.exitCode = 0; });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return server;
}
