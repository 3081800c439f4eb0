/**
 * Job schedules at fire time: which entries are active and when they fire, evaluated with croner
 * in a time zone. The checks of a schedule's shape live in core/schedule-check.ts.
 */
import { Cron } from 'croner';
import { checkZone, parseDateTimeIn } from '../core/zones.js';
import { SHORTCUTS, scheduleEntries, type ScheduleEntry } from '../core/schedule-check.js';

export { crontabProblem, scheduleEntries, scheduleProblems, type ScheduleEntry } from '../core/schedule-check.js';

const DEFAULT_FROM = '0001-01-01T00:00:00Z';
const DEFAULT_TO = '9999-12-31T00:00:00Z';

/**
 * Is an entry active at `now`? `from ≤ now ≤ to`; when from > to the window is inverted:
 * active when now ≤ to or now ≥ from. Naive from/to are read in `tz`.
 */
export function isActive(entry: ScheduleEntry, now: Date, tz: string): boolean {
  const from = parseDateTimeIn(entry.from ?? DEFAULT_FROM, tz)!.getTime();
  const to = parseDateTimeIn(entry.to ?? DEFAULT_TO, tz)!.getTime();
  const t = now.getTime();
  return from <= to ? from <= t && t <= to : t <= to || t >= from;
}

const cronCache = new Map<string, Cron>();

function cronOf(crontab: string, tz: string): Cron | undefined {
  const expr = crontab.trim();
  if (expr === '@reboot') return undefined;
  const key = `${tz}\u0000${expr}`;
  let c = cronCache.get(key);
  if (!c) {
    checkZone(tz);
    c = new Cron(SHORTCUTS[expr] ?? expr, { paused: true, mode: '5-part', timezone: tz });
    cronCache.set(key, c);
  }
  return c;
}

export interface Fire {
  time: Date;
  entry: ScheduleEntry;
}

/** Fire times in (after, until], in order, each only while its entry is active. */
export function firesBetween(schedule: unknown, after: Date, until: Date, tz: string, max = 10_000): Fire[] {
  const out: Fire[] = [];
  for (const entry of scheduleEntries(schedule)) {
    const zone = entry.tz ?? tz;
    const cron = cronOf(entry.crontab, zone);
    if (!cron) continue;
    let t: Date | null = after;
    while (out.length < max && (t = cron.nextRun(t)) && t.getTime() <= until.getTime()) {
      if (isActive(entry, t, zone)) out.push({ time: t, entry });
    }
  }
  return dedupe(out);
}

/** The next `n` fire times after `after`. */
export function nextFires(schedule: unknown, after: Date, n: number, tz: string): Fire[] {
  const out: Fire[] = [];
  const horizon = Date.UTC(9999, 0, 1);
  for (const entry of scheduleEntries(schedule)) {
    const zone = entry.tz ?? tz;
    const cron = cronOf(entry.crontab, zone);
    if (!cron) continue;
    let t: Date | null = after;
    let found = 0;
    let guard = 0;
    while (found < n && guard++ < 100_000 && (t = cron.nextRun(t)) && t.getTime() < horizon) {
      if (isActive(entry, t, zone)) {
        out.push({ time: t, entry });
        found++;
      }
    }
  }
  return dedupe(out).slice(0, n);
}

/** Two entries firing at the same minute dispatch once. */
function dedupe(fires: Fire[]): Fire[] {
  const seen = new Set<number>();
  return fires
    .sort((a, b) => a.time.getTime() - b.time.getTime())
    .filter((f) => (seen.has(f.time.getTime()) ? false : (seen.add(f.time.getTime()), true)));
}
