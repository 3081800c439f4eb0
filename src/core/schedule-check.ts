/**
 * The pure checks of a job's `schedule` (a cron string, a scheduling object {crontab, from?, to?},
 * or a list of both): what spec validation needs, without the fire-time evaluation of
 * dispatch/schedule.ts.
 */
import { Cron } from 'croner';
import { ValidationError } from './errors.js';
import { checkZone, parseDateTimeIn } from './zones.js';

export interface ScheduleEntry {
  crontab: string;
  from?: string;
  to?: string;
  /** Extension: this entry's zone, instead of the dispatcher's. */
  tz?: string;
}

/** Cron's @ shortcuts as five-field patterns. */
export const SHORTCUTS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

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
