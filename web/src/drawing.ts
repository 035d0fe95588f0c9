// The drawing: strokes in canvas-280 coordinates (what the server sees), the same StrokeRaster the server runs (so
// the "what the model sees" preview is computed by the same code), and the on-screen canvas painted at
// devicePixelRatio resolution. Points are appended here as pointer events arrive; `takePending` hands the ones not
// yet sent to the animation-frame batcher in main.ts.

import { DEFAULT_CANVAS, LIMITS } from '../../src/protocol.js';
import { StrokeRaster, SIDE } from '../../src/preprocess/index.js';

export type Point = [number, number];
export const CANVAS = DEFAULT_CANVAS;
const INK = '#ffd400';

export class Drawing {
  readonly strokes: Point[][] = [];
  private raster = new StrokeRaster(CANVAS);
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

  get empty(): boolean {
    return this.raster.empty;
  }

  get drawing(): boolean {
    return this.inStroke;
  }

  /** Total points, to stay inside the server's per-drawing limits. */
  get full(): boolean {
    return this.strokes.length >= LIMITS.maxStrokes || this.raster.points >= LIMITS.maxPointsPerDrawing;
  }

  begin(p: Point): void {
    this.strokes.push([p]);
    this.inStroke = true;
    this.pending = [];
    this.raster.begin(p[0], p[1]);
    this.dot(p);
  }

  extend(p: Point): void {
    const stroke = this.strokes[this.strokes.length - 1];
    if (!this.inStroke || !stroke) return;
    const last = stroke[stroke.length - 1]!;
    if (last[0] === p[0] && last[1] === p[1]) return;
    stroke.push(p);
    this.pending.push(p[0], p[1]);
    this.raster.extend(p);
    this.ctx.beginPath();
    this.ctx.moveTo(last[0], last[1]);
    this.ctx.lineTo(p[0], p[1]);
    this.ctx.stroke();
  }

  end(): void {
    this.inStroke = false;
    this.raster.end();
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
    this.raster.clear();
    this.ctx.clearRect(0, 0, CANVAS.width, CANVAS.height);
  }

  /** The normalised 28×28 input (784 values in [0, 1]) by the server's own preprocessing; all zeros when empty. */
  mnist(): Float32Array {
    const out = new Float32Array(SIDE * SIDE);
    this.raster.toMnist(out);
    return out;
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
