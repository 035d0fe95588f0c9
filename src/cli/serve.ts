// `npm run serve -- [--port N] [--host H] [--models DIR]`: serve the registry's current model on HTTP and WebSocket
// (PORT and HOST from the environment are the defaults). SIGHUP reloads the model; SIGINT/SIGTERM shut down
// gracefully. Only cli/ sets the exit code.

import { badValue, EXIT_CODES, parseFlags, runCli } from './args.js';
import { serve, runAsServeWorker } from '../server/serve.js';
import { readEnvironment } from '../config.js';

const USAGE = `Usage: npm run serve -- [flags]
  --port <n>      port (default $PORT or 3000; 0 picks a free one)
  --host <addr>   address to bind (default $HOST or 127.0.0.1; 0.0.0.0 for every interface)
  --models <dir>  model registry (default models)
  --workers <n>   worker threads serving the same port (default $WORKERS or the number of cores)
  -h, --help      this text
Runs until SIGINT/SIGTERM (graceful shutdown); SIGHUP reloads the current model.
${EXIT_CODES}`;

async function main(): Promise<number> {
  const { values } = parseFlags({ port: { type: 'string' }, host: { type: 'string' }, models: { type: 'string' },
    workers: { type: 'string' } });
  const env = readEnvironment();
  const port = values.port !== undefined ? Number(values.port) : env.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw badValue(`--port must be an integer in [0, 65535], got "${values.port}"`);
  const workers = values.workers !== undefined ? Number(values.workers) : env.workers;
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw badValue(`--workers must be an integer in [1, 256], got "${values.workers}"`);
  await serve({ port, host: values.host ?? env.host, modelsDir: values.models ?? 'models', workers, log: (line) => console.log(line),
    onExhausted: () => { process.exitCode = 1; } });
  return -1; // keep running until a signal
}

// The same bundle is the entry of serve()'s worker threads: there it serves instead of running main().
if (!runAsServeWorker()) runCli(main, USAGE);
