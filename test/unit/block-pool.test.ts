// BlockPool (src/preprocess/block-pool.ts) against a plain model of what it hands out: seeded random alloc/release
// sequences over a contiguous allocator and over one whose chunks other users interleave, checked after every step
// (64-byte aligned, inside the pool's chunks, no two live blocks overlap, bytesInUse exact); freed memory serves any
// later size (neighbours merge both ways, a split's remainder is reused, freeing all leaves one block). No wasm:
// the allocator is a counter, since the pool only does offset arithmetic.

import { describe, expect, it } from 'vitest';
import { Random } from '../../src/random.js';
import { BlockPool, blockClass, type ByteAllocator } from '../../src/preprocess/block-pool.js';

/** Offsets from 64 up (never 0, which would hide a forgotten pointer), recording which ranges went to the pool; with
 * `foreign`, another user takes a block of that many bytes before every chunk, so chunks are never adjacent. */
class FakeArena implements ByteAllocator {
  private top = 64;
  readonly chunks: Array<[number, number]> = [];
  constructor(private readonly foreign = 0) {}
  bytes(byteLength: number): number {
    this.top += this.foreign;
    const ptr = this.top;
    this.top += Math.ceil(byteLength / 64) * 64;
    this.chunks.push([ptr, this.top]);
    return ptr;
  }
  /** [start, end) lies in the chunks (adjacent ones may hold one block between them). */
  owns(start: number, end: number): boolean {
    let at = start;
    for (const [a, b] of this.chunks) if (a <= at && at < b) at = b; // chunks come in address order
    return at >= end;
  }
}

/** A request size like a session's: mostly small point blocks and grids, now and then one larger than a chunk. */
function requestSize(rng: Random): number {
  const u = rng.next();
  if (u < 0.5) return 1 + rng.int(1024);
  if (u < 0.97) return 1 + rng.int(32 * 1024);
  return 1 + rng.int(600 * 1024);
}

function randomRun(pool: BlockPool, arena: FakeArena, seed: number, steps: number): Map<number, number> {
  const rng = new Random(seed);
  const live = new Map<number, number>(); // ptr → requested n
  let expectedInUse = 0;
  for (let step = 0; step < steps; step++) {
    // Drifts between filling (~400 live blocks) and draining, so merges, splits and chunk growth all happen.
    const fill = Math.floor(step / 2000) % 2 === 0 ? 0.6 : 0.35;
    if (live.size === 0 || rng.next() < fill) {
      const n = requestSize(rng);
      const ptr = pool.alloc(n);
      const size = blockClass(n);
      expect(ptr % 64).toBe(0);
      expect(arena.owns(ptr, ptr + size)).toBe(true);
      for (const [p, m] of live) {
        if (ptr < p + blockClass(m) && p < ptr + size) {
          throw new Error(`step ${step}: block [${ptr}, ${ptr + size}) overlaps live [${p}, ${p + blockClass(m)})`);
        }
      }
      live.set(ptr, n);
      expectedInUse += size;
    } else {
      const keys = [...live.keys()];
      const ptr = keys[rng.int(keys.length)]!;
      pool.release(ptr, live.get(ptr)!);
      expectedInUse -= blockClass(live.get(ptr)!);
      live.delete(ptr);
    }
    expect(pool.bytesInUse).toBe(expectedInUse);
  }
  return live;
}

describe('BlockPool', () => {
  it('rounds requests up to whole 64-byte lines', () => {
    expect([1, 64, 65, 1000, 1024, 9000].map(blockClass)).toEqual([64, 64, 128, 1024, 1024, 9024]);
  });

  it('hands out aligned, non-overlapping blocks of its own chunks with exact bytesInUse over a seeded random run, ' +
    'and freeing everything leaves one block that a request of the whole size reuses', () => {
    for (const seed of [1, 2, 3]) {
      const arena = new FakeArena();
      const pool = new BlockPool(arena);
      const live = randomRun(pool, arena, seed, 8000);
      expect(live.size).toBeGreaterThan(0);
      for (const [ptr, n] of live) pool.release(ptr, n);
      const { reserved, inUse, freeBlocks, largestFree } = pool.stats;
      expect(inUse).toBe(0);
      expect(freeBlocks).toBe(1);
      expect(largestFree).toBe(reserved);
      expect(pool.alloc(reserved)).toBe(arena.chunks[0]![0]);
      expect(pool.stats.reserved).toBe(reserved);
      expect(arena.chunks.length).toBeGreaterThan(3); // the run did outgrow the first chunks
    }
  });

  it('never merges across memory another user of the allocator holds', () => {
    const arena = new FakeArena(4096);
    const pool = new BlockPool(arena);
    const live = randomRun(pool, arena, 7, 8000);
    for (const [ptr, n] of live) pool.release(ptr, n);
    // Chunks are never adjacent here: each stays a free block of its own, exactly its size.
    expect(pool.stats.freeBlocks).toBe(arena.chunks.length);
    expect(pool.stats.reserved).toBe(arena.chunks.reduce((s, [a, b]) => s + b - a, 0));
  });

  it.each([['left', 'a then b'], ['right', 'b then a']])('merges a freed block with a free %s neighbour (%s freed)', (_side, order) => {
    const pool = new BlockPool(new FakeArena());
    const [a, b] = [pool.alloc(1024), pool.alloc(1024), pool.alloc(1024)];
    const blocks = pool.stats.freeBlocks; // the chunk's tail
    for (const p of order === 'a then b' ? [a, b] : [b, a]) pool.release(p!, 1024);
    expect(pool.stats.freeBlocks).toBe(blocks + 1);
    expect(pool.alloc(2048)).toBe(a);
  });

  it('merges with both neighbours at once, and with the free tail of the chunk', () => {
    const pool = new BlockPool(new FakeArena());
    const [a, b, c, d] = [pool.alloc(1000), pool.alloc(1000), pool.alloc(1000), pool.alloc(1000)];
    const reserved = pool.stats.reserved;
    pool.release(a!, 1000);
    pool.release(c!, 1000);
    expect(pool.stats.freeBlocks).toBe(3); // a, c, the tail
    pool.release(b!, 1000);
    expect(pool.stats.freeBlocks).toBe(2); // a+b+c, the tail
    expect(pool.alloc(3 * 1024)).toBe(a);
    pool.release(a!, 3 * 1024);
    pool.release(d!, 1000);
    expect(pool.stats).toMatchObject({ freeBlocks: 1, largestFree: reserved, inUse: 0, reserved });
  });

  it('splits a larger free block and reuses the remainder for a later request', () => {
    const pool = new BlockPool(new FakeArena());
    const a = pool.alloc(4096);
    pool.alloc(64); // keeps a apart from the chunk's tail
    pool.release(a, 4096);
    const reserved = pool.stats.reserved;
    expect(pool.alloc(1024)).toBe(a);
    expect(pool.alloc(3000)).toBe(a + 1024); // 3,008 bytes of the 3,072 left
    expect(pool.alloc(64)).toBe(a + 1024 + 3008);
    expect(pool.stats.reserved).toBe(reserved);
  });

  it('takes a close fit over an older, larger free block', () => {
    const pool = new BlockPool(new FakeArena());
    const larger = pool.alloc(7 * 1024);
    pool.alloc(64);
    const closer = pool.alloc(5 * 1024);
    pool.alloc(64);
    pool.release(larger, 7 * 1024);
    pool.release(closer, 5 * 1024);
    expect(pool.alloc(4608)).toBe(closer);
    expect(pool.alloc(4608)).toBe(larger);
  });

  it('extends a free tail for a request larger than it, rather than asking for the whole request anew', () => {
    const arena = new FakeArena();
    const pool = new BlockPool(arena);
    const a = pool.alloc(1024);
    const tail = pool.stats.largestFree;
    const before = pool.stats.reserved;
    const big = pool.alloc(tail + 4096);
    expect(big).toBe(a + 1024); // starts in the old tail
    expect(pool.stats.reserved - before).toBeLessThan(tail + 4096);
  });

  it('refuses to free a block twice', () => {
    const pool = new BlockPool(new FakeArena());
    const a = pool.alloc(512);
    pool.alloc(512);
    pool.release(a, 512);
    expect(() => pool.release(a, 512)).toThrow(/already free/);
    expect(pool.bytesInUse).toBe(512);
  });
});
