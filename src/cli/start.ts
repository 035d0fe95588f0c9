// `npm start`: the main job. Today it builds the numeric core (npm script) and checks it runs here; training a
// default model and serving http://localhost:3000 join it as those capabilities land (see README).
// Only cli/ calls process.exit.

import { loadCore } from '../wasm/core.js';
import { Arena } from '../wasm/arena.js';
import { Random } from '../random.js';

async function main(): Promise<void> {
  const core = await loadCore();
  // Self-check: one awkward-shaped product through the SIMD path against the scalar twin.
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
  console.log(`numeric core ready: WebAssembly SIMD kernels loaded and self-checked (Node ${process.versions.node}).`);
  console.log('Next steps of `npm start` arrive with their issues: ingest MNIST, train the default model, serve http://localhost:3000.');
  console.log('Meanwhile: `npm test` runs the kernel tests, `npm run bench:kernels` measures matmul throughput.');
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
