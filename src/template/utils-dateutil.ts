/** utils.dateutil: the parser, tz and relativedelta modules. */
import {
  PyDatetime,
  PyFixedTz,
  PyNamespace,
  PyTimedelta,
  TZ_TZUTC,
  WEEKDAYS,
  gettz,
  makeRelativedeltaClass,
  parseIso,
  pyBool,
  pyRepr,
  pyTypeName,
  pyfunc,
  toInt,
  toStr,
  typeError,
  tzLocal,
  valueError,
} from './pytypes.js';
import type { PyTzInfo } from './pytypes.js';

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

export const parserModule = new PyNamespace('dateutil.parser', 'module', {
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

export const dateutilModule = new PyNamespace('dateutil', 'module', {
  relativedelta: relativedeltaModule,
  parser: parserModule,
  tz: tzModule,
});
