/** Calendar arithmetic: proleptic Gregorian via Date's UTC fields; wall times are bigint µs. */
import { valueError } from './py-object.js';

export const US = 1_000_000n;
export const US_PER_DAY = 86_400n * US;
export const MS_PER_DAY = 86_400_000;
/** Days from 0001-01-01 (ordinal 1) to 1970-01-01. */
export const EPOCH_ORDINAL = 719_163;

export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

export function floorMod(a: bigint, b: bigint): bigint {
  return a - floorDiv(a, b) * b;
}

export function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

export function daysInMonth(y: number, m: number): number {
  return [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] ?? 31;
}

/** Milliseconds since the epoch of a civil date-time read as UTC (works for years 1..99 too). */
export function civilToMs(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s, ms);
  return t.getTime();
}

export interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  microsecond: number;
}

export function fieldsOf(wallUs: bigint): Fields {
  const t = new Date(Number(floorDiv(wallUs, 1000n)));
  return {
    year: t.getUTCFullYear(),
    month: t.getUTCMonth() + 1,
    day: t.getUTCDate(),
    hour: t.getUTCHours(),
    minute: t.getUTCMinutes(),
    second: t.getUTCSeconds(),
    microsecond: Number(floorMod(wallUs, US)),
  };
}

export function wallOf(f: Fields): bigint {
  return BigInt(civilToMs(f.year, f.month, f.day, f.hour, f.minute, f.second)) * 1000n + BigInt(f.microsecond);
}

function checkRange(v: number, lo: number, hi: number, what: string): void {
  if (v < lo || v > hi) throw valueError(`${what} must be in ${lo}..${hi}`);
}

export function checkFields(f: Fields): void {
  if (f.year < 1 || f.year > 9999) throw valueError(`year ${f.year} is out of range`);
  checkRange(f.month, 1, 12, 'month');
  if (f.day < 1 || f.day > daysInMonth(f.year, f.month)) throw valueError('day is out of range for month');
  checkRange(f.hour, 0, 23, 'hour');
  checkRange(f.minute, 0, 59, 'minute');
  checkRange(f.second, 0, 59, 'second');
  checkRange(f.microsecond, 0, 999_999, 'microsecond');
}

export const pad = (n: number, w = 2): string => (n < 0 ? '-' + pad(-n, w) : String(n).padStart(w, '0'));

/** Python weekday(): Monday = 0. 1970-01-01 was a Thursday. */
export const weekdayOfDays = (epochDays: number): number => (((epochDays + 3) % 7) + 7) % 7;

export function epochDaysOf(y: number, m: number, d: number): number {
  return Math.round(civilToMs(y, m, d) / MS_PER_DAY);
}

export function isoCalendar(y: number, m: number, d: number): [number, number, number] {
  const days = epochDaysOf(y, m, d);
  const wd = weekdayOfDays(days);
  const thursday = days - wd + 3; // the Thursday of this ISO week decides its year
  const isoYear = new Date(thursday * MS_PER_DAY).getUTCFullYear();
  const week = Math.floor((thursday - epochDaysOf(isoYear, 1, 1)) / 7) + 1;
  return [isoYear, week, wd + 1];
}
