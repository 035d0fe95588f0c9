// `npm start`: the main job. Builds (npm script), checks the numeric core, ingests MNIST if needed, trains the
// default model (params.yaml) if the registry has none, then serves it on PORT (default 3000) until Ctrl-C.
// Only cli/ calls process.exit.

import { EXIT_CODES, parseFlags, runCli } from './args.js';
import { loadCore, type CoreExports } from '../wasm/core.js';
import { Arena } from '../wasm/arena.js';
import { Random } from '../random.js';
import { ingestMnist } from '../data/ingest.js';
import { ModelRegistry } from '../model/registry.js';
import { readParams, resolveConfig } from '../train/options.js';
import { runTraining } from '../train/run.js';
import { installRunGuards } from '../tracking/index.js';
import { readEnvironment } from '../config.js';
import { serve, runAsServeWorker } from '../server/serve.js';

const MODELS = 'models';

const USAGE = `Usage: npm start -- [flags]

Checks the numeric core, ingests MNIST into mnist/ if needed, trains the default model (params.yaml) if models/
has none, then serves the current model until SIGINT/SIGTERM (Ctrl-C).
  -h, --help   this text
Environment: PORT (default 3000), HOST (default 127.0.0.1; 0.0.0.0 for every interface), WORKERS (default: the number of cores),
MLFLOW_TRACKING_URI (default ./mlruns). For other folders or flags: npm run data, npm run train, npm run serve.
${EXIT_CODES}
130/143: interrupted by SIGINT/SIGTERM during the first training (no model saved).`;

async function main(): Promise<number> {
  parseFlags({}); // only --help: anything else is a usage error, before any work
  const core = await loadCore();
  selfCheck(core);
  console.log(`numeric core ready: WebAssembly SIMD kernels loaded and self-checked (Node ${process.versions.node})`);

  const params = readParams('params.yaml');
  const data = ingestMnist({ out: params.data.dir });
  console.log(data.status === 'up-to-date' ? `MNIST up to date in ${data.out}/` : `MNIST ingested into ${data.out}/ (checksums verified)`);

  const registry = new ModelRegistry(MODELS);
  if (registry.currentVersion() === undefined) {
    console.log('no model yet: training the default model (params.yaml; `npm run train -- --help` for options)');
    let interrupted: NodeJS.Signals | undefined;
    let removeGuards: (() => void) | undefined;
    try {
      const outcome = await runTraining(core, {
        config: resolveConfig(params.train, {}), dataDir: params.data.dir, modelsDir: MODELS,
        trackingUri: readEnvironment().mlflowTrackingUri, stream: process.stdout, interrupted: () => interrupted !== undefined,
        warn: (line) => console.error(`warning: ${line}`), // tracking problems: the training still succeeds
        onRunStarted: (run) => { removeGuards = installRunGuards(run, (signal) => { interrupted = signal; }); },
      });
      if (outcome.result.stopped) {
        console.error('interrupted: no model saved');
        return 128 + (interrupted === 'SIGTERM' ? 15 : 2); // the shell's convention: 128 + signal number
      }
    } finally {
      removeGuards?.();
    }
  }
  const current = registry.list().find((v) => v.current);
  if (current) console.log(`current model ${current.version}: test accuracy ${(100 * current.testAccuracy).toFixed(2)}%`);
  const env = readEnvironment();
  await serve({ port: env.port, host: env.host, modelsDir: MODELS, workers: env.workers, log: (line) => console.log(line) });
  return -1; // serving: the process ends on SIGINT/SIGTERM
}

// One awkward-shaped product through the SIMD path against the scalar twin: catches a broken build or runtime.
function selfCheck(core: CoreExports): void {
  const arena = new Arena(core);
  const [M, K, N] = [17, 127, 33];
  const a = arena.f32(M * K), b = arena.f32(K * N), c = arena.f32(M * N), ref = arena.f32(M * N);
  const rng = new Random(1);
  rng.fillUniform(a.data);
  rng.fillUniform(b.data);
  core.matmulNN(c.ptr, a.ptr, b.ptr, M, K, N, false, arena.bytes(core.matmulWorkBytes(M, K, N)));
  core.matmulNNScalar(ref.ptr, a.ptr, b.ptr, M, K, N, false);
  let maxErr = 0;
  for (let i = 0; i < M * N; i++) maxErr = Math.max(maxErr, Math.abs(c.data[i]! - ref.data[i]!));
  if (!(maxErr < 1e-3)) throw new Error(`numeric core self-check failed: SIMD and scalar matmul differ by ${maxErr}`);
}

// The same bundle is the entry of serve()'s worker threads: there it serves instead of running main().
if (!runAsServeWorker()) runCli(main, USAGE);
