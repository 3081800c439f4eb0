/** dateutil.relativedelta: calendar-aware deltas and the weekday constants MO..SU. */
import { NotImplemented, PyObject, pyNumStr, toInt, toNum, typeError, valueError } from './py-object.js';
import type { BinOp } from './py-object.js';
import { DAY_ABBR } from './py-datetime-text.js';
import { PyDate, PyDatetime } from './py-datetime.js';
import { PyTimedelta } from './py-timedelta.js';
import { daysInMonth, isLeap } from './py-calendar.js';
import { isNumeric } from './py-ops.js';

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

export const RD_REL = ['years', 'months', 'days', 'leapdays', 'hours', 'minutes', 'seconds', 'microseconds'] as const;
export const RD_ABS = ['year', 'month', 'day', 'weekday', 'hour', 'minute', 'second', 'microsecond'] as const;
type RdRel = Record<(typeof RD_REL)[number], number>;
type RdAbs = { [K in Exclude<(typeof RD_ABS)[number], 'weekday'>]: number | null } & { weekday: PyWeekday | null };

export const sign = (n: number): number => (n < 0 ? -1 : 1);

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
