/**
 * Calendar periods of a business job (docs/batches.md): a `period` resolved to a list of ISO dates
 * (`YYYY-MM-DD`, oldest first), evaluated at an instant the caller passes in and in an IANA time zone.
 * Dates are civil days counted as whole numbers, so daylight-saving changes cannot repeat or skip one:
 * only "which day is it now" depends on the zone.
 */
import { ValidationError } from '../core/errors.js';
import { localZone, zoneOffsetSeconds } from '../core/zones.js';

/** A named period (`last_7_days`, `previous_month`, a caller's pattern) or inclusive ISO dates. */
export type Period = string | { readonly from: string; readonly to: string };

/** What a custom period resolver is given. */
export interface PeriodContext {
  /** The period string, and the match of the caller's pattern against it. */
  readonly period: string;
  readonly match: RegExpExecArray;
  /** Today in the zone, as an ISO date. */
  readonly today: string;
  readonly now: Date;
  readonly timeZone: string;
  readonly weekStart: number;
}

/** A caller's period: returns ISO dates in any order; they are checked, sorted and de-duplicated. */
export type PeriodResolver = (ctx: PeriodContext) => Iterable<string>;

export interface CalendarOptions {
  /** The instant the period is evaluated at (tests pass a fixed one). */
  readonly now: Date;
  /** IANA zone whose calendar day "today" is; the process's zone (`$TZ`) when absent. */
  readonly timeZone?: string;
  /** First day of a week, 0 = Sunday … 6 = Saturday; Monday (1) when absent. */
  readonly weekStart?: number;
  /** Extra periods: a pattern that must match the whole period string, and its resolver. Tried after the built-in ones, in order. */
  readonly customPeriods?: Iterable<readonly [RegExp, PeriodResolver]>;
}

/** The longest period, in days, that is expanded (a date list is held in memory). */
export const MAX_PERIOD_DAYS = 100_000;

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a civil date. */
export function dayNumber(y: number, m: number, d: number): number {
  const t = new Date(0);
  t.setUTCFullYear(y, m - 1, d);
  return Math.round(t.getTime() / DAY_MS);
}

/** The ISO date of a day number. */
export function isoDate(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The day number of an ISO date, or undefined when it is not a real `YYYY-MM-DD` date. */
export function parseIsoDate(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return undefined;
  const day = dayNumber(+m[1]!, +m[2]!, +m[3]!);
  return isoDate(day) === value ? day : undefined;
}

/** Day of the week of a day number, 0 = Sunday (1970-01-01 was a Thursday). */
export function weekday(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

/** The first day of the week holding `day`. */
export function weekOf(day: number, weekStart: number): number {
  return day - ((weekday(day) - weekStart + 7) % 7);
}

/** `YYYY-MM` of a day number. */
export function monthOf(day: number): string {
  return isoDate(day).slice(0, 7);
}

/** Today's day number in a zone at an instant. */
export function todayIn(now: Date, timeZone: string): number {
  const ms = now.getTime();
  if (!Number.isFinite(ms)) throw new ValidationError('batch: `now` is not a valid date');
  return Math.floor((ms + zoneOffsetSeconds(timeZone, ms) * 1000) / DAY_MS);
}

function checkWeekStart(weekStart: number): number {
  if (!Number.isInteger(weekStart) || weekStart < 0 || weekStart > 6) {
    throw new ValidationError(`batch: weekStart must be a whole number 0 (Sunday) to 6 (Saturday), got ${weekStart}`);
  }
  return weekStart;
}

function range(from: number, to: number): string[] {
  if (to - from + 1 > MAX_PERIOD_DAYS) {
    throw new ValidationError(`batch: a period of ${to - from + 1} days is longer than the limit of ${MAX_PERIOD_DAYS} days`);
  }
  const out: string[] = [];
  for (let d = from; d <= to; d++) out.push(isoDate(d));
  return out;
}

function count(raw: string, period: string, min: number): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > MAX_PERIOD_DAYS) {
    throw new ValidationError(`batch: period "${period}" needs a number from ${min} to ${MAX_PERIOD_DAYS}`);
  }
  return n;
}

/** The first day of the month `delta` months from the month of `day`. */
function monthStart(day: number, delta: number): number {
  const [y, m] = isoDate(day).split('-').map(Number) as [number, number];
  return dayNumber(y, m + delta, 1);
}

/** Built-in named periods: a pattern matched against the whole string, and its dates from today. */
const BUILT_IN: ReadonlyArray<readonly [RegExp, (m: RegExpExecArray, today: number, weekStart: number) => string[]]> = [
  [/^today$/, (_m, t) => [isoDate(t)]],
  [/^yesterday$/, (_m, t) => [isoDate(t - 1)]],
  [/^(\d+)_days_back$/, (m, t) => [isoDate(t - count(m[1]!, m[0], 0))]],
  [/^last_(\d+)_days$/, (m, t) => range(t - count(m[1]!, m[0], 1), t - 1)],
  [
    /^previous_(\d+)_days$/,
    (m, t) => {
      const n = count(m[1]!, m[0], 1);
      return range(t - 2 * n, t - n - 1);
    },
  ],
  [
    /^(?:previous|last)_week$/,
    (_m, t, ws) => {
      const start = weekOf(t, ws);
      return range(start - 7, start - 1);
    },
  ],
  [/^(?:current|this)_week$/, (_m, t, ws) => range(weekOf(t, ws), t)],
  [/^(?:previous|last)_month$/, (_m, t) => range(monthStart(t, -1), monthStart(t, 0) - 1)],
  [/^(?:current|this)_month$/, (_m, t) => range(monthStart(t, 0), t)],
];

function fullMatch(pattern: RegExp, value: string): RegExpExecArray | undefined {
  const re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
  const m = re.exec(value);
  return m && m.index === 0 && m[0].length === value.length ? m : undefined;
}

/** Sorted, de-duplicated, checked ISO dates from a caller's resolver. */
function checkedDates(dates: Iterable<string>, period: string): string[] {
  const days = new Set<number>();
  for (const d of dates) {
    const day = typeof d === 'string' ? parseIsoDate(d) : undefined;
    if (day === undefined)
      throw new ValidationError(`batch: period "${period}" gave ${JSON.stringify(d)}, not a YYYY-MM-DD date`);
    days.add(day);
    if (days.size > MAX_PERIOD_DAYS)
      throw new ValidationError(`batch: period "${period}" gave more than ${MAX_PERIOD_DAYS} dates`);
  }
  return [...days].sort((a, b) => a - b).map(isoDate);
}

/** The dates of a period, oldest first. */
export function resolvePeriod(period: Period, options: CalendarOptions): string[] {
  const weekStart = checkWeekStart(options.weekStart ?? 1);
  if (typeof period === 'object' && period !== null) {
    const from = typeof period.from === 'string' ? parseIsoDate(period.from) : undefined;
    const to = typeof period.to === 'string' ? parseIsoDate(period.to) : undefined;
    if (from === undefined || to === undefined) {
      throw new ValidationError('batch: a period {from, to} needs two YYYY-MM-DD dates (both inclusive)');
    }
    if (from > to) throw new ValidationError(`batch: period from ${period.from} is after to ${period.to}`);
    return range(from, to);
  }
  if (typeof period !== 'string') throw new ValidationError('batch: period must be a string or {from, to}');
  const timeZone = options.timeZone ?? localZone();
  const today = todayIn(options.now, timeZone);
  for (const [pattern, resolve] of BUILT_IN) {
    const m = pattern.exec(period);
    if (m) return resolve(m, today, weekStart);
  }
  for (const [pattern, resolve] of options.customPeriods ?? []) {
    const match = fullMatch(pattern, period);
    if (match) {
      const ctx: PeriodContext = { period, match, today: isoDate(today), now: options.now, timeZone, weekStart };
      return checkedDates(resolve(ctx), period);
    }
  }
  throw new ValidationError(
    `batch: unknown period "${period}": use today, yesterday, N_days_back, last_N_days, previous_N_days, ` +
      'previous_week, current_week, previous_month, current_month, {from, to} or a custom pattern',
  );
}

/** How the dates of a period are split between tasks. */
export type DateSplit = 'none' | 'days' | 'weeks' | 'months';

/** Sorted ISO dates cut into groups: one, one per date, per week or per calendar month. */
export function splitDates(dates: readonly string[], split: DateSplit, weekStart = 1): string[][] {
  if (split === 'none') return dates.length ? [[...dates]] : [];
  if (split === 'days') return dates.map((d) => [d]);
  checkWeekStart(weekStart);
  const groups: string[][] = [];
  let last: string | number | undefined;
  for (const d of dates) {
    const day = parseIsoDate(d)!;
    const id = split === 'weeks' ? weekOf(day, weekStart) : monthOf(day);
    if (id !== last || groups.length === 0) groups.push([]);
    groups[groups.length - 1]!.push(d);
    last = id;
  }
  return groups;
}
