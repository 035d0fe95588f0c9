// Preprocessing on the wasm core whose cost grows with the ink, not the canvas: a live drawing (StrokeSession) keeps
// its points and a small bit grid of 4×4 point samples per quad over a working box of the canvas, renders each new
// segment into it directly (assembly/kernels/strokes.ts) and normalises the grid to MNIST's 28×28 at sample
// resolution (assembly/kernels/mnist.ts); raster and RGBA inputs go ink box → area resampling of the box → the same
// normaliser. The full-canvas TypeScript path (stroke-raster.ts + normalize.ts) is the reference it is tested against.
// Not here: message validation beyond cheap argument checks (the server's), model inference.
//
// Working box (growBox): when the ink leaves it, it grows along that axis to GROW× the ink's extent there, with cells
// (quads) of g canvas px, the longer side in GRID_QUADS quads; a move inside it renders only its own segments, one that grows
// it re-renders from the points: O(log(canvas / brush)) times per axis however the drawing grows. The box evolves
// point by point, so the result depends on the points alone, not on how they were split into messages. When g = 1
// the cells are the canvas's pixels and hold the reference's own anti-aliased coverage (rampRender).

import { BlockPool, BumpAllocator, blockClass, type ByteAllocator } from './block-pool.js';
import type { InkPolarity } from './image-data.js';
import { INK_THRESHOLD, SIDE, type CanvasSpec } from './spec.js';

/** Quads along the working box's longer side (4 samples each): ≥ 96/GROW = 64 quads, 256 samples across the ink's
 * longer side, so an output pixel spans ≥ 3.2 quads (fewer, and thin strokes cut by a footprint edge inside a quad
 * broke the 0.15 bound in the suite: 80 quads failed 2 of its 2,039 drawings, 88 one). */
export const GRID_QUADS = 96;
/** A working box grows to this multiple of the ink's extent on the axis it outgrew. */
export const GROW = 1.5;
/** A working box up to this many canvas px a side uses cells of one pixel holding the reference's own coverage (a byte
 * a pixel: ≤ 16 KB): small drawings, whose output pixels span only a few canvas pixels, come out as the reference's. */
export const RAMP_SIDE = 128;
/** Most quads a grid may have (512 KB), however large the canvas and thin the brush. */
const MAX_QUADS = 512 * 512;
/** Raster inputs whose ink box is longer than this are area-resampled down to it first. */
export const RASTER_SIDE = 512;
const N = SIDE * SIDE;

type Ptr = number;

/** The exports of the wasm core this module calls (assembly/index.ts; src/wasm/core.ts's CoreExports has them all).
 * Declared here, not imported, so src/preprocess/ depends on nothing else in src/. */
export interface PreprocessCore {
  readonly memory: WebAssembly.Memory;
  heapBase(): Ptr;
  strokeRender(grid: Ptr, S: number, Gx: number, Gy: number, x0: number, y0: number, h: number, W: number, H: number,
    r: number, pts: Ptr, from: number, to: number): void;
  rampRender(raster: Ptr, Gx: number, Gy: number, ox: number, oy: number, W: number, H: number, r: number,
    pts: Ptr, from: number, to: number): void;
  bitsWorkBytes(Gx: number, Gy: number): number;
  coverageWorkBytes(w: number, h: number): number;
  bitsToMnist(out: Ptr, work: Ptr, grid: Ptr, S: number, Gx: number, Gy: number, exS: number, eyS: number, wS: number,
    hS: number, c0: number, k0: number, c1: number, k1: number, stats: Ptr, d0: number, d1: number): number;
  coverageToMnist(out: Ptr, work: Ptr, raster: Ptr, width: number, x0: number, y0: number, x1: number, y1: number): number;
  coverageU8ToMnist(out: Ptr, work: Ptr, raster: Ptr, width: number, x0: number, y0: number, x1: number, y1: number): number;
  rasterInkBox(box: Ptr, raster: Ptr, width: number, height: number): number;
  areaDownsample(dst: Ptr, acc: Ptr, raster: Ptr, width: number, x0: number, y0: number, x1: number, y1: number,
    g: number, gw: number, gh: number): void;
  rgbaCoverage(dst: Ptr, rgba: Ptr, n: number, dark: number): void;
}

/** Typed views of linear memory, re-made when memory.grow has detached the old buffer. */
class Views {
  private buffer: ArrayBuffer | undefined;
  f32 = new Float32Array(0);
  i32 = new Int32Array(0);
  u8 = new Uint8Array(0);
  constructor(private readonly memory: WebAssembly.Memory) {}
  fresh(): this {
    const b = this.memory.buffer;
    if (b !== this.buffer) {
      this.buffer = b;
      this.f32 = new Float32Array(b);
      this.i32 = new Int32Array(b);
      this.u8 = new Uint8Array(b);
    }
    return this;
  }
}

/**
 * The preprocessing of one wasm core instance: many StrokeSessions, and the raster paths, sharing one workspace.
 * Pass the allocator other users of the same core take memory from (src/wasm/arena.ts's Arena: two allocators on one
 * core would overlap); without one, the core is assumed to be this preprocessor's alone.
 */
export class FastPreprocessor {
  readonly pool: BlockPool;
  /** @internal */ readonly views: Views;
  /** @internal */ readonly outPtr: number;
  /** @internal The session whose last toMnist result outPtr holds (undefined after any other use of it). */
  outOwner: StrokeSession | undefined;
  private readonly boxPtr: number;
  private scratchPtr = 0;
  private scratchBytes = 0;

  constructor(readonly core: PreprocessCore, arena: ByteAllocator = new BumpAllocator(core.memory, core.heapBase())) {
    this.pool = new BlockPool(arena);
    this.views = new Views(core.memory);
    this.outPtr = arena.bytes(N * 4);
    this.boxPtr = arena.bytes(16);
  }

  /** @internal The shared workspace, at least n bytes (grown on demand, never shrunk; may move when it grows). */
  scratch(n: number): number {
    if (n > this.scratchBytes) {
      if (this.scratchBytes > 0) this.pool.release(this.scratchPtr, this.scratchBytes);
      this.scratchBytes = Math.max(n, Math.ceil(this.scratchBytes * 1.5));
      this.scratchPtr = this.pool.alloc(this.scratchBytes);
    }
    return this.scratchPtr;
  }

  /** A new, empty drawing on a canvas of this spec. */
  session(spec: CanvasSpec): StrokeSession {
    return new StrokeSession(this, spec);
  }

  /**
   * normalizeToMnist of a width×height coverage raster (ink high, values ≥ 0), in wasm: ink box, area resampling of
   * only the box (when longer than RASTER_SIDE), normalisation. Returns false, out all zeros, without ink.
   */
  rasterToMnist(pixels: ArrayLike<number>, width: number, height: number, out: Float32Array): boolean {
    checkDims('rasterToMnist', width, height, out);
    if (pixels.length !== width * height) {
      throw new RangeError(`rasterToMnist: raster has ${pixels.length} values, ${width}×${height} needs ${width * height}`);
    }
    const n = width * height;
    const ptr = this.pool.alloc(n * 4);
    try {
      this.views.fresh().f32.set(pixels, ptr >> 2);
      return this.normalizeRaster(ptr, width, height, out);
    } finally {
      this.pool.release(ptr, n * 4);
    }
  }

  /** The same for RGBA bytes (a canvas's getImageData().data or a decoded PNG), as coverageFromRgba reads them. */
  rgbaToMnist(rgba: ArrayLike<number>, width: number, height: number, out: Float32Array,
    polarity: InkPolarity = 'dark-on-light'): boolean {
    checkDims('rgbaToMnist', width, height, out);
    const n = width * height;
    if (rgba.length !== 4 * n) throw new RangeError(`rgbaToMnist: ${rgba.length} bytes, ${width}×${height} RGBA needs ${4 * n}`);
    const src = this.pool.alloc(4 * n);
    const cov = this.pool.alloc(4 * n);
    try {
      this.views.fresh().u8.set(rgba, src);
      this.core.rgbaCoverage(cov, src, n, polarity === 'dark-on-light' ? 1 : 0);
      return this.normalizeRaster(cov, width, height, out);
    } finally {
      this.pool.release(src, 4 * n);
      this.pool.release(cov, 4 * n);
    }
  }

  private normalizeRaster(ptr: number, width: number, height: number, out: Float32Array): boolean {
    const core = this.core;
    if (core.rasterInkBox(this.boxPtr, ptr, width, height) === 0) {
      out.fill(0);
      return false;
    }
    const i32 = this.views.fresh().i32;
    const b = this.boxPtr >> 2;
    const x0 = i32[b]!, y0 = i32[b + 1]!, x1 = i32[b + 2]!, y1 = i32[b + 3]!;
    const w = x1 - x0, h = y1 - y0;
    let ok: number;
    if (Math.max(w, h) <= RASTER_SIDE) {
      ok = core.coverageToMnist(this.outPtr, this.scratch(core.coverageWorkBytes(w, h)), ptr, width, x0, y0, x1, y1);
    } else {
      // Cells of g×g source pixels, g = longer side / RASTER_SIDE: the box becomes ≤ RASTER_SIDE cells a side.
      const g = Math.max(w, h) / RASTER_SIDE;
      const gw = Math.min(RASTER_SIDE, Math.ceil(w / g)), gh = Math.min(RASTER_SIDE, Math.ceil(h / g));
      const workBytes = core.coverageWorkBytes(gw, gh);
      const work = this.scratch(workBytes + gw * gh * 4 + gw * 8);
      const grid = work + workBytes, acc = grid + gw * gh * 4;
      core.areaDownsample(grid, acc, ptr, width, x0, y0, x1, y1, g, gw, gh);
      ok = core.coverageToMnist(this.outPtr, work, grid, gw, 0, 0, gw, gh);
    }
    this.outOwner = undefined;
    this.copyOut(out);
    return ok !== 0;
  }

  /** @internal */
  copyOut(out: Float32Array): void {
    const p = this.outPtr >> 2;
    out.set(this.views.fresh().f32.subarray(p, p + N));
  }
}

function checkDims(name: string, width: number, height: number, out: Float32Array): void {
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
    throw new RangeError(`${name}: dimensions must be positive integers, got ${width}×${height}`);
  }
  if (out.length !== N) throw new RangeError(`${name}: out has ${out.length} values, needs ${N}`);
}

/**
 * One live drawing: begin/extend/end/clear like StrokeRaster, and toMnist(out) ≈ its normalizeToMnist (tested: mean
 * |difference| ≤ 0.02, max ≤ 0.15 per image). Holds its points (8 bytes each, f32 x, y; a NaN pair marks a stroke
 * start) and its grid in blocks of the preprocessor's pool; free() gives them back.
 */
export class StrokeSession {
  readonly spec: CanvasSpec;
  private readonly r: number;
  private readonly pre: FastPreprocessor;
  private drawing = false;
  private strokeCount = 0;
  private pointCount = 0;
  private freed = false;
  // Points: block, capacity and count in pairs (markers included); pairs [0, rendered) are in the grid.
  private pts = 0;
  private ptsCap = 0;
  private count = 0;
  private rendered = 0;
  // Bounds of the points (as stored, f32) and whether all lie on the canvas.
  private minX = Infinity;
  private minY = Infinity;
  private maxX = -Infinity;
  private maxY = -Infinity;
  // Working box: origin (canvas px), cell (quad or pixel) size g, Gx×Gy cells (Gx = 0: none yet).
  private bx0 = 0;
  private by0 = 0;
  private g = 1;
  private Gx = 0;
  private Gy = 0;
  private grid = 0;
  private gridBytes = 0;
  private regrows = 0;
  // Row stats the normaliser keeps beside a bit grid (g > 1), and the quad rows [dirty0, dirty1) rendered into since
  // the last toMnist.
  private stats = 0;
  private statsBytes = 0;
  private dirty0 = 0;
  private dirty1 = 0;
  /** The drawing changed since the last toMnist (whose result the preprocessor may still hold: outOwner). */
  private changed = true;
  private lastOk = false;
  /** The box the points so far call for (the grid is re-rendered into it on the next update). */
  private box: Box | undefined;

  /** @internal Use FastPreprocessor.session(spec). */
  constructor(pre: FastPreprocessor, spec: CanvasSpec) {
    const { width, height, brush } = spec;
    if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
      throw new RangeError(`StrokeSession: canvas must be positive integers, got ${width}×${height}`);
    }
    if (!Number.isFinite(brush) || brush <= 0) {
      throw new RangeError(`StrokeSession: brush diameter must be a positive finite number, got ${brush}`);
    }
    this.pre = pre;
    this.spec = Object.freeze({ width, height, brush });
    this.r = brush / 2;
  }

  /** Strokes begun since construction or clear(). */
  get strokes(): number {
    return this.strokeCount;
  }

  /** Points received since construction or clear() (begin counts one, extend one per x,y pair). */
  get points(): number {
    return this.pointCount;
  }

  /** True between begin() and end(). */
  get inStroke(): boolean {
    return this.drawing;
  }

  /** Full re-renders from the points (a grown working box) since construction: O(log(canvas / brush)) per axis. */
  get renders(): number {
    return this.regrows;
  }

  /** Bytes of wasm memory this session holds (its point and grid blocks), what 10,000 sessions cost divided by 10,000
   * less the JS object (~0.3 KB). */
  get bytes(): number {
    return this.ptsCap * 8 + this.gridBytes + this.statsBytes;
  }

  /** Starts a stroke at (x, y) and draws a dot there. An open stroke is ended first. */
  begin(x: number, y: number): void {
    this.live('begin');
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      throw new RangeError(`StrokeSession.begin: coordinates must be finite, got (${x}, ${y})`);
    }
    this.reserve(2);
    const f = this.pre.views.fresh().f32;
    let k = (this.pts >> 2) + 2 * this.count;
    f[k++] = NaN;
    f[k++] = NaN;
    f[k++] = x;
    f[k] = y;
    this.count += 2;
    this.note(Math.fround(x), Math.fround(y));
    this.drawing = true;
    this.strokeCount++;
    this.pointCount++;
    this.update();
  }

  /** Draws segments from the last point through each (x, y) of a flat [x1, y1, x2, y2, …]. */
  extend(points: ArrayLike<number>): void {
    this.live('extend');
    const n = points.length;
    if (!this.drawing) throw new RangeError('StrokeSession.extend: no stroke in progress (call begin first)');
    if ((n & 1) !== 0) throw new RangeError(`StrokeSession.extend: expected x,y pairs, got ${n} numbers`);
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(points[i]!)) {
        throw new RangeError(`StrokeSession.extend: coordinate ${i} is ${points[i]}, not a finite number`);
      }
    }
    if (n === 0) return;
    this.reserve(n / 2);
    const f = this.pre.views.fresh().f32;
    const k = (this.pts >> 2) + 2 * this.count;
    for (let i = 0; i < n; i += 2) {
      f[k + i] = points[i]!;
      f[k + i + 1] = points[i + 1]!;
      this.note(f[k + i]!, f[k + i + 1]!);
    }
    this.count += n / 2;
    this.pointCount += n / 2;
    this.update();
  }

  /** Ends the current stroke (no-op if none is open). */
  end(): void {
    this.drawing = false;
  }

  /** Draws a whole stroke [[x, y], …] (begin, extend, end). An empty stroke draws nothing and is not counted. */
  addStroke(stroke: ReadonlyArray<readonly [number, number]>): void {
    const first = stroke[0];
    if (first === undefined) return;
    const flat = new Float64Array(2 * (stroke.length - 1));
    for (let i = 0; i < stroke.length; i++) {
      const p = stroke[i]!;
      if (p.length !== 2 || !Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
        throw new RangeError(`StrokeSession.addStroke: point ${i} is not a pair of finite numbers`);
      }
      if (i > 0) {
        flat[2 * i - 2] = p[0];
        flat[2 * i - 1] = p[1];
      }
    }
    this.begin(first[0], first[1]);
    this.extend(flat);
    this.end();
  }

  /** Back to a blank drawing; keeps its blocks for the next one. */
  clear(): void {
    this.live('clear');
    this.drawing = false;
    this.strokeCount = 0;
    this.pointCount = 0;
    this.count = 0;
    this.rendered = 0;
    this.minX = this.minY = Infinity;
    this.maxX = this.maxY = -Infinity;
    this.bx0 = this.by0 = 0;
    this.Gx = this.Gy = 0;
    this.box = undefined;
    this.changed = true;
  }

  /** Returns the blocks to the pool; the session must not be used afterwards. */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    if (this.ptsCap > 0) this.pre.pool.release(this.pts, this.ptsCap * 8);
    if (this.gridBytes > 0) this.pre.pool.release(this.grid, this.gridBytes);
    if (this.statsBytes > 0) this.pre.pool.release(this.stats, this.statsBytes);
    this.ptsCap = this.gridBytes = this.statsBytes = 0;
    if (this.pre.outOwner === this) this.pre.outOwner = undefined;
  }

  /**
   * The MNIST-style model input of this drawing into out (784 values). Returns false, out all zeros, when nothing is
   * drawn on the canvas. O(quads of the ink box + 29² corners).
   */
  toMnist(out: Float32Array): boolean {
    this.live('toMnist');
    if (out.length !== N) throw new RangeError(`StrokeSession.toMnist: out has ${out.length} values, needs ${N}`);
    if (this.Gx === 0) {
      out.fill(0);
      return false;
    }
    const pre = this.pre;
    if (!this.changed && pre.outOwner === this) {
      // Nothing drawn since the last call, whose result is still in outPtr.
      pre.copyOut(out);
      return this.lastOk;
    }
    const core = pre.core;
    let ok: number;
    if (this.g === 1) {
      // Cells are canvas pixels holding the reference's own coverage: normalised exactly as normalize.ts does.
      const work = pre.scratch(core.coverageWorkBytes(this.Gx, this.Gy));
      ok = core.coverageU8ToMnist(pre.outPtr, work, this.grid, this.Gx, 0, 0, this.Gx, this.Gy);
    } else {
      // When all points lie on the canvas, the ink's extent from them (the capsules' true edges, what the reference's
      // sub-pixel extent measures) and the reference's pixel box (rows and columns with coverage > INK_THRESHOLD, out
      // to r + 0.5 − T from the points), in sample units; otherwise the canvas clips the ink where the points do not
      // show, and the sample box measures it.
      const { width: W, height: H } = this.spec;
      const r = this.r;
      const h = this.g / 4;
      let ex = -1, ey = -1, pw = -1, ph = -1;
      if (this.minX >= 0 && this.minY >= 0 && this.maxX <= W && this.maxY <= H) {
        ex = (Math.min(W, this.maxX + r) - Math.max(0, this.minX - r)) / h;
        ey = (Math.min(H, this.maxY + r) - Math.max(0, this.minY - r)) / h;
        const R = r + 0.5 - INK_THRESHOLD;
        pw = pixelSpan(this.minX, this.maxX, R, W) / h;
        ph = pixelSpan(this.minY, this.maxY, R, H) / h;
      }
      // The quads the ink box covers (the box is up to GROW× the ink per axis): only they are scanned. (Plain
      // arithmetic, no closures: this runs once per live update.)
      const R = r + 1, g = this.g;
      const c0 = Math.min(this.Gx, Math.max(0, Math.floor((Math.max(0, this.minX - R) - this.bx0) / g)));
      const c1 = Math.min(this.Gx, Math.max(0, Math.ceil((Math.min(W, this.maxX + R) - this.bx0) / g)));
      const k0 = Math.min(this.Gy, Math.max(0, Math.floor((Math.max(0, this.minY - R) - this.by0) / g)));
      const k1 = Math.min(this.Gy, Math.max(0, Math.ceil((Math.min(H, this.maxY + R) - this.by0) / g)));
      const work = pre.scratch(core.bitsWorkBytes(this.Gx, this.Gy));
      ok = core.bitsToMnist(pre.outPtr, work, this.grid, stride(this.Gx), this.Gx, this.Gy, ex, ey, pw, ph, c0, k0, c1, k1,
        this.stats, this.dirty0, this.dirty1);
      this.dirty0 = this.Gy;
      this.dirty1 = 0;
    }
    pre.outOwner = this;
    this.changed = false;
    this.lastOk = ok !== 0;
    pre.copyOut(out);
    return this.lastOk;
  }

  private live(what: string): void {
    if (this.freed) throw new Error(`StrokeSession.${what}: the session was freed`);
  }

  /** Takes a point into the bounds, and the working box to the one its ink box calls for (growBox). */
  private note(x: number, y: number): void {
    if (x >= this.minX && x <= this.maxX && y >= this.minY && y <= this.maxY) return;
    if (x < this.minX) this.minX = x;
    if (x > this.maxX) this.maxX = x;
    if (y < this.minY) this.minY = y;
    if (y > this.maxY) this.maxY = y;
    // The ink box: the capsules' bounds plus the reference's 1-px ramp (coverage > 0 out to r + 0.5), clipped to the
    // canvas; none while everything drawn is off the canvas.
    const { width: W, height: H, brush } = this.spec;
    const R = this.r + 1;
    const ix0 = Math.max(0, this.minX - R), ix1 = Math.min(W, this.maxX + R);
    const iy0 = Math.max(0, this.minY - R), iy1 = Math.min(H, this.maxY + R);
    if (ix0 < ix1 && iy0 < iy1) this.box = growBox(this.box, ix0, iy0, ix1, iy1, W, H, brush);
  }

  /** Room for `more` pairs: capacity doubles up to 128 pairs (1 KB), then grows by a quarter in whole 64-byte lines (8
   * pairs). The pool serves any size from freed memory, so finer steps leave no unusable holes: a 305-pair digit holds
   * 320 pairs, not 384 (×1.5 in 1 KB steps); for 10,000 drawers 201 MiB in use, not 206 (216 MiB reserved, not 223). */
  private reserve(more: number): void {
    const need = this.count + more;
    if (need <= this.ptsCap) return;
    let cap = Math.max(8, this.ptsCap);
    while (cap < need) cap = cap < 128 ? cap * 2 : Math.ceil(cap * 1.25 / 8) * 8;
    const pool = this.pre.pool;
    const ptr = pool.alloc(cap * 8);
    if (this.count > 0) {
      const u8 = this.pre.views.fresh().u8;
      u8.copyWithin(ptr, this.pts, this.pts + this.count * 8);
    }
    if (this.ptsCap > 0) pool.release(this.pts, this.ptsCap * 8);
    this.pts = ptr;
    this.ptsCap = cap;
  }

  /**
   * Renders the new points, or re-renders all of them when the working box has changed. The box is evolved point by
   * point (note()), so it, the grid and the result depend on the points alone, never on how they were split.
   */
  private update(): void {
    if (this.box === undefined) {
      this.rendered = this.count; // nothing drawn on the canvas yet
      return;
    }
    const box = this.box;
    this.changed = true;
    if (box.g !== this.g || box.x0 !== this.bx0 || box.y0 !== this.by0 || box.Gx !== this.Gx || box.Gy !== this.Gy) {
      this.reset(box);
      this.rendered = 0;
    }
    const { width: W, height: H } = this.spec;
    const core = this.pre.core;
    if (this.g === 1) {
      core.rampRender(this.grid, this.Gx, this.Gy, this.bx0, this.by0, W, H, this.r, this.pts, this.rendered, this.count);
    } else {
      // The quad rows the new segments (from the last rendered point on) can reach: their y bounds ± r, + 1 px.
      const f = this.pre.views.fresh().f32;
      let lo = Infinity, hi = -Infinity;
      for (let k = (this.pts >> 2) + 2 * Math.max(0, this.rendered - 1), e = (this.pts >> 2) + 2 * this.count; k < e; k += 2) {
        const y = f[k + 1]!;
        if (y < lo) lo = y; // NaN markers compare false
        if (y > hi) hi = y;
      }
      const R = this.r + 1;
      this.dirty0 = Math.max(0, Math.min(this.dirty0, Math.floor((lo - R - this.by0) / this.g)));
      this.dirty1 = Math.min(this.Gy, Math.max(this.dirty1, Math.ceil((hi + R - this.by0) / this.g)));
      core.strokeRender(this.grid, stride(this.Gx), this.Gx, this.Gy, this.bx0, this.by0, this.g / 4, W, H, this.r,
        this.pts, this.rendered, this.count);
    }
    this.rendered = this.count;
  }

  /** Takes the new working box, with a zeroed grid: 2 bytes per quad of samples (rows padded to 8 quads, and 16 bytes
   * of slack the normaliser's whole-v128 reads may touch), or 1 per pixel when g = 1. */
  private reset(box: Box): void {
    const bytes = box.g === 1 ? box.Gx * box.Gy : box.Gy * stride(box.Gx) * 2 + 16;
    const pool = this.pre.pool;
    if (bytes > this.gridBytes) {
      if (this.gridBytes > 0) pool.release(this.grid, this.gridBytes);
      this.grid = pool.alloc(bytes);
      this.gridBytes = blockClass(bytes);
    }
    this.pre.views.fresh().u8.fill(0, this.grid, this.grid + bytes);
    if (box.g !== 1) {
      // bitsToMnist's row stats (assembly/kernels/mnist.ts, ROW_STATS): 24 bytes per quad row; every row is rescanned
      // on the next toMnist.
      const sb = box.Gy * 24;
      if (sb > this.statsBytes) {
        if (this.statsBytes > 0) pool.release(this.stats, this.statsBytes);
        this.stats = pool.alloc(sb);
        this.statsBytes = blockClass(sb);
      }
      this.dirty0 = 0;
      this.dirty1 = box.Gy;
    }
    this.regrows++;
    this.g = box.g;
    this.bx0 = box.x0;
    this.by0 = box.y0;
    this.Gx = box.Gx;
    this.Gy = box.Gy;
  }
}

/** The reference's pixel box along one axis: pixels whose centre lies within R of [lo, hi], on [0, size). */
function pixelSpan(lo: number, hi: number, R: number, size: number): number {
  return Math.min(size, Math.ceil(hi + R - 0.5)) - Math.max(0, Math.floor(lo - R - 0.5) + 1);
}

interface Box { g: number; x0: number; y0: number; Gx: number; Gy: number }

/** A bit grid's row stride in quads: whole v128s of 8 quads, so no SIMD read of a row straddles into the next. */
function stride(Gx: number): number {
  return (Gx + 7) & ~7;
}

/**
 * The working box after the ink box grew to [ix0, ix1) × [iy0, iy1) (canvas px, clipped to the canvas W×H): `old`
 * if it still holds it; else, on each axis the ink left it by, extended past the ink by (GROW − 1)× the ink's extent
 * there (centred around a first ink box), clipped to the canvas. Cell size g: 1 (pixels, snapped to whole ones) up to
 * RAMP_SIDE px a side; beyond, quads: the longer side in GRID_QUADS quads, at most a quarter brush, coarse enough for
 * MAX_QUADS, and never exactly 1, which means pixels; quad rows padded to whole strides, edges near the canvas's
 * snapped to it. Since the ink must grow by GROW× on an axis to leave it again, and the box never exceeds the
 * canvas, a drawing sees O(log(canvas / brush)) boxes per axis.
 */
export function growBox(old: Box | undefined, ix0: number, iy0: number, ix1: number, iy1: number,
  W: number, H: number, brush: number): Box {
  if (old !== undefined && ix0 >= old.x0 && iy0 >= old.y0 && ix1 <= old.x0 + old.Gx * old.g &&
    iy1 <= old.y0 + old.Gy * old.g) return old;
  const axis = (lo: number, hi: number, blo: number | undefined, bhi: number | undefined, size: number): [number, number] => {
    const extra = (GROW - 1) * (hi - lo);
    const [a, b] = blo === undefined || bhi === undefined ? [lo - extra / 2, hi + extra / 2]
      : [lo < blo ? lo - extra : blo, hi > bhi ? hi + extra : bhi];
    return [Math.max(0, a), Math.min(size, b)];
  };
  let [x0, x1] = axis(ix0, ix1, old?.x0, old === undefined ? undefined : old.x0 + old.Gx * old.g, W);
  let [y0, y1] = axis(iy0, iy1, old?.y0, old === undefined ? undefined : old.y0 + old.Gy * old.g, H);
  const Lx = x1 - x0, Ly = y1 - y0;
  // Quads: ≤ a quarter brush (≥ 4 quads across a stroke: a thin stroke inside one or two quads is what the normaliser's
  // quad-uniform integrals get most wrong), even below a pixel for thin brushes, and never exactly 1 (= pixels).
  let g = Math.max(Lx, Ly) <= RAMP_SIDE ? 1
    : Math.max(Math.min(Math.max(Lx, Ly) / GRID_QUADS, brush / 4), Math.sqrt((Lx * Ly) / MAX_QUADS));
  if (g === 1 && Math.max(Lx, Ly) > RAMP_SIDE) g = 1.000001;
  if (g === 1) {
    x0 = Math.floor(x0);
    y0 = Math.floor(y0);
    x1 = Math.ceil(x1);
    y1 = Math.ceil(y1);
  }
  if (g !== 1) {
    // A quad box's edge within 8 quads of the canvas's goes to it (same g): the ink would reach it soon, and a few
    // more quads now cost less than a re-render for the last few pixels.
    const near = 8 * g;
    if (x0 < near) x0 = 0;
    if (y0 < near) y0 = 0;
    if (x1 > W - near) x1 = W;
    if (y1 > H - near) y1 = H;
  }
  const Gx = Math.max(1, Math.ceil((x1 - x0) / g - 1e-9)), Gy = Math.max(1, Math.ceil((y1 - y0) / g - 1e-9));
  // Quad rows are padded to whole v128s anyway (stride): the box takes the padding as room to grow into.
  return { g, x0, y0, Gx: g === 1 ? Gx : stride(Gx), Gy };
}
