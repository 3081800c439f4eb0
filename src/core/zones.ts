/** Time-zone arithmetic with Intl: offsets of IANA zones and wall-clock times read in a zone. */
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
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
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

/** Minutes east of UTC of a zone at an instant. */
export function zoneOffsetMinutes(at: Date, tz: string): number {
  const parts = Object.fromEntries(
    formatter(tz)
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const wall = Date.UTC(+parts.year!, +parts.month! - 1, +parts.day!, +parts.hour!, +parts.minute!, +parts.second!);
  return Math.round((wall - Math.floor(at.getTime() / 1000) * 1000) / 60000);
}

/** The process's own zone name (TZ or the system's). */
export function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
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
