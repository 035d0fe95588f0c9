// The drawing: strokes in canvas-280 coordinates (what the server sees), a StrokeSession on the wasm core fed the
// same points (so the "what the model sees" preview is the server's own 28×28), and the on-screen canvas painted at
// devicePixelRatio resolution. Points are appended here as pointer events arrive; `takePending` hands the ones not
// yet sent to the animation-frame batcher in main.ts. Until the core has loaded (or when it cannot), there is no
// session and no preview; attach() replays the strokes drawn so far.

import { DEFAULT_CANVAS, LIMITS } from '../../src/protocol.js';
import { SIDE } from '../../src/preprocess/spec.js';
import type { FastPreprocessor, StrokeSession } from '../../src/preprocess/fast-strokes.js';

export type Point = [number, number];
export const CANVAS = DEFAULT_CANVAS;
const INK = '#ffd400';

export class Drawing {
  readonly strokes: Point[][] = [];
  private session: StrokeSession | undefined;
  private points = 0;
  /** The session's last 28×28, and whether it had ink; recomputed on the first read after a change. */
  private readonly image = new Float32Array(SIDE * SIDE);
  private ink = false;
  private stale = true;
  private readonly one = new Float64Array(2);
  private readonly ctx: CanvasRenderingContext2D;
  private inStroke = false;
  /** Flat x, y pairs of the open stroke not yet sent as a `move`. */
  private pending: number[] = [];

  constructor(private readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('this browser has no 2D canvas');
    this.ctx = ctx;
    this.resize();
  }

  /** Backing store at devicePixelRatio for crisp lines; drawing coordinates stay in 280-space. */
  resize(): void {
    const dpr = Math.max(1, window.devicePixelRatio || 1);
    this.canvas.width = Math.round(CANVAS.width * dpr);
    this.canvas.height = Math.round(CANVAS.height * dpr);
    this.ctx.setTransform(this.canvas.width / CANVAS.width, 0, 0, this.canvas.height / CANVAS.height, 0, 0);
    this.ctx.strokeStyle = INK;
    this.ctx.fillStyle = INK;
    this.ctx.lineWidth = CANVAS.brush;
    this.ctx.lineCap = 'round';
    this.ctx.lineJoin = 'round';
    this.repaint();
  }

  /** Preprocesses on this core from now on, starting with the strokes drawn so far (the open one left open). */
  attach(pre: FastPreprocessor): void {
    const session = pre.session(CANVAS);
    this.strokes.forEach((s, i) => {
      session.begin(s[0]![0], s[0]![1]);
      session.extend(s.slice(1).flat());
      if (i < this.strokes.length - 1 || !this.inStroke) session.end();
    });
    this.session = session;
    this.stale = true;
  }

  /** The core has loaded: mnist() gives the preview. */
  get preprocessing(): boolean {
    return this.session !== undefined;
  }

  /** No ink on the canvas (by the preprocessing; without a core, no stroke yet). */
  get empty(): boolean {
    if (!this.session) return this.strokes.length === 0;
    this.refresh();
    return !this.ink;
  }

  get drawing(): boolean {
    return this.inStroke;
  }

  /** Total points, to stay inside the server's per-drawing limits. */
  get full(): boolean {
    return this.strokes.length >= LIMITS.maxStrokes || this.points >= LIMITS.maxPointsPerDrawing;
  }

  begin(p: Point): void {
    this.strokes.push([p]);
    this.inStroke = true;
    this.pending = [];
    this.points++;
    this.session?.begin(p[0], p[1]);
    this.stale = true;
    this.dot(p);
  }

  extend(p: Point): void {
    const stroke = this.strokes[this.strokes.length - 1];
    if (!this.inStroke || !stroke) return;
    const last = stroke[stroke.length - 1]!;
    if (last[0] === p[0] && last[1] === p[1]) return;
    stroke.push(p);
    this.pending.push(p[0], p[1]);
    this.points++;
    if (this.session) {
      this.one[0] = p[0];
      this.one[1] = p[1];
      this.session.extend(this.one);
      this.stale = true;
    }
    this.ctx.beginPath();
    this.ctx.moveTo(last[0], last[1]);
    this.ctx.lineTo(p[0], p[1]);
    this.ctx.stroke();
  }

  end(): void {
    this.inStroke = false;
    this.session?.end();
  }

  /** The points of the open stroke added since the last call (flat x, y pairs), at most LIMITS.maxPointsPerMessage. */
  takePending(): number[] {
    const n = Math.min(this.pending.length, 2 * LIMITS.maxPointsPerMessage);
    return this.pending.splice(0, n);
  }

  /** Everything is about to be resent from `strokes`: forget what was queued. */
  dropPending(): void {
    this.pending = [];
  }

  clear(): void {
    this.strokes.length = 0;
    this.inStroke = false;
    this.pending = [];
    this.points = 0;
    this.session?.clear();
    this.stale = true;
    this.ctx.clearRect(0, 0, CANVAS.width, CANVAS.height);
  }

  /** The normalised 28×28 input (784 values in [0, 1], all zeros when empty) by the server's own preprocessing, or
   * undefined without a core. The array is reused: copy it to keep it. */
  mnist(): Float32Array | undefined {
    if (!this.session) return undefined;
    this.refresh();
    return this.image;
  }

  private refresh(): void {
    if (!this.stale || !this.session) return;
    this.ink = this.session.toMnist(this.image);
    this.stale = false;
  }

  private dot(p: Point): void {
    this.ctx.beginPath();
    this.ctx.arc(p[0], p[1], CANVAS.brush / 2, 0, 2 * Math.PI);
    this.ctx.fill();
  }

  private repaint(): void {
    this.ctx.clearRect(0, 0, CANVAS.width, CANVAS.height);
    for (const s of this.strokes) {
      const first = s[0];
      if (!first) continue;
      this.dot(first);
      this.ctx.beginPath();
      this.ctx.moveTo(first[0], first[1]);
      for (const p of s.slice(1)) this.ctx.lineTo(p[0], p[1]);
      this.ctx.stroke();
    }
  }
}
