// WebAssembly feature detection: does this runtime validate modules that use 128-bit SIMD?
// The probe is the smallest module whose one function uses a v128 instruction; validation compiles nothing.
// Not here: relaxed SIMD (an optional extra, never required).

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)) — the probe used by wasm-feature-detect.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** True when WebAssembly fixed-width SIMD (the "simd128" feature) is available. */
export function hasWasmSimd(wasm: typeof WebAssembly | undefined = globalThis.WebAssembly): boolean {
  if (wasm === undefined || typeof wasm.validate !== 'function') return false;
  try {
    return wasm.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/** Error thrown when the numeric core cannot run here; names the missing feature and what to do. */
export class MissingWasmFeatureError extends Error {
  constructor(readonly feature: string) {
    super(
      `${feature} is not available in this runtime (${describeRuntime()}), and the numeric core needs it. ` +
        `Use Node.js >= 20 or a current Chrome, Firefox or Safari, without flags that turn it off ` +
        `(such as --jitless).`,
    );
    this.name = 'MissingWasmFeatureError';
  }
}

function describeRuntime(): string {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return proc?.versions?.node !== undefined ? `Node.js ${proc.versions.node}` : 'this browser';
}
