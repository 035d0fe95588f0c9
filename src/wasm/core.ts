// Loads the release build of the AssemblyScript core (build/core.wasm) and types its ABI (assembly/index.ts).
// Pointers are byte offsets into `memory`; `bool` parameters are wasm i32 (pass true/false or 0/1).
// Not here: memory management (arena.ts) or shape checks (nn/).

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { instantiate } from '@assemblyscript/loader';
import { hasWasmSimd, MissingWasmFeatureError } from './simd.js';
import type { PreprocessCore } from '../preprocess/fast-strokes.js';

type Ptr = number;
type MatmulFn = (c: Ptr, a: Ptr, b: Ptr, M: number, K: number, N: number, accumulate: boolean, work: Ptr) => void;
type MatmulScalarFn = (c: Ptr, a: Ptr, b: Ptr, M: number, K: number, N: number, accumulate: boolean) => void;

/** The kernels exported by assembly/index.ts (shapes and formulas atop each of assembly/kernels/*.ts). The
 * preprocessing ones (strokes.ts, mnist.ts) are declared once, beside their host in src/preprocess/fast-strokes.ts,
 * which must not import src/wasm (it also runs in the browser). */
export interface CoreExports extends PreprocessCore {
  readonly memory: WebAssembly.Memory;
  heapBase(): Ptr;
  matmulWorkBytes(M: number, K: number, N: number): number;
  matmulNN: MatmulFn;
  matmulNT: MatmulFn;
  matmulTN: MatmulFn;
  matmulNNScalar: MatmulScalarFn;
  matmulSparseWorkBytes(M: number, K: number, N: number): number;
  matmulSparseNN: MatmulFn;
  matmulSparseTN: MatmulFn;
  matmulSparseNNScalar: MatmulScalarFn;
  matmulSparseTNScalar: MatmulScalarFn;
  matmulNTScalar: MatmulScalarFn;
  matmulTNScalar: MatmulScalarFn;
  denseForwardOneWorkBytes(C: number): number;
  denseForwardOne(y: Ptr, x: Ptr, w: Ptr, bias: Ptr, C: number, OC: number, relu: boolean, work: Ptr): void;
  denseForwardOneScalar(y: Ptr, x: Ptr, w: Ptr, bias: Ptr, C: number, OC: number, relu: boolean): void;
  /** plan: per layer six i32 (y, x, W, b, C, OC); returns the argmax of probs. */
  mlpPredictOne(probs: Ptr, plan: Ptr, L: number, work: Ptr): number;
  biasReluForward(out: Ptr, inp: Ptr, bias: Ptr, B: number, C: number, relu: boolean): void;
  biasReluForwardScalar(out: Ptr, inp: Ptr, bias: Ptr, B: number, C: number, relu: boolean): void;
  reluBackward(dinp: Ptr, dout: Ptr, out: Ptr, n: number): void;
  reluBackwardScalar(dinp: Ptr, dout: Ptr, out: Ptr, n: number): void;
  biasBackward(dbias: Ptr, dout: Ptr, B: number, C: number, accumulate: boolean): void;
  biasBackwardScalar(dbias: Ptr, dout: Ptr, B: number, C: number, accumulate: boolean): void;
  softmaxForward(probs: Ptr, logits: Ptr, B: number, C: number): void;
  softmaxForwardScalar(probs: Ptr, logits: Ptr, B: number, C: number): void;
  softmaxCrossEntropyForward(probs: Ptr, losses: Ptr, logits: Ptr, targets: Ptr, B: number, C: number): number;
  softmaxCrossEntropyForwardScalar(probs: Ptr, losses: Ptr, logits: Ptr, targets: Ptr, B: number, C: number): number;
  softmaxCrossEntropyBackward(dlogits: Ptr, probs: Ptr, targets: Ptr, B: number, C: number, scale: number): void;
  softmaxCrossEntropyBackwardScalar(dlogits: Ptr, probs: Ptr, targets: Ptr, B: number, C: number, scale: number): void;
  sgdMomentumStep(param: Ptr, grad: Ptr, velocity: Ptr, n: number, lr: number, momentum: number, weightDecay: number): void;
  sgdMomentumStepScalar(param: Ptr, grad: Ptr, velocity: Ptr, n: number, lr: number, momentum: number, weightDecay: number): void;
  adamStep(param: Ptr, grad: Ptr, m: Ptr, v: Ptr, n: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, t: number): void;
  adamStepScalar(param: Ptr, grad: Ptr, m: Ptr, v: Ptr, n: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, t: number): void;
  argmax(out: Ptr, x: Ptr, B: number, C: number): void;
  argmaxScalar(out: Ptr, x: Ptr, B: number, C: number): void;
}

/** Which build to load: `release` (optimised, the default) or `debug` (assertions, source map). */
export type CoreBuild = 'release' | 'debug';

const BUILD_FILES: Record<CoreBuild, string> = { release: 'core.wasm', debug: 'core.debug.wasm' };

/** Path of a build of the core: build/ beside the nearest asconfig.json above this file. Searching upward keeps it
 * right both from src/wasm/ and from a bundle written anywhere under the project (e.g. build/bench/). */
export function corePath(build: CoreBuild = 'release'): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'asconfig.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the project root (asconfig.json) above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return join(dir, 'build', BUILD_FILES[build]);
}

/** Instantiates the core. Throws MissingWasmFeatureError without SIMD, and a hint to build when the file is absent. */
export async function loadCore(path: string = corePath()): Promise<CoreExports> {
  if (typeof WebAssembly === 'undefined') throw new MissingWasmFeatureError('WebAssembly');
  if (!hasWasmSimd()) throw new MissingWasmFeatureError('WebAssembly SIMD (simd128)');
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`numeric core not found at ${path} → run \`npm run build\``);
    }
    throw err;
  }
  const { exports } = await instantiate<Record<string, unknown>>(bytes, {});
  return unwrap(exports);
}

// The loader wraps every export in `(...args) => fn(...args)`, which allocates an array per call; the kernels run per
// batch and per request, so bind the raw wasm functions (the loader keeps them as `.original`).
function unwrap(exports: Record<string, unknown>): CoreExports {
  const raw: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(exports)) {
    const original = (value as { original?: unknown } | undefined)?.original;
    raw[name] = typeof value === 'function' && typeof original === 'function' ? original : value;
  }
  return raw as unknown as CoreExports;
}
