// Kernel tests: the shared suite (kernels.case.ts) over the SIMD kernels and over their scalar twins, then the
// SIMD-only checks: matmul's `work` scratch of exactly matmulWorkBytes(M, K, N) bytes is enough (nothing written
// past it), and the SIMD matmuls agree with their scalar twins.

import { afterEach, beforeAll, beforeEach, describe, it } from 'vitest';
import { loadCore, type CoreExports } from '../../src/wasm/core.js';
import { Arena } from '../../src/wasm/arena.js';
import { Random } from '../../src/random.js';
import { expectClose } from '../helpers/compare.js';
import {
  Guarded, LAYOUTS, MATMUL_SHAPES, matmulTolerance, runKernelSuite, scalarKernels, seedFor, simdKernels, uniform,
} from './kernels.case.js';

runKernelSuite('simd', simdKernels);
runKernelSuite('scalar', scalarKernels);

describe('kernels (simd only)', () => {
  let core: CoreExports;
  let arena: Arena;
  let mark = 0;

  beforeAll(async () => {
    core = await loadCore();
    arena = new Arena(core);
  });
  beforeEach(() => { mark = arena.mark(); });
  afterEach(() => { arena.release(mark); });

  const simd = (c: CoreExports) => ({ NN: c.matmulNN, NT: c.matmulNT, TN: c.matmulTN } as const);
  const scalar = (c: CoreExports) => ({ NN: c.matmulNNScalar, NT: c.matmulNTScalar, TN: c.matmulTNScalar } as const);

  /** Allocates A, B and a guarded C (all layouts have the same lengths) filled from `rnd`. */
  const operands = (rnd: Random, M: number, K: number, N: number, accumulate: boolean) => {
    const a = arena.f32(M * K);
    const b = arena.f32(K * N);
    a.data.set(uniform(rnd, M * K));
    b.data.set(uniform(rnd, K * N));
    const c0 = accumulate ? uniform(rnd, M * N) : new Float32Array(M * N).fill(NaN);
    const c = new Guarded(core, arena, M * N, 4 * N + 64);
    c.f32.set(c0);
    return { a, b, c, c0 };
  };

  for (const layout of LAYOUTS) {
    const key = `matmul${layout} with work of exactly matmulWorkBytes bytes`;
    it(`${key}: nothing written outside work, every shape`, () => {
      for (const [M, K, N] of MATMUL_SHAPES) {
        const m0 = arena.mark();
        const rnd = new Random(seedFor(`${key} ${M} ${K} ${N}`));
        const { a, b, c } = operands(rnd, M, K, N, true);
        const bytes = core.matmulWorkBytes(M, K, N);
        if (bytes % 4 !== 0) throw new Error(`matmulWorkBytes(${M}, ${K}, ${N}) = ${bytes} is not a whole number of f32`);
        // Guard zones as large as the work itself (at least 4 KiB): an overrun of a packed panel or block lands there.
        const work = new Guarded(core, arena, bytes / 4, Math.max(1024, bytes / 4));
        if (work.ptr % 16 !== 0) throw new Error(`work at ${work.ptr} is not 16-byte aligned`);
        new Uint8Array(core.memory.buffer, work.ptr, bytes).fill(0xff); // NaN garbage, as after any other use
        simd(core)[layout](c.ptr, a.ptr, b.ptr, M, K, N, true, work.ptr);
        work.expectIntact(`${layout} M=${M} K=${K} N=${N}: work (${bytes} bytes) guards`);
        c.expectIntact(`${layout} M=${M} K=${K} N=${N}: C guards`);
        arena.release(m0);
      }
    });
  }

  for (const layout of LAYOUTS) {
    for (const [M, K, N] of MATMUL_SHAPES) {
      for (const accumulate of [false, true]) {
        const key = `matmul${layout} SIMD = scalar twin, M=${M} K=${K} N=${N} accumulate=${accumulate}`;
        const seed = seedFor(key);
        it(`${key} (seed ${seed})`, () => {
          const rnd = new Random(seed);
          const { a, b, c, c0 } = operands(rnd, M, K, N, accumulate);
          const cs = new Guarded(core, arena, M * N, 4 * N + 64);
          cs.f32.set(c0);
          const bytes = core.matmulWorkBytes(M, K, N);
          const work = arena.bytes(bytes);
          new Uint8Array(core.memory.buffer, work, bytes).fill(0xff);
          simd(core)[layout](c.ptr, a.ptr, b.ptr, M, K, N, accumulate, work);
          scalar(core)[layout](cs.ptr, a.ptr, b.ptr, M, K, N, accumulate);
          // Each is within matmulTolerance(K) of the exact product, so they are within twice that of each other.
          const tol = matmulTolerance(K);
          expectClose(key, c.f32, cs.f32, { atol: 2 * tol.atol, rtol: 2 * tol.rtol });
          c.expectIntact(`${key}: SIMD C guards`);
          cs.expectIntact(`${key}: scalar C guards`);
        });
      }
    }
  }
});
