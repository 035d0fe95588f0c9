// `npm run serve -- [--port N] [--host H] [--models DIR] [--model models:/…]`: serve the local registry's current
// model, or an MLflow registry version (followed through its alias), on HTTP and WebSocket (PORT, HOST, MODEL_URI,
// MODEL_POLL_SECONDS from the environment are the defaults). SIGHUP reloads the model; SIGINT/SIGTERM shut down
// gracefully. Only cli/ sets the exit code.

import { badValue, EXIT_CODES, parseFlags, runCli } from './args.js';
import { serve, runAsServeWorker } from '../server/serve.js';
import { readEnvironment, MAX_DRAWERS, MAX_DRAWING_MEMORY_MB } from '../config.js';
import { parseModelUri, formatModelUri } from '../tracking/model-uri.js';
import { resolveTrackingUri } from '../tracking/uri.js';

const USAGE = `Usage: npm run serve -- [flags]
  --port <n>          port (default $PORT or 3000; 0 picks a free one)
  --host <addr>       address to bind (default $HOST or 127.0.0.1; 0.0.0.0 for every interface)
  --models <dir>      the local model registry (default models)
  --model <uri>       serve from the MLflow Model Registry of $MLFLOW_TRACKING_URI instead (default $MODEL_URI):
                      models:/doodle-digits@champion follows the alias, models:/doodle-digits/3 is one version;
                      files are cached by content hash in <models dir>/.mlflow-cache
  --poll-seconds <s>  how often --model's alias is asked for (default $MODEL_POLL_SECONDS or 10)
  --workers <n>       worker threads serving the same port (default $WORKERS or the number of cores)
  --max-drawers <n>   open WebSocket drawers per thread, 503 beyond (default $MAX_DRAWERS or 10000)
  --drawing-memory-mb <n>  memory live drawings may hold per thread, MiB (default $DRAWING_MEMORY_MB or 512)
  -h, --help          this text
Runs until SIGINT/SIGTERM (graceful shutdown); SIGHUP reloads the current model (or asks the alias now).
${EXIT_CODES}`;

async function main(): Promise<number> {
  const { values } = parseFlags({ port: { type: 'string' }, host: { type: 'string' }, models: { type: 'string' },
    workers: { type: 'string' }, model: { type: 'string' }, 'poll-seconds': { type: 'string' },
    'max-drawers': { type: 'string' }, 'drawing-memory-mb': { type: 'string' } });
  const env = readEnvironment();
  const port = values.port !== undefined ? Number(values.port) : env.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw badValue(`--port must be an integer in [0, 65535], got "${values.port}"`);
  const workers = values.workers !== undefined ? Number(values.workers) : env.workers;
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw badValue(`--workers must be an integer in [1, 256], got "${values.workers}"`);
  const pollSeconds = values['poll-seconds'] !== undefined ? Number(values['poll-seconds']) : env.modelPollSeconds;
  if (!(pollSeconds >= 0.1 && pollSeconds <= 86_400)) throw badValue(`--poll-seconds must be a number in [0.1, 86400], got "${values['poll-seconds']}"`);
  const maxDrawers = values['max-drawers'] !== undefined ? Number(values['max-drawers']) : env.maxDrawers;
  if (!Number.isInteger(maxDrawers) || maxDrawers < 1 || maxDrawers > MAX_DRAWERS) {
    throw badValue(`--max-drawers must be an integer in [1, ${MAX_DRAWERS}], got "${values['max-drawers']}"`);
  }
  const memoryMb = values['drawing-memory-mb'] !== undefined ? Number(values['drawing-memory-mb']) : env.drawingMemoryMb;
  if (!(memoryMb >= 1 && memoryMb <= MAX_DRAWING_MEMORY_MB)) {
    throw badValue(`--drawing-memory-mb must be a number of MiB in [1, ${MAX_DRAWING_MEMORY_MB}], got "${values['drawing-memory-mb']}"`);
  }
  let mlflowModel;
  const modelText = values.model ?? env.modelUri;
  if (modelText !== undefined) {
    let uri;
    try {
      uri = formatModelUri(parseModelUri(modelText));
    } catch (err) {
      throw badValue(`${values.model !== undefined ? '--model' : 'MODEL_URI'}: ${(err as Error).message}`);
    }
    const target = resolveTrackingUri(env.mlflowTrackingUri);
    if (target.kind !== 'rest') {
      throw new Error(`serving ${uri} needs an MLflow tracking server: set MLFLOW_TRACKING_URI=http(s)://host:port ` +
        `(it is ${env.mlflowTrackingUri === undefined ? 'unset' : JSON.stringify(env.mlflowTrackingUri)})`);
    }
    mlflowModel = { uri, trackingUri: target.baseUrl, pollSeconds };
  } else if (values['poll-seconds'] !== undefined) {
    throw badValue('--poll-seconds applies to --model models:/… (the local registry is watched every second)');
  }
  await serve({ port, host: values.host ?? env.host, modelsDir: values.models ?? 'models', mlflowModel, workers,
    maxDrawers, drawingMemoryBytes: Math.round(memoryMb * 2 ** 20), log: (line) => console.log(line),
    onExhausted: () => { process.exitCode = 1; } });
  return -1; // keep running until a signal
}

// The same bundle is the entry of serve()'s worker threads: there it serves instead of running main().
if (!runAsServeWorker()) runCli(main, USAGE);
