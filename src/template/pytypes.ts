/**
 * Python-compatible value shims for Lava templates.
 *
 * Lava job specs are Jinja templates evaluated against *Python* objects: `start.strftime(...)`,
 * `'a,b'.split(',')`, `{{ globals }}` printing a Python dict repr, `ustart - utils.timedelta(hours=4)`.
 * This module is the Python object model the template runtime (render.ts) dispatches to:
 *
 * - call-argument binding (positional + nunjucks keyword arguments),
 * - `PyObject` shims: tzinfo, timedelta, date, time, datetime, relativedelta, callable namespaces,
 * - `str()` / `repr()` / truthiness / `==` / ordering / arithmetic with Python semantics,
 * - attribute and item lookup (`pyGetattr` / `pyGetitem` / `pySlice`) including the str, list and
 *   dict methods templates call,
 * - `str.format` and `%` formatting, `strftime` / `strptime`, ISO-8601 parsing.
 */
import { checkItems, checkLength, repeatStr, tick } from './limits.js';

// ---------------------------------------------------------------------------------------------
// Errors and argument binding

/** A Python exception raised while evaluating a template; render.ts wraps it in a TemplateError. */
export class PyError extends Error {
  constructor(
    readonly pyType: string,
    message: string,
  ) {
    super(message);
    this.name = pyType;
  }
}

export const typeError = (m: string): PyError => new PyError('TypeError', m);
export const valueError = (m: string): PyError => new PyError('ValueError', m);

/** Nunjucks passes keyword arguments as a trailing object carrying a `__keywords` marker. */
const KW_MARKER = '__keywords';

export function isKwargs(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.prototype.hasOwnProperty.call(v, KW_MARKER);
}

export interface Signature {
  name: string;
  params: readonly string[];
  /** Number of leading params that must be supplied. */
  required?: number;
  varargs?: boolean;
  varkw?: boolean;
}

export interface Bound {
  a: Record<string, unknown>;
  rest: unknown[];
  kw: Record<string, unknown>;
}

/** Bind call arguments to parameter names the way Python does (TypeError on misuse). */
export function bindArgs(sig: Signature, args: readonly unknown[]): Bound {
  let pos: readonly unknown[] = args;
  let kwIn: Record<string, unknown> = {};
  const last = args[args.length - 1];
  if (args.length > 0 && isKwargs(last)) {
    pos = args.slice(0, -1);
    kwIn = last;
  }
  if (pos.length > sig.params.length && !sig.varargs) {
    throw typeError(`${sig.name}() takes at most ${sig.params.length} positional arguments (${pos.length} given)`);
  }
  const a: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  sig.params.forEach((p, i) => {
    if (i < pos.length) a[p] = pos[i];
  });
  const kw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kwIn)) {
    if (k === KW_MARKER) continue;
    if (sig.params.includes(k)) {
      if (k in a) throw typeError(`${sig.name}() got multiple values for argument '${k}'`);
      a[k] = v;
    } else if (sig.varkw) {
      kw[k] = v;
    } else {
      throw typeError(`${sig.name}() got an unexpected keyword argument '${k}'`);
    }
  }
  for (let i = 0; i < (sig.required ?? 0); i++) {
    const p = sig.params[i];
    if (p !== undefined && a[p] === undefined) throw typeError(`${sig.name}() missing required argument: '${p}'`);
  }
  return { a, rest: pos.slice(sig.params.length), kw };
}

export type PyFunction = (...args: unknown[]) => unknown;

/** Wrap an implementation as a template-callable function with a Python signature. */
export function pyfunc(
  name: string,
  params: readonly string[],
  impl: (a: Record<string, unknown>, rest: unknown[], kw: Record<string, unknown>) => unknown,
  opts: Omit<Signature, 'name' | 'params'> = {},
): PyFunction {
  const sig: Signature = { name, params, ...opts };
  const fn = (...args: unknown[]): unknown => {
    const b = bindArgs(sig, args);
    return impl(b.a, b.rest, b.kw);
  };
  Object.defineProperty(fn, 'name', { value: name });
  return fn;
}

// ---------------------------------------------------------------------------------------------
// Small type helpers

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Strings and nunjucks SafeStrings (which inherit from String.prototype). */
export function isStr(v: unknown): v is string | string[] {
  return typeof v === 'string' || v instanceof String;
}

export function asStr(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof String) return v.toString();
  return undefined;
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/**
 * A Python float with an integral value. JS numbers cannot tell 2.0 from 2, but Python prints
 * them differently ("2.0"), so float-returning operations (/, total_seconds(), timestamp(),
 * |float, |round) box integral results in this Number subclass. Non-integral floats stay plain.
 */
export class PyFloat extends Number {}

/** The float result `n`: boxed when integral so it prints as Python would. */
export function pyFloat(n: number): number {
  return Number.isInteger(n) ? (new PyFloat(n) as unknown as number) : n;
}

/** Python float repr: '2.0', '1e+16', 'nan'. */
function floatRepr(n: number): string {
  if (!Number.isFinite(n) || !Number.isInteger(n)) return pyNumStr(n);
  if (Math.abs(n) >= 1e16) return pyNumStr(Number(n.toExponential()));
  return `${Object.is(n, -0) ? '-0' : n}.0`;
}

/** Tuples are JS arrays tagged here, so that `%` formatting and repr can tell them from lists. */
const TUPLES = new WeakSet<unknown[]>();

export function tuple<T extends unknown[]>(items: T): T {
  TUPLES.add(items);
  return items;
}

export function isTuple(v: unknown): v is unknown[] {
  return Array.isArray(v) && TUPLES.has(v);
}

/** The Python type name of a value, for error messages. */
export function pyTypeName(v: unknown): string {
  if (v === undefined) return 'Undefined';
  if (v === null) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (v instanceof PyFloat) return 'float';
  if (typeof v === 'bigint') return 'int';
  if (isStr(v)) return 'str';
  if (Array.isArray(v)) return isTuple(v) ? 'tuple' : 'list';
  if (v instanceof PyObject) return v._typeName();
  if (typeof v === 'function') return 'function';
  if (isPlainObject(v)) return 'dict';
  return 'object';
}

export function toInt(v: unknown, what: string): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'number' || v instanceof PyFloat) throw typeError(`${what}: integer argument expected, got float`);
  throw typeError(`${what}: '${pyTypeName(v)}' object cannot be interpreted as an integer`);
}

export function toNum(v: unknown, what: string): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (v instanceof PyFloat) return v.valueOf();
  throw typeError(`${what}: unsupported type '${pyTypeName(v)}' (a number is required)`);
}

export function toStr(v: unknown, what: string): string {
  const s = asStr(v);
  if (s === undefined) throw typeError(`${what} must be str, not ${pyTypeName(v)}`);
  return s;
}

const optInt = (v: unknown, what: string, dflt: number): number => (v === undefined || v === null ? dflt : toInt(v, what));

// ---------------------------------------------------------------------------------------------
// The PyObject base class

export const NotImplemented: unique symbol = Symbol('NotImplemented');
export type BinOp = 'add' | 'sub' | 'mul' | 'truediv' | 'floordiv' | 'mod' | 'pow';

/** Names never exposed to templates even though JS objects have them. */
const HIDDEN = new Set([
  'constructor',
  'toString',
  'toJSON',
  'valueOf',
  'toLocaleString',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
]);

/**
 * Base of all shims. Template-visible attributes are the public members; internals (and the
 * operator protocol) start with `_`, which templates cannot reach.
 */
export abstract class PyObject {
  abstract _typeName(): string;
  /** Python str(). */
  abstract _str(): string;
  /** Python repr(). */
  _repr(): string {
    return this._str();
  }
  _bool(): boolean {
    return true;
  }
  _eq(other: unknown): boolean {
    return this === other;
  }
  /** Sign of (this - other), or undefined when unorderable. May throw a Python TypeError. */
  _cmp(_other: unknown): number | undefined {
    return undefined;
  }
  /** `this <op> other` (or `other <op> this` when reflected); NotImplemented when unsupported. */
  _binop(_op: BinOp, _other: unknown, _reflected: boolean): unknown {
    return NotImplemented;
  }
  _neg(): unknown {
    throw typeError(`bad operand type for unary -: '${this._typeName()}'`);
  }
  /** Value used by the tojson filter. */
  _json(): unknown {
    return this._str();
  }
  /** format(value, spec) / str.format field. */
  _format(spec: string): string {
    if (spec) throw typeError(`unsupported format string passed to ${this._typeName()}.__format__`);
    return this._str();
  }
  _getattr(name: string): unknown {
    if (name.startsWith('_') || HIDDEN.has(name) || !(name in this)) return undefined;
    const v: unknown = Reflect.get(this, name);
    return typeof v === 'function' ? (v as PyFunction).bind(this) : v;
  }
  _getitem(key: unknown): unknown {
    return typeof key === 'string' ? this._getattr(key) : undefined;
  }
  toString(): string {
    return this._str();
  }
  toJSON(): unknown {
    return this._json();
  }
}

/** Something templates can call, e.g. a class such as `utils.datetime` or a weekday `MO`. */
export interface PyCallable {
  _call(...args: unknown[]): unknown;
}

export function isPyCallable(v: unknown): v is PyCallable {
  return v instanceof PyObject && typeof (v as Partial<PyCallable>)._call === 'function';
}

/** A module or class: a named bag of attributes, optionally callable (a constructor). */
export class PyNamespace extends PyObject {
  constructor(
    readonly _name: string,
    readonly _kind: 'module' | 'class',
    readonly _members: Record<string, unknown>,
    readonly _ctor?: PyFunction,
  ) {
    super();
  }
  _typeName(): string {
    return this._kind === 'module' ? 'module' : 'type';
  }
  _str(): string {
    return this._kind === 'module' ? `<module '${this._name}'>` : `<class '${this._name}'>`;
  }
  override _getattr(name: string): unknown {
    return hasOwn(this._members, name) ? this._members[name] : undefined;
  }
  _call(...args: unknown[]): unknown {
    if (!this._ctor) throw typeError(`'${this._typeName()}' object is not callable`);
    return this._ctor(...args);
  }
}

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian via Date's UTC fields; wall times are bigint µs)

const US = 1_000_000n;
const US_PER_DAY = 86_400n * US;
const MS_PER_DAY = 86_400_000;
/** Days from 0001-01-01 (ordinal 1) to 1970-01-01. */
const EPOCH_ORDINAL = 719_163;

export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

export function floorMod(a: bigint, b: bigint): bigint {
  return a - floorDiv(a, b) * b;
}

function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

export function daysInMonth(y: number, m: number): number {
  return [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] ?? 31;
}

/** Milliseconds since the epoch of a civil date-time read as UTC (works for years 1..99 too). */
function civilToMs(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s, ms);
  return t.getTime();
}

interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  microsecond: number;
}

function fieldsOf(wallUs: bigint): Fields {
  const t = new Date(Number(floorDiv(wallUs, 1000n)));
  return {
    year: t.getUTCFullYear(),
    month: t.getUTCMonth() + 1,
    day: t.getUTCDate(),
    hour: t.getUTCHours(),
    minute: t.getUTCMinutes(),
    second: t.getUTCSeconds(),
    microsecond: Number(floorMod(wallUs, US)),
  };
}

function wallOf(f: Fields): bigint {
  return BigInt(civilToMs(f.year, f.month, f.day, f.hour, f.minute, f.second)) * 1000n + BigInt(f.microsecond);
}

function checkRange(v: number, lo: number, hi: number, what: string): void {
  if (v < lo || v > hi) throw valueError(`${what} must be in ${lo}..${hi}`);
}

function checkFields(f: Fields): void {
  if (f.year < 1 || f.year > 9999) throw valueError(`year ${f.year} is out of range`);
  checkRange(f.month, 1, 12, 'month');
  if (f.day < 1 || f.day > daysInMonth(f.year, f.month)) throw valueError('day is out of range for month');
  checkRange(f.hour, 0, 23, 'hour');
  checkRange(f.minute, 0, 59, 'minute');
  checkRange(f.second, 0, 59, 'second');
  checkRange(f.microsecond, 0, 999_999, 'microsecond');
}

const pad = (n: number, w = 2): string => (n < 0 ? '-' + pad(-n, w) : String(n).padStart(w, '0'));

/** Python weekday(): Monday = 0. 1970-01-01 was a Thursday. */
const weekdayOfDays = (epochDays: number): number => (((epochDays + 3) % 7) + 7) % 7;

function epochDaysOf(y: number, m: number, d: number): number {
  return Math.round(civilToMs(y, m, d) / MS_PER_DAY);
}

function isoCalendar(y: number, m: number, d: number): [number, number, number] {
  const days = epochDaysOf(y, m, d);
  const wd = weekdayOfDays(days);
  const thursday = days - wd + 3; // the Thursday of this ISO week decides its year
  const isoYear = new Date(thursday * MS_PER_DAY).getUTCFullYear();
  const week = Math.floor((thursday - epochDaysOf(isoYear, 1, 1)) / 7) + 1;
  return [isoYear, week, wd + 1];
}

// ---------------------------------------------------------------------------------------------
// Time zones. IANA zones are computed with Intl (no tz database of our own).

const formatterCache = new Map<string, Intl.DateTimeFormat>();

function zoneFormatter(zone: string): Intl.DateTimeFormat {
  let f = formatterCache.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatterCache.set(zone, f);
  }
  return f;
}

/** Canonical IANA name, or undefined when Intl does not know the zone. */
export function validZone(name: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** UTC offset in seconds of `zone` at the instant `utcMs`. */
function zoneOffsetAt(zone: string, utcMs: number): number {
  const parts: Record<string, number> = {};
  for (const p of zoneFormatter(zone).formatToParts(new Date(utcMs))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const wall = civilToMs(
    parts.year ?? 1970,
    parts.month ?? 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  return Math.round((wall - Math.floor(utcMs / 1000) * 1000) / 1000);
}

/** Locales whose short zone names cover the common zones (en-US has only US names). */
const ABBREV_LOCALES = ['en-US', 'en-AU', 'en-GB', 'en-IN', 'en-NZ'];
const abbrevCache = new Map<string, string>();

/** Zone abbreviation like tzdata's (AEDT, BST); tzdata-style numeric (+09) when Intl has none. */
function zoneAbbrev(zone: string, utcMs: number, offset: number): string {
  const key = `${zone}|${offset}|${new Date(utcMs).getUTCFullYear()}`;
  const cached = abbrevCache.get(key);
  if (cached !== undefined) return cached;
  let name: string | undefined;
  for (const locale of ABBREV_LOCALES) {
    const part = new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: 'short' })
      .formatToParts(new Date(utcMs))
      .find((p) => p.type === 'timeZoneName')?.value;
    if (part && !/^(GMT|UTC)[+-]/.test(part)) {
      name = part;
      break;
    }
  }
  name ??= numericAbbrev(offset);
  abbrevCache.set(key, name);
  return name;
}

function numericAbbrev(offset: number): string {
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  const hm = pad(Math.floor(a / 3600)) + (a % 3600 ? pad(Math.floor((a % 3600) / 60)) : '');
  return sign + hm;
}

/** `+HH:MM` (with `:SS` when needed), as in isoformat(); `sep` '' gives strftime's %z. */
function formatOffset(offset: number, sep: string): string {
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  let s = sign + pad(Math.floor(a / 3600)) + sep + pad(Math.floor((a % 3600) / 60));
  if (a % 60) s += sep + pad(a % 60);
  return s;
}

export abstract class PyTzInfo extends PyObject {
  _typeName(): string {
    return 'tzinfo';
  }
  /** Offset (seconds east of UTC) in force at a UTC instant. */
  abstract _offsetAtUtc(utcUs: bigint): number;
  /** Offset for a wall-clock time (Python fold=0: the earlier of two, pre-transition in a gap). */
  abstract _offsetForWall(wallUs: bigint): number;
  abstract _nameAtUtc(utcUs: bigint): string | null;
  _dstAtUtc(_utcUs: bigint): number {
    return 0;
  }
  utcoffset(dt?: unknown): PyTimedelta | null {
    if (dt instanceof PyDatetime) {
      const off = dt._offset;
      return off === null ? null : PyTimedelta.ofSeconds(off);
    }
    return null;
  }
  tzname(dt?: unknown): string | null {
    return dt instanceof PyDatetime ? this._nameAtUtc(dt._utcUs) : null;
  }
  dst(dt?: unknown): PyTimedelta | null {
    return dt instanceof PyDatetime ? PyTimedelta.ofSeconds(this._dstAtUtc(dt._utcUs)) : null;
  }
}

/** Fixed offset: datetime.timezone(...), timezone.utc, dateutil tzutc() / tzoffset(). */
export class PyFixedTz extends PyTzInfo {
  constructor(
    readonly _offset: number,
    readonly _name: string | null,
    readonly _style: 'timezone' | 'tzoffset' | 'tzutc',
  ) {
    super();
  }
  _offsetAtUtc(): number {
    return this._offset;
  }
  _offsetForWall(): number {
    return this._offset;
  }
  _nameAtUtc(): string | null {
    if (this._name !== null) return this._name;
    if (this._style === 'tzoffset') return null;
    return this._offset === 0 ? 'UTC' : 'UTC' + formatOffset(this._offset, ':');
  }
  _str(): string {
    return this._style === 'timezone' ? (this._nameAtUtc() ?? '') : this._repr();
  }
  override _repr(): string {
    if (this._style === 'tzutc') return 'tzutc()';
    if (this._style === 'tzoffset') return `tzoffset(${this._name === null ? 'None' : pyRepr(this._name)}, ${this._offset})`;
    if (this._offset === 0 && this._name === 'UTC') return 'datetime.timezone.utc';
    const td = `datetime.timedelta(seconds=${this._offset})`;
    return this._name === null ? `datetime.timezone(${td})` : `datetime.timezone(${td}, ${pyRepr(this._name)})`;
  }
  override _eq(other: unknown): boolean {
    return other instanceof PyFixedTz && other._offset === this._offset;
  }
}

/** An IANA zone: dateutil tzlocal() (the process zone) or tz.gettz('Area/City'). */
export class PyZoneTz extends PyTzInfo {
  constructor(
    readonly _zone: string,
    readonly _style: 'tzlocal' | 'tzfile',
  ) {
    super();
  }
  _offsetAtUtc(utcUs: bigint): number {
    return zoneOffsetAt(this._zone, Number(floorDiv(utcUs, 1000n)));
  }
  _offsetForWall(wallUs: bigint): number {
    const wallMs = Number(floorDiv(wallUs, 1000n));
    const before = zoneOffsetAt(this._zone, wallMs - MS_PER_DAY);
    const after = zoneOffsetAt(this._zone, wallMs + MS_PER_DAY);
    const valid = (o: number): boolean => zoneOffsetAt(this._zone, wallMs - o * 1000) === o;
    if (valid(before)) return before; // also the fold=0 choice for an ambiguous time
    if (valid(after)) return after;
    return before; // in a gap: Python uses the pre-transition offset
  }
  _nameAtUtc(utcUs: bigint): string {
    const ms = Number(floorDiv(utcUs, 1000n));
    return zoneAbbrev(this._zone, ms, zoneOffsetAt(this._zone, ms));
  }
  override _dstAtUtc(utcUs: bigint): number {
    const ms = Number(floorDiv(utcUs, 1000n));
    const year = new Date(ms).getUTCFullYear();
    const std = Math.min(zoneOffsetAt(this._zone, civilToMs(year, 1, 1)), zoneOffsetAt(this._zone, civilToMs(year, 7, 1)));
    return zoneOffsetAt(this._zone, ms) - std;
  }
  _str(): string {
    return this._repr();
  }
  override _repr(): string {
    return this._style === 'tzlocal' ? 'tzlocal()' : `tzfile('/usr/share/zoneinfo/${this._zone}')`;
  }
  override _eq(other: unknown): boolean {
    return other instanceof PyZoneTz && other._zone === this._zone;
  }
}

/** datetime.timezone.utc (what Lava's `ustart` carries). */
export const TZ_UTC = new PyFixedTz(0, 'UTC', 'timezone');
/** dateutil.tz.UTC / tzutc(). */
export const TZ_TZUTC = new PyFixedTz(0, null, 'tzutc');

const zoneCache = new Map<string, PyZoneTz>();

function zoneTz(zone: string, style: 'tzlocal' | 'tzfile'): PyZoneTz {
  const key = `${style}:${zone}`;
  let tz = zoneCache.get(key);
  if (!tz) {
    tz = new PyZoneTz(zone, style);
    zoneCache.set(key, tz);
  }
  return tz;
}

/** The process zone: $TZ when it names an IANA zone, otherwise what Intl resolved. */
let localZoneCache: { tz: string | undefined; zone: string } | undefined;

/** The process's zone; cached per value of TZ, since Intl lookups are slow and this is called per run. */
export function localZoneName(): string {
  const env = process.env.TZ;
  if (localZoneCache && localZoneCache.tz === env) return localZoneCache.zone;
  let zone: string | undefined;
  if (env) zone = validZone(env.startsWith(':') ? env.slice(1) : env);
  zone ??= new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  localZoneCache = { tz: env, zone };
  return zone;
}

/** dateutil.tz.tzlocal() for the current process zone (one shared instance per zone). */
export function tzLocal(): PyZoneTz {
  return zoneTz(localZoneName(), 'tzlocal');
}

/** dateutil.tz.gettz(name): null when the zone is unknown. */
export function gettz(name?: string | null): PyTzInfo | null {
  if (!name) return tzLocal();
  if (/^(UTC|GMT|Z|UCT|Universal|Zulu)$/i.test(name)) return TZ_TZUTC;
  const z = validZone(name);
  return z ? zoneTz(z, 'tzfile') : null;
}

function toTz(v: unknown, what: string): PyTzInfo | null {
  if (v === undefined || v === null) return null;
  if (v instanceof PyTzInfo) return v;
  throw typeError(`${what} argument must be a tzinfo or None, not '${pyTypeName(v)}'`);
}

// ---------------------------------------------------------------------------------------------
// timedelta

const MAX_TD_DAYS = 999_999_999n;

export class PyTimedelta extends PyObject {
  readonly days: number;
  readonly seconds: number;
  readonly microseconds: number;

  constructor(readonly _us: bigint) {
    super();
    const d = floorDiv(_us, US_PER_DAY);
    if (d > MAX_TD_DAYS || d < -MAX_TD_DAYS) throw new PyError('OverflowError', `days=${d}; must have magnitude <= 999999999`);
    const rem = _us - d * US_PER_DAY;
    this.days = Number(d);
    this.seconds = Number(rem / US);
    this.microseconds = Number(rem % US);
  }

  static ofSeconds(s: number): PyTimedelta {
    return new PyTimedelta(BigInt(Math.round(s * 1e6)));
  }

  /** Python's constructor: every unit may be a float; the total is rounded to microseconds. */
  static make(a: Record<string, unknown>): PyTimedelta {
    const units: [string, bigint][] = [
      ['weeks', 7n * US_PER_DAY],
      ['days', US_PER_DAY],
      ['hours', 3600n * US],
      ['minutes', 60n * US],
      ['seconds', US],
      ['milliseconds', 1000n],
      ['microseconds', 1n],
    ];
    let total = 0n;
    let frac = 0;
    for (const [name, scale] of units) {
      const v = a[name];
      if (v === undefined || v === null) continue;
      const n = toNum(v, `timedelta ${name}`);
      const whole = Math.trunc(n);
      total += BigInt(whole) * scale;
      frac += (n - whole) * Number(scale);
    }
    return new PyTimedelta(total + BigInt(Math.round(frac)));
  }

  _typeName(): string {
    return 'datetime.timedelta';
  }
  total_seconds(): number {
    return pyFloat(Number(this._us) / 1e6);
  }
  _str(): string {
    const hh = Math.floor(this.seconds / 3600);
    const mm = Math.floor((this.seconds % 3600) / 60);
    const ss = this.seconds % 60;
    let s = `${hh}:${pad(mm)}:${pad(ss)}`;
    if (this.days) s = `${this.days} day${Math.abs(this.days) !== 1 ? 's' : ''}, ${s}`;
    if (this.microseconds) s += '.' + pad(this.microseconds, 6);
    return s;
  }
  override _repr(): string {
    const parts: string[] = [];
    if (this.days) parts.push(`days=${this.days}`);
    if (this.seconds) parts.push(`seconds=${this.seconds}`);
    if (this.microseconds) parts.push(`microseconds=${this.microseconds}`);
    return `datetime.timedelta(${parts.length ? parts.join(', ') : '0'})`;
  }
  override _json(): unknown {
    return this.total_seconds();
  }
  override _bool(): boolean {
    return this._us !== 0n;
  }
  override _eq(other: unknown): boolean {
    return other instanceof PyTimedelta && other._us === this._us;
  }
  override _cmp(other: unknown): number | undefined {
    if (!(other instanceof PyTimedelta)) return undefined;
    return this._us < other._us ? -1 : this._us > other._us ? 1 : 0;
  }
  override _neg(): PyTimedelta {
    return new PyTimedelta(-this._us);
  }
  _abs(): PyTimedelta {
    return this._us < 0n ? this._neg() : this;
  }
  override _binop(op: BinOp, other: unknown, reflected: boolean): unknown {
    if (other instanceof PyTimedelta) {
      const [l, r] = reflected ? [other._us, this._us] : [this._us, other._us];
      switch (op) {
        case 'add':
          return new PyTimedelta(l + r);
        case 'sub':
          return new PyTimedelta(l - r);
        case 'truediv':
          if (r === 0n) throw new PyError('ZeroDivisionError', 'division by zero');
          return pyFloat(Number(l) / Number(r));
        case 'floordiv':
          if (r === 0n) throw new PyError('ZeroDivisionError', 'integer division or modulo by zero');
          return Number(floorDiv(l, r));
        case 'mod':
          if (r === 0n) throw new PyError('ZeroDivisionError', 'integer division or modulo by zero');
          return new PyTimedelta(floorMod(l, r));
        default:
          return NotImplemented;
      }
    }
    if (isNumeric(other)) {
      const n = Number(other);
      if (op === 'mul') return new PyTimedelta(BigInt(Math.round(Number(this._us) * n)));
      if (reflected) return NotImplemented;
      if ((op === 'truediv' || op === 'floordiv') && n === 0) throw new PyError('ZeroDivisionError', 'division by zero');
      if (op === 'truediv') return new PyTimedelta(BigInt(Math.round(Number(this._us) / n)));
      if (op === 'floordiv' && Number.isInteger(n)) return new PyTimedelta(floorDiv(this._us, BigInt(n)));
    }
    return NotImplemented;
  }
}

// ---------------------------------------------------------------------------------------------
// strftime / strptime

const DAY_ABBR = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const DAY_FULL = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MON_ABBR = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MON_FULL = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

interface TimeParts extends Fields {
  /** UTC offset in seconds, null when naive. */
  offset: number | null;
  tzname: string | null;
  /** POSIX timestamp for %s. */
  epoch: () => number;
}

/** strftime with the C-locale / glibc codes Python on Linux supports, including the `-` flag. */
export function strftime(fmt: string, p: TimeParts): string {
  const days = epochDaysOf(p.year, p.month, p.day);
  const wd = weekdayOfDays(days);
  const yday = days - epochDaysOf(p.year, 1, 1) + 1;
  const h12 = p.hour % 12 || 12;
  const num = (n: number, w: number, flag: string): string => {
    if (flag === '-') return String(n);
    if (flag === '_') return String(n).padStart(w, ' ');
    return pad(n, w);
  };
  const code = (c: string, flag: string): string | undefined => {
    switch (c) {
      case 'a':
        return DAY_ABBR[wd];
      case 'A':
        return DAY_FULL[wd];
      case 'w':
        return String((wd + 1) % 7);
      case 'u':
        return String(wd + 1);
      case 'd':
        return num(p.day, 2, flag);
      case 'e':
        return num(p.day, 2, flag || '_');
      case 'b':
      case 'h':
        return MON_ABBR[p.month - 1];
      case 'B':
        return MON_FULL[p.month - 1];
      case 'm':
        return num(p.month, 2, flag);
      case 'y':
        return num(p.year % 100, 2, flag);
      case 'Y':
        return String(p.year);
      case 'C':
        return num(Math.floor(p.year / 100), 2, flag);
      case 'G':
        return String(isoCalendar(p.year, p.month, p.day)[0]);
      case 'g':
        return num(isoCalendar(p.year, p.month, p.day)[0] % 100, 2, flag);
      case 'V':
        return num(isoCalendar(p.year, p.month, p.day)[1], 2, flag);
      case 'H':
        return num(p.hour, 2, flag);
      case 'k':
        return num(p.hour, 2, flag || '_');
      case 'I':
        return num(h12, 2, flag);
      case 'l':
        return num(h12, 2, flag || '_');
      case 'p':
        return p.hour < 12 ? 'AM' : 'PM';
      case 'P':
        return p.hour < 12 ? 'am' : 'pm';
      case 'M':
        return num(p.minute, 2, flag);
      case 'S':
        return num(p.second, 2, flag);
      case 'f':
        return pad(p.microsecond, 6);
      case 'j':
        return num(yday, 3, flag);
      case 'U':
        return num(Math.floor((yday - 1 + 7 - ((wd + 1) % 7)) / 7), 2, flag);
      case 'W':
        return num(Math.floor((yday - 1 + 7 - wd) / 7), 2, flag);
      case 'z':
        return p.offset === null ? '' : formatOffset(p.offset, '');
      case ':z':
        return p.offset === null ? '' : formatOffset(p.offset, ':');
      case 'Z':
        return p.tzname ?? '';
      case 's':
        return String(Math.floor(p.epoch()));
      case 'c':
        return strftime('%a %b %e %H:%M:%S %Y', p);
      case 'x':
      case 'D':
        return strftime('%m/%d/%y', p);
      case 'X':
      case 'T':
        return strftime('%H:%M:%S', p);
      case 'F':
        return strftime('%Y-%m-%d', p);
      case 'R':
        return strftime('%H:%M', p);
      case 'r':
        return strftime('%I:%M:%S %p', p);
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case '%':
        return '%';
      default:
        return undefined;
    }
  };
  return fmt.replace(/%([-_^]?)(:z|[a-zA-Z%])/g, (whole, flag: string, c: string) => {
    const v = code(c, flag);
    if (v === undefined) return whole;
    return flag === '^' ? v.toUpperCase() : v;
  });
}

const STRPTIME_DIRECTIVES: Record<string, string> = {
  Y: '(?<Y>\\d{4})',
  m: '(?<m>1[0-2]|0[1-9]|[1-9])',
  d: '(?<d>3[01]|[12]\\d|0[1-9]|[1-9]| [1-9])',
  H: '(?<H>2[0-3]|[0-1]\\d|\\d)',
  I: '(?<I>1[0-2]|0[1-9]|[1-9])',
  M: '(?<M>[0-5]\\d|\\d)',
  S: '(?<S>6[0-1]|[0-5]\\d|\\d)',
  f: '(?<f>\\d{1,6})',
  y: '(?<y>\\d\\d)',
  j: '(?<j>36[0-6]|3[0-5]\\d|[12]\\d\\d|0[1-9]\\d|00[1-9]|[1-9]\\d|0[1-9]|[1-9])',
  b: `(?<b>${[...MON_FULL, ...MON_ABBR].join('|')})`,
  B: `(?<b>${[...MON_FULL, ...MON_ABBR].join('|')})`,
  a: `(?:${[...DAY_FULL, ...DAY_ABBR].join('|')})`,
  A: `(?:${[...DAY_FULL, ...DAY_ABBR].join('|')})`,
  p: '(?<p>am|pm)',
  z: '(?<z>[+-]\\d\\d:?[0-5]\\d(?::?[0-5]\\d(?:\\.\\d{1,6})?)?|Z)',
  Z: '(?:UTC|GMT|[A-Z]{2,5})',
  '%': '%',
};

/** datetime.strptime: naive unless %z matched. */
export function strptime(s: string, fmt: string): PyDatetime {
  let re = '';
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i] ?? '';
    if (c === '%') {
      const d = fmt[++i] ?? '';
      const r = STRPTIME_DIRECTIVES[d === 'h' ? 'b' : d];
      if (r === undefined) throw valueError(`'${d}' is a bad directive in format '%${d}'`);
      if (re.includes(`(?<${d}>`) && d !== '%') throw new PyError('re.error', `redefinition of group name '${d}'`);
      re += r;
    } else if (/\s/.test(c)) {
      re += '\\s+';
      while (/\s/.test(fmt[i + 1] ?? '')) i++;
    } else {
      re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  const m = new RegExp(`^${re}`, 'i').exec(s);
  if (!m) throw valueError(`time data ${pyRepr(s)} does not match format ${pyRepr(fmt)}`);
  if (m[0].length !== s.length) throw valueError(`unconverted data remains: ${s.slice(m[0].length)}`);
  const g = m.groups ?? {};
  const num = (k: string, d: number): number => (g[k] === undefined ? d : Number(g[k]));
  let year = g.Y !== undefined ? Number(g.Y) : g.y !== undefined ? (Number(g.y) < 69 ? 2000 : 1900) + Number(g.y) : 1900;
  let month = num('m', 1);
  let day = num('d', 1);
  if (g.b !== undefined) month = (MON_FULL.findIndex((n) => n.toLowerCase().startsWith(g.b!.toLowerCase().slice(0, 3))) % 12) + 1;
  let hour = num('H', 0);
  if (g.I !== undefined) hour = (Number(g.I) % 12) + ((g.p ?? '').toLowerCase() === 'pm' ? 12 : 0);
  if (g.j !== undefined && g.m === undefined && g.d === undefined) {
    const t = new Date((epochDaysOf(year, 1, 1) + Number(g.j) - 1) * MS_PER_DAY);
    year = t.getUTCFullYear();
    month = t.getUTCMonth() + 1;
    day = t.getUTCDate();
  }
  const f: Fields = {
    year,
    month,
    day,
    hour,
    minute: num('M', 0),
    second: num('S', 0),
    microsecond: g.f === undefined ? 0 : Number(g.f.padEnd(6, '0')),
  };
  checkFields(f);
  const tz = g.z === undefined ? null : parseOffsetTz(g.z, 'timezone');
  return new PyDatetime(wallOf(f), tz);
}

/** '+11:00' / '-0530' / 'Z' → a fixed-offset tzinfo in the given style. */
function parseOffsetTz(z: string, style: 'timezone' | 'tzoffset'): PyTzInfo {
  if (/^z$/i.test(z)) return style === 'timezone' ? TZ_UTC : TZ_TZUTC;
  const m = /^([+-])(\d\d):?(\d\d)?(?::?(\d\d))?/.exec(z);
  if (!m) throw valueError(`invalid UTC offset ${pyRepr(z)}`);
  const secs = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0));
  if (secs === 0) return style === 'timezone' ? TZ_UTC : TZ_TZUTC;
  return new PyFixedTz(secs, null, style);
}

// ---------------------------------------------------------------------------------------------
// ISO 8601 parsing (datetime.fromisoformat, dateutil isoparse)

const ISO_RE =
  /^(\d{4})(?:-?(\d{2})(?:-?(\d{2}))?)?(?:[T ](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d{1,9}))?)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2}(?:\.\d+)?)?)?)?$/i;

/** Parse ISO-8601; `style` picks the tzinfo flavour of the result (naive when no offset). */
export function parseIso(s: string, style: 'timezone' | 'tzoffset'): PyDatetime | undefined {
  const m = ISO_RE.exec(s.trim());
  if (!m) return undefined;
  const f: Fields = {
    year: Number(m[1]),
    month: Number(m[2] ?? 1),
    day: Number(m[3] ?? 1),
    hour: Number(m[4] ?? 0),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
    microsecond: m[7] ? Number(m[7].slice(0, 6).padEnd(6, '0')) : 0,
  };
  let carryDay = false;
  if (f.hour === 24 && f.minute === 0 && f.second === 0 && f.microsecond === 0) {
    f.hour = 0; // ISO allows 24:00 for the end of a day
    carryDay = true;
  }
  checkFields(f);
  const tz = m[8] ? parseOffsetTz(m[8], style) : null;
  const wall = wallOf(f) + (carryDay ? US_PER_DAY : 0n);
  return new PyDatetime(wall, tz);
}

// ---------------------------------------------------------------------------------------------
// date

export class PyDate extends PyObject {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  /** Days since 1970-01-01. */
  readonly _days: number;

  constructor(year: number, month: number, day: number) {
    super();
    checkFields({ year, month, day, hour: 0, minute: 0, second: 0, microsecond: 0 });
    this.year = year;
    this.month = month;
    this.day = day;
    this._days = epochDaysOf(year, month, day);
  }

  static fromDays(days: number): PyDate {
    const t = new Date(days * MS_PER_DAY);
    return new PyDate(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
  }

  _typeName(): string {
    return 'datetime.date';
  }
  _parts(): TimeParts {
    return {
      year: this.year,
      month: this.month,
      day: this.day,
      hour: 0,
      minute: 0,
      second: 0,
      microsecond: 0,
      offset: null,
      tzname: null,
      epoch: () => new PyDatetime(BigInt(this._days) * US_PER_DAY, null).timestamp(),
    };
  }
  isoformat(): string {
    return `${pad(this.year, 4)}-${pad(this.month)}-${pad(this.day)}`;
  }
  strftime(fmt: unknown): string {
    return strftime(toStr(fmt, 'strftime() argument 1'), this._parts());
  }
  weekday(): number {
    return weekdayOfDays(this._days);
  }
  isoweekday(): number {
    return this.weekday() + 1;
  }
  isocalendar(): number[] {
    return tuple(isoCalendar(this.year, this.month, this.day));
  }
  toordinal(): number {
    return this._days + EPOCH_ORDINAL;
  }
  ctime(): string {
    return strftime('%a %b %e %H:%M:%S %Y', this._parts());
  }
  replace(...args: unknown[]): PyDate {
    const { a } = bindArgs({ name: 'replace', params: ['year', 'month', 'day'] }, args);
    return new PyDate(optInt(a.year, 'year', this.year), optInt(a.month, 'month', this.month), optInt(a.day, 'day', this.day));
  }
  _str(): string {
    return this.isoformat();
  }
  override _repr(): string {
    return `datetime.date(${this.year}, ${this.month}, ${this.day})`;
  }
  override _format(spec: string): string {
    return spec ? this.strftime(spec) : this._str();
  }
  override _eq(other: unknown): boolean {
    return other instanceof PyDate && other._days === this._days;
  }
  override _cmp(other: unknown): number | undefined {
    if (other instanceof PyDatetime) throw typeError("can't compare datetime.datetime to datetime.date");
    return other instanceof PyDate ? Math.sign(this._days - other._days) : undefined;
  }
  override _binop(op: BinOp, other: unknown, reflected: boolean): unknown {
    if (other instanceof PyTimedelta && (op === 'add' || (op === 'sub' && !reflected))) {
      const days = Number(floorDiv(other._us, US_PER_DAY));
      return PyDate.fromDays(this._days + (op === 'add' ? days : -days));
    }
    if (op === 'sub' && other instanceof PyDate && !(other instanceof PyDatetime)) {
      const diff = reflected ? other._days - this._days : this._days - other._days;
      return new PyTimedelta(BigInt(diff) * US_PER_DAY);
    }
    return NotImplemented;
  }
}

// ---------------------------------------------------------------------------------------------
// time

export class PyTime extends PyObject {
  constructor(
    readonly hour: number,
    readonly minute: number,
    readonly second: number,
    readonly microsecond: number,
    readonly tzinfo: PyTzInfo | null,
  ) {
    super();
    checkFields({ year: 2000, month: 1, day: 1, hour, minute, second, microsecond });
  }
  _typeName(): string {
    return 'datetime.time';
  }
  _parts(): TimeParts {
    const offset = this.tzinfo ? this.tzinfo._offsetAtUtc(0n) : null;
    return {
      year: 1900,
      month: 1,
      day: 1,
      hour: this.hour,
      minute: this.minute,
      second: this.second,
      microsecond: this.microsecond,
      offset,
      tzname: this.tzinfo ? this.tzinfo._nameAtUtc(0n) : null,
      epoch: () => 0,
    };
  }
  isoformat(...args: unknown[]): string {
    const { a } = bindArgs({ name: 'isoformat', params: ['timespec'] }, args);
    const p = this._parts();
    return (
      isoTime(p, a.timespec === undefined ? 'auto' : toStr(a.timespec, 'timespec')) +
      (p.offset === null ? '' : formatOffset(p.offset, ':'))
    );
  }
  strftime(fmt: unknown): string {
    return strftime(toStr(fmt, 'strftime() argument 1'), this._parts());
  }
  replace(...args: unknown[]): PyTime {
    const { a } = bindArgs({ name: 'replace', params: ['hour', 'minute', 'second', 'microsecond', 'tzinfo'] }, args);
    return new PyTime(
      optInt(a.hour, 'hour', this.hour),
      optInt(a.minute, 'minute', this.minute),
      optInt(a.second, 'second', this.second),
      optInt(a.microsecond, 'microsecond', this.microsecond),
      'tzinfo' in a ? toTz(a.tzinfo, 'tzinfo') : this.tzinfo,
    );
  }
  _str(): string {
    return this.isoformat();
  }
  override _repr(): string {
    return `datetime.time(${trimmedFields([this.hour, this.minute, this.second, this.microsecond], 2)}${this.tzinfo ? `, tzinfo=${this.tzinfo._repr()}` : ''})`;
  }
  override _format(spec: string): string {
    return spec ? this.strftime(spec) : this._str();
  }
  _key(): number {
    return ((this.hour * 60 + this.minute) * 60 + this.second) * 1e6 + this.microsecond;
  }
  override _eq(other: unknown): boolean {
    return other instanceof PyTime && other._key() === this._key();
  }
  override _cmp(other: unknown): number | undefined {
    return other instanceof PyTime ? Math.sign(this._key() - other._key()) : undefined;
  }
}

/** repr helper: drop trailing zero microsecond then second (Python's datetime/time repr rule). */
function trimmedFields(values: number[], keep: number): string {
  const v = [...values];
  for (let i = 0; i < 2 && v.length > keep && v[v.length - 1] === 0; i++) v.pop();
  return v.join(', ');
}

function isoTime(p: Fields, timespec: string): string {
  const hms = `${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`;
  switch (timespec) {
    case 'auto':
      return p.microsecond ? `${hms}.${pad(p.microsecond, 6)}` : hms;
    case 'hours':
      return pad(p.hour);
    case 'minutes':
      return `${pad(p.hour)}:${pad(p.minute)}`;
    case 'seconds':
      return hms;
    case 'milliseconds':
      return `${hms}.${pad(Math.floor(p.microsecond / 1000), 3)}`;
    case 'microseconds':
      return `${hms}.${pad(p.microsecond, 6)}`;
    default:
      throw valueError('Unknown timespec value');
  }
}

// ---------------------------------------------------------------------------------------------
// datetime

/**
 * A Python datetime: wall-clock fields (bigint µs since 1970-01-01 read as UTC) plus an optional
 * tzinfo. Arithmetic is on the wall clock and the offset is recomputed afterwards, as in Python.
 */
export class PyDatetime extends PyObject {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly microsecond: number;
  /** Offset in seconds; null when naive. */
  readonly _offset: number | null;

  /** `knownOffset` disambiguates repeated wall times when the instant is known (astimezone). */
  constructor(
    readonly _wall: bigint,
    readonly tzinfo: PyTzInfo | null,
    knownOffset?: number,
  ) {
    super();
    const f = fieldsOf(_wall);
    if (f.year < 1 || f.year > 9999) throw new PyError('OverflowError', 'date value out of range');
    this.year = f.year;
    this.month = f.month;
    this.day = f.day;
    this.hour = f.hour;
    this.minute = f.minute;
    this.second = f.second;
    this.microsecond = f.microsecond;
    this._offset = tzinfo ? (knownOffset ?? tzinfo._offsetForWall(_wall)) : null;
  }

  static of(f: Fields, tz: PyTzInfo | null): PyDatetime {
    checkFields(f);
    return new PyDatetime(wallOf(f), tz);
  }

  /** The datetime at a UTC instant; naive local time when tz is null. */
  static fromUtc(utcUs: bigint, tz: PyTzInfo | null): PyDatetime {
    const zone = tz ?? tzLocal();
    const off = zone._offsetAtUtc(utcUs);
    return new PyDatetime(utcUs + BigInt(off) * US, tz, tz ? off : undefined);
  }

  static fromDate(d: Date, tz: PyTzInfo | null): PyDatetime {
    return PyDatetime.fromUtc(BigInt(d.getTime()) * 1000n, tz);
  }

  /** The instant; a naive datetime is taken to be local time (as timestamp() does). */
  get _utcUs(): bigint {
    const off = this._offset ?? tzLocal()._offsetForWall(this._wall);
    return this._wall - BigInt(off) * US;
  }

  _typeName(): string {
    return 'datetime.datetime';
  }
  _fields(): Fields {
    return {
      year: this.year,
      month: this.month,
      day: this.day,
      hour: this.hour,
      minute: this.minute,
      second: this.second,
      microsecond: this.microsecond,
    };
  }
  _parts(): TimeParts {
    return {
      ...this._fields(),
      offset: this._offset,
      tzname: this.tzname(),
      // glibc's %s (which Python uses) runs mktime() on the wall clock, i.e. reads it as local time.
      epoch: () => Number(new PyDatetime(this._wall, null).timestamp()),
    };
  }

  // -- Python instance methods
  date(): PyDate {
    return new PyDate(this.year, this.month, this.day);
  }
  time(): PyTime {
    return new PyTime(this.hour, this.minute, this.second, this.microsecond, null);
  }
  timetz(): PyTime {
    return new PyTime(this.hour, this.minute, this.second, this.microsecond, this.tzinfo);
  }
  weekday(): number {
    return weekdayOfDays(Number(floorDiv(this._wall, US_PER_DAY)));
  }
  isoweekday(): number {
    return this.weekday() + 1;
  }
  isocalendar(): number[] {
    return tuple(isoCalendar(this.year, this.month, this.day));
  }
  toordinal(): number {
    return Number(floorDiv(this._wall, US_PER_DAY)) + EPOCH_ORDINAL;
  }
  timestamp(): number {
    return pyFloat(Number(this._utcUs) / 1e6);
  }
  utcoffset(): PyTimedelta | null {
    return this._offset === null ? null : PyTimedelta.ofSeconds(this._offset);
  }
  tzname(): string | null {
    return this.tzinfo ? this.tzinfo._nameAtUtc(this._utcUs) : null;
  }
  dst(): PyTimedelta | null {
    return this.tzinfo ? PyTimedelta.ofSeconds(this.tzinfo._dstAtUtc(this._utcUs)) : null;
  }
  isoformat(...args: unknown[]): string {
    const { a } = bindArgs({ name: 'isoformat', params: ['sep', 'timespec'] }, args);
    const sep = a.sep === undefined ? 'T' : toStr(a.sep, 'sep');
    const timespec = a.timespec === undefined ? 'auto' : toStr(a.timespec, 'timespec');
    const off = this._offset === null ? '' : formatOffset(this._offset, ':');
    return `${this.date().isoformat()}${sep}${isoTime(this._fields(), timespec)}${off}`;
  }
  strftime(fmt: unknown): string {
    return strftime(toStr(fmt, 'strftime() argument 1'), this._parts());
  }
  ctime(): string {
    return strftime('%a %b %e %H:%M:%S %Y', this._parts());
  }
  replace(...args: unknown[]): PyDatetime {
    const { a } = bindArgs(
      { name: 'replace', params: ['year', 'month', 'day', 'hour', 'minute', 'second', 'microsecond', 'tzinfo'] },
      args,
    );
    const f = this._fields();
    for (const k of Object.keys(f) as (keyof Fields)[]) f[k] = optInt(a[k], k, f[k]);
    return PyDatetime.of(f, 'tzinfo' in a ? toTz(a.tzinfo, 'tzinfo') : this.tzinfo);
  }
  astimezone(tz?: unknown): PyDatetime {
    const target = toTz(tz, 'astimezone()');
    if (target) return PyDatetime.fromUtc(this._utcUs, target);
    // No argument: Python converts to a fixed-offset zone named after the local zone.
    const local = PyDatetime.fromUtc(this._utcUs, tzLocal());
    return PyDatetime.fromUtc(this._utcUs, new PyFixedTz(local._offset ?? 0, local.tzname(), 'timezone'));
  }

  // -- Class methods are reachable from instances in Python (e.g. start.fromtimestamp(...)).
  now(tz?: unknown): PyDatetime {
    return datetimeNow(toTz(tz, 'now()'));
  }
  today(): PyDatetime {
    return datetimeNow(null);
  }
  utcnow(): PyDatetime {
    return PyDatetime.fromUtc(BigInt(Date.now()) * 1000n, TZ_UTC).replace(tzKw(null));
  }
  fromtimestamp(ts: unknown, tz?: unknown): PyDatetime {
    return fromTimestamp(ts, toTz(tz, 'fromtimestamp()'));
  }
  utcfromtimestamp(ts: unknown): PyDatetime {
    return fromTimestamp(ts, TZ_UTC).replace(tzKw(null));
  }
  fromisoformat(s: unknown): PyDatetime {
    return datetimeFromIso(s);
  }
  strptime(s: unknown, fmt: unknown): PyDatetime {
    return strptime(toStr(s, 'strptime() argument 1'), toStr(fmt, 'strptime() argument 2'));
  }
  fromordinal(n: unknown): PyDatetime {
    return new PyDatetime(BigInt(toInt(n, 'fromordinal()') - EPOCH_ORDINAL) * US_PER_DAY, null);
  }
  combine(d: unknown, t: unknown, tz?: unknown): PyDatetime {
    return combine(d, t, tz);
  }

  // -- Python protocol
  _str(): string {
    return this.isoformat(' ');
  }
  override _repr(): string {
    const f = trimmedFields([this.year, this.month, this.day, this.hour, this.minute, this.second, this.microsecond], 5);
    return `datetime.datetime(${f}${this.tzinfo ? `, tzinfo=${this.tzinfo._repr()}` : ''})`;
  }
  override _json(): unknown {
    return this.isoformat();
  }
  override _format(spec: string): string {
    return spec ? this.strftime(spec) : this._str();
  }
  /** Python compares wall clocks when both share a tzinfo object, instants when both are aware. */
  _orderKey(other: PyDatetime, what: string): [bigint, bigint] {
    if ((this.tzinfo === null) !== (other.tzinfo === null))
      throw typeError(`can't ${what} offset-naive and offset-aware datetimes`);
    if (this.tzinfo === other.tzinfo) return [this._wall, other._wall];
    return [this._utcUs, other._utcUs];
  }
  override _eq(other: unknown): boolean {
    if (!(other instanceof PyDatetime) || (this.tzinfo === null) !== (other.tzinfo === null)) return false;
    const [a, b] = this._orderKey(other, 'compare');
    return a === b;
  }
  override _cmp(other: unknown): number | undefined {
    if (other instanceof PyDate) throw typeError("can't compare datetime.datetime to datetime.date");
    if (!(other instanceof PyDatetime)) return undefined;
    const [a, b] = this._orderKey(other, 'compare');
    return a < b ? -1 : a > b ? 1 : 0;
  }
  override _binop(op: BinOp, other: unknown, reflected: boolean): unknown {
    if (other instanceof PyTimedelta && (op === 'add' || (op === 'sub' && !reflected))) {
      return new PyDatetime(op === 'add' ? this._wall + other._us : this._wall - other._us, this.tzinfo);
    }
    if (op === 'sub' && other instanceof PyDatetime) {
      const [a, b] = this._orderKey(other, 'subtract');
      return new PyTimedelta(reflected ? b - a : a - b);
    }
    return NotImplemented;
  }
}

function tzKw(tz: PyTzInfo | null): Record<string, unknown> {
  return { __keywords: true, tzinfo: tz };
}

function datetimeNow(tz: PyTzInfo | null): PyDatetime {
  return PyDatetime.fromUtc(BigInt(Date.now()) * 1000n, tz);
}

function fromTimestamp(ts: unknown, tz: PyTzInfo | null): PyDatetime {
  return PyDatetime.fromUtc(BigInt(Math.round(toNum(ts, 'fromtimestamp()') * 1e6)), tz);
}

function datetimeFromIso(s: unknown): PyDatetime {
  const str = toStr(s, 'fromisoformat: argument');
  const dt = parseIso(str, 'timezone');
  if (!dt) throw valueError(`Invalid isoformat string: ${pyRepr(str)}`);
  return dt;
}

function combine(d: unknown, t: unknown, tz?: unknown): PyDatetime {
  if (!(d instanceof PyDate) || !(t instanceof PyTime)) throw typeError('combine() argument types must be (date, time)');
  const zone = tz === undefined ? t.tzinfo : toTz(tz, 'tzinfo');
  return PyDatetime.of(
    { year: d.year, month: d.month, day: d.day, hour: t.hour, minute: t.minute, second: t.second, microsecond: t.microsecond },
    zone,
  );
}

// ---------------------------------------------------------------------------------------------
// dateutil.relativedelta

/** dateutil weekday constants MO..SU; callable to pick the nth occurrence, e.g. MO(-1). */
export class PyWeekday extends PyObject {
  constructor(
    readonly weekday: number,
    readonly n: number | null,
  ) {
    super();
  }
  _typeName(): string {
    return 'weekday';
  }
  _call(n: unknown): PyWeekday {
    return new PyWeekday(this.weekday, toInt(n, 'weekday n'));
  }
  _str(): string {
    const name = DAY_ABBR[this.weekday]!.slice(0, 2).toUpperCase();
    return this.n === null || this.n === 0 ? name : `${name}(${this.n > 0 ? '+' : ''}${this.n})`;
  }
  override _eq(other: unknown): boolean {
    return other instanceof PyWeekday && other.weekday === this.weekday && (other.n ?? 1) === (this.n ?? 1);
  }
}

export const WEEKDAYS = [0, 1, 2, 3, 4, 5, 6].map((d) => new PyWeekday(d, null));

const RD_REL = ['years', 'months', 'days', 'leapdays', 'hours', 'minutes', 'seconds', 'microseconds'] as const;
const RD_ABS = ['year', 'month', 'day', 'weekday', 'hour', 'minute', 'second', 'microsecond'] as const;
type RdRel = Record<(typeof RD_REL)[number], number>;
type RdAbs = { [K in Exclude<(typeof RD_ABS)[number], 'weekday'>]: number | null } & { weekday: PyWeekday | null };

const sign = (n: number): number => (n < 0 ? -1 : 1);

/** dateutil.relativedelta.relativedelta: calendar-aware deltas (months, years, absolute fields). */
export class PyRelativedelta extends PyObject {
  readonly years: number;
  readonly months: number;
  readonly days: number;
  readonly leapdays: number;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
  readonly microseconds: number;
  readonly year: number | null;
  readonly month: number | null;
  readonly day: number | null;
  readonly weekday: PyWeekday | null;
  readonly hour: number | null;
  readonly minute: number | null;
  readonly second: number | null;
  readonly microsecond: number | null;

  constructor(rel: Partial<RdRel>, abs: Partial<RdAbs>) {
    super();
    const r: RdRel = { years: 0, months: 0, days: 0, leapdays: 0, hours: 0, minutes: 0, seconds: 0, microseconds: 0, ...rel };
    PyRelativedelta._fix(r);
    this.years = r.years;
    this.months = r.months;
    this.days = r.days;
    this.leapdays = r.leapdays;
    this.hours = r.hours;
    this.minutes = r.minutes;
    this.seconds = r.seconds;
    this.microseconds = r.microseconds;
    this.year = abs.year ?? null;
    this.month = abs.month ?? null;
    this.day = abs.day ?? null;
    this.weekday = abs.weekday ?? null;
    this.hour = abs.hour ?? null;
    this.minute = abs.minute ?? null;
    this.second = abs.second ?? null;
    this.microsecond = abs.microsecond ?? null;
  }

  /** Carry overflowing units upwards exactly as dateutil's _fix() does. */
  static _fix(r: RdRel): void {
    const carry = (from: keyof RdRel, to: keyof RdRel, limit: number): void => {
      if (Math.abs(r[from]) > limit - 1) {
        const s = sign(r[from]);
        const v = r[from] * s;
        r[from] = (v % limit) * s;
        r[to] += Math.floor(v / limit) * s;
      }
    };
    carry('microseconds', 'seconds', 1_000_000);
    carry('seconds', 'minutes', 60);
    carry('minutes', 'hours', 60);
    carry('hours', 'days', 24);
    carry('months', 'years', 12);
  }

  static make(a: Record<string, unknown>): PyRelativedelta {
    if (a.dt1 !== undefined || a.dt2 !== undefined) return PyRelativedelta.between(a.dt1, a.dt2);
    const rel: Partial<RdRel> = {};
    for (const k of RD_REL) if (a[k] !== undefined && a[k] !== null) rel[k] = toNum(a[k], k);
    if (!Number.isInteger(rel.years ?? 0) || !Number.isInteger(rel.months ?? 0)) {
      throw valueError('Non-integer years and months are ambiguous and not currently supported.');
    }
    rel.days = (rel.days ?? 0) + 7 * (a.weeks === undefined || a.weeks === null ? 0 : toNum(a.weeks, 'weeks'));
    const abs: Partial<RdAbs> = {};
    for (const k of ['year', 'month', 'day', 'hour', 'minute', 'second', 'microsecond'] as const) {
      if (a[k] !== undefined && a[k] !== null) abs[k] = toInt(a[k], k);
    }
    if (a.weekday !== undefined && a.weekday !== null) {
      abs.weekday = a.weekday instanceof PyWeekday ? a.weekday : (WEEKDAYS[toInt(a.weekday, 'weekday')] ?? null);
    }
    return new PyRelativedelta(rel, abs);
  }

  /** relativedelta(dt1, dt2): the delta that takes dt2 to dt1. */
  static between(dt1: unknown, dt2: unknown): PyRelativedelta {
    const asDt = (v: unknown): PyDatetime => {
      if (v instanceof PyDatetime) return v;
      if (v instanceof PyDate)
        return PyDatetime.of({ year: v.year, month: v.month, day: v.day, hour: 0, minute: 0, second: 0, microsecond: 0 }, null);
      throw typeError('relativedelta only diffs datetime/date');
    };
    const a = asDt(dt1);
    const b = asDt(dt2);
    let months = (a.year - b.year) * 12 + (a.month - b.month);
    const at = (m: number): PyDatetime => new PyRelativedelta({ months: m }, {})._apply(b) as PyDatetime;
    let dtm = at(months);
    const cmp = (x: PyDatetime, y: PyDatetime): number => x._cmp(y) ?? 0;
    const increment = cmp(a, b) < 0 ? 1 : -1;
    while (increment === 1 ? cmp(a, dtm) > 0 : cmp(a, dtm) < 0) {
      months += increment;
      dtm = at(months);
    }
    const delta = a._binop('sub', dtm, false) as PyTimedelta;
    return new PyRelativedelta({ months, seconds: delta.seconds + delta.days * 86400, microseconds: delta.microseconds }, {});
  }

  get weeks(): number {
    return Math.trunc(this.days / 7);
  }

  _rel(): RdRel {
    const r = {} as RdRel;
    for (const k of RD_REL) r[k] = this[k];
    return r;
  }
  _abs(): RdAbs {
    return {
      year: this.year,
      month: this.month,
      day: this.day,
      weekday: this.weekday,
      hour: this.hour,
      minute: this.minute,
      second: this.second,
      microsecond: this.microsecond,
    };
  }
  _hasTime(): boolean {
    return Boolean(
      this.hours ||
      this.minutes ||
      this.seconds ||
      this.microseconds ||
      this.hour !== null ||
      this.minute !== null ||
      this.second !== null ||
      this.microsecond !== null,
    );
  }

  /** relativedelta.__add__(date/datetime). */
  _apply(other: PyDate | PyDatetime): PyDate | PyDatetime {
    let base: PyDate | PyDatetime = other;
    if (this._hasTime() && !(base instanceof PyDatetime)) {
      base = PyDatetime.of(
        { year: base.year, month: base.month, day: base.day, hour: 0, minute: 0, second: 0, microsecond: 0 },
        null,
      );
    }
    let year = (this.year ?? base.year) + this.years;
    let month = this.month ?? base.month;
    if (this.months) {
      month += this.months;
      if (month > 12) {
        year += 1;
        month -= 12;
      } else if (month < 1) {
        year -= 1;
        month += 12;
      }
    }
    const day = Math.min(daysInMonth(year, month), this.day ?? base.day);
    let days = this.days;
    if (this.leapdays && month > 2 && isLeap(year)) days += this.leapdays;
    const delta = PyTimedelta.make({
      days,
      hours: this.hours,
      minutes: this.minutes,
      seconds: this.seconds,
      microseconds: this.microseconds,
    });
    let ret: PyDate | PyDatetime;
    if (base instanceof PyDatetime) {
      const f = base._fields();
      Object.assign(f, { year, month, day });
      for (const k of ['hour', 'minute', 'second', 'microsecond'] as const) {
        const v = this[k];
        if (v !== null) f[k] = v;
      }
      ret = PyDatetime.of(f, base.tzinfo)._binop('add', delta, false) as PyDatetime;
    } else {
      ret = new PyDate(year, month, day)._binop('add', delta, false) as PyDate;
    }
    if (this.weekday) {
      const nth = this.weekday.n || 1;
      let jump = (Math.abs(nth) - 1) * 7;
      const wd = ret.weekday();
      if (nth > 0) jump += (((7 - wd + this.weekday.weekday) % 7) + 7) % 7;
      else jump = -(jump + ((((wd - this.weekday.weekday) % 7) + 7) % 7));
      ret = ret._binop('add', PyTimedelta.make({ days: jump }), false) as PyDate | PyDatetime;
    }
    return ret;
  }

  _scaled(f: number): PyRelativedelta {
    const rel = this._rel();
    for (const k of RD_REL) rel[k] = Math.trunc(rel[k] * f);
    return new PyRelativedelta(rel, this._abs());
  }

  _typeName(): string {
    return 'relativedelta';
  }
  _str(): string {
    const parts: string[] = [];
    for (const k of RD_REL) if (this[k]) parts.push(`${k}=${this[k] > 0 ? '+' : ''}${pyNumStr(this[k])}`);
    for (const k of RD_ABS) {
      const v = this[k];
      if (v !== null) parts.push(`${k}=${v instanceof PyWeekday ? v._str() : v}`);
    }
    return `relativedelta(${parts.join(', ')})`;
  }
  override _bool(): boolean {
    return RD_REL.some((k) => this[k] !== 0) || RD_ABS.some((k) => this[k] !== null);
  }
  override _eq(other: unknown): boolean {
    return (
      other instanceof PyRelativedelta &&
      RD_REL.every((k) => other[k] === this[k]) &&
      RD_ABS.every((k) => {
        const [x, y] = [this[k], other[k]];
        return x instanceof PyWeekday ? x._eq(y) : x === y;
      })
    );
  }
  override _neg(): PyRelativedelta {
    return this._scaled(-1);
  }
  override _binop(op: BinOp, other: unknown, reflected: boolean): unknown {
    if (other instanceof PyDate || other instanceof PyDatetime) {
      if (op === 'add') return this._apply(other);
      if (op === 'sub' && reflected) return this._neg()._apply(other);
      return NotImplemented;
    }
    if (other instanceof PyRelativedelta && (op === 'add' || op === 'sub')) {
      const s = op === 'sub' ? -1 : 1;
      const [l, r] = reflected ? [other, this] : [this, other];
      const rel = l._rel();
      for (const k of RD_REL) rel[k] += s * r[k];
      const abs = l._abs();
      for (const k of RD_ABS) if (r[k] !== null) (abs as Record<string, unknown>)[k] = r[k];
      return new PyRelativedelta(rel, abs);
    }
    if (other instanceof PyTimedelta && (op === 'add' || (op === 'sub' && !reflected))) {
      const s = op === 'sub' ? -1 : 1;
      const rel = this._rel();
      rel.days += s * other.days;
      rel.seconds += s * other.seconds;
      rel.microseconds += s * other.microseconds;
      return new PyRelativedelta(rel, this._abs());
    }
    if (op === 'mul' && isNumeric(other)) return this._scaled(Number(other));
    return NotImplemented;
  }
}

// ---------------------------------------------------------------------------------------------
// Constructors exposed as utils.datetime / utils.date / utils.time / utils.timedelta

const DT_PARAMS = ['year', 'month', 'day', 'hour', 'minute', 'second', 'microsecond', 'tzinfo'];

export function makeDatetimeClass(): PyNamespace {
  const proto = new PyDatetime(0n, null); // a donor for the class methods
  return new PyNamespace(
    'datetime.datetime',
    'class',
    {
      now: proto.now.bind(proto),
      utcnow: proto.utcnow.bind(proto),
      today: proto.today.bind(proto),
      fromtimestamp: pyfunc('fromtimestamp', ['timestamp', 'tz'], (a) => fromTimestamp(a.timestamp, toTz(a.tz, 'tz')), {
        required: 1,
      }),
      utcfromtimestamp: proto.utcfromtimestamp.bind(proto),
      fromisoformat: datetimeFromIso,
      strptime: proto.strptime.bind(proto),
      fromordinal: proto.fromordinal.bind(proto),
      combine: pyfunc('combine', ['date', 'time', 'tzinfo'], (a) => combine(a.date, a.time, a.tzinfo), { required: 2 }),
      min: new PyDatetime(wallOf({ year: 1, month: 1, day: 1, hour: 0, minute: 0, second: 0, microsecond: 0 }), null),
      max: new PyDatetime(
        wallOf({ year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59, microsecond: 999_999 }),
        null,
      ),
    },
    pyfunc(
      'datetime',
      DT_PARAMS,
      (a) =>
        PyDatetime.of(
          {
            year: toInt(a.year, 'year'),
            month: toInt(a.month, 'month'),
            day: toInt(a.day, 'day'),
            hour: optInt(a.hour, 'hour', 0),
            minute: optInt(a.minute, 'minute', 0),
            second: optInt(a.second, 'second', 0),
            microsecond: optInt(a.microsecond, 'microsecond', 0),
          },
          toTz(a.tzinfo, 'tzinfo'),
        ),
      { required: 3 },
    ),
  );
}

export function makeDateClass(): PyNamespace {
  const today = (): PyDate => datetimeNow(null).date();
  return new PyNamespace(
    'datetime.date',
    'class',
    {
      today,
      fromtimestamp: pyfunc('fromtimestamp', ['timestamp'], (a) => fromTimestamp(a.timestamp, null).date(), { required: 1 }),
      fromordinal: pyfunc('fromordinal', ['ordinal'], (a) => PyDate.fromDays(toInt(a.ordinal, 'ordinal') - EPOCH_ORDINAL), {
        required: 1,
      }),
      fromisoformat: pyfunc('fromisoformat', ['date_string'], (a) => {
        const s = toStr(a.date_string, 'fromisoformat: argument');
        const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(s);
        if (!m) throw valueError(`Invalid isoformat string: ${pyRepr(s)}`);
        return new PyDate(Number(m[1]), Number(m[2]), Number(m[3]));
      }),
      min: new PyDate(1, 1, 1),
      max: new PyDate(9999, 12, 31),
    },
    pyfunc(
      'date',
      ['year', 'month', 'day'],
      (a) => new PyDate(toInt(a.year, 'year'), toInt(a.month, 'month'), toInt(a.day, 'day')),
      { required: 3 },
    ),
  );
}

export function makeTimeClass(): PyNamespace {
  return new PyNamespace(
    'datetime.time',
    'class',
    {
      fromisoformat: pyfunc('fromisoformat', ['time_string'], (a) => {
        const dt = parseIso(`2000-01-01T${toStr(a.time_string, 'fromisoformat: argument')}`, 'timezone');
        if (!dt) throw valueError(`Invalid isoformat string: ${pyRepr(a.time_string)}`);
        return dt.timetz();
      }),
    },
    pyfunc(
      'time',
      ['hour', 'minute', 'second', 'microsecond', 'tzinfo'],
      (a) =>
        new PyTime(
          optInt(a.hour, 'hour', 0),
          optInt(a.minute, 'minute', 0),
          optInt(a.second, 'second', 0),
          optInt(a.microsecond, 'microsecond', 0),
          toTz(a.tzinfo, 'tzinfo'),
        ),
    ),
  );
}

export function makeTimedeltaClass(): PyNamespace {
  return new PyNamespace(
    'datetime.timedelta',
    'class',
    {
      resolution: new PyTimedelta(1n),
      min: new PyTimedelta(-MAX_TD_DAYS * US_PER_DAY),
      max: new PyTimedelta((MAX_TD_DAYS + 1n) * US_PER_DAY - 1n),
    },
    pyfunc('timedelta', ['days', 'seconds', 'microseconds', 'milliseconds', 'minutes', 'hours', 'weeks'], (a) =>
      PyTimedelta.make(a),
    ),
  );
}

export function makeRelativedeltaClass(): PyNamespace {
  return new PyNamespace(
    'dateutil.relativedelta.relativedelta',
    'class',
    {},
    pyfunc('relativedelta', ['dt1', 'dt2', ...RD_REL, 'weeks', ...RD_ABS], (a) => PyRelativedelta.make(a)),
  );
}

// ---------------------------------------------------------------------------------------------
// str(), repr(), truthiness, equality, ordering

/** Python float/int str(): `nan`, `inf`, two-digit exponents. */
export function pyNumStr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  return String(n).replace(/e([+-])(\d)$/, 'e$10$2');
}

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

// ---------------------------------------------------------------------------------------------
// Attribute / item lookup

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
function seqIndex(len: number, key: unknown): number | undefined {
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

// ---------------------------------------------------------------------------------------------
// str / list / dict methods

interface MethodSpec<T> {
  params: readonly string[];
  required?: number;
  varargs?: boolean;
  varkw?: boolean;
  fn: (self: T, a: Record<string, unknown>, rest: unknown[], kw: Record<string, unknown>) => unknown;
}

function boundMethod<T>(table: Record<string, MethodSpec<T>>, self: T, typeName: string, name: string): PyFunction | undefined {
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

const STR_METHODS: Record<string, MethodSpec<string>> = {
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

const LIST_METHODS: Record<string, MethodSpec<unknown[]>> = {
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

const DICT_METHODS: Record<string, MethodSpec<Record<string, unknown>>> = {
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

// ---------------------------------------------------------------------------------------------
// Formatting: format-spec mini-language, str.format and printf-style %

const SPEC_RE = /^(?:(.)?([<>=^]))?([+\- ])?(z)?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/su;

/** toFixed with Python's round-half-even on exact binary ties (2.5 → '2', 0.125 → '0.12'). */
export function toFixedPy(x: number, digits: number): string {
  const scaled = x * 10 ** digits;
  if (Number.isFinite(scaled) && Math.abs(scaled % 1) === 0.5) {
    const even = Math.floor(scaled) % 2 === 0 ? Math.floor(scaled) : Math.ceil(scaled);
    return (even / 10 ** digits).toFixed(digits);
  }
  return x.toFixed(digits);
}

const expFix = (s: string): string => s.replace(/e([+-])(\d)$/, 'e$10$2');

function formatGeneral(x: number, precision: number, alt: boolean): string {
  if (x === 0) return alt ? (0).toFixed(Math.max(precision - 1, 0)) : '0';
  const p = precision === 0 ? 1 : precision;
  const exp = Number(x.toExponential(p - 1).split('e')[1]);
  let s: string;
  if (exp >= -4 && exp < p) s = toFixedPy(x, p - 1 - exp);
  else s = expFix(x.toExponential(p - 1));
  if (!alt) s = s.replace(/\.0*(e|$)/, '$1').replace(/(\.\d*?)0+(e|$)/, '$1$2');
  return s;
}

function groupDigits(intPart: string, sep: string): string {
  return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, sep);
}

/** Python format(value, spec) for numbers, strings and shims. */
export function formatValue(value: unknown, spec: string): string {
  if (value instanceof PyObject) return value._format(spec);
  const m = SPEC_RE.exec(spec);
  if (!m) throw valueError(`Invalid format specifier '${spec}'`);
  const [, fillCh, alignCh, signCh, , alt, zero, widthS, group, precS, typeCh] = m;
  let fill = fillCh ?? ' ';
  let align = alignCh;
  if (zero && !alignCh) {
    fill = '0';
    align = '=';
  }
  const width = widthS ? Number(widthS) : 0;
  const precision = precS === undefined ? undefined : Number(precS);
  let body: string;
  let signStr = '';
  const str = asStr(value);
  if (str !== undefined || (!isNumeric(value) && !typeCh)) {
    if (typeCh && typeCh !== 's') throw valueError(`Unknown format code '${typeCh}' for object of type '${pyTypeName(value)}'`);
    body = str ?? pyStr(value);
    if (precision !== undefined) body = Array.from(body).slice(0, precision).join('');
    align ??= '<';
  } else {
    if (!isNumeric(value)) throw valueError(`Unknown format code '${typeCh}' for object of type '${pyTypeName(value)}'`);
    const x = Number(value);
    const neg = x < 0 || Object.is(x, -0);
    const ax = Math.abs(x);
    signStr = neg ? '-' : signCh === '+' ? '+' : signCh === ' ' ? ' ' : '';
    const isFloat = value instanceof PyFloat || !Number.isInteger(x);
    const t = typeCh ?? (!isFloat && precision === undefined ? 'd' : 'g');
    const needInt = (): void => {
      if (isFloat) throw valueError(`Unknown format code '${t}' for object of type 'float'`);
    };
    switch (t) {
      case 'd':
      case 'n':
        needInt();
        body = String(ax);
        break;
      case 'f':
      case 'F':
        body = toFixedPy(ax, precision ?? 6);
        break;
      case 'e':
      case 'E':
        body = expFix(ax.toExponential(precision ?? 6));
        break;
      case 'g':
      case 'G':
        body = typeCh
          ? formatGeneral(ax, precision ?? 6, Boolean(alt))
          : precision === undefined
            ? floatRepr(ax)
            : formatGeneral(ax, precision, Boolean(alt));
        break;
      case '%':
        body = toFixedPy(ax * 100, precision ?? 6) + '%';
        break;
      case 'x':
      case 'X':
      case 'o':
      case 'b':
        needInt();
        body = (alt ? `0${t === 'X' ? 'X' : t}` : '') + ax.toString(t === 'o' ? 8 : t === 'b' ? 2 : 16);
        break;
      case 'c':
        needInt();
        body = String.fromCodePoint(ax);
        signStr = '';
        break;
      default:
        body = String(ax);
    }
    if (t === 'E' || t === 'G' || t === 'X' || t === 'F') body = body.toUpperCase();
    if (group) {
      const [ip, ...restParts] = body.split('.');
      body = [groupDigits(ip ?? '', group), ...restParts].join('.');
    }
    align ??= '>';
  }
  const len = Array.from(signStr + body).length;
  const n = Math.max(0, width - len);
  if (n) checkLength(width);
  if (align === '<') return signStr + body + fill.repeat(n);
  if (align === '>') return fill.repeat(n) + signStr + body;
  if (align === '=') return signStr + fill.repeat(n) + body;
  const left = Math.floor(n / 2);
  return fill.repeat(left) + signStr + body + fill.repeat(n - left);
}

/** str.format: {}, {0}, {name}, {0.attr}, {0[key]}, !r/!s conversions and format specs. */
export function strFormat(fmt: string, args: unknown[], kwargs: Record<string, unknown>): string {
  let auto = 0;
  return fmt.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (whole, field: string | undefined) => {
    if (whole === '{{') return '{';
    if (whole === '}}') return '}';
    const m = /^([^.[!:]*)((?:\.[^.[!:]+|\[[^\]]*\])*)(?:!([rsa]))?(?::(.*))?$/s.exec(field ?? '');
    if (!m) throw valueError(`bad format field {${field}}`);
    const [, name = '', chain = '', conv, spec = ''] = m;
    let value: unknown;
    if (name === '') {
      if (auto >= args.length)
        throw new PyError('IndexError', `Replacement index ${auto} out of range for positional args tuple`);
      value = args[auto++];
    } else if (/^\d+$/.test(name)) {
      const i = Number(name);
      if (i >= args.length) throw new PyError('IndexError', `Replacement index ${i} out of range for positional args tuple`);
      value = args[i];
    } else {
      if (!hasOwn(kwargs, name)) throw new PyError('KeyError', pyRepr(name));
      value = kwargs[name];
    }
    for (const part of chain.match(/\.[^.[]+|\[[^\]]*\]/g) ?? []) {
      value = part.startsWith('.')
        ? pyGetattr(value, part.slice(1))
        : pyGetitem(value, /^\d+$/.test(part.slice(1, -1)) ? Number(part.slice(1, -1)) : part.slice(1, -1));
    }
    if (conv === 'r' || conv === 'a') value = pyRepr(value);
    else if (conv === 's') value = pyStr(value);
    return formatValue(value, spec);
  });
}

/** printf-style `fmt % values`; a tuple supplies several values, a dict named ones. */
export function percentFormat(fmt: string, values: unknown): string {
  const args = isTuple(values) ? [...values] : [values];
  const mapping = isPlainObject(values) ? values : undefined;
  let used = 0;
  let usedMapping = false;
  const next = (): unknown => {
    if (used >= args.length) throw typeError('not enough arguments for format string');
    return args[used++];
  };
  const out = fmt.replace(
    /%(?:\(([^)]*)\))?([#0\- +]*)(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])/g,
    (_w, key: string | undefined, flags: string, widthS: string | undefined, precS: string | undefined, conv: string) => {
      if (conv === '%') return '%';
      let value: unknown;
      if (key !== undefined) {
        if (!mapping) throw typeError('format requires a mapping');
        usedMapping = true;
        if (!hasOwn(mapping, key)) throw new PyError('KeyError', pyRepr(key));
        value = mapping[key];
      }
      const width = widthS === '*' ? toInt(next(), '* width') : widthS ? Number(widthS) : 0;
      const prec = precS === '*' ? toInt(next(), '* precision') : precS;
      if (key === undefined) value = next();
      const zeroPad = flags.includes('0') && !flags.includes('-') && !'sra'.includes(conv);
      let spec = flags.includes('-') ? '<' : zeroPad ? '0=' : '>';
      if (flags.includes('+')) spec += '+';
      else if (flags.includes(' ')) spec += ' ';
      if (flags.includes('#')) spec += '#';
      if (width) spec += String(width);
      if (prec !== undefined) spec += '.' + prec;
      switch (conv) {
        case 's':
          return formatValue(pyStr(value), spec);
        case 'r':
        case 'a':
          return formatValue(pyRepr(value), spec);
        case 'd':
        case 'i':
        case 'u':
          return formatValue(Math.trunc(toNum(value, `%${conv} format`)), spec.replace(/\.\d+$/, '') + 'd');
        case 'c':
          return formatValue(typeof value === 'number' ? String.fromCodePoint(value) : toStr(value, '%c'), spec);
        default:
          return formatValue(toNum(value, `%${conv} format`), spec + conv);
      }
    },
  );
  if (!usedMapping && !mapping && used < args.length) throw typeError('not all arguments converted during string formatting');
  return out;
}
