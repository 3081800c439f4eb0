/** The str, list and dict methods templates call. */
import {
  PyError,
  asStr,
  bindArgs,
  hasOwn,
  isPlainObject,
  optInt,
  pyTypeName,
  toInt,
  toStr,
  tuple,
  typeError,
  valueError,
} from './py-object.js';
import type { PyFunction, Signature } from './py-object.js';
import { checkItems, checkLength, repeatStr } from './limits.js';
import { fromJs, seqIndex } from './py-lookup.js';
import { pyBool, pyCompare, pyEq, pyIter, pyRepr, pyStr } from './py-ops.js';
import { strFormat } from './py-format.js';

interface MethodSpec<T> {
  params: readonly string[];
  required?: number;
  varargs?: boolean;
  varkw?: boolean;
  fn: (self: T, a: Record<string, unknown>, rest: unknown[], kw: Record<string, unknown>) => unknown;
}

export function boundMethod<T>(
  table: Record<string, MethodSpec<T>>,
  self: T,
  typeName: string,
  name: string,
): PyFunction | undefined {
  if (!hasOwn(table, name)) return undefined;
  const spec = table[name]!;
  const sig: Signature = {
    name: `${typeName}.${name}`,
    params: spec.params,
    required: spec.required,
    varargs: spec.varargs,
    varkw: spec.varkw,
  };
  return (...args: unknown[]) => {
    const b = bindArgs(sig, args);
    return spec.fn(self, b.a, b.rest, b.kw);
  };
}

const WS = /\s/;
const optStr = (v: unknown, what: string): string | null => (v === undefined || v === null ? null : toStr(v, what));

function stripChars(s: string, chars: string | null, left: boolean, right: boolean): string {
  const strip = (c: string): boolean => (chars === null ? WS.test(c) : chars.includes(c));
  let b = 0;
  let e = s.length;
  if (left) while (b < e && strip(s[b]!)) b++;
  if (right) while (e > b && strip(s[e - 1]!)) e--;
  return s.slice(b, e);
}

function splitWhitespace(s: string, maxsplit: number): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    while (i < s.length && WS.test(s[i]!)) i++;
    if (i >= s.length) break;
    if (maxsplit >= 0 && out.length === maxsplit) {
      out.push(s.slice(i));
      break;
    }
    let j = i;
    while (j < s.length && !WS.test(s[j]!)) j++;
    out.push(s.slice(i, j));
    i = j;
  }
  return out;
}

export function pySplit(s: string, sep: string | null, maxsplit: number): string[] {
  if (sep === null) return splitWhitespace(s, maxsplit);
  if (sep === '') throw valueError('empty separator');
  const parts = s.split(sep);
  if (maxsplit < 0 || parts.length <= maxsplit + 1) return parts;
  return [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(sep)];
}

function pyRsplit(s: string, sep: string | null, maxsplit: number): string[] {
  if (sep === null) {
    const rev = (x: string): string => Array.from(x).reverse().join('');
    return splitWhitespace(rev(s), maxsplit).map(rev).reverse();
  }
  if (sep === '') throw valueError('empty separator');
  const parts = s.split(sep);
  if (maxsplit < 0 || parts.length <= maxsplit + 1) return parts;
  const cut = parts.length - maxsplit;
  return [parts.slice(0, cut).join(sep), ...parts.slice(cut)];
}

function pyReplace(s: string, old: string, rep: string, count: number): string {
  // Only the growth can be large: a bounded count of an empty `old` is cheap to build and check.
  if (count < 0 && rep.length > old.length) {
    const hits = old === '' ? s.length + 1 : s.split(old).length - 1;
    checkLength(s.length + hits * (rep.length - old.length));
  }
  if (count < 0) return old === '' ? rep + Array.from(s).join(rep) + rep : s.split(old).join(rep);
  let out = '';
  let rest = s;
  for (let n = 0; n < count; n++) {
    if (old === '') {
      out += rep + (rest[0] ?? '');
      rest = rest.slice(1);
      if (!rest && n + 1 < count) return out + rep;
      continue;
    }
    const i = rest.indexOf(old);
    if (i < 0) break;
    out += rest.slice(0, i) + rep;
    rest = rest.slice(i + old.length);
  }
  return out + rest;
}

/** The [start:end] window of str.find/count/startswith, as absolute bounds. */
function window(len: number, start: unknown, end: unknown): [number, number] {
  const norm = (v: unknown, d: number): number => {
    if (v === undefined || v === null) return d;
    const i = toInt(v, 'slice indices');
    return Math.min(Math.max(i < 0 ? i + len : i, 0), len);
  };
  return [norm(start, 0), norm(end, len)];
}

function findIn(s: string, a: Record<string, unknown>, fromRight: boolean): number {
  const sub = toStr(a.sub, 'find() argument');
  const [b, e] = window(s.length, a.start, a.end);
  const hay = s.slice(b, e);
  const i = fromRight ? hay.lastIndexOf(sub) : hay.indexOf(sub);
  return i < 0 ? -1 : i + b;
}

function affixTest(s: string, a: Record<string, unknown>, test: (hay: string, affix: string) => boolean): boolean {
  const [b, e] = window(s.length, a.start, a.end);
  const hay = s.slice(b, e);
  const affixes = Array.isArray(a.prefix) ? a.prefix : [a.prefix];
  return affixes.some((x) => test(hay, toStr(x, 'startswith/endswith first arg')));
}

function justify(s: string, a: Record<string, unknown>, how: 'l' | 'r' | 'c'): string {
  const width = toInt(a.width, 'width');
  const fill = a.fillchar === undefined ? ' ' : toStr(a.fillchar, 'fillchar');
  if (Array.from(fill).length !== 1) throw typeError('The fill character must be exactly one character long');
  const n = width - Array.from(s).length;
  if (n <= 0) return s;
  checkLength(width);
  if (how === 'l') return s + fill.repeat(n);
  if (how === 'r') return fill.repeat(n) + s;
  const left = Math.floor(n / 2) + (n & width & 1);
  return fill.repeat(left) + s + fill.repeat(n - left);
}

const titleCase = (s: string): string => s.replace(/\p{L}+/gu, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase());

const cased = (s: string): boolean => /\p{L}/u.test(s);

export const STR_METHODS: Record<string, MethodSpec<string>> = {
  lower: { params: [], fn: (s) => s.toLowerCase() },
  upper: { params: [], fn: (s) => s.toUpperCase() },
  casefold: { params: [], fn: (s) => s.toLowerCase() },
  swapcase: {
    params: [],
    fn: (s) =>
      Array.from(s)
        .map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()))
        .join(''),
  },
  title: { params: [], fn: (s) => titleCase(s) },
  capitalize: { params: [], fn: (s) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase() },
  strip: { params: ['chars'], fn: (s, a) => stripChars(s, optStr(a.chars, 'strip arg'), true, true) },
  lstrip: { params: ['chars'], fn: (s, a) => stripChars(s, optStr(a.chars, 'lstrip arg'), true, false) },
  rstrip: { params: ['chars'], fn: (s, a) => stripChars(s, optStr(a.chars, 'rstrip arg'), false, true) },
  split: { params: ['sep', 'maxsplit'], fn: (s, a) => pySplit(s, optStr(a.sep, 'sep'), optInt(a.maxsplit, 'maxsplit', -1)) },
  rsplit: { params: ['sep', 'maxsplit'], fn: (s, a) => pyRsplit(s, optStr(a.sep, 'sep'), optInt(a.maxsplit, 'maxsplit', -1)) },
  splitlines: {
    params: ['keepends'],
    fn: (s, a) => {
      const lines = s.match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
      return pyBool(a.keepends) ? lines : lines.map((l) => l.replace(/(\r\n|\r|\n)$/, ''));
    },
  },
  join: {
    params: ['iterable'],
    required: 1,
    fn: (s, a) => {
      let length = 0;
      return pyIter(a.iterable)
        .map((x, i) => {
          const v = asStr(x);
          if (v === undefined) throw typeError(`sequence item ${i}: expected str instance, ${pyTypeName(x)} found`);
          checkLength((length += v.length + (i ? s.length : 0)));
          return v;
        })
        .join(s);
    },
  },
  replace: {
    params: ['old', 'new', 'count'],
    required: 2,
    fn: (s, a) =>
      pyReplace(s, toStr(a.old, 'replace() argument 1'), toStr(a.new, 'replace() argument 2'), optInt(a.count, 'count', -1)),
  },
  startswith: { params: ['prefix', 'start', 'end'], required: 1, fn: (s, a) => affixTest(s, a, (h, x) => h.startsWith(x)) },
  endswith: { params: ['prefix', 'start', 'end'], required: 1, fn: (s, a) => affixTest(s, a, (h, x) => h.endsWith(x)) },
  find: { params: ['sub', 'start', 'end'], required: 1, fn: (s, a) => findIn(s, a, false) },
  rfind: { params: ['sub', 'start', 'end'], required: 1, fn: (s, a) => findIn(s, a, true) },
  index: {
    params: ['sub', 'start', 'end'],
    required: 1,
    fn: (s, a) => {
      const i = findIn(s, a, false);
      if (i < 0) throw valueError('substring not found');
      return i;
    },
  },
  rindex: {
    params: ['sub', 'start', 'end'],
    required: 1,
    fn: (s, a) => {
      const i = findIn(s, a, true);
      if (i < 0) throw valueError('substring not found');
      return i;
    },
  },
  count: {
    params: ['sub', 'start', 'end'],
    required: 1,
    fn: (s, a) => {
      const [b, e] = window(s.length, a.start, a.end);
      const sub = toStr(a.sub, 'count() argument');
      return sub === '' ? e - b + 1 : s.slice(b, e).split(sub).length - 1;
    },
  },
  zfill: {
    params: ['width'],
    required: 1,
    fn: (s, a) => {
      const width = toInt(a.width, 'width');
      checkLength(width);
      const signed = s.startsWith('-') || s.startsWith('+');
      const body = signed ? s.slice(1) : s;
      return (signed ? s[0] : '') + body.padStart(width - (signed ? 1 : 0), '0');
    },
  },
  center: { params: ['width', 'fillchar'], required: 1, fn: (s, a) => justify(s, a, 'c') },
  ljust: { params: ['width', 'fillchar'], required: 1, fn: (s, a) => justify(s, a, 'l') },
  rjust: { params: ['width', 'fillchar'], required: 1, fn: (s, a) => justify(s, a, 'r') },
  partition: {
    params: ['sep'],
    required: 1,
    fn: (s, a) => {
      const sep = toStr(a.sep, 'sep');
      const i = s.indexOf(sep);
      return tuple(i < 0 ? [s, '', ''] : [s.slice(0, i), sep, s.slice(i + sep.length)]);
    },
  },
  rpartition: {
    params: ['sep'],
    required: 1,
    fn: (s, a) => {
      const sep = toStr(a.sep, 'sep');
      const i = s.lastIndexOf(sep);
      return tuple(i < 0 ? ['', '', s] : [s.slice(0, i), sep, s.slice(i + sep.length)]);
    },
  },
  removeprefix: {
    params: ['prefix'],
    required: 1,
    fn: (s, a) => {
      const x = toStr(a.prefix, 'prefix');
      return s.startsWith(x) ? s.slice(x.length) : s;
    },
  },
  removesuffix: {
    params: ['suffix'],
    required: 1,
    fn: (s, a) => {
      const x = toStr(a.suffix, 'suffix');
      return x && s.endsWith(x) ? s.slice(0, -x.length) : s;
    },
  },
  format: { params: [], varargs: true, varkw: true, fn: (s, _a, rest, kw) => strFormat(s, rest, kw) },
  isdigit: { params: [], fn: (s) => /^\p{Nd}+$/u.test(s) },
  isdecimal: { params: [], fn: (s) => /^\p{Nd}+$/u.test(s) },
  isnumeric: { params: [], fn: (s) => /^\p{N}+$/u.test(s) },
  isalpha: { params: [], fn: (s) => /^\p{L}+$/u.test(s) },
  isalnum: { params: [], fn: (s) => /^[\p{L}\p{N}]+$/u.test(s) },
  isspace: { params: [], fn: (s) => /^\s+$/.test(s) },
  islower: { params: [], fn: (s) => cased(s) && s === s.toLowerCase() },
  isupper: { params: [], fn: (s) => cased(s) && s === s.toUpperCase() },
  istitle: { params: [], fn: (s) => cased(s) && s === titleCase(s) },
  expandtabs: {
    params: ['tabsize'],
    fn: (s, a) => {
      const size = optInt(a.tabsize, 'tabsize', 8);
      checkLength(s.length + (s.split('\t').length - 1) * Math.max(0, size - 1));
      return s.replace(/\t/g, repeatStr(' ', size));
    },
  },
};

/** Mutating list methods return None, as in Python. */
const none = (_: unknown): null => null;

export const LIST_METHODS: Record<string, MethodSpec<unknown[]>> = {
  append: { params: ['object'], required: 1, fn: (l, a) => none(l.push(a.object)) },
  extend: {
    params: ['iterable'],
    required: 1,
    fn: (l, a) => {
      const items = pyIter(a.iterable);
      checkItems(l.length + items.length, 'an extended list');
      for (const x of items.slice()) l.push(x);
      return null;
    },
  },
  insert: { params: ['index', 'object'], required: 2, fn: (l, a) => none(l.splice(toInt(a.index, 'index'), 0, a.object)) },
  pop: {
    params: ['index'],
    fn: (l, a) => {
      const i = seqIndex(l.length, optInt(a.index, 'index', -1));
      if (i === undefined) throw new PyError('IndexError', 'pop index out of range');
      return l.splice(i, 1)[0];
    },
  },
  remove: {
    params: ['value'],
    required: 1,
    fn: (l, a) => {
      const i = l.findIndex((x) => pyEq(x, a.value));
      if (i < 0) throw valueError('list.remove(x): x not in list');
      l.splice(i, 1);
      return null;
    },
  },
  index: {
    params: ['value'],
    required: 1,
    fn: (l, a) => {
      const i = l.findIndex((x) => pyEq(x, a.value));
      if (i < 0) throw valueError(`${pyRepr(a.value)} is not in list`);
      return i;
    },
  },
  count: { params: ['value'], required: 1, fn: (l, a) => l.filter((x) => pyEq(x, a.value)).length },
  copy: { params: [], fn: (l) => [...l] },
  clear: { params: [], fn: (l) => none(l.splice(0)) },
  reverse: { params: [], fn: (l) => none(l.reverse()) },
  sort: {
    params: ['key', 'reverse'],
    fn: (l, a) => {
      l.sort((x, y) => (pyCompare('<', x, y) ? -1 : pyCompare('<', y, x) ? 1 : 0));
      if (pyBool(a.reverse)) l.reverse();
      return null;
    },
  },
};

export const DICT_METHODS: Record<string, MethodSpec<Record<string, unknown>>> = {
  keys: { params: [], fn: (d) => Object.keys(d) },
  values: { params: [], fn: (d) => Object.values(d).map(fromJs) },
  items: { params: [], fn: (d) => Object.entries(d).map(([k, v]) => tuple([k, fromJs(v)])) },
  get: {
    params: ['key', 'default'],
    required: 1,
    fn: (d, a) => {
      const k = asStr(a.key);
      return k !== undefined && hasOwn(d, k) ? fromJs(d[k]) : (a.default ?? null);
    },
  },
  copy: { params: [], fn: (d) => ({ ...d }) },
  update: {
    params: ['other'],
    varkw: true,
    fn: (d, a, _r, kw) => {
      if (isPlainObject(a.other)) Object.assign(d, a.other);
      else if (Array.isArray(a.other)) for (const pair of a.other) if (Array.isArray(pair)) d[pyStr(pair[0])] = pair[1];
      Object.assign(d, kw);
      return null;
    },
  },
  pop: {
    params: ['key', 'default'],
    required: 1,
    fn: (d, a) => {
      const k = pyStr(a.key);
      if (hasOwn(d, k)) {
        const v = d[k];
        delete d[k];
        return v;
      }
      if (a.default === undefined) throw new PyError('KeyError', pyRepr(a.key));
      return a.default;
    },
  },
  setdefault: {
    params: ['key', 'default'],
    required: 1,
    fn: (d, a) => {
      const k = pyStr(a.key);
      if (!hasOwn(d, k)) d[k] = a.default ?? null;
      return d[k];
    },
  },
};
