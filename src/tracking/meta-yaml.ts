// The flat YAML of MLflow's meta.yaml files, through the `yaml` package set up to write what PyYAML's safe_dump writes
// as MLflow calls it (sorted keys, block style, allow_unicode) and to read what PyYAML reads. Two things are ours:
// the schema (PyYAML's YAML 1.1 implicit resolvers, so a string is quoted exactly when PyYAML would read it back as
// something else) and the choice of quotes (PyYAML: plain if it can, else 'single', "double" only for line breaks and
// unprintable characters). Unlike PyYAML nothing is folded at 80 columns (lineWidth 0): both forms load the same.
// Not here: nesting, anchors, several documents; a meta.yaml has none.

import { parse, stringify, type ScalarTag, type Tags } from 'yaml';
import { stringifyString, stringTag } from 'yaml/util';

export type YamlValue = string | number | null | readonly [];

// PyYAML's implicit resolvers (see: yaml/resolver.py). A plain scalar matching one is not read back as a string.
const PY_NULL = /^(?:~|null|Null|NULL|)$/;
const PY_INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const PY_OTHER = [
  /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/, // bool
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/, // float
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/, // timestamp
  /^(?:<<)$/, // merge
  /^(?:=)$/, // value
];

/** PyYAML (allow_unicode) double-quotes a string with a line break or a character outside its printable set. */
const NEEDS_DOUBLE = /[\n\r\x85\u2028\u2029\ufeff]|[^\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;
/**
 * Characters JSON.stringify (under `yaml`'s double quotes) leaves raw but PyYAML must see escaped: NEL, LS and PS
 * are line breaks to YAML 1.1 and would be folded away on reading; DEL, C1 controls and the BOM are unprintable.
 */
const RAW_IN_JSON = /[\x7f-\x9f\u2028\u2029\ufeff]/g;
const NAMED: Record<string, string> = { '\x85': '\\N', '\u2028': '\\L', '\u2029': '\\P' };
const hexEscape = (ch: string): string => {
  const code = ch.charCodeAt(0);
  return NAMED[ch] ?? (code <= 0xff ? `\\x${code.toString(16).toUpperCase()}` : `\\u${code.toString(16).toUpperCase()}`);
};

/** PyYAML never writes these plain; `yaml` would, here ('' as nothing, a document marker inside a mapping). */
const NEVER_PLAIN = /^(?:$|---|\.\.\.)/;

/**
 * Strings: PyYAML's choice of style, `yaml`'s writing of it. Plain when `yaml` finds plain safe under the PyYAML
 * tags (actualString makes it test them, as its own str tag does) and PyYAML would too; else 'single'.
 */
const pyString: ScalarTag = {
  ...stringTag,
  stringify(item, context, onComment, onChompKeep) {
    const ctx = { ...context, actualString: true };
    const value = String(item.value);
    if (NEEDS_DOUBLE.test(value)) {
      return stringifyString({ ...item, value, type: 'QUOTE_DOUBLE' }, ctx, onComment, onChompKeep).replace(RAW_IN_JSON, hexEscape);
    }
    const plain = stringifyString({ ...item, value, type: 'PLAIN' }, ctx, onComment, onChompKeep);
    return plain === value && !NEVER_PLAIN.test(value) ? plain : stringifyString({ ...item, value, type: 'QUOTE_SINGLE' }, ctx, onComment, onChompKeep);
  },
};

/** Reading, every other resolver keeps the text (the caller knows which keys are numbers); null becomes null. */
const keepText = (source: string): string => source;
const PY_TAGS: Tags = [
  pyString,
  {
    tag: 'tag:yaml.org,2002:null', default: true, test: PY_NULL,
    identify: (v) => v === null || v === undefined, resolve: () => null, stringify: () => 'null',
  },
  {
    tag: 'tag:yaml.org,2002:int', default: true, test: PY_INT, identify: (v) => typeof v === 'number', resolve: keepText,
    stringify: ({ value }) => {
      if (!Number.isSafeInteger(value)) throw new Error(`meta.yaml: only integers are written, got ${String(value)}`);
      return String(value);
    },
  },
  ...PY_OTHER.map((test, i): ScalarTag => ({
    tag: `tag:doodle-digits,2026:pyyaml-implicit-${i}`, default: true, test, identify: () => false, resolve: keepText,
  })),
];

/** The failsafe schema (map, seq, str) with the PyYAML tags in front: the str tag here replaces failsafe's. */
const customTags = (failsafe: Tags): Tags => [...PY_TAGS, ...failsafe.filter((t) => t !== stringTag)];

/** A one-level mapping with keys sorted as yaml.dump(sort_keys=True) does. */
export function emitYamlMap(map: Readonly<Record<string, YamlValue>>): string {
  return stringify(map, {
    schema: 'failsafe', customTags, sortMapEntries: true, lineWidth: 0, doubleQuotedMinMultiLineLength: Infinity,
    flowCollectionPadding: false,
  });
}

/**
 * Reads a flat `key: scalar` mapping as PyYAML does (folded lines, both quote styles, escapes). Plain `null`, `~`
 * and empty read as null; every other scalar is returned as its text. Collection values (`tags: []`) are left out.
 * `where` names the file in errors.
 */
export function parseFlatYaml(text: string, where: string): Record<string, string | null> {
  let doc: unknown;
  try {
    doc = parse(text, { schema: 'failsafe', customTags, uniqueKeys: false });
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`, { cause: err });
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${where}: not a "key: value" mapping`);
  const out: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(doc)) if (value === null || typeof value === 'string') out[key] = value;
  return out;
}
