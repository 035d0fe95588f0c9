// The numeric core's loading and its arena. A runtime without WebAssembly (`node --jitless`) is a child process:
// test/integration/cli.test.ts.
import { describe, expect, it } from 'vitest';
import { loadCore, corePath } from '../../src/wasm/core.js';
import { Arena } from '../../src/wasm/arena.js';
import { hasWasmSimd } from '../../src/wasm/simd.js';

describe('core loading', () => {
  it('loads the release build and exports every kernel', async () => {
    const core = await loadCore();
    for (const name of ['matmulNN', 'matmulNT', 'matmulTN', 'biasReluForward', 'reluBackward', 'biasBackward',
      'softmaxForward', 'softmaxCrossEntropyForward', 'softmaxCrossEntropyBackward', 'sgdMomentumStep', 'adamStep',
      'argmax', 'denseForwardOne']) {
      expect(typeof (core as unknown as Record<string, unknown>)[name], name).toBe('function');
      expect(typeof (core as unknown as Record<string, unknown>)[`${name}Scalar`], `${name}Scalar`).toBe('function');
    }
  });

  it('exports the one-row forward (mlpPredictOne, denseForwardOneWorkBytes) for Mlp.predictOne', async () => {
    const core = await loadCore();
    expect(typeof core.mlpPredictOne).toBe('function');
    expect(core.denseForwardOneWorkBytes(784)).toBe((784 + 4) * 4);
  });

  it('detects SIMD in this runtime', () => {
    expect(hasWasmSimd()).toBe(true);
  });

  it('points at `npm run build` when the module is missing', async () => {
    await expect(loadCore('/nonexistent/core.wasm')).rejects.toThrow(/npm run build/);
    expect(corePath()).toMatch(/build\/core\.wasm$/);
  });
});

describe('arena', () => {
  it('keeps views valid across memory growth', async () => {
    const core = await loadCore();
    const arena = new Arena(core);
    const a = arena.f32(16);
    a.data.set(Array.from({ length: 16 }, (_, i) => i));
    const before = core.memory.buffer.byteLength;
    const big = arena.f32(4 * 1024 * 1024); // 16 MiB: forces memory.grow
    expect(core.memory.buffer.byteLength).toBeGreaterThan(before);
    expect(Array.from(a.data)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(big.data.length).toBe(4 * 1024 * 1024);
    expect(a.ptr % 64).toBe(0);
    expect(big.ptr % 64).toBe(0);
  });
});
