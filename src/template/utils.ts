/**
 * The `utils` object Lava passes to every template (upstream `JINJA_UTILS`): Python's datetime
 * classes, dateutil, os.path, re, S3 name splitting and uuid4 — reimplemented on the shims in
 * pytypes.ts. Filesystem-touching os.path functions (exists, isfile, abspath, ...) are left out on
 * purpose: templates should not probe the worker's disk.
 */
import { randomUUID } from 'node:crypto';
import type { PyTzInfo } from './pytypes.js';
import {
  PyDatetime,
  PyError,
  PyFixedTz,
  PyNamespace,
  PyObject,
  PyTimedelta,
  TZ_TZUTC,
  WEEKDAYS,
  asStr,
  gettz,
  isPyCallable,
  makeDateClass,
  makeDatetimeClass,
  makeRelativedeltaClass,
  makeTimeClass,
  makeTimedeltaClass,
  parseIso,
  pyBool,
  pyRepr,
  pyStr,
  pyTypeName,
  pyfunc,
  toInt,
  toStr,
  tuple,
  typeError,
  tzLocal,
  valueError,
} from './pytypes.js';

// ---------------------------------------------------------------------------------------------
// re: Python regex syntax translated to JS RegExp

const RE_FLAG = { I: 2, L: 4, M: 8, S: 16, U: 32, X: 64, A: 256 } as const;
const INLINE_FLAG: Record<string, number> = {
  i: RE_FLAG.I,
  L: RE_FLAG.L,
  m: RE_FLAG.M,
  s: RE_FLAG.S,
  u: RE_FLAG.U,
  x: RE_FLAG.X,
  a: RE_FLAG.A,
};

const reError = (m: string): PyError => new PyError('re.error', m);

/**
 * Translate Python regex syntax to JS: (?P<n>..) / (?P=n) named groups, \A and \Z anchors,
 * leading inline flags, comments, verbose mode, and Python's `$` (also matches before a final \n).
 */
export function translateRegex(pattern: string, flags: number): { source: string; flags: number } {
  let f = flags;
  let p = pattern;
  for (let m = /^\(\?([aiLmsux]+)\)/.exec(p); m; m = /^\(\?([aiLmsux]+)\)/.exec(p)) {
    for (const c of m[1] ?? '') f |= INLINE_FLAG[c] ?? 0;
    p = p.slice(m[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i] ?? '';
    if (c === '\\') {
      const n = p[i + 1] ?? '';
      i++;
      if (!inClass && n === 'A') out += '(?<![\\s\\S])';
      else if (!inClass && n === 'Z') out += '(?![\\s\\S])';
      else out += c + n;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (f & RE_FLAG.X && /\s/.test(c)) continue;
    if (f & RE_FLAG.X && c === '#') {
      while (i < p.length && p[i] !== '\n') i++;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (p[i + 1] === '^') out += p[++i];
      if (p[i + 1] === ']') out += '\\' + p[++i];
    } else if (p.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
    } else if (p.startsWith('(?P=', i)) {
      const end = p.indexOf(')', i);
      if (end < 0) throw reError('missing ), unterminated name');
      out += `\\k<${p.slice(i + 4, end)}>`;
      i = end;
    } else if (p.startsWith('(?#', i)) {
      const end = p.indexOf(')', i);
      if (end < 0) throw reError('missing ), unterminated comment');
      i = end;
    } else if (c === '$' && !(f & RE_FLAG.M)) {
      out += '(?=\\n?(?![\\s\\S]))';
    } else {
      out += c;
    }
  }
  return { source: out, flags: f };
}

/** Capturing-group count and name → index map of a (translated) JS pattern. */
function scanGroups(source: string): { count: number; names: Record<string, number> } {
  let count = 0;
  const names: Record<string, number> = {};
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') {
      if (source[i + 1] !== '?') count++;
      else if (source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!') {
        count++;
        const end = source.indexOf('>', i);
        names[source.slice(i + 3, end)] = count;
      }
    }
  }
  return { count, names };
}

type MatchMode = 'search' | 'match' | 'fullmatch';

/** A compiled pattern (re.compile result); also what the module-level functions use. */
export class PyPattern extends PyObject {
  readonly groups: number;
  readonly groupindex: Record<string, number>;
  readonly _source: string;
  readonly _jsFlags: string;

  constructor(
    readonly pattern: string,
    readonly flags: number,
  ) {
    super();
    const t = translateRegex(pattern, flags);
    this._source = t.source;
    this._jsFlags = (t.flags & RE_FLAG.I ? 'i' : '') + (t.flags & RE_FLAG.M ? 'm' : '') + (t.flags & RE_FLAG.S ? 's' : '');
    try {
      new RegExp(this._source, this._jsFlags);
    } catch (e) {
      throw reError(`${(e as Error).message} (pattern ${pyRepr(pattern)})`);
    }
    const g = scanGroups(this._source);
    this.groups = g.count;
    this.groupindex = g.names;
  }

  _regex(extra: string, mode: MatchMode = 'search'): RegExp {
    const src = mode === 'fullmatch' ? `(?:${this._source})(?![\\s\\S])` : this._source;
    return new RegExp(src, this._jsFlags + 'd' + extra);
  }

  _exec(mode: MatchMode, args: unknown[]): PyMatch | null {
    const b = bindSig(`Pattern.${mode}`, ['string', 'pos', 'endpos'], args, 1);
    const string = toStr(b.string, 'string');
    const pos = b.pos === undefined ? 0 : toInt(b.pos, 'pos');
    const endpos = b.endpos === undefined ? string.length : toInt(b.endpos, 'endpos');
    const re = this._regex(mode === 'search' ? 'g' : 'y', mode);
    re.lastIndex = pos;
    const m = re.exec(string.slice(0, endpos));
    return m ? new PyMatch(m, string, this, pos, endpos) : null;
  }

  /** All non-overlapping matches, advancing past empty matches as Python does. */
  _all(string: string, limit = 0): RegExpExecArray[] {
    const re = this._regex('g');
    const out: RegExpExecArray[] = [];
    for (let m = re.exec(string); m; m = re.exec(string)) {
      out.push(m);
      if (m[0] === '') re.lastIndex++;
      if (limit && out.length >= limit) break;
    }
    return out;
  }

  search(...args: unknown[]): PyMatch | null {
    return this._exec('search', args);
  }
  match(...args: unknown[]): PyMatch | null {
    return this._exec('match', args);
  }
  fullmatch(...args: unknown[]): PyMatch | null {
    return this._exec('fullmatch', args);
  }
  finditer(...args: unknown[]): PyMatch[] {
    const b = bindSig('Pattern.finditer', ['string'], args, 1);
    const string = toStr(b.string, 'string');
    return this._all(string).map((m) => new PyMatch(m, string, this, 0, string.length));
  }
  findall(...args: unknown[]): unknown[] {
    return this.finditer(...args).map((m) => {
      const gs = m.groups('');
      if (this.groups === 0) return m.group();
      return this.groups === 1 ? gs[0] : tuple(gs);
    });
  }
  split(...args: unknown[]): unknown[] {
    const b = bindSig('Pattern.split', ['string', 'maxsplit'], args, 1);
    const string = toStr(b.string, 'string');
    const out: unknown[] = [];
    let last = 0;
    for (const m of this._all(string, b.maxsplit === undefined ? 0 : toInt(b.maxsplit, 'maxsplit'))) {
      out.push(string.slice(last, m.index), ...m.slice(1).map((g) => g ?? null));
      last = m.index + m[0].length;
    }
    out.push(string.slice(last));
    return out;
  }
  subn(...args: unknown[]): unknown[] {
    const b = bindSig('Pattern.subn', ['repl', 'string', 'count'], args, 2);
    const string = toStr(b.string, 'string');
    const matches = this._all(string, b.count === undefined ? 0 : toInt(b.count, 'count'));
    let out = '';
    let last = 0;
    for (const m of matches) {
      const match = new PyMatch(m, string, this, 0, string.length);
      out += string.slice(last, m.index) + replacement(b.repl, match);
      last = m.index + m[0].length;
    }
    return tuple([out + string.slice(last), matches.length]);
  }
  sub(...args: unknown[]): string {
    return this.subn(...args)[0] as string;
  }

  _typeName(): string {
    return 're.Pattern';
  }
  _str(): string {
    return `re.compile(${pyRepr(this.pattern)}${this.flags ? `, ${this.flags}` : ''})`;
  }
}

function bindSig(name: string, params: string[], args: unknown[], required: number): Record<string, unknown> {
  let out: Record<string, unknown> = {};
  pyfunc(name, params, (a) => (out = a), { required })(...args);
  return out;
}

/** Python replacement templates: \1, \g<1>, \g<name>, \n and friends. */
function expandTemplate(template: string, m: PyMatch): string {
  return template.replace(/\\(g<([^>]*)>|\d{1,2}|.)/gs, (whole, esc: string, gname: string | undefined) => {
    if (gname !== undefined) return pyStr(m._group(/^\d+$/.test(gname) ? Number(gname) : gname) ?? '');
    if (/^\d+$/.test(esc)) return esc === '0' ? '\0' : pyStr(m._group(Number(esc)) ?? '');
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', b: '\b', '\\': '\\' };
    if (esc in simple) return simple[esc]!;
    if (/[A-Za-z]/.test(esc)) throw reError(`bad escape ${whole}`);
    return whole;
  });
}

function replacement(repl: unknown, m: PyMatch): string {
  if (typeof repl === 'function') return pyStr((repl as (x: unknown) => unknown)(m));
  if (isPyCallable(repl)) return pyStr(repl._call(m));
  return expandTemplate(toStr(repl, 'repl'), m);
}

/** A regex match: group(n), groups(), groupdict(), start/end/span, m[n]. */
export class PyMatch extends PyObject {
  readonly lastindex: number | null;
  readonly lastgroup: string | null;

  constructor(
    readonly _m: RegExpExecArray,
    readonly string: string,
    readonly re: PyPattern,
    readonly pos: number,
    readonly endpos: number,
  ) {
    super();
    let last: number | null = null;
    for (let i = 1; i < _m.length; i++) if (_m[i] !== undefined) last = i;
    this.lastindex = last;
    this.lastgroup = Object.entries(re.groupindex).find(([, i]) => i === last)?.[0] ?? null;
  }

  _index(g: unknown): number {
    const name = asStr(g);
    if (name !== undefined) {
      const i = this.re.groupindex[name];
      if (i === undefined) throw new PyError('IndexError', 'no such group');
      return i;
    }
    const i = toInt(g, 'group index');
    if (i < 0 || i > this.re.groups) throw new PyError('IndexError', 'no such group');
    return i;
  }
  /** The text of a group, or null (None) when it did not participate. */
  _group(g: unknown): string | null {
    return this._m[this._index(g)] ?? null;
  }
  _span(g: unknown): [number, number] {
    const span = this._m.indices?.[this._index(g)];
    return span ? [span[0], span[1]] : [-1, -1];
  }

  group(...gs: unknown[]): unknown {
    if (gs.length === 0) return this._group(0);
    if (gs.length === 1) return this._group(gs[0]);
    return tuple(gs.map((g) => this._group(g)));
  }
  groups(...args: unknown[]): unknown[] {
    const d = bindSig('Match.groups', ['default'], args, 0).default ?? null;
    return tuple(Array.from({ length: this.re.groups }, (_, i) => this._m[i + 1] ?? d));
  }
  groupdict(...args: unknown[]): Record<string, unknown> {
    const d = bindSig('Match.groupdict', ['default'], args, 0).default ?? null;
    return Object.fromEntries(Object.entries(this.re.groupindex).map(([n, i]) => [n, this._m[i] ?? d]));
  }
  start(g: unknown = 0): number {
    return this._span(g)[0];
  }
  end(g: unknown = 0): number {
    return this._span(g)[1];
  }
  span(g: unknown = 0): number[] {
    return tuple(this._span(g));
  }
  expand(template: unknown): string {
    return expandTemplate(toStr(template, 'template'), this);
  }

  override _getitem(key: unknown): unknown {
    return this._group(key);
  }
  _typeName(): string {
    return 're.Match';
  }
  _str(): string {
    const [s, e] = this._span(0);
    return `<re.Match object; span=(${s}, ${e}), match=${pyRepr(this._m[0])}>`;
  }
}

const patternCache = new Map<string, PyPattern>();

function compile(pattern: unknown, flags: unknown): PyPattern {
  if (pattern instanceof PyPattern) return pattern;
  const p = toStr(pattern, 'pattern');
  const f = flags === undefined ? 0 : toInt(flags, 'flags');
  const key = `${f}:${p}`;
  let c = patternCache.get(key);
  if (!c) {
    c = new PyPattern(p, f);
    if (patternCache.size > 500) patternCache.clear();
    patternCache.set(key, c);
  }
  return c;
}

function reEscape(s: string): string {
  return s.replace(/[()[\]{}?*+\-|^$\\.&~# \t\n\r\v\f]/g, (c) => '\\' + c);
}

/** Module-level re.<name>(pattern, string, ..., flags=0) delegating to a compiled pattern. */
function reFunc(name: 'search' | 'match' | 'fullmatch' | 'findall' | 'finditer' | 'split' | 'sub' | 'subn', params: string[]) {
  return pyfunc(
    name,
    ['pattern', ...params, 'flags'],
    (a) => {
      const p = compile(a.pattern, a.flags);
      const rest = params.filter((k) => a[k] !== undefined).map((k) => a[k]);
      return (p[name] as (...x: unknown[]) => unknown)(...rest);
    },
    { required: 2 },
  );
}

const reModule = new PyNamespace('re', 'module', {
  search: reFunc('search', ['string']),
  match: reFunc('match', ['string']),
  fullmatch: reFunc('fullmatch', ['string']),
  findall: reFunc('findall', ['string']),
  finditer: reFunc('finditer', ['string']),
  split: reFunc('split', ['string', 'maxsplit']),
  sub: pyfunc(
    'sub',
    ['pattern', 'repl', 'string', 'count', 'flags'],
    (a) => compile(a.pattern, a.flags).sub(a.repl, a.string, a.count ?? 0),
    { required: 3 },
  ),
  subn: pyfunc(
    'subn',
    ['pattern', 'repl', 'string', 'count', 'flags'],
    (a) => compile(a.pattern, a.flags).subn(a.repl, a.string, a.count ?? 0),
    { required: 3 },
  ),
  compile: pyfunc('compile', ['pattern', 'flags'], (a) => compile(a.pattern, a.flags), { required: 1 }),
  escape: pyfunc('escape', ['pattern'], (a) => reEscape(toStr(a.pattern, 'pattern')), { required: 1 }),
  I: RE_FLAG.I,
  IGNORECASE: RE_FLAG.I,
  L: RE_FLAG.L,
  LOCALE: RE_FLAG.L,
  M: RE_FLAG.M,
  MULTILINE: RE_FLAG.M,
  S: RE_FLAG.S,
  DOTALL: RE_FLAG.S,
  U: RE_FLAG.U,
  UNICODE: RE_FLAG.U,
  X: RE_FLAG.X,
  VERBOSE: RE_FLAG.X,
  A: RE_FLAG.A,
  ASCII: RE_FLAG.A,
});

// ---------------------------------------------------------------------------------------------
// os.path (posixpath), pure string functions only

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

function dirname(p: string): string {
  const head = p.slice(0, p.lastIndexOf('/') + 1);
  return head && head !== '/'.repeat(head.length) ? head.replace(/\/+$/, '') : head;
}

function joinPath(a: string, parts: string[]): string {
  let path = a;
  for (const b of parts) {
    if (b.startsWith('/')) path = b;
    else if (!path || path.endsWith('/')) path += b;
    else path += '/' + b;
  }
  return path;
}

function splitext(p: string): [string, string] {
  const sep = p.lastIndexOf('/');
  const dot = p.lastIndexOf('.');
  if (dot > sep) {
    // A leading run of dots (".bashrc") is part of the name, not an extension.
    for (let i = sep + 1; i < dot; i++) if (p[i] !== '.') return [p.slice(0, dot), p.slice(dot)];
  }
  return [p, ''];
}

function normpath(p: string): string {
  if (!p) return '.';
  const initial = p.startsWith('//') && !p.startsWith('///') ? 2 : p.startsWith('/') ? 1 : 0;
  const comps: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c !== '..' || (!initial && comps.length === 0) || comps[comps.length - 1] === '..') comps.push(c);
    else if (comps.length) comps.pop();
  }
  return '/'.repeat(initial) + comps.join('/') || '.';
}

function commonprefix(list: unknown): string {
  const items = Array.isArray(list) ? list.map((x) => toStr(x, 'commonprefix() item')) : [];
  if (!items.length) return '';
  let prefix = items[0]!;
  for (const s of items) while (!s.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

const strArg = (name: string, fn: (s: string) => unknown) =>
  pyfunc(name, ['p'], (a) => fn(toStr(a.p, `${name}() argument`)), { required: 1 });

const pathModule = new PyNamespace('posixpath', 'module', {
  basename: strArg('basename', basename),
  dirname: strArg('dirname', dirname),
  split: strArg('split', (p) => tuple([dirname(p), basename(p)])),
  splitext: strArg('splitext', (p) => tuple(splitext(p))),
  splitdrive: strArg('splitdrive', (p) => tuple(['', p])),
  normpath: strArg('normpath', normpath),
  isabs: strArg('isabs', (p) => p.startsWith('/')),
  join: pyfunc(
    'join',
    ['a'],
    (a, rest) =>
      joinPath(
        toStr(a.a, 'join() argument'),
        rest.map((x) => toStr(x, 'join() argument')),
      ),
    { required: 1, varargs: true },
  ),
  commonprefix: pyfunc('commonprefix', ['m'], (a) => commonprefix(a.m), { required: 1 }),
  sep: '/',
  extsep: '.',
  curdir: '.',
  pardir: '..',
});

// ---------------------------------------------------------------------------------------------
// S3 names and uuid

/** Port of lava.lib.aws.s3_split: accepts s3://b/k, s3:b/k, /b/k and b/k. */
export function s3Split(name: string): [string, string] {
  let s = name;
  for (const p of ['s3://', 's3:']) {
    if (s.startsWith(p)) {
      s = s.slice(p.length);
      break;
    }
  }
  const trimmed = s.replace(/^\/+|\/+$/g, '');
  const slash = trimmed.indexOf('/');
  const bucket = slash < 0 ? trimmed : trimmed.slice(0, slash);
  if (!bucket) throw valueError(`Invalid S3 object name: ${s}`);
  return [bucket, slash < 0 ? '' : trimmed.slice(slash + 1).replace(/^\/+|\/+$/g, '')];
}

/** uuid.UUID: renders as the canonical form; .hex, .urn, .version. */
export class PyUuid extends PyObject {
  readonly hex: string;
  readonly urn: string;
  readonly version = 4;
  constructor(readonly _text: string) {
    super();
    this.hex = _text.replace(/-/g, '');
    this.urn = `urn:uuid:${_text}`;
  }
  get int(): bigint {
    return BigInt('0x' + this.hex);
  }
  _typeName(): string {
    return 'uuid.UUID';
  }
  _str(): string {
    return this._text;
  }
  override _repr(): string {
    return `UUID('${this._text}')`;
  }
  override _eq(other: unknown): boolean {
    return other instanceof PyUuid && other._text === this._text;
  }
}

// ---------------------------------------------------------------------------------------------
// dateutil.parser

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAY_NAMES = /^(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(day)?$|^(wednes|satur)day$/i;
const SKIP_WORDS = new Set(['at', 'on', 'of', 'the', 'and', 't', 'a']);

interface ParserOptions {
  dayfirst: boolean;
  yearfirst: boolean;
  default: PyDatetime | null;
  ignoretz: boolean;
  fuzzy: boolean;
}

interface Parsed {
  year?: number;
  month?: number;
  day?: number;
  hour?: number;
  minute?: number;
  second?: number;
  microsecond?: number;
  ampm?: 'am' | 'pm';
  tz?: PyTzInfo;
}

function monthOf(word: string): number | undefined {
  const w = word.toLowerCase().replace(/\.$/, '');
  if (w.length < 3) return undefined;
  const i = MONTHS.findIndex(
    (m, idx) =>
      w.startsWith(m) &&
      ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'][
        idx
      ]!.startsWith(w === 'sept' ? 'sep' : w),
  );
  return i < 0 ? undefined : i + 1;
}

/** Two-digit years land within 50 years of now, as dateutil does. */
function fullYear(v: number, digits: number): number {
  if (digits > 2 || v >= 100) return v;
  const now = new Date().getFullYear();
  let y = v + Math.floor(now / 100) * 100;
  if (y >= now + 50) y -= 100;
  else if (y < now - 50) y += 100;
  return y;
}

/** Assign loose numbers to year/month/day (dateutil's ymd resolution, simplified). */
function resolveYmd(nums: { v: number; len: number }[], r: Parsed, o: ParserOptions): void {
  const yearish = (n: { v: number; len: number }): boolean => n.len >= 3 || n.v > 31;
  const take = (n: { v: number; len: number }): number => fullYear(n.v, n.len);
  if (r.month !== undefined) {
    for (const n of nums) {
      if (r.year === undefined && (yearish(n) || r.day !== undefined)) r.year = take(n);
      else if (r.day === undefined) r.day = n.v;
      else throw valueError('too many numbers in date');
    }
    return;
  }
  const [a, b, c] = nums;
  if (nums.length > 3) throw valueError('too many numbers in date');
  if (nums.length === 3 && a && b && c) {
    if (yearish(a) || (o.yearfirst && !yearish(c))) [r.year, r.month, r.day] = [take(a), b.v, c.v];
    else if (o.dayfirst || a.v > 12) [r.day, r.month, r.year] = [a.v, b.v, take(c)];
    else [r.month, r.day, r.year] = [a.v, b.v, take(c)];
    if (r.month > 12 && (r.day ?? 0) <= 12) [r.month, r.day] = [r.day, r.month];
  } else if (nums.length === 2 && a && b) {
    if (yearish(a)) [r.year, r.month] = [take(a), b.v];
    else if (yearish(b)) [r.month, r.year] = [a.v, take(b)];
    else if (o.dayfirst || a.v > 12) [r.day, r.month] = [a.v, b.v];
    else [r.month, r.day] = [a.v, b.v];
  } else if (nums.length === 1 && a) {
    if (yearish(a)) r.year = take(a);
    else r.day = a.v;
  }
}

function extractTime(s: string, r: Parsed): string {
  return s.replace(
    /(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6})\d*)?)?/,
    (_w, h: string, m: string, sec?: string, frac?: string) => {
      r.hour = Number(h);
      r.minute = Number(m);
      if (sec !== undefined) r.second = Number(sec);
      if (frac !== undefined) r.microsecond = Number(frac.padEnd(6, '0'));
      return ' ';
    },
  );
}

function extractAmPm(s: string, r: Parsed): string {
  return s.replace(/(?:(?<!\d)(\d{1,2})\s*|\b)([ap])\.?m\b\.?/i, (_w, h: string | undefined, ap: string) => {
    r.ampm = ap.toLowerCase() === 'a' ? 'am' : 'pm';
    if (h === undefined) return ' ';
    if (r.hour !== undefined) return ` ${h} `; // "Jan 2 10:30 PM": the number is not the hour
    r.hour = Number(h);
    return ' ';
  });
}

function extractTz(s: string, r: Parsed): string {
  let out = s.replace(
    /(^|\s)(?:(?:UTC|GMT)\s*)?([+-])(\d{2}):?(\d{2})?(?=\s|$)/i,
    (_w, lead: string, sgn: string, hh: string, mm?: string) => {
      const secs = (sgn === '-' ? -1 : 1) * (Number(hh) * 3600 + Number(mm ?? 0) * 60);
      r.tz = secs === 0 ? TZ_TZUTC : new PyFixedTz(secs, null, 'tzoffset');
      return lead + ' ';
    },
  );
  if (r.tz === undefined) {
    out = out.replace(/(^|[\s\d])(UTC|GMT|Z)(?=\s|$)/, (_w, lead: string) => {
      r.tz = TZ_TZUTC;
      return lead + ' ';
    });
  }
  return out;
}

function applyToken(tok: string, r: Parsed, nums: { v: number; len: number }[], o: ParserOptions, input: string): void {
  const ordinal = /^(\d+)(st|nd|rd|th)$/i.exec(tok);
  if (ordinal) {
    r.day = Number(ordinal[1]);
    return;
  }
  if (/^\d{14}$|^\d{12}$|^\d{8}$/.test(tok)) {
    [r.year, r.month, r.day] = [Number(tok.slice(0, 4)), Number(tok.slice(4, 6)), Number(tok.slice(6, 8))];
    if (tok.length >= 12) [r.hour, r.minute] = [Number(tok.slice(8, 10)), Number(tok.slice(10, 12))];
    if (tok.length === 14) r.second = Number(tok.slice(12, 14));
    return;
  }
  if (/^\d{6}$/.test(tok) && nums.length === 0 && r.year === undefined) {
    [r.year, r.month, r.day] = [fullYear(Number(tok.slice(0, 2)), 2), Number(tok.slice(2, 4)), Number(tok.slice(4, 6))];
    return;
  }
  if (/^\d+$/.test(tok)) {
    nums.push({ v: Number(tok), len: tok.length });
    return;
  }
  const month = monthOf(tok);
  if (month !== undefined && r.month === undefined) {
    r.month = month;
    return;
  }
  if (WEEKDAY_NAMES.test(tok) || SKIP_WORDS.has(tok.toLowerCase())) return;
  if (/^[A-Z]{3,5}$/.test(tok)) {
    // A zone abbreviation: dateutil only understands the local zone's names; others are ignored.
    if (tok === tzLocal()._nameAtUtc(BigInt(Date.now()) * 1000n)) r.tz = tzLocal();
    return;
  }
  if (!o.fuzzy) throw valueError(`Unknown string format: ${input}`);
}

function parseLoose(input: string, o: ParserOptions): PyDatetime {
  const r: Parsed = {};
  let s = extractTime(input, r);
  s = extractAmPm(s, r);
  s = extractTz(s, r);
  const nums: { v: number; len: number }[] = [];
  for (const tok of s.split(/[\s,;/\-.]+|T(?=\d)/).filter(Boolean)) applyToken(tok, r, nums, o, input);
  resolveYmd(nums, r, o);
  if (r.ampm && r.hour !== undefined) {
    if (r.hour > 12) throw valueError(`Unknown string format: ${input}`);
    r.hour = (r.hour % 12) + (r.ampm === 'pm' ? 12 : 0);
  }
  const dflt =
    o.default ??
    PyDatetime.fromUtc(BigInt(Date.now()) * 1000n, null).replace({
      __keywords: true,
      hour: 0,
      minute: 0,
      second: 0,
      microsecond: 0,
    });
  const year = r.year ?? dflt.year;
  const month = r.month ?? dflt.month;
  const dim = new Date(Date.UTC(2000, month, 0)).getUTCDate();
  const isLeapFeb = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const day = r.day ?? Math.min(dflt.day, isLeapFeb ? 29 : month === 2 ? 28 : dim);
  const tz = o.ignoretz ? null : (r.tz ?? dflt.tzinfo);
  return PyDatetime.of(
    {
      year,
      month,
      day,
      hour: r.hour ?? dflt.hour,
      minute: r.minute ?? dflt.minute,
      second: r.second ?? dflt.second,
      microsecond: r.microsecond ?? dflt.microsecond,
    },
    tz,
  );
}

/**
 * dateutil.parser.parse (a practical subset): ISO 8601, RFC 2822-style, "Jan 2 2024 10:30 PM",
 * "2/1/2024" (month first unless dayfirst), compact YYYYMMDD[hhmm[ss]], UTC/GMT/Z and ±hh:mm zones.
 */
export function parseDatetime(input: string, o: Partial<ParserOptions> = {}): PyDatetime {
  const opts: ParserOptions = { dayfirst: false, yearfirst: false, default: null, ignoretz: false, fuzzy: false, ...o };
  if (/^\s*\d{4}-?\d{2}-?\d{2}(?![\d])/.test(input)) {
    const iso = parseIso(input, 'tzoffset');
    if (iso) return opts.ignoretz && iso.tzinfo ? iso.replace({ __keywords: true, tzinfo: null }) : iso;
  }
  if (!input.trim()) throw valueError('String does not contain a date: ' + pyRepr(input));
  return parseLoose(input, opts);
}

const parserModule = new PyNamespace('dateutil.parser', 'module', {
  parse: pyfunc(
    'parse',
    ['timestr', 'parserinfo', 'dayfirst', 'yearfirst', 'ignoretz', 'fuzzy', 'default'],
    (a) => {
      if (a.default !== undefined && a.default !== null && !(a.default instanceof PyDatetime))
        throw typeError('default must be a datetime');
      return parseDatetime(toStr(a.timestr, 'Parser must be a string or character stream, not ' + pyTypeName(a.timestr)), {
        dayfirst: pyBool(a.dayfirst),
        yearfirst: pyBool(a.yearfirst),
        ignoretz: pyBool(a.ignoretz),
        fuzzy: pyBool(a.fuzzy),
        default: a.default ?? null,
      });
    },
    { required: 1 },
  ),
  isoparse: pyfunc(
    'isoparse',
    ['dt_str'],
    (a) => {
      const s = toStr(a.dt_str, 'isoparse() argument');
      const dt = parseIso(s, 'tzoffset');
      if (!dt) throw valueError(`ISO string ${pyRepr(s)} is not in a supported format`);
      return dt;
    },
    { required: 1 },
  ),
});

// ---------------------------------------------------------------------------------------------
// dateutil.tz and dateutil.relativedelta

const tzModule = new PyNamespace('dateutil.tz', 'module', {
  gettz: pyfunc('gettz', ['name'], (a) => gettz(a.name === undefined || a.name === null ? null : toStr(a.name, 'name'))),
  tzutc: new PyNamespace('dateutil.tz.tzutc', 'class', {}, () => TZ_TZUTC),
  tzlocal: new PyNamespace('dateutil.tz.tzlocal', 'class', {}, () => tzLocal()),
  tzoffset: new PyNamespace(
    'dateutil.tz.tzoffset',
    'class',
    {},
    pyfunc(
      'tzoffset',
      ['name', 'offset'],
      (a) => {
        const secs = a.offset instanceof PyTimedelta ? a.offset.total_seconds() : toInt(a.offset, 'offset');
        return new PyFixedTz(secs, a.name === undefined || a.name === null ? null : toStr(a.name, 'name'), 'tzoffset');
      },
      { required: 2 },
    ),
  ),
  UTC: TZ_TZUTC,
});

const relativedeltaClass = makeRelativedeltaClass();
const [MO, TU, WE, TH, FR, SA, SU] = WEEKDAYS;

/**
 * Upstream templates write utils.dateutil.relativedelta.relativedelta(...); the module object is
 * also callable so the shorter utils.dateutil.relativedelta(...) works too (a lenient extension).
 */
const relativedeltaModule = new PyNamespace(
  'dateutil.relativedelta',
  'module',
  { relativedelta: relativedeltaClass, MO, TU, WE, TH, FR, SA, SU },
  (...args: unknown[]) => relativedeltaClass._call(...args),
);

const dateutilModule = new PyNamespace('dateutil', 'module', {
  relativedelta: relativedeltaModule,
  parser: parserModule,
  tz: tzModule,
});

// ---------------------------------------------------------------------------------------------
// The utils object

const s3Arg = (name: string, part: 0 | 1) =>
  pyfunc(name, ['s'], (a) => s3Split(toStr(a.s, `${name}() argument`))[part], { required: 1 });

/** The `utils` template variable (upstream JINJA_UTILS). Frozen: templates cannot alter it. */
export const utils: Record<string, unknown> = Object.freeze({
  date: makeDateClass(),
  datetime: makeDatetimeClass(),
  time: makeTimeClass(),
  timedelta: makeTimedeltaClass(),
  dateutil: dateutilModule,
  parsedate: parserModule,
  path: pathModule,
  re: reModule,
  s3bucket: s3Arg('s3bucket', 0),
  s3key: s3Arg('s3key', 1),
  uuid: pyfunc('uuid4', [], () => new PyUuid(randomUUID())),
});

/** Exposed for tests and other modules that need the same Python-ish text of a value. */
export { pyStr };
