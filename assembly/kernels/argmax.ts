// Row-wise argmax: out[b] = the smallest c with x[b,c] = max_c x[b,c], for a (B,C) f32 matrix; out is (B) i32.
// NaN compares false, so a NaN never wins unless the row is all NaN (then 0). Caller: inference, evaluation.

/** out[b] = argmax_c x[b,c] (first index on ties). */
export function argmax(out: usize, x: usize, B: i32, C: i32): void {
  const C4 = C & ~3;
  for (let b = 0; b < B; b++) {
    const row = x + ((<usize>b * C) << 2);
    // Pass 1: the row maximum, four lanes at a time (f32x4.max would propagate NaN; pmax keeps the running max).
    let m: f32 = -Infinity;
    let c = 0;
    if (C4 > 0) {
      let mv = f32x4.splat(-Infinity);
      for (; c < C4; c += 4) mv = f32x4.pmax(mv, v128.load(row + (<usize>c << 2)));
      m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)),
              max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
    }
    for (; c < C; c++) { const v = load<f32>(row + (<usize>c << 2)); if (v > m) m = v; }
    // Pass 2: the first index holding it.
    let idx = 0;
    for (let k = 0; k < C; k++) {
      if (load<f32>(row + (<usize>k << 2)) == m) { idx = k; break; }
    }
    store<i32>(out + (<usize>b << 2), idx);
  }
}

/** Scalar twin of argmax. */
export function argmaxScalar(out: usize, x: usize, B: i32, C: i32): void {
  for (let b = 0; b < B; b++) {
    const row = x + ((<usize>b * C) << 2);
    let best = -1;
    let m: f32 = -Infinity;
    for (let c = 0; c < C; c++) {
      const v = load<f32>(row + (<usize>c << 2));
      // `best < 0 && v == m` takes a leading −∞ (NaN fails every comparison, so it is never taken).
      if (v > m || (best < 0 && v == m)) { m = v; best = c; }
    }
    store<i32>(out + (<usize>b << 2), max(best, 0));
  }
}
