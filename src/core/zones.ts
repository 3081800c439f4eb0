/**
 * Time-zone arithmetic with Intl (no tz database of our own): offsets of IANA zones, their
 * abbreviations, the process's own zone and wall-clock times read in a zone. The dispatcher, the
 * schedule and the template shims (template/py-tz.ts) all compute zones here.
 */
import { ValidationError } from './errors.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: tz,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new ValidationError(`unknown time zone "${tz}": use an IANA name such as "UTC" or "Australia/Sydney"`);
    }
    formatters.set(tz, f);
  }
  return f;
}

export function checkZone(tz: string): void {
  formatter(tz);
}

/** Canonical IANA name, or undefined when Intl does not know the zone. */
export function validZone(name: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** Milliseconds since the epoch of a civil date-time read as UTC (Date.UTC maps years 0..99 to 19xx). */
function civilMs(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s, 0);
  return t.getTime();
}

/** Seconds east of UTC of a zone at the instant `utcMs`. */
export function zoneOffsetSeconds(tz: string, utcMs: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(utcMs))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const wall = civilMs(
    parts.year ?? 1970,
    parts.month ?? 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  return Math.round((wall - Math.floor(utcMs / 1000) * 1000) / 1000);
}

/** Minutes east of UTC of a zone at an instant. */
export function zoneOffsetMinutes(at: Date, tz: string): number {
  return Math.round(zoneOffsetSeconds(tz, at.getTime()) / 60);
}

/** Locales whose short zone names cover the common zones (en-US has only US names). */
const ABBREV_LOCALES = ['en-US', 'en-AU', 'en-GB', 'en-IN', 'en-NZ'];
const abbrevs = new Map<string, string>();

/** Zone abbreviation like tzdata's (AEDT, BST); tzdata-style numeric (+09) when Intl has none. */
export function zoneAbbreviation(tz: string, utcMs: number, offsetSeconds: number): string {
  const key = `${tz}|${offsetSeconds}|${new Date(utcMs).getUTCFullYear()}`;
  const cached = abbrevs.get(key);
  if (cached !== undefined) return cached;
  let name: string | undefined;
  for (const locale of ABBREV_LOCALES) {
    const part = new Intl.DateTimeFormat(locale, { timeZone: tz, timeZoneName: 'short' })
      .formatToParts(new Date(utcMs))
      .find((p) => p.type === 'timeZoneName')?.value;
    if (part && !/^(GMT|UTC)[+-]/.test(part)) {
      name = part;
      break;
    }
  }
  name ??= numericAbbreviation(offsetSeconds);
  abbrevs.set(key, name);
  return name;
}

function numericAbbreviation(offsetSeconds: number): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const a = Math.abs(offsetSeconds);
  return (offsetSeconds < 0 ? '-' : '+') + pad(Math.floor(a / 3600)) + (a % 3600 ? pad(Math.floor((a % 3600) / 60)) : '');
}

let localCache: { env: string | undefined; zone: string } | undefined;

/**
 * The process's own zone: $TZ when it names a zone Intl knows (a leading ':' dropped, as glibc
 * and Python allow), otherwise what Intl resolved for the process, and UTC when even that is
 * empty. One rule for the dispatcher and for templates: the template shims read $TZ themselves
 * because Python does, and reading it here too keeps the dispatcher's zone and tzlocal() equal.
 * Cached per value of TZ, since Intl lookups are slow and this is called per run.
 */
export function localZone(): string {
  const env = process.env.TZ;
  if (localCache && localCache.env === env) return localCache.zone;
  let zone: string | undefined;
  if (env) zone = validZone(env.startsWith(':') ? env.slice(1) : env);
  zone ??= new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  localCache = { env, zone };
  return zone;
}

/**
 * Parse an ISO-8601 date-time. One without an offset is a wall-clock time in `tz` (upstream reads
 * a naive `from`/`to` in the dispatcher's zone).
 */
export function parseDateTimeIn(value: string, tz: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/.exec(value.trim());
  if (!m) return undefined;
  if (m[7]) {
    const d = new Date(value.trim().replace(' ', 'T'));
    return Number.isNaN(d.getTime()) ? undefined : d;
  }
  const wall = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
  // Two passes settle the offset even next to a DST change.
  let guess = wall - zoneOffsetMinutes(new Date(wall), tz) * 60000;
  guess = wall - zoneOffsetMinutes(new Date(guess), tz) * 60000;
  return new Date(guess);
}
