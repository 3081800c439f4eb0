/** datetime.date, datetime.time and datetime.datetime. */
import {
  NotImplemented,
  PyError,
  PyObject,
  bindArgs,
  optInt,
  pyFloat,
  toInt,
  toNum,
  toStr,
  tuple,
  typeError,
  valueError,
} from './py-object.js';
import type { BinOp } from './py-object.js';
import {
  EPOCH_ORDINAL,
  MS_PER_DAY,
  US,
  US_PER_DAY,
  checkFields,
  epochDaysOf,
  fieldsOf,
  floorDiv,
  isoCalendar,
  pad,
  wallOf,
  weekdayOfDays,
} from './py-calendar.js';
import type { Fields } from './py-calendar.js';
import type { PyTzInfo } from './py-tz.js';
import { PyFixedTz, TZ_UTC, formatOffset, toTz, tzLocal } from './py-tz.js';
import { PyTimedelta } from './py-timedelta.js';
import { parseIso, strftime, strptime } from './py-datetime-text.js';
import type { TimeParts } from './py-datetime-text.js';
import { pyRepr } from './py-ops.js';

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

export function datetimeNow(tz: PyTzInfo | null): PyDatetime {
  return PyDatetime.fromUtc(BigInt(Date.now()) * 1000n, tz);
}

export function fromTimestamp(ts: unknown, tz: PyTzInfo | null): PyDatetime {
  return PyDatetime.fromUtc(BigInt(Math.round(toNum(ts, 'fromtimestamp()') * 1e6)), tz);
}

export function datetimeFromIso(s: unknown): PyDatetime {
  const str = toStr(s, 'fromisoformat: argument');
  const dt = parseIso(str, 'timezone');
  if (!dt) throw valueError(`Invalid isoformat string: ${pyRepr(str)}`);
  return dt;
}

export function combine(d: unknown, t: unknown, tz?: unknown): PyDatetime {
  if (!(d instanceof PyDate) || !(t instanceof PyTime)) throw typeError('combine() argument types must be (date, time)');
  const zone = tz === undefined ? t.tzinfo : toTz(tz, 'tzinfo');
  return PyDatetime.of(
    { year: d.year, month: d.month, day: d.day, hour: t.hour, minute: t.minute, second: t.second, microsecond: t.microsecond },
    zone,
  );
}
