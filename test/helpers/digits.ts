// Hand-made stroke templates of the ten digits, in a unit box ([0,1]², y down), drawn the way people write them,
// with a seeded jitter. `place` maps a template into a canvas box; `scribble` makes random smooth strokes. Used to
// test drawn-digit recognition end to end and the preprocessing paths against each other.

import { Random } from '../../src/random.js';

type Pt = [number, number];
const arc = (cx: number, cy: number, rx: number, ry: number, a0: number, a1: number, n = 16): Pt[] =>
  Array.from({ length: n + 1 }, (_, i) => {
    const a = a0 + ((a1 - a0) * i) / n;
    return [cx + rx * Math.cos(a), cy + ry * Math.sin(a)] as Pt;
  });
const line = (a: Pt, b: Pt, n = 6): Pt[] => Array.from({ length: n + 1 }, (_, i) => [a[0] + ((b[0] - a[0]) * i) / n, a[1] + ((b[1] - a[1]) * i) / n] as Pt);
const PI = Math.PI;

export const TEMPLATES: Record<number, Pt[][]> = {
  0: [arc(0.5, 0.5, 0.32, 0.45, -PI / 2, 1.5 * PI, 28)],
  1: [[...line([0.38, 0.2], [0.55, 0.05], 3), ...line([0.55, 0.05], [0.55, 0.95], 8)]],
  2: [[...arc(0.5, 0.3, 0.3, 0.25, PI * 1.05, PI * 2.15, 14), ...line([0.78, 0.42], [0.2, 0.95], 8), ...line([0.2, 0.95], [0.85, 0.95], 6)]],
  3: [[...arc(0.48, 0.28, 0.28, 0.23, PI * 1.1, PI * 2.5, 14), ...arc(0.48, 0.72, 0.32, 0.24, -PI / 2, PI * 0.85, 14)]],
  4: [[...line([0.6, 0.05], [0.15, 0.65], 8), ...line([0.15, 0.65], [0.88, 0.65], 6)], line([0.65, 0.35], [0.65, 0.98], 8)],
  5: [[...line([0.8, 0.06], [0.3, 0.06], 5), ...line([0.3, 0.06], [0.26, 0.45], 5), ...arc(0.5, 0.67, 0.3, 0.28, -PI * 0.75, PI * 0.8, 16)]],
  6: [[...arc(0.62, 0.45, 0.4, 0.42, -PI * 0.45, -PI * 1.0, 10), ...arc(0.5, 0.7, 0.28, 0.26, PI, 3 * PI, 22)]],
  7: [[...line([0.15, 0.08], [0.85, 0.08], 6), ...line([0.85, 0.08], [0.4, 0.98], 10)]],
  8: [[...arc(0.5, 0.27, 0.24, 0.22, PI / 2, 2.5 * PI, 20), ...arc(0.5, 0.72, 0.3, 0.26, -PI / 2, 1.5 * PI, 22)]],
  9: [[...arc(0.5, 0.3, 0.28, 0.25, 0.1 * PI, 2.1 * PI, 22), ...line([0.78, 0.35], [0.62, 0.98], 10)]],
};

/** Jittered copies of a digit's strokes, mapped into the box (x, y, w, h) of a canvas. */
export function place(digit: number, box: { x: number; y: number; w: number; h: number }, rng: Random, jitter = 0.03): Array<Array<[number, number]>> {
  const slant = rng.uniform(-0.12, 0.12);
  return TEMPLATES[digit]!.map((stroke) => stroke.map(([u, v]) => {
    const uu = u + slant * (0.5 - v) + rng.uniform(-jitter, jitter);
    const vv = v + rng.uniform(-jitter, jitter);
    return [box.x + uu * box.w, box.y + vv * box.h] as [number, number];
  }));
}

/** 1–k smooth strokes (Catmull-Rom through 3–6 random points) in a box, a point every ~4 px. */
export function scribble(rng: Random, box: { x: number; y: number; w: number; h: number }, k: number): Pt[][] {
  const strokes: Pt[][] = [];
  for (let n = 1 + rng.int(k); n > 0; n--) {
    const m = 3 + rng.int(4);
    const ctrl: Pt[] = Array.from({ length: m }, () => [box.x + rng.uniform(0, box.w), box.y + rng.uniform(0, box.h)] as Pt);
    const pts: Pt[] = [];
    for (let i = 0; i + 1 < m; i++) {
      const p0 = ctrl[Math.max(0, i - 1)]!, p1 = ctrl[i]!, p2 = ctrl[i + 1]!, p3 = ctrl[Math.min(m - 1, i + 2)]!;
      const steps = Math.max(2, Math.ceil(Math.hypot(p2[0] - p1[0], p2[1] - p1[1]) / 4));
      for (let t = 0; t < steps; t++) {
        const u = t / steps;
        const cr = (a: number, b: number, c: number, d: number): number =>
          0.5 * (2 * b + (c - a) * u + (2 * a - 5 * b + 4 * c - d) * u * u + (3 * b - a - 3 * c + d) * u * u * u);
        pts.push([cr(p0[0], p1[0], p2[0], p3[0]), cr(p0[1], p1[1], p2[1], p3[1])]);
      }
    }
    pts.push(ctrl[m - 1]!);
    strokes.push(pts);
  }
  return strokes;
}
