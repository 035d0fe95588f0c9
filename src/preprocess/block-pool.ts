// Reusable blocks of the wasm core's linear memory for many small, long-lived owners (drawing sessions): a free-list
// allocator over chunks taken from an allocator, where freed memory serves a request of any size. Freed blocks merge
// with free neighbours on both sides; free blocks sit in bins by size (8 per power of two), and a request splits a
// block of the smallest bin that surely fits, the remainder going back. Every offset is 64-byte aligned and every size
// a multiple of 64. Not here: what the blocks hold (fast-strokes.ts); the arena's own LIFO scratch (src/wasm/arena.ts,
// which this module does not import: src/preprocess/ stays free of the rest of src/, for the browser).

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

/** The size of the block a request of n bytes gets (and that release(ptr, n) gives back): n in whole 64-byte lines. */
export function blockClass(n: number): number {
  return n <= ALIGN ? ALIGN : Math.ceil(n / ALIGN) * ALIGN;
}

/** Bytes asked of the allocator at least when no free block fits: one call per many small blocks. */
const CHUNK = 256 * 1024;
/** Blocks of a request's own bin (which holds sizes both below and above it) that it looks at before a larger bin. */
const NEAR_TRIES = 4;
/** Bins: 8 per power of two (TLSF's two levels; 224 cover 64 B … 4 GiB), so the smallest bin that surely fits is a
 * close fit and large free blocks stay whole for large requests: for 10,000 drawers, 223 MiB reserved for 206 MiB in
 * use, against 244 MiB with one bin per power of two. */
const BINS = 224;

/** Bin of a free block of `size` bytes, in 64-byte lines u: u itself below 8, else 8 bins per power of two,
 * (floor(log2 u) − 2)·8 + the 3 bits after u's leading one. Increasing in size. */
function binOf(size: number): number {
  const u = size / ALIGN;
  if (u < 8) return u;
  const f = 31 - Math.clz32(u);
  return ((f - 2) << 3) | ((u >>> (f - 3)) & 7);
}

/** The smallest size (bytes) that falls in bin i: the inverse of binOf on bin starts. */
function binStart(i: number): number {
  if (i < 8) return i * ALIGN;
  return ((8 | (i & 7)) << ((i >> 3) - 1)) * ALIGN;
}

export class BlockPool {
  // Free blocks: size by start offset, start by end offset (a release finds both neighbours in O(1)), and the starts
  // in bins by size, with one bit per non-empty bin (the first bin that surely fits is a few clz away). Sets delete
  // any member in O(1) (a merge removes a neighbour from the middle of its bin) and iterate oldest first.
  private readonly sizeAt = new Map<number, number>();
  private readonly startAt = new Map<number, number>();
  private readonly bins: Set<number>[] = Array.from({ length: BINS }, () => new Set<number>());
  private readonly nonEmpty = new Uint32Array(BINS / 32);
  /** End of the last chunk taken from the allocator: a BumpAllocator's next chunk starts there. */
  private top = -1;
  private reserved = 0;
  private inUse = 0;

  constructor(private readonly arena: ByteAllocator) {}

  /** A block of blockClass(n) bytes. Not zero-filled (freed memory is handed out as it was left): callers initialise
   * what they read. */
  alloc(n: number): number {
    const size = blockClass(n);
    let ptr = this.take(size);
    if (ptr < 0) ptr = this.grow(size);
    this.inUse += size;
    return ptr;
  }

  /** Gives back a block from alloc(n) (same n, or any n of the same blockClass). */
  release(ptr: number, n: number): void {
    const size = blockClass(n);
    if (this.sizeAt.has(ptr)) throw new Error(`BlockPool.release: block at ${ptr} is already free`);
    this.inUse -= size;
    this.insert(ptr, size);
  }

  /** Bytes currently handed out (what a memory budget checks: no allocation, unlike stats). */
  get bytesInUse(): number {
    return this.inUse;
  }

  /** Bytes ever taken from the arena, bytes currently handed out, and the free blocks (count, largest). */
  get stats(): { reserved: number; inUse: number; freeBlocks: number; largestFree: number } {
    let largestFree = 0;
    for (const size of this.sizeAt.values()) if (size > largestFree) largestFree = size;
    return { reserved: this.reserved, inUse: this.inUse, freeBlocks: this.sizeAt.size, largestFree };
  }

  /** `size` bytes split off the low end of a free block: one of the first few of size's own bin that fits, else the
   * oldest of the smallest non-empty bin that surely fits; -1 if none does. O(1): a few bin entries, ≤ 7 bit words. */
  private take(size: number): number {
    const f = binOf(size);
    let start = -1, have = 0;
    if (size !== binStart(f)) {
      // Bin f holds blocks both smaller and larger than size: try its first few before splitting a larger bin's.
      let tries = NEAR_TRIES;
      for (const s of this.bins[f]!) {
        const sz = this.sizeAt.get(s)!;
        if (sz >= size) {
          start = s;
          have = sz;
          break;
        }
        if (--tries === 0) break;
      }
    }
    if (start < 0) {
      // Every block of bin ≥ c is at least binStart(c) ≥ size bytes: the first non-empty one, a word of bits at a time.
      const c = size === binStart(f) ? f : f + 1;
      let w = c >> 5;
      let bits = this.nonEmpty[w]! & (-1 << (c & 31));
      while (bits === 0) {
        if (++w === this.nonEmpty.length) return -1;
        bits = this.nonEmpty[w]!;
      }
      const b = (w << 5) + 31 - Math.clz32(bits & -bits); // lowest set bit
      start = this.bins[b]!.values().next().value!;
      have = this.sizeAt.get(start)!;
    }
    this.unlink(start, have);
    // The remainder's left neighbour is the block handed out and its right one was not free (it would have merged):
    // it goes straight into its bin.
    if (have > size) this.link(start + size, have - size);
    return start;
  }

  /** Takes a chunk from the allocator that, with a free block ending at the last chunk's end, holds `size` bytes, and
   * returns `size` bytes of it. */
  private grow(size: number): number {
    const tailStart = this.startAt.get(this.top);
    const tail = tailStart === undefined ? 0 : this.top - tailStart;
    let ask = blockClass(Math.max(CHUNK, size - tail));
    let ptr = this.arena.bytes(ask);
    this.reserved += ask;
    this.top = ptr + ask;
    let start = this.insert(ptr, ask);
    if (this.sizeAt.get(start)! < size) {
      // Someone else took memory in between: the chunk did not extend the tail, so a new one alone must hold size.
      ask = blockClass(Math.max(CHUNK, size));
      ptr = this.arena.bytes(ask);
      this.reserved += ask;
      this.top = ptr + ask;
      start = this.insert(ptr, ask);
    }
    // From the merged block itself: take() looks at only a few blocks of a bin that may or may not fit.
    const have = this.sizeAt.get(start)!;
    this.unlink(start, have);
    if (have > size) this.link(start + size, have - size);
    return start;
  }

  /** Frees [ptr, ptr + size), merged with the free blocks that end where it starts and start where it ends; returns
   * the merged block's start. */
  private insert(ptr: number, size: number): number {
    let start = ptr, end = ptr + size;
    const left = this.startAt.get(start);
    if (left !== undefined) {
      this.unlink(left, start - left);
      start = left;
    }
    const right = this.sizeAt.get(end);
    if (right !== undefined) {
      this.unlink(end, right);
      end += right;
    }
    this.link(start, end - start);
    return start;
  }

  private link(start: number, size: number): void {
    const b = binOf(size);
    this.sizeAt.set(start, size);
    this.startAt.set(start + size, start);
    this.bins[b]!.add(start);
    this.nonEmpty[b >> 5]! |= 1 << (b & 31);
  }

  private unlink(start: number, size: number): void {
    const b = binOf(size);
    this.sizeAt.delete(start);
    this.startAt.delete(start + size);
    const bin = this.bins[b]!;
    bin.delete(start);
    if (bin.size === 0) this.nonEmpty[b >> 5]! &= ~(1 << (b & 31));
  }
}
