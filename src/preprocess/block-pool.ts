// Reusable blocks of the wasm core's linear memory for many small, long-lived owners (drawing sessions): carved from
// an allocator once, returned to a free list by size class when freed, handed out again before the allocator is asked.
// Not here: what the blocks hold (fast-strokes.ts); the arena's own LIFO scratch (src/wasm/arena.ts, which this
// module does not import: src/preprocess/ stays free of the rest of src/, for the browser).
//
// Size classes: powers of two from 64 B to 1 KB, then multiples of 1 KB, so a 9 KB grid wastes < 1 KB, not 7 KB.

/** Where blocks come from: src/wasm/arena.ts's Arena (shared with the other users of the same core instance), or a
 * BumpAllocator for a core this pool has to itself. Zero-filled, 64-byte aligned. */
export interface ByteAllocator {
  bytes(byteLength: number): number;
}

const ALIGN = 64;
const PAGE = 65536;

/** Bytes from `base` up, growing the memory on demand: for a wasm instance nothing else allocates in. */
export class BumpAllocator implements ByteAllocator {
  private top: number;
  constructor(private readonly memory: WebAssembly.Memory, base: number) {
    this.top = Math.ceil(base / ALIGN) * ALIGN;
  }
  bytes(byteLength: number): number {
    const ptr = this.top;
    const end = Math.ceil((ptr + byteLength) / ALIGN) * ALIGN;
    const size = this.memory.buffer.byteLength;
    // Geometrically (by a quarter at least): each grow detaches every view of the memory, which its users then re-make,
    // and costs a copy or a remap; 10,000 sessions growing one page at a time measured 5.5% of a loaded server's CPU
    // in grow alone, more in the views and GC after it. Untouched pages cost no RSS.
    if (end > size) this.memory.grow(Math.max(Math.ceil((end - size) / PAGE), Math.ceil(size / 4 / PAGE)));
    this.top = end;
    return ptr; // fresh pages are zero, and nothing is ever handed out twice
  }
}

/** The class (the block size actually reserved) for a request of n bytes. */
export function blockClass(n: number): number {
  if (n <= 64) return 64;
  if (n <= 1024) return 2 ** Math.ceil(Math.log2(n));
  return Math.ceil(n / 1024) * 1024;
}

export class BlockPool {
  private readonly free = new Map<number, number[]>();
  private reserved = 0;
  private inUse = 0;

  constructor(private readonly arena: ByteAllocator) {}

  /** A block of at least n bytes (its size is blockClass(n)); zero-filled only when fresh from the arena. */
  alloc(n: number): number {
    const size = blockClass(n);
    this.inUse += size;
    const list = this.free.get(size);
    if (list !== undefined && list.length > 0) return list.pop()!;
    this.reserved += size;
    return this.arena.bytes(size);
  }

  /** Gives back a block from alloc(n) (same n, or any n of the same class). */
  release(ptr: number, n: number): void {
    const size = blockClass(n);
    this.inUse -= size;
    let list = this.free.get(size);
    if (list === undefined) this.free.set(size, list = []);
    list.push(ptr);
  }

  /** Bytes currently handed out (what a memory budget checks: no allocation, unlike stats). */
  get bytesInUse(): number {
    return this.inUse;
  }

  /** Bytes ever taken from the arena, and bytes currently handed out. */
  get stats(): { reserved: number; inUse: number } {
    return { reserved: this.reserved, inUse: this.inUse };
  }
}
