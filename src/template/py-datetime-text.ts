/** Text forms of dates and times: strftime, strptime and ISO-8601 parsing. */
import { MS_PER_DAY, US_PER_DAY, checkFields, epochDaysOf, isoCalendar, pad, wallOf, weekdayOfDays } from './py-calendar.js';
import type { Fields } from './py-calendar.js';
import { PyDatetime } from './py-datetime.js';
import { PyError, valueError } from './py-object.js';
import type { PyTzInfo } from './py-tz.js';
import { PyFixedTz, TZ_TZUTC, TZ_UTC, formatOffset } from './py-tz.js';
import { pyRepr } from './py-ops.js';

export const DAY_ABBR = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
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

export interface TimeParts extends Fields {
  /** UTC offset in seconds, null when naive. */
  offset: number | null;
  tzname: string | null;
  /** POSIX timestamp for %s. */
  epoch: () => number;
}

/**
 * strftime with the C-locale / glibc codes Python on Linux supports, including the `-` flag.
 * Longer than 80 lines on purpose: one switch case per directive reads as the directive table.
 */
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
