/**
 * Python tzinfo shims: fixed offsets (datetime.timezone, dateutil tzutc/tzoffset) and IANA zones
 * (dateutil tzlocal/gettz). Zone arithmetic itself lives in core/zones.ts.
 */
import { MS_PER_DAY, civilToMs, floorDiv, pad } from './py-calendar.js';
import { PyDatetime } from './py-datetime.js';
import { PyObject, pyTypeName, typeError } from './py-object.js';
import { PyTimedelta } from './py-timedelta.js';
import { pyRepr } from './py-ops.js';
import { localZone, validZone, zoneAbbreviation, zoneOffsetSeconds } from '../core/zones.js';

/** `+HH:MM` (with `:SS` when needed), as in isoformat(); `sep` '' gives strftime's %z. */
export function formatOffset(offset: number, sep: string): string {
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
    return zoneOffsetSeconds(this._zone, Number(floorDiv(utcUs, 1000n)));
  }
  _offsetForWall(wallUs: bigint): number {
    const wallMs = Number(floorDiv(wallUs, 1000n));
    const before = zoneOffsetSeconds(this._zone, wallMs - MS_PER_DAY);
    const after = zoneOffsetSeconds(this._zone, wallMs + MS_PER_DAY);
    const valid = (o: number): boolean => zoneOffsetSeconds(this._zone, wallMs - o * 1000) === o;
    if (valid(before)) return before; // also the fold=0 choice for an ambiguous time
    if (valid(after)) return after;
    return before; // in a gap: Python uses the pre-transition offset
  }
  _nameAtUtc(utcUs: bigint): string {
    const ms = Number(floorDiv(utcUs, 1000n));
    return zoneAbbreviation(this._zone, ms, zoneOffsetSeconds(this._zone, ms));
  }
  override _dstAtUtc(utcUs: bigint): number {
    const ms = Number(floorDiv(utcUs, 1000n));
    const year = new Date(ms).getUTCFullYear();
    const std = Math.min(
      zoneOffsetSeconds(this._zone, civilToMs(year, 1, 1)),
      zoneOffsetSeconds(this._zone, civilToMs(year, 7, 1)),
    );
    return zoneOffsetSeconds(this._zone, ms) - std;
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

/** The process's zone name (core/zones.ts decides how $TZ is read). */
export const localZoneName = localZone;

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

export function toTz(v: unknown, what: string): PyTzInfo | null {
  if (v === undefined || v === null) return null;
  if (v instanceof PyTzInfo) return v;
  throw typeError(`${what} argument must be a tzinfo or None, not '${pyTypeName(v)}'`);
}
