// Loads the wasm core (build/core.wasm, served as /core.wasm) in the browser and hands back a FastPreprocessor on it:
// the same preprocessing, on the same module, as the server's. Instantiates the module itself (the AssemblyScript
// loader is Node-side only, src/wasm/): streaming when the server says application/wasm, from bytes otherwise.
// Not here: what to do when it fails (main.ts shows a note and draws on without a preview).

import { FastPreprocessor, type PreprocessCore } from '../../src/preprocess/fast-strokes.js';

/** How the module was compiled: while the bytes arrived (`streaming`) or after (`buffer`, a wrong content type). */
export type CoreLoad = 'streaming' | 'buffer';

export interface LoadedPreprocessor {
  readonly pre: FastPreprocessor;
  readonly load: CoreLoad;
}

// AssemblyScript's runtime imports env.abort (a failed assert, e.g. in a debug build; the release build asserts
// nothing). Its message arguments are pointers to strings in the module's memory: the position is enough here.
const imports = {
  env: {
    abort(_message: number, _file: number, line: number, column: number): never {
      throw new Error(`numeric core aborted at ${line}:${column}`);
    },
  },
};

/** Fetches and instantiates the core. Rejects without WebAssembly, without SIMD (the module does not compile), or
 * when the file is missing (`npm run build:web` copies it next to app.js). */
export async function loadPreprocessor(url = '/core.wasm'): Promise<LoadedPreprocessor> {
  if (typeof WebAssembly !== 'object') throw new Error('this browser has no WebAssembly');
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  // instantiateStreaming insists on application/wasm; a server or proxy sending anything else gets the slow path.
  const streaming = typeof WebAssembly.instantiateStreaming === 'function'
    && response.headers.get('content-type')?.split(';')[0]?.trim() === 'application/wasm';
  const { instance } = streaming
    ? await WebAssembly.instantiateStreaming(response, imports)
    : await WebAssembly.instantiate(await response.arrayBuffer(), imports);
  const core = instance.exports as unknown as PreprocessCore;
  if (!(core.memory instanceof WebAssembly.Memory) || typeof core.heapBase !== 'function') {
    throw new Error(`${url} is not the numeric core (no memory or heapBase export)`);
  }
  // The core is this page's alone: the preprocessor's default allocator takes memory from heapBase up.
  return { pre: new FastPreprocessor(core), load: streaming ? 'streaming' : 'buffer' };
}
