// The flat YAML of MLflow's meta.yaml files, without a dependency. Writing follows PyYAML's safe_dump as MLflow calls
// it (sorted keys, block style, allow_unicode): a string stays plain unless PyYAML would read it back as something
// else or it holds indicator characters; then it is 'single-quoted', or "double-quoted" with escapes when it holds
// line breaks or unprintable characters. PyYAML's bytes differ only where it folds (values wrapped at 80 columns,
// line breaks as blank lines inside single quotes); both forms load to the same string.
// Reading handles one level of `key: scalar` lines as MLflow or we wrote them. No nesting, anchors or documents.

export type YamlValue = string | number | null | readonly [];

// PyYAML's implicit resolvers (yaml/resolver.py): a plain scalar matching one of these is not read back as a string.
const IMPLICIT = [
  /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
  /^(?:<<)$/,
  /^(?:~|null|Null|NULL|)$/,
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/,
  /^(?:=)$/,
];

/** Printable for PyYAML with allow_unicode (emitter.analyze_scalar); anything else forces double quotes. */
function printable(code: number): boolean {
  if (code === 0x0a) return true;
  if (code >= 0x20 && code <= 0x7e) return true;
  if (code === 0x85 || (code >= 0xa0 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd)) return code !== 0xfeff;
  return code >= 0x10000 && code <= 0x10ffff;
}

type Style = 'plain' | 'single' | 'double';

/** PyYAML's choice of style for a string value in a block mapping (emitter.analyze_scalar + choose_scalar_style). */
function styleFor(s: string): Style {
  if (s === '') return 'single';
  const chars = [...s];
  let special = false;
  let lineBreak = false;
  let blockIndicator = s.startsWith('---') || s.startsWith('...');
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    const code = ch.codePointAt(0)!;
    const next = chars[i + 1];
    const followedBySpace = next === undefined || next === ' ' || next === '\n' || next === '\t' || next === '\r';
    const precededBySpace = i === 0 || chars[i - 1] === ' ' || chars[i - 1] === '\n' || chars[i - 1] === '\t';
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(ch)) blockIndicator = true;
      if ((ch === '?' || ch === ':' || ch === '-') && followedBySpace) blockIndicator = true;
    } else {
      if (ch === ':' && followedBySpace) blockIndicator = true;
      if (ch === '#' && precededBySpace) blockIndicator = true;
    }
    if (ch === '\n' || code === 0x85 || code === 0x2028 || code === 0x2029 || ch === '\r') lineBreak = true;
    if (!printable(code) || code === 0x2028 || code === 0x2029) special = true;
  }
  const edgeSpace = s.startsWith(' ') || s.endsWith(' ');
  if (special || lineBreak) return 'double';
  if (blockIndicator || edgeSpace || IMPLICIT.some((re) => re.test(s))) return 'single';
  return 'plain';
}

const ESCAPES: Record<string, string> = {
  '\0': '\\0', '\x07': '\\a', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\v': '\\v', '\f': '\\f', '\r': '\\r',
  '\x1b': '\\e', '"': '\\"', '\\': '\\\\', '\x85': '\\N', '\xa0': '\\_', '\u2028': '\\L', '\u2029': '\\P',
};

function doubleQuoted(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    const escape = ESCAPES[ch];
    if (escape !== undefined) out += escape;
    else if (printable(code)) out += ch;
    else if (code <= 0xff) out += `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return `${out}"`;
}

export function yamlScalar(value: YamlValue): string {
  if (value === null) return 'null';
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`yamlScalar: only integers are written, got ${value}`);
    return String(value);
  }
  if (typeof value !== 'string') return '[]';
  switch (styleFor(value)) {
    case 'plain':
      return value;
    case 'single':
      return `'${value.replaceAll("'", "''")}'`;
    case 'double':
      return doubleQuoted(value);
  }
}

/** A one-level mapping with keys sorted as yaml.dump(sort_keys=True) does. */
export function emitYamlMap(map: Readonly<Record<string, YamlValue>>): string {
  return Object.keys(map)
    .sort()
    .map((key) => `${key}: ${yamlScalar(map[key]!)}\n`)
    .join('');
}

// ---- reading ------------------------------------------------------------------------------------------------------

/** YAML whitespace is space and tab only (String.prototype.trim would also eat a no-break space). */
function trimYaml(s: string): string {
  return s.replace(/^[ \t]+|[ \t]+$/g, '');
}

/** Joins the physical lines of one flow scalar as YAML folding does: a single break → space, n breaks → n-1 '\n'. */
function fold(lines: string[]): string {
  let out = lines[0] ?? '';
  let pendingBreaks = 0;
  for (const raw of lines.slice(1)) {
    const line = trimYaml(raw);
    if (line === '') {
      pendingBreaks++;
      continue;
    }
    out = out.replace(/[ \t]+$/, '') + (pendingBreaks > 0 ? '\n'.repeat(pendingBreaks) : ' ') + line;
    pendingBreaks = 0;
  }
  return out;
}

const UNESCAPE: Record<string, string> = {
  '0': '\0', a: '\x07', b: '\b', t: '\t', '\t': '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b', ' ': ' ',
  '"': '"', '/': '/', '\\': '\\', N: '\x85', _: '\xa0', L: '\u2028', P: '\u2029',
};

/** The content of a "double-quoted" scalar spread over `lines` (the first starts with the quote). */
function readDoubleQuoted(lines: string[], where: string): string {
  // Fold first, honouring escaped line breaks (a line ending in an odd number of backslashes joins without a space).
  let text = lines[0] ?? '';
  let breaks = 0;
  for (const raw of lines.slice(1)) {
    const line = trimYaml(raw);
    if (line === '') {
      breaks++;
      continue;
    }
    const trailing = /\\*$/.exec(text)![0].length;
    if (breaks === 0 && trailing % 2 === 1) text = text.slice(0, -1) + line;
    else text = text.replace(/[ \t]+$/, '') + (breaks > 0 ? '\n'.repeat(breaks) : ' ') + line;
    breaks = 0;
  }
  let out = '';
  for (let i = 1; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') return out;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const e = text[++i];
    const width = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (width > 0) {
      const hex = text.slice(i + 1, i + 1 + width);
      if (hex.length !== width || !/^[0-9A-Fa-f]+$/.test(hex)) throw new Error(`${where}: bad \\${e} escape`);
      out += String.fromCodePoint(parseInt(hex, 16));
      i += width;
    } else {
      const mapped = e === undefined ? undefined : UNESCAPE[e];
      if (mapped === undefined) throw new Error(`${where}: unknown escape \\${e ?? ''} in a double-quoted value`);
      out += mapped;
    }
  }
  throw new Error(`${where}: unterminated double-quoted value`);
}

/** The content of a 'single-quoted' scalar spread over `lines` ('' is a quote). */
function readSingleQuoted(lines: string[], where: string): string {
  const text = fold(lines);
  let out = '';
  for (let i = 1; i < text.length; i++) {
    const ch = text[i]!;
    if (ch !== "'") out += ch;
    else if (text[i + 1] === "'") {
      out += "'";
      i++;
    } else return out;
  }
  throw new Error(`${where}: unterminated single-quoted value`);
}

/**
 * Reads a flat `key: scalar` mapping. Scalars may continue on indented lines (PyYAML wraps long values at 80
 * columns). Plain `null`, `~` and empty read as null; every other plain scalar is returned as its text (the caller
 * knows which keys are numbers). `where` names the file in errors.
 */
export function parseFlatYaml(text: string, where: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i++]!;
    if (trimYaml(line) === '' || line.startsWith('#')) continue;
    const m = /^([^\s:#'"][^:]*):(?:[ \t]+(.*))?$/.exec(line);
    if (m === null) throw new Error(`${where}: cannot read line ${JSON.stringify(line)} as "key: value"`);
    const parts = [m[2] ?? ''];
    while (i < lines.length && (/^[ \t]/.test(lines[i]!) || lines[i] === '')) parts.push(lines[i++]!);
    while (parts.length > 1 && trimYaml(parts[parts.length - 1]!) === '') parts.pop();
    const first = parts[0]!;
    let value: string | null;
    if (first.startsWith("'")) value = readSingleQuoted(parts, where);
    else if (first.startsWith('"')) value = readDoubleQuoted(parts, where);
    else {
      const plain = trimYaml(fold(parts));
      value = /^(?:~|null|Null|NULL|)$/.test(plain) ? null : plain;
    }
    out[m[1]!] = value;
  }
  return out;
}
