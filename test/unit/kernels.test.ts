// Kernel tests: the shared suite (kernels.case.ts) over the SIMD kernels and over their scalar twins, then the
// SIMD-only checks: matmul's `work` scratch of exactly matmulWorkBytes(M, K, N) bytes is enough (nothing written
// past it), and the SIMD matmuls agree with their scalar twins; the same for denseForwardOne's work, and the whole
// one-row forward (mlpPredictOne, through Mlp.predictOne) against the batched path and an f64 reference.

import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadCore, type CoreExports } from '../../src/wasm/core.js';
import { Arena } from '../../src/wasm/arena.js';
import { Random } from '../../src/random.js';
import { Mlp } from '../../src/nn/mlp.js';
import { expectClose } from '../helpers/compare.js';
import * as ref from '../reference/kernels.js';
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

  it('denseForwardOne with work of exactly denseForwardOneWorkBytes bytes: nothing written outside work', () => {
    for (const [C, OC] of [[1, 1], [3, 2], [4, 5], [17, 3], [784, 256]] as const) {
      const m0 = arena.mark();
      const rnd = new Random(seedFor(`denseForwardOne work ${C} ${OC}`));
      const x = arena.f32(C), w = arena.f32(C * OC), b = arena.f32(OC);
      // Fully dense: the zero scan writes the most indices (and its branch-free tail stores past the last one).
      x.data.set(uniform(rnd, C, 0.5, 1));
      w.data.set(uniform(rnd, C * OC));
      b.data.set(uniform(rnd, OC));
      const bytes = core.denseForwardOneWorkBytes(C);
      const work = new Guarded(core, arena, bytes / 4, 64);
      const y = new Guarded(core, arena, OC);
      core.denseForwardOne(y.ptr, x.ptr, w.ptr, b.ptr, C, OC, true, work.ptr);
      work.expectIntact(`C=${C} OC=${OC}: work (${bytes} bytes) guards`);
      y.expectIntact(`C=${C} OC=${OC}: y guards`);
      arena.release(m0);
    }
  });

  describe('Mlp.predictOne (mlpPredictOne: every layer, softmax and argmax in one call)', () => {
    // The default model's shape, an awkward one, and a single layer (no hidden ReLU). He-initialised weights with
    // non-zero biases; inputs digit-like (20% non-zero in [0, 1]). Against the f64 forward (matmul, bias, ReLU,
    // softmax references) and the batched kernels' predict(1), which must give the same digit.
    const cases: ReadonlyArray<readonly number[]> = [[784, 256, 128, 10], [17, 5, 3], [5, 3]];
    for (const sizes of cases) {
      const key = `predictOne sizes=[${sizes.join(', ')}]`;
      const seed = seedFor(key);
      it(`${key} equals the f64 reference and predict(1) (seed ${seed})`, () => {
        const rnd = new Random(seed);
        const mlp = new Mlp(core, arena, sizes, 4, { sparseInput: true });
        mlp.init(rnd);
        const p = mlp.params.data;
        for (const l of mlp.layers) p.set(uniform(rnd, l.outputs, -0.1, 0.1), l.biasOffset);
        const classes = sizes[sizes.length - 1]!;
        for (let trial = 0; trial < 20; trial++) {
          const x = Float32Array.from({ length: sizes[0]! }, () => (rnd.next() < 0.2 ? rnd.next() : 0));
          // f64 reference forward.
          let a: ArrayLike<number> = x;
          mlp.layers.forEach((layer, l) => {
            const w = p.subarray(layer.weightOffset, layer.weightOffset + layer.inputs * layer.outputs);
            const z = ref.matmulRef('NN', a, w, 1, layer.inputs, layer.outputs);
            a = ref.biasReluForwardRef(z, p.subarray(layer.biasOffset, layer.biasOffset + layer.outputs), 1, layer.outputs,
              l + 1 < mlp.layers.length);
          });
          const want = ref.softmaxXentRef(a, 1, classes).probs;
          const digit = mlp.predictOne(x);
          const got = mlp.probs.data.slice(0, classes);
          // Probabilities are within a few ulps of 1 and the logits' errors are matmul-sized: 1e-5 absolute is >10×
          // the error of the f32 path here and far below any real mistake.
          expectClose(`${key} trial ${trial}: probs`, got, want, { atol: 1e-5, rtol: 1e-5 });
          expect(digit, `${key} trial ${trial}: digit = argmax of probs`).toBe(ref.argmaxRef(got, 1, classes)[0]);
          mlp.predict(1);
          expectClose(`${key} trial ${trial}: predict(1)`, mlp.probs.data.subarray(0, classes), got, { atol: 1e-6, rtol: 1e-5 });
          expect(mlp.predictions.data[0], `${key} trial ${trial}: predict(1) digit`).toBe(digit);
        }
      });
    }

    it('rejects an input of the wrong length, and reads acts[0] row 0 when given none', () => {
      const mlp = new Mlp(core, arena, [5, 3], 1);
      mlp.init(new Random(3));
      expect(() => mlp.predictOne(new Float32Array(4))).toThrow(/input has 4 values, this network takes 5/);
      const x = Float32Array.of(0, 1, 0, 0.5, 0);
      const digit = mlp.predictOne(x);
      const probs = mlp.probs.data.slice(0, 3);
      mlp.probs.data.fill(0);
      mlp.acts[0]!.data.set(x);
      expect(mlp.predictOne()).toBe(digit);
      expect(Array.from(mlp.probs.data.subarray(0, 3))).toEqual(Array.from(probs));
    });
  });
});
