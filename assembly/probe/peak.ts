// The SIMD ceiling probe for the benchmark (built separately into build/peak.wasm, never part of the core):
// the matmul micro-kernel's instruction mix — 4 broadcast loads and 8 independent f32x4 mul+add pairs per step —
// with the B operand held in registers, so it measures this core's mul/add throughput through V8 and nothing else.

/** Runs n steps; returns a value that depends on every accumulator (so nothing is optimised away). */
export function peak(n: i32, p: usize): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
  const b0 = v128.load(p), b1 = v128.load(p, 16);
  for (let i = 0; i < n; i++) {
    const x = v128.load32_splat(p, 32), y = v128.load32_splat(p, 36);
    const z = v128.load32_splat(p, 40), w = v128.load32_splat(p, 44);
    a0 = f32x4.add(a0, f32x4.mul(x, b0)); a1 = f32x4.add(a1, f32x4.mul(x, b1));
    a2 = f32x4.add(a2, f32x4.mul(y, b0)); a3 = f32x4.add(a3, f32x4.mul(y, b1));
    a4 = f32x4.add(a4, f32x4.mul(z, b0)); a5 = f32x4.add(a5, f32x4.mul(z, b1));
    a6 = f32x4.add(a6, f32x4.mul(w, b0)); a7 = f32x4.add(a7, f32x4.mul(w, b1));
  }
  const t = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(t, 0);
}
