// An arena over the core's linear memory: every buffer the kernels touch is carved out here once (at model or
// session set-up) so that training steps and predictions allocate nothing. Buffers are 64-byte aligned (a cache
// line; f32x4 loads never straddle one). Memory grows on demand; `mark`/`release` give LIFO scratch space.
// Not here: any knowledge of layers or shapes beyond a flat length.

import type { CoreExports } from './core.js';

const ALIGN = 64;
const PAGE = 65536;

/** A typed array view of an arena buffer that stays valid across memory growth: `memory.grow` detaches the old
 * ArrayBuffer (every view of it reads as length 0), so `.data` re-creates the view when the buffer has changed. */
abstract class GrowSafeView<T extends Float32Array | Int32Array> {
  private view: T | undefined;
  constructor(
    protected readonly memory: WebAssembly.Memory,
    /** Byte offset in linear memory: what kernels take. */
    readonly ptr: number,
    /** Number of elements. */
    readonly length: number,
  ) {}
  protected abstract make(buffer: ArrayBuffer): T;
  /** The elements, as a view into linear memory (never cache it across a call that may grow memory). */
  get data(): T {
    const buffer = this.memory.buffer;
    if (this.view === undefined || this.view.buffer !== buffer) this.view = this.make(buffer);
    return this.view;
  }
}

export class F32Buffer extends GrowSafeView<Float32Array> {
  protected make(buffer: ArrayBuffer): Float32Array {
    return new Float32Array(buffer, this.ptr, this.length);
  }
}

export class I32Buffer extends GrowSafeView<Int32Array> {
  protected make(buffer: ArrayBuffer): Int32Array {
    return new Int32Array(buffer, this.ptr, this.length);
  }
}

export class Arena {
  private top: number;
  private readonly base: number;

  constructor(private readonly core: CoreExports) {
    this.base = alignUp(core.heapBase(), ALIGN);
    this.top = this.base;
  }

  /** A zero-filled f32 buffer of `length` elements. */
  f32(length: number): F32Buffer {
    return new F32Buffer(this.core.memory, this.reserve(length * 4), length);
  }

  /** A zero-filled i32 buffer of `length` elements. */
  i32(length: number): I32Buffer {
    return new I32Buffer(this.core.memory, this.reserve(length * 4), length);
  }

  /** Raw bytes (e.g. matmul scratch); returns the pointer. */
  bytes(byteLength: number): number {
    return this.reserve(byteLength);
  }

  /** Bytes in use, from the start of the arena. */
  get used(): number {
    return this.top - this.base;
  }

  /** The current top, to pass to `release` later. */
  mark(): number {
    return this.top;
  }

  /** Frees everything allocated since `mark` (buffers from then on must no longer be used). */
  release(mark: number): void {
    if (mark < this.base || mark > this.top) throw new RangeError(`arena mark ${mark} is not in [${this.base}, ${this.top}]`);
    this.top = mark;
  }

  private reserve(byteLength: number): number {
    if (!Number.isInteger(byteLength) || byteLength < 0) throw new RangeError(`cannot allocate ${byteLength} bytes`);
    const ptr = this.top;
    const end = alignUp(ptr + byteLength, ALIGN);
    const memory = this.core.memory;
    if (end > memory.buffer.byteLength) {
      // wasm32 addresses stop at 4 GiB; memory.grow throws a RangeError past the engine's limit.
      memory.grow(Math.ceil((end - memory.buffer.byteLength) / PAGE));
    }
    // Released space may hold old data: hand out zeros, as a fresh allocation would.
    new Uint8Array(memory.buffer, ptr, end - ptr).fill(0);
    this.top = end;
    return ptr;
  }
}

function alignUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
