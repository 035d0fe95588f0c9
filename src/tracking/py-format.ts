// How Python prints the two things MLflow's file store writes from Python values, so that our files read the same:
// a float as repr() does (metric lines are f"{timestamp} {value} {step}") and a path as pathlib's as_uri() does
// (artifact_location, artifact_uri). Pure functions; nothing here touches disk.

/**
 * repr(float): the shortest digits that round-trip (JavaScript's toExponential() gives the same digits), written
 * in exponent form when the decimal point position decpt satisfies decpt <= -4 or decpt > 16 (CPython's
 * float_repr_style 'short'), with at least two exponent digits and '.0' on integral values.
 * Examples: 3.0 → '3.0', 1e-05 → '1e-05', 1e16 → '1e+16', 0.0001 → '0.0001', NaN → 'nan'.
 */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa = '', exponent = '0'] = x.toExponential().split('e');
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  const exp = Number(exponent);
  const decpt = exp + 1;
  let body: string;
  if (decpt <= -4 || decpt > 16) {
    const rest = digits.slice(1);
    body = `${digits[0]}${rest ? `.${rest}` : ''}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else if (decpt <= 0) {
    body = `0.${'0'.repeat(-decpt)}${digits}`;
  } else if (decpt >= digits.length) {
    body = `${digits}${'0'.repeat(decpt - digits.length)}.0`;
  } else {
    body = `${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
  }
  return sign + body;
}

// urllib.parse.quote_from_bytes(safe='/'): these bytes stay, every other byte becomes %XX (upper-case hex).
const URI_SAFE = /[A-Za-z0-9_.\-~/]/;

/** pathlib.Path(absolutePath).as_uri() on POSIX: 'file://' + the UTF-8 bytes of the path, percent-quoted. */
export function pathToPythonFileUri(absolutePath: string): string {
  if (!absolutePath.startsWith('/')) throw new Error(`pathToPythonFileUri needs an absolute POSIX path, got ${absolutePath}`);
  let out = 'file://';
  for (const ch of absolutePath) {
    if (URI_SAFE.test(ch)) {
      out += ch;
    } else {
      for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return out;
}
