/** Filters, tests and globals with Jinja (Python) semantics. */
import {
  PyError,
  PyFloat,
  asStr,
  bindArgs,
  fromJs,
  isNumeric,
  isPlainObject,
  isPyCallable,
  isStr,
  percentFormat,
  pyAbs,
  pyBinop,
  pyBool,
  pyCmp,
  pyCompare,
  pyEq,
  pyFloat,
  pyGetattr,
  pyGetitem,
  pyIn,
  pyIter,
  pyRepr,
  pyStr,
  pyTypeName,
  toFixedPy,
  toInt,
  tuple,
  typeError,
} from './pytypes.js';
import type { CompareOp, Signature } from './pytypes.js';
import { SafeString, nj } from './jinja-nunjucks.js';
import type { NjContext, NjEnvironment } from './jinja-nunjucks.js';
import { boundedRange, checkItems, checkLength, tick } from './limits.js';
import { jsonDumps } from './json.js';

type FilterImpl = (
  value: unknown,
  a: Record<string, unknown>,
  rest: unknown[],
  kw: Record<string, unknown>,
  ctx: NjContext,
) => unknown;

function filter(name: string, params: readonly string[], impl: FilterImpl, opts: Omit<Signature, 'name' | 'params'> = {}) {
  const sig: Signature = { name, params, ...opts };
  return function (this: NjContext, value: unknown, ...args: unknown[]): unknown {
    const b = bindArgs(sig, args);
    return impl(fromJs(value), b.a, b.rest, b.kw, this);
  };
}

/** Jinja's attribute getter for filters: dotted path, item lookup first, ints as indexes. */
function attrGetter(attribute: unknown): (x: unknown) => unknown {
  if (attribute === undefined || attribute === null) return (x) => x;
  const parts = pyStr(attribute).split('.');
  return (x) => parts.reduce<unknown>((v, p) => pyGetitem(v, /^\d+$/.test(p) ? Number(p) : p), x);
}

function sortKey(a: Record<string, unknown>): (x: unknown) => unknown {
  const get = attrGetter(a.attribute);
  return pyBool(a.case_sensitive)
    ? get
    : (x) => {
        const v = get(x);
        const s = asStr(v);
        return s === undefined ? v : s.toLowerCase();
      };
}

/** A sorted copy; the comparisons count as work, so a huge sort meets the render's deadline. */
function sortedBy(v: unknown, a: Record<string, unknown>): unknown[] {
  const items = [...pyIter(v)];
  tick(items.length * Math.log2(items.length + 1));
  return items.sort(orderBy(sortKey(a)));
}

function orderBy(key: (x: unknown) => unknown): (x: unknown, y: unknown) => number {
  return (x, y) => {
    const c = pyCmp(key(x), key(y));
    if (c === undefined)
      throw typeError(`'<' not supported between instances of '${pyTypeName(key(x))}' and '${pyTypeName(key(y))}'`);
    return c;
  };
}

function toIntFilter(value: unknown, dflt: unknown, base: number): unknown {
  if (typeof value === 'boolean') return Number(value);
  if (typeof value === 'number' || value instanceof PyFloat)
    return Number.isFinite(Number(value)) ? Math.trunc(Number(value)) : dflt;
  const s = asStr(value)?.trim().replace(/_/g, '');
  if (s === undefined) return dflt;
  const prefixed =
    base === 16
      ? s.replace(/^([+-]?)0x/i, '$1')
      : base === 8
        ? s.replace(/^([+-]?)0o/i, '$1')
        : base === 2
          ? s.replace(/^([+-]?)0b/i, '$1')
          : s;
  const digits = '0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, base);
  if (new RegExp(`^[+-]?[${digits}]+$`, 'i').test(prefixed)) return parseInt(prefixed, base);
  const f = toFloatFilter(s, undefined);
  return typeof f === 'number' && Number.isFinite(f) ? Math.trunc(f) : dflt;
}

function toFloatFilter(value: unknown, dflt: unknown): unknown {
  if (isNumeric(value)) return pyFloat(Number(value));
  const s = asStr(value)?.trim().toLowerCase().replace(/_/g, '');
  if (s === undefined) return dflt;
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(s)) return pyFloat(Number(s));
  if (/^[+-]?(inf|infinity)$/.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/.test(s)) return NaN;
  return dflt;
}

/** Jinja round(): 'common' is Python's round() (ties to even), else floor/ceil. */
function roundFilter(value: unknown, precision: number, method: string): unknown {
  const x = Number(value);
  if (method === 'common') return pyFloat(Number(toFixedPy(x, precision)));
  const f = 10 ** precision;
  if (method === 'floor') return pyFloat(Math.floor(x * f) / f);
  if (method === 'ceil') return pyFloat(Math.ceil(x * f) / f);
  throw new PyError('FilterArgumentError', 'method must be common, ceil or floor');
}

function fileSize(value: unknown, binary: boolean): string {
  const bytes = Number(value);
  const base = binary ? 1024 : 1000;
  const units = binary
    ? ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB']
    : ['kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  if (bytes === 1) return '1 Byte';
  if (bytes < base) return `${bytes} Bytes`;
  let i = 0;
  while (i < units.length - 1 && bytes >= base ** (i + 2)) i++;
  return `${toFixedPy(bytes / base ** (i + 1), 1)} ${units[i]}`;
}

const strFilter =
  (fn: (s: string) => string) =>
  (value: unknown): string =>
    fn(pyStr(value));

function selectFilter(name: string, keep: boolean, byAttr: boolean) {
  return filter(
    name,
    byAttr ? ['attr', 'test'] : ['test'],
    (value, a, rest, _kw, ctx) => {
      const get = byAttr ? attrGetter(a.attr) : (x: unknown): unknown => x;
      const test =
        a.test === undefined ? pyBool : (x: unknown): boolean => ctx.env.getTest(pyStr(a.test)).call(ctx, x, ...rest) === true;
      return pyIter(value).filter((x) => test(get(x)) === keep);
    },
    { varargs: true, required: byAttr ? 1 : 0 },
  );
}

const FILTERS: Record<string, (this: NjContext, value: unknown, ...args: unknown[]) => unknown> = {
  default: filter('default', ['default_value', 'boolean'], (v, a) =>
    v === undefined || (pyBool(a.boolean) && !pyBool(v)) ? (a.default_value ?? '') : v,
  ),
  length: (v) =>
    v === undefined
      ? 0
      : v instanceof Map || v instanceof Set
        ? v.size
        : isPlainObject(v)
          ? Object.keys(v).length
          : pyIter(v).length,
  first: (v) => pyIter(v)[0],
  last: (v) => pyIter(v).at(-1),
  join: filter('join', ['d', 'attribute'], (v, a) => {
    const sep = a.d === undefined ? '' : pyStr(a.d);
    let length = 0;
    return pyIter(v)
      .map(attrGetter(a.attribute))
      .map((x, i) => {
        const s = pyStr(x);
        checkLength((length += s.length + (i ? sep.length : 0)));
        return s;
      })
      .join(sep);
  }),
  lower: strFilter((s) => s.toLowerCase()),
  upper: strFilter((s) => s.toUpperCase()),
  title: strFilter((s) => s.replace(/([^-\s({[<]+)/g, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())),
  capitalize: strFilter((s) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase()),
  trim: filter('trim', ['chars'], (v, a) => (pyGetattr(pyStr(v), 'strip') as (c: unknown) => string)(a.chars ?? null)),
  string: (v) => (v instanceof SafeString ? v : pyStr(v)),
  replace: filter(
    'replace',
    ['old', 'new', 'count'],
    (v, a) => (pyGetattr(pyStr(v), 'replace') as (...x: unknown[]) => string)(pyStr(a.old), pyStr(a.new), a.count ?? -1),
    { required: 2 },
  ),
  center: filter('center', ['width'], (v, a) => (pyGetattr(pyStr(v), 'center') as (w: unknown) => string)(a.width ?? 80)),
  int: filter('int', ['default', 'base'], (v, a) =>
    toIntFilter(v, a.default ?? 0, a.base === undefined ? 10 : toInt(a.base, 'base')),
  ),
  float: filter('float', ['default'], (v, a) => toFloatFilter(v, a.default ?? pyFloat(0))),
  round: filter('round', ['precision', 'method'], (v, a) =>
    roundFilter(
      v,
      a.precision === undefined ? 0 : toInt(a.precision, 'precision'),
      a.method === undefined ? 'common' : pyStr(a.method),
    ),
  ),
  abs: (v) => pyAbs(v),
  reverse: (v) => {
    const s = asStr(v);
    return s !== undefined ? Array.from(s).reverse().join('') : [...pyIter(v)].reverse();
  },
  list: (v) => [...pyIter(v)],
  sort: filter('sort', ['reverse', 'case_sensitive', 'attribute'], (v, a) => {
    const out = sortedBy(v, a);
    return pyBool(a.reverse) ? out.reverse() : out;
  }),
  unique: filter('unique', ['case_sensitive', 'attribute'], (v, a) => {
    const key = sortKey(a);
    const seen: unknown[] = [];
    return pyIter(v).filter((x) => {
      const k = key(x);
      tick(seen.length); // quadratic: the clock must see it
      if (seen.some((s) => pyEq(s, k))) return false;
      seen.push(k);
      return true;
    });
  }),
  min: filter('min', ['case_sensitive', 'attribute'], (v, a) => sortedBy(v, a)[0]),
  max: filter('max', ['case_sensitive', 'attribute'], (v, a) => sortedBy(v, a).at(-1)),
  sum: filter('sum', ['attribute', 'start'], (v, a) =>
    pyIter(v)
      .map(attrGetter(a.attribute))
      .reduce((acc, x) => pyBinop('add', acc, x), a.start ?? 0),
  ),
  tojson: filter('tojson', ['indent'], (v, a) =>
    nj.runtime.markSafe(
      jsonDumps(v, a.indent === undefined || a.indent === null ? null : toInt(a.indent, 'indent')).replace(
        /[<>&']/g,
        (c) => `\\u00${c.charCodeAt(0).toString(16)}`,
      ),
    ),
  ),
  items: (v) => (v === undefined ? [] : (pyGetattr(v, 'items') as () => unknown[])()),
  attr: filter('attr', ['name'], (v, a) => pyGetattr(v, pyStr(a.name)), { required: 1 }),
  map: filter(
    'map',
    ['name'],
    (v, a, rest, kw, ctx) => {
      if (a.name === undefined) {
        const get = attrGetter(kw.attribute);
        return pyIter(v).map((x) => {
          const r = get(x);
          return r === undefined && 'default' in kw ? kw.default : r;
        });
      }
      const f = ctx.env.getFilter(pyStr(a.name));
      return pyIter(v).map((x) => f.call(ctx, x, ...rest));
    },
    { varargs: true, varkw: true },
  ),
  select: selectFilter('select', true, false),
  reject: selectFilter('reject', false, false),
  selectattr: selectFilter('selectattr', true, true),
  rejectattr: selectFilter('rejectattr', false, true),
  format: filter('format', [], (v, _a, rest, kw) => percentFormat(pyStr(v), rest.length ? tuple(rest) : kw), {
    varargs: true,
    varkw: true,
  }),
  pprint: (v) => pyRepr(v),
  filesizeformat: filter('filesizeformat', ['binary'], (v, a) => fileSize(v, pyBool(a.binary))),
};
FILTERS.d = FILTERS.default!;
FILTERS.count = FILTERS.length!;

const cmpTest =
  (op: CompareOp) =>
  (a: unknown, b: unknown): boolean =>
    pyCompare(op, a, b);

const TESTS: Record<string, (...args: unknown[]) => boolean> = {
  defined: (v) => v !== undefined,
  undefined: (v) => v === undefined,
  none: (v) => v === null,
  boolean: (v) => typeof v === 'boolean',
  true: (v) => v === true,
  false: (v) => v === false,
  number: (v) => isNumeric(v),
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  float: (v) => v instanceof PyFloat || (typeof v === 'number' && !Number.isInteger(v)),
  string: (v) => isStr(v),
  mapping: (v) => isPlainObject(v),
  sequence: (v) => isStr(v) || Array.isArray(v) || isPlainObject(v),
  iterable: (v) => isStr(v) || Array.isArray(v) || isPlainObject(v) || v instanceof Map || v instanceof Set,
  callable: (v) => typeof v === 'function' || isPyCallable(v),
  sameas: (a, b) => a === b,
  escaped: (v) => v instanceof SafeString,
  in: (v, seq) => pyIn(v, seq),
  lower: (v) => isStr(v) && pyStr(v) === pyStr(v).toLowerCase(),
  upper: (v) => isStr(v) && pyStr(v) === pyStr(v).toUpperCase(),
  even: (v) => Number(v) % 2 === 0,
  odd: (v) => Math.abs(Number(v) % 2) === 1,
  divisibleby: (v, n) => Number(v) % Number(n) === 0,
  eq: cmpTest('=='),
  equalto: cmpTest('=='),
  '==': cmpTest('=='),
  ne: cmpTest('!='),
  '!=': cmpTest('!='),
  lt: cmpTest('<'),
  lessthan: cmpTest('<'),
  '<': cmpTest('<'),
  le: cmpTest('<='),
  '<=': cmpTest('<='),
  gt: cmpTest('>'),
  greaterthan: cmpTest('>'),
  '>': cmpTest('>'),
  ge: cmpTest('>='),
  '>=': cmpTest('>='),
};

/**
 * nunjucks' own filters that build something as large as a number argument says: checked against
 * the render's bounds before they run (`"x"|indent(10**9)` would otherwise loop for minutes).
 */
function guardBuiltinSizes(env: NjEnvironment): void {
  const guard = (name: string, check: (value: unknown, n: number) => void) => {
    const builtin = env.getFilter(name);
    env.addFilter(name, function (this: unknown, value: unknown, ...args: unknown[]) {
      if (typeof args[0] === 'number') check(value, args[0]);
      return builtin.call(this, value, ...args);
    });
  };
  guard('indent', (value, width) => {
    const lines = pyStr(value).split('\n').length;
    checkLength(pyStr(value).length + lines * Math.max(0, width), 'an indented string');
  });
  guard('slice', (_value, slices) => checkItems(slices, 'slice()'));
  guard('batch', (_value, size) => checkItems(size, 'batch()'));
}

export function makeEnvironment(autoescape: boolean): NjEnvironment {
  const env = new nj.Environment([], { autoescape, throwOnUndefined: false, trimBlocks: false, lstripBlocks: false });
  for (const [name, fn] of Object.entries(FILTERS)) env.addFilter(name, fn);
  guardBuiltinSizes(env);
  for (const [name, fn] of Object.entries(TESTS)) env.addTest(name, fn);
  env.addGlobal('dict', (...args: unknown[]) => bindArgs({ name: 'dict', params: [], varkw: true }, args).kw);
  env.addGlobal('range', boundedRange);
  return env;
}
