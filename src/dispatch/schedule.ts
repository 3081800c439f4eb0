/**
 * Job schedules: a cron string, a scheduling object {crontab, from?, to?}, or a list of both.
 * Cron lines have five fields (or an @ shortcut) and are evaluated with croner in a time zone.
 */
import { Cron } from 'croner';
import { ValidationError } from '../core/errors.js';
import { checkZone, parseDateTimeIn } from '../core/zones.js';

export interface ScheduleEntry {
  crontab: string;
  from?: string;
  to?: string;
  /** Extension: this entry's zone, instead of the dispatcher's. */
  tz?: string;
}

const SHORTCUTS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const DEFAULT_FROM = '0001-01-01T00:00:00Z';
const DEFAULT_TO = '9999-12-31T00:00:00Z';

/** A job's `schedule` as a list of entries; empty for none (null, '', '--'). */
export function scheduleEntries(schedule: unknown): ScheduleEntry[] {
  if (schedule === undefined || schedule === null || schedule === '' || schedule === '--') return [];
  const list = Array.isArray(schedule) ? schedule : [schedule];
  return list.map((e, i) => {
    if (typeof e === 'string') return { crontab: e.trim() };
    if (e && typeof e === 'object' && typeof (e as ScheduleEntry).crontab === 'string') return e as ScheduleEntry;
    throw new ValidationError(`schedule[${i}]: use a cron string or {crontab, from?, to?}`);
  });
}

/** Why a cron line is bad, or undefined when it is good. `@reboot` is only meaningful to a cron daemon. */
export function crontabProblem(expr: string): string | undefined {
  const e = expr.trim();
  if (e === '@reboot') return undefined;
  const pattern = Object.hasOwn(SHORTCUTS, e) ? (SHORTCUTS[e] as string) : e;
  if (pattern.startsWith('@')) return `unknown shortcut ${e}: use one of @reboot, ${Object.keys(SHORTCUTS).join(', ')}`;
  if (pattern.split(/\s+/).length !== 5) return `"${e}" must have 5 fields: minute hour day-of-month month day-of-week`;
  try {
    new Cron(pattern, { paused: true, mode: '5-part' });
    return undefined;
  } catch (err) {
    return `"${e}": ${(err as Error).message.replace(/^CronPattern: /, '')}`;
  }
}

/** Every problem in a schedule (for `lava check`), each naming the entry. */
export function scheduleProblems(schedule: unknown): string[] {
  let entries: ScheduleEntry[];
  try {
    entries = scheduleEntries(schedule);
  } catch (err) {
    return [(err as Error).message.replace(/^\[[A-Z_]+\] /, '')];
  }
  const problems: string[] = [];
  entries.forEach((e, i) => {
    const where = Array.isArray(schedule) ? `schedule[${i}]` : 'schedule';
    const p = crontabProblem(e.crontab);
    if (p) problems.push(`${where}: bad cron line ${p}`);
    if (e.tz !== undefined) {
      try {
        checkZone(e.tz);
      } catch (err) {
        problems.push(`${where}.tz: ${(err as Error).message.replace(/^\[[A-Z_]+\] /, '')}`);
      }
    }
    for (const key of ['from', 'to'] as const) {
      if (e[key] !== undefined && !parseDateTimeIn(e[key], 'UTC')) {
        problems.push(`${where}.${key}: "${e[key]}" is not an ISO-8601 date-time such as 2026-01-31T09:00:00+10:00`);
      }
    }
  });
  return problems;
}

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
