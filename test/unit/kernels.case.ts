// The kernel test suite, shared by every implementation of the kernels (pattern: hono's `*.case.test.ts`):
// `runKernelSuite(name, make)` registers the same describe/it blocks for any `KernelImpl`, and test/kernels.test.ts
// runs it over the SIMD kernels and over their `*Scalar` twins. Every kernel output is compared with the f64 oracles
// in test/reference/kernels.ts. Inputs come from a `Random` seeded from the test's own name (printed in the name),
// so a failure reproduces by running that one test. Output buffers sit between sentinel-filled guards, so a kernel
// that writes outside its output fails too.
//
// Not a test file itself (vitest only collects *.test.ts): it only defines the suite.

import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadCore, type CoreExports } from '../../src/wasm/core.js';
import { Arena } from '../../src/wasm/arena.js';
import { Random } from '../../src/random.js';
import * as ref from '../reference/kernels.js';
import { expectClose, expectFinite, type Tolerance } from '../helpers/compare.js';

export type Ptr = number;
export type Layout = ref.Layout;
export type SparseLayout = 'NN' | 'TN';

/** Every kernel of the core, called the same way whatever the implementation (the SIMD matmuls' `work` argument is
 * the adapter's business). Formulas and argument orders: assembly/kernels/*.ts. */
export interface KernelImpl {
  matmul(layout: Layout, c: Ptr, a: Ptr, b: Ptr, M: number, K: number, N: number, accumulate: boolean): void;
  /** The zero-skipping products (NN and TN only: A is the sparse operand). */
  matmulSparse(layout: SparseLayout, c: Ptr, a: Ptr, b: Ptr, M: number, K: number, N: number, accumulate: boolean): void;
  /** One row through a dense layer, y = act(x·W + b), skipping x's zeros (the SIMD one's `work` is the adapter's). */
  denseForwardOne(y: Ptr, x: Ptr, w: Ptr, bias: Ptr, C: number, OC: number, relu: boolean): void;
  biasReluForward(out: Ptr, inp: Ptr, bias: Ptr, B: number, C: number, relu: boolean): void;
  reluBackward(dinp: Ptr, dout: Ptr, out: Ptr, n: number): void;
  biasBackward(dbias: Ptr, dout: Ptr, B: number, C: number, accumulate: boolean): void;
  softmaxForward(probs: Ptr, logits: Ptr, B: number, C: number): void;
  softmaxCrossEntropyForward(probs: Ptr, losses: Ptr, logits: Ptr, targets: Ptr, B: number, C: number): number;
  softmaxCrossEntropyBackward(dlogits: Ptr, probs: Ptr, targets: Ptr, B: number, C: number, scale: number): void;
  sgdMomentumStep(param: Ptr, grad: Ptr, velocity: Ptr, n: number, lr: number, momentum: number, weightDecay: number): void;
  adamStep(param: Ptr, grad: Ptr, m: Ptr, v: Ptr, n: number, lr: number, beta1: number, beta2: number, eps: number,
           weightDecay: number, t: number): void;
  argmax(out: Ptr, x: Ptr, B: number, C: number): void;
}

/** Builds an implementation over a loaded core; `arena` is the suite's arena (for scratch such as matmul `work`). */
export type MakeKernels = (core: CoreExports, arena: Arena) => KernelImpl;

/** The SIMD kernels. Each matmul gets `work` of exactly matmulWorkBytes(M,K,N) bytes from the arena, filled with
 * NaN bit patterns first so that a kernel relying on zeroed scratch (rather than on what it wrote) fails. */
export const simdKernels: MakeKernels = (core, arena) => {
  const mm = { NN: core.matmulNN, NT: core.matmulNT, TN: core.matmulTN } as const;
  const sparse = { NN: core.matmulSparseNN, TN: core.matmulSparseTN } as const;
  const withWork = (bytes: number, run: (work: Ptr) => void): void => {
    const mark = arena.mark();
    const work = arena.bytes(bytes);
    new Uint8Array(core.memory.buffer, work, bytes).fill(0xff);
    try {
      run(work);
    } finally {
      arena.release(mark);
    }
  };
  return {
    matmul(layout, c, a, b, M, K, N, accumulate) {
      withWork(core.matmulWorkBytes(M, K, N), (work) => mm[layout](c, a, b, M, K, N, accumulate, work));
    },
    matmulSparse(layout, c, a, b, M, K, N, accumulate) {
      withWork(core.matmulSparseWorkBytes(M, K, N), (work) => sparse[layout](c, a, b, M, K, N, accumulate, work));
    },
    denseForwardOne(y, x, w, bias, C, OC, relu) {
      withWork(core.denseForwardOneWorkBytes(C), (work) => core.denseForwardOne(y, x, w, bias, C, OC, relu, work));
    },
    biasReluForward: core.biasReluForward,
    reluBackward: core.reluBackward,
    biasBackward: core.biasBackward,
    softmaxForward: core.softmaxForward,
    softmaxCrossEntropyForward: core.softmaxCrossEntropyForward,
    softmaxCrossEntropyBackward: core.softmaxCrossEntropyBackward,
    sgdMomentumStep: core.sgdMomentumStep,
    adamStep: core.adamStep,
    argmax: core.argmax,
  };
};

/** The scalar twins (plain loops; the matmuls take no `work`). */
export const scalarKernels: MakeKernels = (core) => {
  const mm = { NN: core.matmulNNScalar, NT: core.matmulNTScalar, TN: core.matmulTNScalar } as const;
  const sparse = { NN: core.matmulSparseNNScalar, TN: core.matmulSparseTNScalar } as const;
  return {
    matmul(layout, c, a, b, M, K, N, accumulate) {
      mm[layout](c, a, b, M, K, N, accumulate);
    },
    matmulSparse(layout, c, a, b, M, K, N, accumulate) {
      sparse[layout](c, a, b, M, K, N, accumulate);
    },
    denseForwardOne: core.denseForwardOneScalar,
    biasReluForward: core.biasReluForwardScalar,
    reluBackward: core.reluBackwardScalar,
    biasBackward: core.biasBackwardScalar,
    softmaxForward: core.softmaxForwardScalar,
    softmaxCrossEntropyForward: core.softmaxCrossEntropyForwardScalar,
    softmaxCrossEntropyBackward: core.softmaxCrossEntropyBackwardScalar,
    sgdMomentumStep: core.sgdMomentumStepScalar,
    adamStep: core.adamStepScalar,
    argmax: core.argmaxScalar,
  };
};

// ---------------------------------------------------------------------------------------------------------------
// Shared helpers (also used by the SIMD-only tests in kernels.test.ts).

/** f32 epsilon/2: the unit roundoff of one correctly rounded f32 operation. */
export const U = 2 ** -24;

/** (M, K, N) shapes for the matmul tests. Each of 1, 3, 5, 17, 64, 127, 784 appears as M, as K and as N; K > KC = 256
 * (600, 784, 257) runs the k-slab loop more than once; M > MC = 128 (300, 784, 129) runs the row-block loop more than
 * once; exact multiples (4×8×8, 128×256×8) and one-past (129×257×9) hit every edge of the MR×NR = 4×8 tiling; M < MR
 * takes the SIMD row-streaming path (wide, 4-wide and 1-wide column strips: N = 256, 64, 40, 39, 17, ...). */
/** Plus 12 more (M, K, N) drawn from that set of dims by a fixed seed (M·K·N ≤ 2e6, to bound the JS reference). */
export const MATMUL_SHAPES: ReadonlyArray<readonly [number, number, number]> = [
  [1, 1, 1], [1, 784, 256], [3, 5, 17], [17, 127, 3], [127, 64, 5], [64, 784, 10], [5, 3, 1], [784, 17, 5],
  [300, 600, 17], [5, 1, 784], [127, 784, 64], [64, 3, 127], [300, 784, 17], [128, 256, 8], [129, 257, 9],
  [4, 8, 8], [3, 600, 40], [2, 5, 39], [1, 3, 64],
  ...sampledShapes(12, 2e6, 20240611),
];
export const LAYOUTS: readonly Layout[] = ['NN', 'NT', 'TN'];

function sampledShapes(count: number, maxMacs: number, seed: number): Array<readonly [number, number, number]> {
  const dims = [1, 3, 5, 17, 64, 127, 784];
  const rnd = new Random(seed);
  const out: Array<readonly [number, number, number]> = [];
  const seen = new Set<string>();
  while (out.length < count) {
    const s = [dims[rnd.int(dims.length)]!, dims[rnd.int(dims.length)]!, dims[rnd.int(dims.length)]!] as const;
    if (s[0] * s[1] * s[2] > maxMacs || seen.has(s.join())) continue;
    seen.add(s.join());
    out.push(s);
  }
  return out;
}

/** Matmul tolerance for inputs uniform in [-1, 1] (and C0 in [-1, 1] when accumulating).
 * Each product is in [-1, 1] with variance 1/9, so a partial sum of k terms is ~√k/3 in size, and each f32 add
 * rounds by at most U·|partial sum|: the rounding errors add up like a random walk to ≈ U·√(Σ_k k/9) ≈ U·K/√18,
 * i.e. ≈ 1.1e-5 at K = 784, 9e-7 at K = 64, 6e-8 at K = 1 for the plain k-loop (the SIMD kernel's k-slabs and
 * lane splits only shorten the chains). atol = 1e-5·√K (2.8e-4 at K = 784, 8e-5 at K = 64, 1e-5 at K = 1) leaves
 * a ≥ 25× margin over the typical error yet fails on any dropped, doubled or misplaced term bigger than that —
 * which, with terms of typical size 1/3, is nearly all of them. rtol 1e-5 covers the final rounding of large sums. */
export function matmulTolerance(K: number): Tolerance {
  return { atol: 1e-5 * Math.sqrt(K), rtol: 1e-5 };
}

/** A stable 32-bit seed from a test's key (FNV-1a), so each test's data does not depend on which tests ran before. */
export function seedFor(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The f32 value of a sentinel that no kernel computes by accident. */
export const SENTINEL = 12345;

/** An output buffer of `length` f32 (or i32) elements allocated between two guard zones of `guard` f32 each, filled
 * with SENTINEL: guard, buffer, guard come back to back from the arena (guards are whole 64-byte multiples, so the
 * buffer starts right after the first), and the alignment padding after the buffer is guarded as well. */
export class Guarded {
  readonly ptr: Ptr;
  private readonly start: Ptr;
  private readonly end: Ptr;

  constructor(private readonly core: CoreExports, arena: Arena, readonly length: number, guard = 64) {
    const g = Math.ceil(Math.max(guard, 16) / 16) * 16;
    this.start = arena.bytes(g * 4);
    this.ptr = arena.bytes(length * 4);
    const after = arena.bytes(g * 4);
    if (this.ptr !== this.start + g * 4) throw new Error(`arena left a gap before the guarded buffer`);
    this.end = after + g * 4;
    new Float32Array(core.memory.buffer, this.start, (this.end - this.start) / 4).fill(SENTINEL);
  }

  /** The buffer as f32 (a fresh view: memory may have grown since it was allocated). */
  get f32(): Float32Array {
    return new Float32Array(this.core.memory.buffer, this.ptr, this.length);
  }

  /** The buffer as i32. */
  get i32(): Int32Array {
    return new Int32Array(this.core.memory.buffer, this.ptr, this.length);
  }

  /** Throws, listing offsets relative to the buffer, unless both guard zones still hold SENTINEL. */
  expectIntact(name: string): void {
    const all = new Float32Array(this.core.memory.buffer, this.start, (this.end - this.start) / 4);
    const lo = (this.ptr - this.start) / 4;
    const hi = lo + this.length;
    const bad: string[] = [];
    let count = 0;
    for (let i = 0; i < all.length; i++) {
      if ((i < lo || i >= hi) && all[i] !== SENTINEL) {
        count++;
        if (bad.length < 8) bad.push(`[${i < lo ? i - lo : `len+${i - hi}`}] = ${all[i]}`);
      }
    }
    if (count > 0) throw new Error(`${name}: ${count} guard elements overwritten (offsets from the buffer start): ${bad.join(', ')}`);
  }
}

/** Uniform f32 values in [lo, hi). */
export function uniform(rnd: Random, n: number, lo = -1, hi = 1): Float32Array {
  return rnd.fillUniform(new Float32Array(n), lo, hi);
}

/** Exact equality of two arrays (inputs a kernel must not modify; integer outputs). */
function expectSame(name: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  expectClose(name, got, want, { atol: 0, rtol: 0 });
}

const f32 = Math.fround;

// ---------------------------------------------------------------------------------------------------------------
// The suite.

/** Registers the kernel tests for one implementation. */
export function runKernelSuite(name: string, make: MakeKernels): void {
  describe(`kernels (${name})`, () => {
    let core: CoreExports;
    let arena: Arena;
    let k: KernelImpl;
    let mark = 0;

    beforeAll(async () => {
      core = await loadCore();
      arena = new Arena(core);
      k = make(core, arena);
    });
    beforeEach(() => { mark = arena.mark(); });
    afterEach(() => { arena.release(mark); });

    /** An input buffer holding `values`; returns its pointer and a copy of what it held. */
    const input = (values: ArrayLike<number>): Ptr => {
      const buf = arena.f32(values.length);
      buf.data.set(values);
      return buf.ptr;
    };
    const view = (ptr: Ptr, n: number): Float32Array => new Float32Array(core.memory.buffer, ptr, n);
    const guarded = (n: number, fill: number | Float32Array, guard = 64): Guarded => {
      const g = new Guarded(core, arena, n, guard);
      if (typeof fill === 'number') g.f32.fill(fill);
      else g.f32.set(fill);
      return g;
    };

    // -------------------------------------------------------------------------------------------------------------
    describe('matmul', () => {
      for (const layout of LAYOUTS) {
        for (const [M, K, N] of MATMUL_SHAPES) {
          for (const accumulate of [false, true]) {
            const key = `matmul${layout} M=${M} K=${K} N=${N} accumulate=${accumulate}`;
            const seed = seedFor(key);
            it(`${key} (seed ${seed})`, () => {
              const rnd = new Random(seed);
              // NN: A M×K, B K×N; NT: B is N×K; TN: A is K×M. The lengths are the same in every layout.
              const a = uniform(rnd, M * K);
              const b = uniform(rnd, K * N);
              // Not accumulating, C must be overwritten whatever it held: start it at NaN so 0·C or C+… shows up.
              const c0 = accumulate ? uniform(rnd, M * N) : new Float32Array(M * N).fill(NaN);
              const pa = input(a);
              const pb = input(b);
              const c = guarded(M * N, c0, 4 * N + 64); // the guards span more than MR-1 rows past either end
              k.matmul(layout, c.ptr, pa, pb, M, K, N, accumulate);
              const want = ref.matmulRef(layout, a, b, M, K, N, accumulate ? c0 : undefined);
              expectClose(key, c.f32, want, matmulTolerance(K));
              c.expectIntact(`${key}: C guards`);
              expectSame(`${key}: A unchanged`, view(pa, a.length), a);
              expectSame(`${key}: B unchanged`, view(pb, b.length), b);
            });
          }
        }
      }
    });

    // -------------------------------------------------------------------------------------------------------------
    describe('sparse matmul (skips zeros of A)', () => {
      // A is mostly exact zeros like a normalised digit (density 0.2), or fully dense, or entirely zero (then C is
      // C0 or 0). Against the dense f64 reference: B is finite, so skipping 0·B[k,j] changes nothing.
      const shapes: ReadonlyArray<readonly [number, number, number]> = [
        [1, 1, 1], [1, 784, 256], [3, 5, 17], [17, 127, 3], [64, 784, 10], [127, 64, 5], [5, 3, 1], [128, 784, 33],
        [2, 5, 39], [784, 17, 20],
      ];
      for (const layout of ['NN', 'TN'] as const) {
        for (const [M, K, N] of shapes) {
          for (const density of [0.2, 1, 0]) {
            for (const accumulate of [false, true]) {
              const key = `matmulSparse${layout} M=${M} K=${K} N=${N} density=${density} accumulate=${accumulate}`;
              const seed = seedFor(key);
              it(`${key} (seed ${seed})`, () => {
                const rnd = new Random(seed);
                const a = uniform(rnd, M * K).map((x) => (rnd.next() < density ? x : 0));
                const b = uniform(rnd, K * N);
                const c0 = accumulate ? uniform(rnd, M * N) : new Float32Array(M * N).fill(NaN);
                const pa = input(a);
                const pb = input(b);
                const c = guarded(M * N, c0, 4 * N + 64);
                k.matmulSparse(layout, c.ptr, pa, pb, M, K, N, accumulate);
                const want = ref.matmulRef(layout, a, b, M, K, N, accumulate ? c0 : undefined);
                expectClose(key, c.f32, want, matmulTolerance(K));
                c.expectIntact(`${key}: C guards`);
                expectSame(`${key}: A unchanged`, view(pa, a.length), a);
              });
            }
          }
        }
      }
    });

    // -------------------------------------------------------------------------------------------------------------
    describe('one-row dense forward (skips zeros of x)', () => {
      // (C, OC): the default model's three layers, awkward sizes (C and OC of 1, 3, 5, 17, 127: scalar tails of the
      // zero scan and of the columns, 0–3 leftover non-zero rows). x is a digit-like 20% dense, a ReLU output's
      // 50%, fully dense, or all zero (then y = act(b)); some zeros are −0, which is skipped too (−0·W = ±0).
      const shapes: ReadonlyArray<readonly [number, number]> = [
        [784, 256], [256, 128], [128, 10], [1, 1], [3, 5], [5, 17], [17, 3], [127, 64], [64, 127], [784, 17], [6, 1],
      ];
      for (const [C, OC] of shapes) {
        for (const density of [0.2, 0.5, 1, 0]) {
          const key = `denseForwardOne C=${C} OC=${OC} density=${density}`;
          const seed = seedFor(key);
          it(`${key} relu on/off (seed ${seed})`, () => {
            const rnd = new Random(seed);
            const x = uniform(rnd, C).map((v, i) => (rnd.next() < density ? v : i % 3 === 0 ? -0 : 0));
            const w = uniform(rnd, C * OC);
            const bias = uniform(rnd, OC);
            const px = input(x), pw = input(w), pb = input(bias);
            const z = ref.matmulRef('NN', x, w, 1, C, OC);
            for (const relu of [true, false]) {
              const want = ref.biasReluForwardRef(z, bias, 1, OC, relu);
              const y = guarded(OC, NaN);
              k.denseForwardOne(y.ptr, px, pw, pb, C, OC, relu);
              // The bias is one more term of the sum.
              expectClose(`${key} relu=${relu}`, y.f32, want, matmulTolerance(C + 1));
              y.expectIntact(`${key} relu=${relu}: y guards`);
            }
            expectSame(`${key}: x unchanged`, view(px, C), x);
            expectSame(`${key}: W unchanged`, view(pw, C * OC), w);
            expectSame(`${key}: b unchanged`, view(pb, OC), bias);
          });
        }
      }
    });

    // -------------------------------------------------------------------------------------------------------------
    describe('bias + relu', () => {
      const Bs = [1, 3, 64];
      const Cs = [1, 3, 5, 17, 64, 127, 784];
      // One f32 add per element, correctly rounded: |got − x| ≤ U·|x| exactly (and 0 where x is exactly 0).
      const addTol: Tolerance = { atol: 0, rtol: U };

      for (const B of Bs) {
        for (const C of Cs) {
          const key = `biasReluForward B=${B} C=${C}`;
          const seed = seedFor(key);
          it(`${key} relu on/off, in place and not (seed ${seed})`, () => {
            const rnd = new Random(seed);
            const inp = uniform(rnd, B * C);
            const bias = uniform(rnd, C);
            // Some pre-activations exactly 0 (inp = −bias): relu(0) = 0, and the no-relu sum is exactly 0 too.
            for (let i = 0; i < B * C; i += 7) inp[i] = -bias[i % C]!;
            const pInp = input(inp);
            const pBias = input(bias);
            for (const relu of [true, false]) {
              const want = ref.biasReluForwardRef(inp, bias, B, C, relu);
              const out = guarded(B * C, NaN);
              k.biasReluForward(out.ptr, pInp, pBias, B, C, relu);
              expectClose(`${key} relu=${relu}`, out.f32, want, addTol);
              out.expectIntact(`${key} relu=${relu}: out guards`);
              expectSame(`${key} relu=${relu}: inp unchanged`, view(pInp, inp.length), inp);
              expectSame(`${key} relu=${relu}: bias unchanged`, view(pBias, bias.length), bias);

              const io = guarded(B * C, inp);
              k.biasReluForward(io.ptr, io.ptr, pBias, B, C, relu);
              expectClose(`${key} relu=${relu} in place`, io.f32, want, addTol);
              io.expectIntact(`${key} relu=${relu} in place: guards`);
            }
          });
        }
      }

      for (const B of Bs) {
        for (const C of Cs) {
          const n = B * C;
          const key = `reluBackward B=${B} C=${C} (n=${n})`;
          const seed = seedFor(key);
          it(`${key} in place and not (seed ${seed})`, () => {
            const rnd = new Random(seed);
            // `out` as relu leaves it: many exact zeros; plus −0, tiny (subnormal) positives and a NaN, which
            // must give dout, 0 and 0 (NaN > 0 is false). dout is never 0, so a zeroed gradient is visible.
            const out = Float32Array.from(uniform(rnd, n), (x) => Math.max(0, x));
            if (n >= 2) { out[0] = 0.5; out[n - 1] = 0; } // at least one of each, the zero in the scalar tail
            for (let i = 3; i < n; i += 11) out[i] = -0;
            for (let i = 5; i < n; i += 13) out[i] = 1e-40;
            if (n > 9) out[9] = NaN;
            const dout = Float32Array.from(uniform(rnd, n, 0.5, 1.5), (x, i) => (i % 2 ? x : -x));
            const want = ref.reluBackwardRef(dout, out);
            const pOut = input(out);
            const pDout = input(dout);
            const dinp = guarded(n, NaN);
            k.reluBackward(dinp.ptr, pDout, pOut, n);
            // A mask, not arithmetic: every element is exactly dout or exactly 0.
            expectSame(key, dinp.f32, want);
            dinp.expectIntact(`${key}: dinp guards`);
            expectSame(`${key}: dout unchanged`, view(pDout, n), dout);
            if (n >= 2) {
              const zeros = out.reduce((z, x) => z + (x > 0 ? 0 : 1), 0);
              expect(zeros, `${key}: the test data has zero and positive outputs`).toBeGreaterThan(0);
              expect(zeros, `${key}: the test data has zero and positive outputs`).toBeLessThan(n);
            }

            const io = guarded(n, dout);
            k.reluBackward(io.ptr, io.ptr, pOut, n);
            expectSame(`${key} in place`, io.f32, want);
            io.expectIntact(`${key} in place: guards`);
          });
        }
      }

      for (const B of Bs) {
        for (const C of Cs) {
          for (const accumulate of [false, true]) {
            const key = `biasBackward B=${B} C=${C} accumulate=${accumulate}`;
            const seed = seedFor(key);
            it(`${key} (seed ${seed})`, () => {
              const rnd = new Random(seed);
              const dout = uniform(rnd, B * C);
              const d0 = accumulate ? uniform(rnd, C) : new Float32Array(C).fill(NaN);
              const want = ref.biasBackwardRef(dout, B, C, accumulate ? d0 : undefined);
              // A sum of at most B+1 terms in any order is off by ≤ B·U·Σ|terms| (Higham, "Accuracy and Stability
              // of Numerical Algorithms", §4.2); bound it with the largest column's Σ|terms|.
              let worst = 0;
              for (let c = 0; c < C; c++) {
                let s = accumulate ? Math.abs(d0[c]!) : 0;
                for (let b = 0; b < B; b++) s += Math.abs(dout[b * C + c]!);
                worst = Math.max(worst, s);
              }
              const pDout = input(dout);
              const dbias = guarded(C, d0);
              k.biasBackward(dbias.ptr, pDout, B, C, accumulate);
              expectClose(key, dbias.f32, want, { atol: Math.max(B, 1) * U * worst, rtol: 0 });
              dbias.expectIntact(`${key}: dbias guards`);
              expectSame(`${key}: dout unchanged`, view(pDout, dout.length), dout);
            });
          }
        }
      }
    });

    // -------------------------------------------------------------------------------------------------------------
    describe('softmax + cross-entropy', () => {
      const probTol: Tolerance = { atol: 1e-6, rtol: 1e-5 };
      const lossTol: Tolerance = { atol: 1e-6, rtol: 1e-5 };

      /** Runs softmaxForward (into a fresh buffer and in place), softmaxCrossEntropyForward and
       * softmaxCrossEntropyBackward (scale 1/B and 0.37, into a fresh buffer and in place) on these logits and
       * checks them all against the f64 reference, plus: everything finite, rows of probs summing to 1, inputs
       * unchanged, the returned mean equal to the mean of the per-row losses, no write outside any output.
       * `want` overrides the reference where the answer is known exactly. */
      const checkSoftmax = (key: string, z: Float32Array, targets: Int32Array, B: number, C: number,
                            want = ref.softmaxXentRef(z, B, C, targets)): void => {
        const pz = input(z);
        const tg = arena.i32(B);
        tg.data.set(targets);

        // Row sums: p = e_i / s with s = fl(Σ e_i); errors in e_i cancel in the ratio, the sum's rounding
        // (≤ (C−1)·U) and one rounding per element remain: |Σ_c p − 1| ≤ (C+1)·U; allow (C+2)·U.
        const expectRowSums = (what: string, p: Float32Array): void => {
          const sums = new Float64Array(B);
          for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) sums[b]! += p[b * C + c]!;
          expectClose(`${what}: row sums`, sums, new Float64Array(B).fill(1), { atol: (C + 2) * U, rtol: 0 });
        };

        const p1 = guarded(B * C, NaN);
        k.softmaxForward(p1.ptr, pz, B, C);
        expectFinite(`${key} softmaxForward probs`, p1.f32);
        expectClose(`${key} softmaxForward probs`, p1.f32, want.probs, probTol);
        expectRowSums(`${key} softmaxForward`, p1.f32);
        p1.expectIntact(`${key} softmaxForward: probs guards`);
        expectSame(`${key} softmaxForward: logits unchanged`, view(pz, z.length), z);

        const pio = guarded(B * C, z); // "probs may alias logits"
        k.softmaxForward(pio.ptr, pio.ptr, B, C);
        expectClose(`${key} softmaxForward in place`, pio.f32, want.probs, probTol);
        pio.expectIntact(`${key} softmaxForward in place: guards`);

        const probs = guarded(B * C, NaN);
        const losses = guarded(B, NaN);
        const mean = k.softmaxCrossEntropyForward(probs.ptr, losses.ptr, pz, tg.ptr, B, C);
        expectFinite(`${key} xent probs`, probs.f32);
        expectFinite(`${key} xent losses`, losses.f32);
        expectFinite(`${key} xent mean`, [mean]);
        expectClose(`${key} xent probs`, probs.f32, want.probs, probTol);
        expectRowSums(`${key} xent`, probs.f32);
        expectClose(`${key} xent losses`, losses.f32, want.losses, lossTol);
        expectClose(`${key} xent mean loss`, [mean], [want.meanLoss], lossTol);
        // The mean is accumulated in f64 from the f32 losses it stored.
        const lossSum = losses.f32.reduce((s, x) => s + x, 0);
        expectClose(`${key} xent mean = Σ losses / B`, [mean], [lossSum / B], { atol: 0, rtol: 1e-12 });
        probs.expectIntact(`${key} xent: probs guards`);
        losses.expectIntact(`${key} xent: losses guards`);
        expectSame(`${key} xent: logits unchanged`, view(pz, z.length), z);
        expectSame(`${key} xent: targets unchanged`, tg.data, targets);

        const p = probs.f32.slice();
        for (const scale of [1 / B, 0.37]) {
          const s = f32(scale); // the kernel takes an f32
          const wantD = ref.softmaxXentBackwardRef(p, targets, B, C, s);
          // fl(fl(p·s) − s) or fl(s·fl(p − 1)): two roundings of values ≤ |s|, so ≤ 2U·|s|; allow 4U·|s|.
          const dTol: Tolerance = { atol: 4 * U * Math.abs(s), rtol: 0 };
          const d = guarded(B * C, NaN);
          k.softmaxCrossEntropyBackward(d.ptr, probs.ptr, tg.ptr, B, C, s);
          expectFinite(`${key} xent backward scale=${s}`, d.f32);
          expectClose(`${key} xent backward scale=${s}`, d.f32, wantD, dTol);
          d.expectIntact(`${key} xent backward scale=${s}: guards`);
          expectSame(`${key} xent backward scale=${s}: probs unchanged`, probs.f32, p);

          const dio = guarded(B * C, p); // "dlogits may alias probs"
          k.softmaxCrossEntropyBackward(dio.ptr, dio.ptr, tg.ptr, B, C, s);
          expectClose(`${key} xent backward scale=${s} in place`, dio.f32, wantD, dTol);
          dio.expectIntact(`${key} xent backward scale=${s} in place: guards`);
        }
      };

      const randomTargets = (rnd: Random, B: number, C: number): Int32Array => {
        const t = Int32Array.from({ length: B }, () => rnd.int(C));
        t[0] = 0; // the first and last class are always among the targets
        t[B - 1] = C - 1;
        return t;
      };

      for (const B of [1, 5, 64]) {
        for (const C of [1, 3, 5, 10, 17, 127]) {
          const key = `softmax B=${B} C=${C}`;
          const seed = seedFor(key);
          it(`${key} logits uniform in [-8, 8) (seed ${seed})`, () => {
            const rnd = new Random(seed);
            checkSoftmax(key, uniform(rnd, B * C, -8, 8), randomTargets(rnd, B, C), B, C);
          });
        }
      }

      const extremeCs = [1, 2, 3, 5, 10, 17, 127];

      it('softmax of all-zero logits: uniform probs, loss log C', () => {
        const B = 5;
        for (const C of extremeCs) {
          const key = `zero logits B=${B} C=${C}`;
          const mark = arena.mark();
          const targets = Int32Array.from({ length: B }, (_, b) => b % C);
          checkSoftmax(key, new Float32Array(B * C), targets, B, C);
          // The same, spelled out rather than via the reference.
          const probs = arena.f32(B * C);
          const losses = arena.f32(B);
          const tg = arena.i32(B);
          tg.data.set(targets);
          const mean = k.softmaxCrossEntropyForward(probs.ptr, losses.ptr, input(new Float32Array(B * C)), tg.ptr, B, C);
          expectClose(`${key}: probs = 1/C`, probs.data, new Float64Array(B * C).fill(1 / C), probTol);
          expectClose(`${key}: losses = log C`, losses.data, new Float64Array(B).fill(Math.log(C)), lossTol);
          expectClose(`${key}: mean = log C`, [mean], [Math.log(C)], lossTol);
          arena.release(mark);
        }
      });

      it(`softmax of logits ±1e4 mixed: finite, rows sum to 1, matches f64 (seed ${seedFor('pm1e4')})`, () => {
        const rnd = new Random(seedFor('pm1e4'));
        const B = 64;
        for (const C of extremeCs) {
          const mark = arena.mark();
          const z = Float32Array.from({ length: B * C }, () => (rnd.next() < 0.5 ? -1e4 : 1e4));
          z.fill(-1e4, 0, C); // row 0: all −1e4; row 1: all +1e4 (uniform)
          z.fill(1e4, C, Math.min(2 * C, B * C));
          const targets = Int32Array.from({ length: B }, () => rnd.int(C));
          checkSoftmax(`±1e4 B=${B} C=${C}`, z, targets, B, C);
          arena.release(mark);
        }
      });

      it('softmax with the target at −1e4 and every other logit at +1e4: loss ≈ 2e4 + log(C−1), finite', () => {
        const B = 5;
        for (const C of extremeCs.filter((c) => c >= 2)) {
          const key = `target −1e4 others +1e4 B=${B} C=${C}`;
          const mark = arena.mark();
          const targets = Int32Array.from({ length: B }, (_, b) => (b * 7) % C);
          const z = new Float32Array(B * C).fill(1e4);
          for (let b = 0; b < B; b++) z[b * C + targets[b]!] = -1e4;
          checkSoftmax(key, z, targets, B, C);
          const losses = arena.f32(B);
          const tg = arena.i32(B);
          tg.data.set(targets);
          const mean = k.softmaxCrossEntropyForward(arena.f32(B * C).ptr, losses.ptr, input(z), tg.ptr, B, C);
          const expected = 2e4 + Math.log(C - 1);
          expectClose(`${key}: losses`, losses.data, new Float64Array(B).fill(expected), lossTol);
          expectClose(`${key}: mean`, [mean], [expected], lossTol);
          arena.release(mark);
        }
      });

      it('softmax of rows of large equal values: uniform probs, loss log C', () => {
        const values = [1e4, -1e4, 3e38, -3e38, 1e30, 88.5, -100];
        const B = values.length;
        for (const C of extremeCs) {
          const mark = arena.mark();
          const z = new Float32Array(B * C);
          values.forEach((v, b) => z.fill(v, b * C, (b + 1) * C));
          const targets = Int32Array.from({ length: B }, (_, b) => (b * 3) % C);
          // Known exactly: p = 1/C and loss = log C. (Not from softmaxXentRef: its loss log(s) + m − z_t loses
          // log(s) to f64 rounding once |m| ≳ 1e16, e.g. it gives 0 instead of log 2 for a row of two 3e38.)
          const want = {
            probs: new Float64Array(B * C).fill(1 / C),
            losses: new Float64Array(B).fill(Math.log(C)),
            meanLoss: Math.log(C),
          };
          checkSoftmax(`equal rows C=${C}`, z, targets, B, C, want);
          arena.release(mark);
        }
      });

      it(`softmax of logits with a large common offset (1e4 + [-8, 8)): exact shifts (seed ${seedFor('offset')})`, () => {
        const rnd = new Random(seedFor('offset'));
        const B = 16;
        for (const C of extremeCs) {
          const mark = arena.mark();
          // Near 1e4 the f32 spacing is 2^-10, so z − max is exact and the probs must match as well as near 0.
          const z = uniform(rnd, B * C, 1e4 - 8, 1e4 + 8);
          checkSoftmax(`offset 1e4 C=${C}`, z, randomTargets(rnd, B, C), B, C);
          arena.release(mark);
        }
      });
    });

    // -------------------------------------------------------------------------------------------------------------
    describe('optimizers', () => {
      const sizes = [1, 3, 5, 17, 64, 127, 784];
      const STEPS = 10;

      for (const n of sizes) {
        for (const wd of [0, 0.01]) {
          const key = `sgdMomentumStep n=${n} weightDecay=${wd}`;
          const seed = seedFor(key);
          it(`${key}, steps 1..${STEPS} chained (seed ${seed})`, () => {
            const rnd = new Random(seed);
            const lr = f32(0.05), mu = f32(0.9), lambda = f32(wd);
            const param = guarded(n, uniform(rnd, n));
            const vel = guarded(n, 0);
            const grad = arena.f32(n);
            for (let t = 1; t <= STEPS; t++) {
              const g = uniform(rnd, n);
              grad.data.set(g);
              const p0 = param.f32.slice();
              const v0 = vel.f32.slice();
              k.sgdMomentumStep(param.ptr, grad.ptr, vel.ptr, n, lr, mu, lambda);
              // One step from the kernel's own f32 state, so the error is one step's rounding: v = μv + (g + λw)
              // has |v| ≲ 3 here and three roundings (≤ 3U·Σ|terms| ≈ 1e-6); w − lr·v adds two more.
              const want = ref.sgdMomentumRef(p0, g, v0, lr, mu, lambda);
              expectClose(`${key} t=${t}: velocity`, vel.f32, want.velocity, { atol: 2e-6, rtol: 1e-6 });
              expectClose(`${key} t=${t}: param`, param.f32, want.param, { atol: 1e-6, rtol: 1e-6 });
              expectSame(`${key} t=${t}: grad unchanged`, grad.data, g);
            }
            param.expectIntact(`${key}: param guards`);
            vel.expectIntact(`${key}: velocity guards`);
          });
        }
      }

      for (const n of sizes) {
        for (const wd of [0, 0.1]) {
          const key = `adamStep n=${n} weightDecay=${wd}`;
          const seed = seedFor(key);
          it(`${key}, steps 1..${STEPS} chained (seed ${seed})`, () => {
            const rnd = new Random(seed);
            const lr = f32(0.01), b1 = f32(0.9), b2 = f32(0.999), eps = f32(1e-8), lambda = f32(wd);
            const param = guarded(n, uniform(rnd, n));
            const m = guarded(n, 0);
            const v = guarded(n, 0);
            const grad = arena.f32(n);
            for (let t = 1; t <= STEPS; t++) {
              const g = uniform(rnd, n);
              grad.data.set(g);
              const p0 = param.f32.slice();
              const m0 = m.f32.slice();
              const v0 = v.f32.slice();
              k.adamStep(param.ptr, grad.ptr, m.ptr, v.ptr, n, lr, b1, b2, eps, lambda, t);
              // One step from the kernel's f32 state. m = β1·m + (1−β1)·g: ≤ 3 roundings of terms ≤ 1 (≈ 2e-8);
              // v is a sum of non-negative terms, so relative; the step (≈ ±lr) is relative to a few U, so the
              // param error is the rounding of w (≤ U·|w|) plus ~1e-9.
              const want = ref.adamRef(p0, g, m0, v0, lr, b1, b2, eps, lambda, t);
              expectClose(`${key} t=${t}: m`, m.f32, want.m, { atol: 1e-7, rtol: 1e-6 });
              expectClose(`${key} t=${t}: v`, v.f32, want.v, { atol: 1e-12, rtol: 1e-6 });
              expectClose(`${key} t=${t}: param`, param.f32, want.param, { atol: 1e-7, rtol: 1e-6 });
              expectSame(`${key} t=${t}: grad unchanged`, grad.data, g);
            }
            param.expectIntact(`${key}: param guards`);
            m.expectIntact(`${key}: m guards`);
            v.expectIntact(`${key}: v guards`);
          });
        }
      }
    });

    // -------------------------------------------------------------------------------------------------------------
    describe('argmax', () => {
      const Cs = [1, 3, 5, 10, 17];

      const run = (x: Float32Array, B: number, C: number): Int32Array => {
        const px = input(x);
        const out = new Guarded(core, arena, B);
        out.i32.fill(-7);
        k.argmax(out.ptr, px, B, C);
        out.expectIntact(`argmax B=${B} C=${C}: out guards`);
        expectSame(`argmax B=${B} C=${C}: x unchanged`, view(px, x.length), x);
        return out.i32.slice();
      };

      for (const C of Cs) {
        const key = `argmax C=${C}`;
        const seed = seedFor(key);
        it(`${key} random rows, continuous and with ties (seed ${seed})`, () => {
          const rnd = new Random(seed);
          const B = 64;
          const x = uniform(rnd, B * C, -5, 5);
          expectSame(`${key} continuous`, run(x, B, C), ref.argmaxRef(x, B, C));
          // Few distinct values: most rows have the maximum several times, and the first one must win.
          const ties = Float32Array.from({ length: B * C }, () => rnd.int(3) - 1);
          const want = ref.argmaxRef(ties, B, C);
          expectSame(`${key} ties`, run(ties, B, C), want);
        });

        it(`${key} random rows with NaN and -Infinity (seed ${seed})`, () => {
          const rnd = new Random(seed);
          const B = 64;
          const x = Float32Array.from({ length: B * C }, () => {
            const u = rnd.next();
            return u < 0.2 ? NaN : u < 0.4 ? -Infinity : u < 0.45 ? Infinity : rnd.int(4);
          });
          // Every row keeps a value above −∞, so "the first index of the largest non-NaN value" is unambiguous
          // (and the reference's scan agrees with it).
          for (let b = 0; b < B; b++) x[b * C + rnd.int(C)] = rnd.int(4) - 2;
          expectSame(key, run(x, B, C), ref.argmaxRef(x, B, C));
        });
      }

      // Hand-made rows with their answers from the kernel header: the smallest c with x[c] = max over the non-NaN
      // values; NaN never wins unless the row is all NaN (then 0).
      const N = NaN, I = Infinity;
      const rows: ReadonlyArray<readonly [string, readonly number[], number]> = [
        ['single', [7], 0],
        ['single NaN', [N], 0],
        ['single -Inf', [-I], 0],
        ['tie', [1, 3, 3], 1],
        ['all equal', [3, 3, 3, 3, 3], 0],
        ['signed zeros tie', [-0, 0, -0], 0],
        ['negatives', [-1e30, -3e38, -2, -2.5, -1e-30], 4],
        ['NaN first', [N, 2, 5, N, 5], 2],
        ['NaN after the max', [9, N, 3], 0],
        ['+Inf', [1, I, 2, I, N], 1],
        ['all -Inf', [-I, -I, -I], 0],
        ['-Inf and one finite', [-I, -5, -I], 1],
        ['all NaN', [N, N, N, N, N, N, N, N, N, N], 0],
        ['NaN then -Inf (C=2)', [N, -I], 1],
        ['NaN and -Inf only (C=5)', [N, N, -I, N, -I], 2],
        ['NaN and -Inf only (C=10)', [N, N, N, N, N, -I, N, N, N, N], 5],
        ['max in the tail (C=17)', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], 16],
        ['tie across chunk and tail (C=17)', [0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9], 3],
        ['tie within the tail (C=17)', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 9], 15],
        ['NaN everywhere but one (C=17)', [N, N, N, N, N, N, N, N, N, N, N, N, N, -3, N, N, N], 13],
        ['-Inf everywhere but a NaN and one (C=10)', [-I, N, -I, -I, -I, -I, -I, -I, -4, -I], 8],
      ];
      for (const [what, row, want] of rows) {
        it(`argmax of a hand-made row: ${what} [${row.join(', ')}] → ${want}`, () => {
          expectSame(what, run(Float32Array.from(row), 1, row.length), [want]);
        });
      }
      it('argmax of the hand-made rows batched by length', () => {
        const byLength = new Map<number, Array<readonly [readonly number[], number]>>();
        for (const [, row, want] of rows) byLength.set(row.length, [...(byLength.get(row.length) ?? []), [row, want]]);
        for (const [C, list] of byLength) {
          const x = Float32Array.from(list.flatMap(([row]) => row));
          expectSame(`batched rows of length ${C}`, run(x, list.length, C), list.map(([, want]) => want));
        }
      });
    });
  });
}
