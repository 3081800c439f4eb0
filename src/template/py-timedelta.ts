/** datetime.timedelta. */
import { NotImplemented, PyError, PyObject, pyFloat, toNum } from './py-object.js';
import type { BinOp } from './py-object.js';
import { US, US_PER_DAY, floorDiv, floorMod, pad } from './py-calendar.js';
import { isNumeric } from './py-ops.js';

export const MAX_TD_DAYS = 999_999_999n;

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
