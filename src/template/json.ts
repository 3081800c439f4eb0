/** JSON text as Python's json.dumps writes it (the tojson filter and Lava's own JSON output). */
import { PyFloat, PyObject, asStr, fromJs, pyNumStr, pyRepr, pyTypeName, typeError } from './pytypes.js';
import { repeatStr, tick } from './limits.js';

const JSON_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** A JSON string literal as Python's json.dumps writes it (ensure_ascii: non-ASCII as \uXXXX). */
function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const code = s.charCodeAt(i);
    if (JSON_ESCAPES[c] !== undefined) out += JSON_ESCAPES[c];
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += c;
  }
  return out + '"';
}

/** Python json.dumps(value, sort_keys=True, indent=...) with datetimes as ISO strings. */
export function jsonDumps(value: unknown, indent: number | null = null, level = 0): string {
  tick(); // shared sublists make a small value print as a huge one
  const v = fromJs(value);
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number' || v instanceof PyFloat) {
    const n = Number(v);
    if (Number.isNaN(n)) return 'NaN';
    if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
    return v instanceof PyFloat ? pyRepr(v) : pyNumStr(n);
  }
  if (typeof v === 'bigint') return v.toString();
  const s = asStr(v);
  if (s !== undefined) return jsonString(s);
  if (v instanceof PyObject) return jsonDumps(v._json(), indent, level);
  const wrap = (items: string[], open: string, close: string): string => {
    if (!items.length) return open + close;
    if (indent === null) return open + items.join(', ') + close;
    const pad = '\n' + repeatStr(' ', indent * (level + 1));
    return open + pad + items.join(',' + pad) + '\n' + repeatStr(' ', indent * level) + close;
  };
  if (Array.isArray(v) || v instanceof Set)
    return wrap(
      [...v].map((x) => jsonDumps(x, indent, level + 1)),
      '[',
      ']',
    );
  if (typeof v === 'object') {
    const entries = Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return wrap(
      entries.map(([k, x]) => `${jsonString(k)}: ${jsonDumps(x, indent, level + 1)}`),
      '{',
      '}',
    );
  }
  throw typeError(`Object of type ${pyTypeName(v)} is not JSON serializable`);
}
