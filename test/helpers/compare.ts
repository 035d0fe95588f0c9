// Elementwise comparison of kernel outputs with reference values, with a failure message that shows where and by how
// much they differ (the first mismatches, how many there are, and the largest error), so a failing kernel test says
// which elements are wrong rather than just "expected false to be true".

export interface Tolerance {
  /** Absolute part of the allowed error. */
  readonly atol: number;
  /** Relative part, scaled by |want|. */
  readonly rtol: number;
}

/** How many mismatches the message lists. */
const SHOWN = 8;

/** Throws unless got.length === want.length and every |got[i] − want[i]| ≤ atol + rtol·|want[i]|. A NaN or ±Infinity
 * in `got` passes only where `want` holds the same non-finite value (NaN matches NaN; Infinity matches itself). */
export function expectClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance): void {
  const { atol, rtol } = tol;
  if (!(atol >= 0) || !(rtol >= 0)) throw new Error(`${name}: bad tolerance atol=${atol} rtol=${rtol}`);
  if (got.length !== want.length) {
    throw new Error(`${name}: length mismatch: got ${got.length} elements, want ${want.length}`);
  }
  const shown: string[] = [];
  let count = 0;
  let maxErr = 0;
  let maxAt = -1;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    let err: number;
    let ok: boolean;
    if (Number.isFinite(w)) {
      err = Math.abs(g - w); // NaN when g is NaN, Infinity when g is ±Infinity: both fail the test below
      ok = err <= atol + rtol * Math.abs(w);
    } else {
      ok = Number.isNaN(w) ? Number.isNaN(g) : g === w;
      err = ok ? 0 : Infinity;
    }
    if (ok) continue;
    count++;
    const e = Number.isNaN(err) ? Infinity : err;
    if (maxAt < 0 || e > maxErr) { maxErr = e; maxAt = i; }
    if (shown.length < SHOWN) shown.push(`  [${i}] got ${fmt(g)}  want ${fmt(w)}  |err| ${fmt(err)}`);
  }
  if (count === 0) return;
  throw new Error(
    `${name}: ${count} of ${want.length} elements differ beyond ${atol} + ${rtol}·|want|; ` +
    `max |err| ${fmt(maxErr)} at [${maxAt}]; first ${shown.length}:\n${shown.join('\n')}`,
  );
}

/** Throws unless every element is finite (no NaN, no ±Infinity), naming the first few offenders. */
export function expectFinite(name: string, got: ArrayLike<number>): void {
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    if (Number.isFinite(g)) continue;
    count++;
    if (bad.length < SHOWN) bad.push(`  [${i}] ${g}`);
  }
  if (count > 0) throw new Error(`${name}: ${count} of ${got.length} elements are not finite; first ${bad.length}:\n${bad.join('\n')}`);
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toPrecision(9) : String(x);
}
