/** Attribute, item and slice lookup with Python semantics (`a.b`, `a[b]`, `a[1:3]`). */
import { DICT_METHODS, LIST_METHODS, STR_METHODS, boundMethod } from './py-methods.js';
import {
  HIDDEN,
  PyObject,
  asStr,
  hasOwn,
  isPlainObject,
  isTuple,
  pyTypeName,
  toInt,
  tuple,
  typeError,
  valueError,
} from './py-object.js';
import { PyDatetime } from './py-datetime.js';
import { tzLocal } from './py-tz.js';

/** A JS Date anywhere in the context behaves as an aware local datetime. */
export function fromJs(v: unknown): unknown {
  return v instanceof Date ? PyDatetime.fromDate(v, tzLocal()) : v;
}

/** Jinja `obj.name`: attribute first (methods of str/list/dict shims), then item. */
export function pyGetattr(obj: unknown, name: string): unknown {
  if (obj === undefined || obj === null) return undefined;
  const o = fromJs(obj);
  if (o instanceof PyObject) return fromJs(o._getattr(name));
  const s = asStr(o);
  if (s !== undefined) return boundMethod(STR_METHODS, s, 'str', name);
  if (Array.isArray(o)) return boundMethod(LIST_METHODS, o, 'list', name);
  if (isPlainObject(o)) {
    if (hasOwn(o, name)) return fromJs(o[name]);
    return boundMethod(DICT_METHODS, o, 'dict', name);
  }
  if (typeof o === 'object' && o !== null && !name.startsWith('_') && !HIDDEN.has(name) && hasOwn(o, name)) {
    return fromJs((o as Record<string, unknown>)[name]);
  }
  return undefined;
}

/** Python's index normalisation; undefined when out of range. */
export function seqIndex(len: number, key: unknown): number | undefined {
  if (typeof key !== 'number' || !Number.isInteger(key)) return undefined;
  const i = key < 0 ? key + len : key;
  return i >= 0 && i < len ? i : undefined;
}

/** Jinja `obj[key]`: item first (negative indexes work), then attribute. */
export function pyGetitem(obj: unknown, key: unknown): unknown {
  if (obj === undefined || obj === null) return undefined;
  const o = fromJs(obj);
  const s = asStr(o);
  if (s !== undefined) {
    const chars = Array.from(s);
    const i = seqIndex(chars.length, key);
    return i !== undefined ? chars[i] : typeof key === 'string' ? pyGetattr(s, key) : undefined;
  }
  if (Array.isArray(o)) {
    const i = seqIndex(o.length, key);
    return i !== undefined ? fromJs(o[i]) : typeof key === 'string' ? pyGetattr(o, key) : undefined;
  }
  if (isPlainObject(o)) {
    const k = typeof key === 'number' || typeof key === 'boolean' ? String(key) : asStr(key);
    if (k !== undefined && hasOwn(o, k)) return fromJs(o[k]);
    return k !== undefined ? pyGetattr(o, k) : undefined;
  }
  if (o instanceof PyObject) return fromJs(o._getitem(key));
  if (o instanceof Map) return o.get(key);
  return typeof key === 'string' ? pyGetattr(o, key) : undefined;
}

/** Python slice semantics for `obj[start:stop:step]` on str and sequences. */
export function pySlice(obj: unknown, start: unknown, stop: unknown, step: unknown): unknown {
  if (obj === undefined || obj === null) return undefined;
  const s = asStr(obj);
  const seq: unknown[] | undefined = s !== undefined ? Array.from(s) : Array.isArray(obj) ? obj : undefined;
  if (!seq) throw typeError(`'${pyTypeName(obj)}' object is not subscriptable`);
  const st = step === undefined || step === null ? 1 : toInt(step, 'slice step');
  if (st === 0) throw valueError('slice step cannot be zero');
  const len = seq.length;
  const norm = (v: unknown, dflt: number, lo: number, hi: number): number => {
    if (v === undefined || v === null) return dflt;
    let i = toInt(v, 'slice indices');
    if (i < 0) i += len;
    return Math.min(Math.max(i, lo), hi);
  };
  const out: unknown[] = [];
  if (st > 0) {
    const b = norm(start, 0, 0, len);
    const e = norm(stop, len, 0, len);
    for (let i = b; i < e; i += st) out.push(seq[i]);
  } else {
    const b = norm(start, len - 1, -1, len - 1);
    const e = norm(stop, -1, -1, len - 1);
    for (let i = b; i > e; i += st) out.push(seq[i]);
  }
  if (s !== undefined) return out.join('');
  return isTuple(obj) ? tuple(out) : out;
}
