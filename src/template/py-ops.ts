/** Python str(), repr(), truthiness, equality, ordering and arithmetic over values and shims. */
import {
  NotImplemented,
  PyError,
  PyFloat,
  PyObject,
  asStr,
  floatRepr,
  hasOwn,
  isPlainObject,
  isTuple,
  pyFloat,
  pyNumStr,
  pyTypeName,
  tuple,
  typeError,
} from './py-object.js';
import type { BinOp } from './py-object.js';
import { PyDatetime } from './py-datetime.js';
import { PyTimedelta } from './py-timedelta.js';
import { checkItems, checkLength, repeatStr, tick } from './limits.js';
import { percentFormat } from './py-format.js';
import { tzLocal } from './py-tz.js';

/** Python repr of a str: single quotes unless the text contains ' but no ". */
function reprString(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === q || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + q;
}

/** Python repr(), as used when a dict or list is rendered. */
export function pyRepr(v: unknown): string {
  if (v === undefined) return 'Undefined';
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return pyNumStr(v);
  if (v instanceof PyFloat) return floatRepr(v.valueOf());
  if (typeof v === 'bigint') return v.toString();
  const s = asStr(v);
  if (s !== undefined) return reprString(s);
  if (v instanceof Date) return PyDatetime.fromDate(v, tzLocal())._repr();
  if (v instanceof PyObject) return v._repr();
  if (Array.isArray(v)) {
    tick(v.length); // shared sublists make a small value print as a huge one
    const items = v.map(pyRepr);
    if (isTuple(v)) return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
    return `[${items.join(', ')}]`;
  }
  if (typeof v === 'function') return `<function ${v.name || '<lambda>'}>`;
  tick(); // dicts nesting one another twice over print as exponentially many items
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
  if (v instanceof Set) return v.size ? `{${[...v].map(pyRepr).join(', ')}}` : 'set()';
  if (typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${reprString(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  return String(v);
}

/** Python str(); undefined (Jinja Undefined) is ''. */
export function pyStr(v: unknown): string {
  if (v === undefined) return '';
  const s = asStr(v);
  if (s !== undefined) return s;
  if (v instanceof PyObject) return v._str();
  if (v instanceof Date) return PyDatetime.fromDate(v, tzLocal())._str();
  return pyRepr(v);
}

/** Python truthiness (empty list/dict are false, unlike JS). */
export function pyBool(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (v instanceof PyFloat) return v.valueOf() !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  const s = asStr(v);
  if (s !== undefined) return s.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof PyObject) return v._bool();
  if (v instanceof Map || v instanceof Set) return v.size > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  return true;
}

export const isNumeric = (v: unknown): v is number | boolean | PyFloat =>
  typeof v === 'number' || typeof v === 'boolean' || v instanceof PyFloat;

/** Python ==. Undefined equals only undefined (Jinja's Undefined.__eq__). */
export function pyEq(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (isNumeric(a) && isNumeric(b)) return Number(a) === Number(b);
  const sa = asStr(a);
  const sb = asStr(b);
  if (sa !== undefined || sb !== undefined) return sa === sb;
  tick(); // containers compare item by item, and shared ones can nest exponentially
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      isTuple(a) === isTuple(b) &&
      a.length === b.length &&
      a.every((x, i) => pyEq(x, b[i]))
    );
  }
  if (a instanceof PyObject) return a._eq(b);
  if (b instanceof PyObject) return b._eq(a);
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => hasOwn(b, k) && pyEq(a[k], b[k]));
  }
  return false;
}

/** Sign of a - b under Python ordering, or undefined when the types are unorderable. */
export function pyCmp(a: unknown, b: unknown): number | undefined {
  if (isNumeric(a) && isNumeric(b)) {
    const [x, y] = [Number(a), Number(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const sa = asStr(a);
  const sb = asStr(b);
  if (sa !== undefined && sb !== undefined) return sa < sb ? -1 : sa > sb ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (pyEq(a[i], b[i])) continue;
      return pyCmp(a[i], b[i]);
    }
    return Math.sign(a.length - b.length);
  }
  if (a instanceof PyObject) {
    const c = a._cmp(b);
    if (c !== undefined) return c;
  }
  if (b instanceof PyObject) {
    const c = b._cmp(a);
    if (c !== undefined) return -c;
  }
  return undefined;
}

export type CompareOp = '==' | '!=' | '<' | '>' | '<=' | '>=' | '===' | '!==';

export function pyCompare(op: CompareOp, a: unknown, b: unknown): boolean {
  switch (op) {
    case '==':
      return pyEq(a, b);
    case '!=':
      return !pyEq(a, b);
    case '===':
      return a === b;
    case '!==':
      return a !== b;
    default: {
      const c = pyCmp(a, b);
      if (c === undefined) {
        throw typeError(`'${op}' not supported between instances of '${pyTypeName(a)}' and '${pyTypeName(b)}'`);
      }
      return op === '<' ? c < 0 : op === '>' ? c > 0 : op === '<=' ? c <= 0 : c >= 0;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Arithmetic

const OP_SYMBOL: Record<BinOp, string> = { add: '+', sub: '-', mul: '*', truediv: '/', floordiv: '//', mod: '%', pow: '**' };

function numericBinop(op: BinOp, x: number, y: number): number {
  const zero = (): never => {
    throw new PyError('ZeroDivisionError', op === 'truediv' ? 'division by zero' : 'integer division or modulo by zero');
  };
  switch (op) {
    case 'add':
      return x + y;
    case 'sub':
      return x - y;
    case 'mul':
      return x * y;
    case 'truediv':
      return y === 0 ? zero() : x / y;
    case 'floordiv':
      return y === 0 ? zero() : Math.floor(x / y);
    case 'mod':
      return y === 0 ? zero() : x - Math.floor(x / y) * y;
    case 'pow':
      return x ** y;
  }
}

function repeat<T>(seq: T, n: unknown): T | undefined {
  if (typeof n !== 'number' && typeof n !== 'boolean') return undefined;
  const times = Math.max(0, Math.trunc(Number(n)));
  const s = asStr(seq);
  if (s !== undefined) return repeatStr(s, times) as T;
  if (Array.isArray(seq)) {
    checkItems(seq.length && seq.length * times, 'a repeated list');
    return Array.from({ length: seq.length ? times : 0 }, () => seq).flat() as T;
  }
  return undefined;
}

/** Python binary arithmetic: shims first (with reflection), then numbers, str and list rules. */
export function pyBinop(op: BinOp, a: unknown, b: unknown): unknown {
  if (a instanceof PyObject) {
    const r = a._binop(op, b, false);
    if (r !== NotImplemented) return r;
  }
  if (b instanceof PyObject) {
    const r = b._binop(op, a, true);
    if (r !== NotImplemented) return r;
  }
  if (isNumeric(a) && isNumeric(b)) {
    const r = numericBinop(op, Number(a), Number(b));
    return op === 'truediv' || a instanceof PyFloat || b instanceof PyFloat ? pyFloat(r) : r;
  }
  const sa = asStr(a);
  if (op === 'add' && sa !== undefined && asStr(b) !== undefined) {
    const sb = asStr(b)!;
    checkLength(sa.length + sb.length);
    return sa + sb;
  }
  if (op === 'add' && Array.isArray(a) && Array.isArray(b)) {
    checkItems(a.length + b.length, 'a concatenated list');
    return isTuple(a) && isTuple(b) ? tuple([...a, ...b]) : [...a, ...b];
  }
  if (op === 'mul') {
    const r = repeat(a, b) ?? repeat(b, a);
    if (r !== undefined) return r;
  }
  if (op === 'mod' && sa !== undefined) return percentFormat(sa, b);
  if (a === undefined || b === undefined) {
    throw new PyError(
      'UndefinedError',
      `an undefined value was used with '${OP_SYMBOL[op]}' (operands: ${pyTypeName(a)}, ${pyTypeName(b)})`,
    );
  }
  throw typeError(`unsupported operand type(s) for ${OP_SYMBOL[op]}: '${pyTypeName(a)}' and '${pyTypeName(b)}'`);
}

export function pyNeg(v: unknown): unknown {
  if (v instanceof PyFloat) return pyFloat(-v.valueOf());
  if (isNumeric(v)) return -Number(v);
  if (v instanceof PyObject) return v._neg();
  throw typeError(`bad operand type for unary -: '${pyTypeName(v)}'`);
}

export function pyAbs(v: unknown): unknown {
  if (v instanceof PyFloat) return pyFloat(Math.abs(v.valueOf()));
  if (isNumeric(v)) return Math.abs(Number(v));
  if (v instanceof PyTimedelta) return v._abs();
  throw typeError(`bad operand type for abs(): '${pyTypeName(v)}'`);
}

/** Python `x in y`. Undefined containers behave as empty (Jinja's Undefined iterates nothing). */
export function pyIn(needle: unknown, haystack: unknown): boolean {
  if (haystack === undefined) return false;
  const s = asStr(haystack);
  if (s !== undefined) {
    const n = asStr(needle);
    if (n === undefined) throw typeError(`'in <string>' requires string as left operand, not ${pyTypeName(needle)}`);
    return s.includes(n);
  }
  if (Array.isArray(haystack)) {
    tick(haystack.length);
    return haystack.some((x) => pyEq(x, needle));
  }
  if (isPlainObject(haystack)) return typeof needle === 'string' && hasOwn(haystack, needle);
  if (haystack instanceof Map) return haystack.has(needle);
  if (haystack instanceof Set) return haystack.has(needle);
  throw typeError(`argument of type '${pyTypeName(haystack)}' is not iterable`);
}

/** What `for x in v` iterates: dict keys, string characters, sequence items. */
export function pyIter(v: unknown): unknown[] {
  if (v === undefined) return [];
  if (Array.isArray(v)) return v;
  const s = asStr(v);
  if (s !== undefined) return Array.from(s);
  if (isPlainObject(v)) return Object.keys(v);
  if (v instanceof Map) return [...v.keys()];
  if (v instanceof Set) return [...v];
  throw typeError(`'${pyTypeName(v)}' object is not iterable`);
}
