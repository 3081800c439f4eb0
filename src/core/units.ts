/** Lava's value grammars: durations (`nnX`), sizes (`nnU`) and config booleans. */
import { ValidationError } from './errors.js';

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const NUMBER = String.raw`[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?`;
const DURATION_RE = new RegExp(`^(${NUMBER})([smhdw]?)$`);

/** Parse a duration into seconds. Numbers are seconds; strings are `nn[s|m|h|d|w]`. */
export function parseDuration(value: unknown, field = 'duration'): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    const m = DURATION_RE.exec(value.replace(/\s+/g, ''));
    if (m) return Number(m[1]) * (DURATION_UNITS[m[2] || 's'] ?? 1);
  }
  throw new ValidationError(
    `${field}: bad duration ${JSON.stringify(value)}: use a number of seconds or a string such as "30s", "10m", "2h", "1d" or "1w"`,
  );
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  K: 1e3,
  KB: 1e3,
  M: 1e6,
  MB: 1e6,
  G: 1e9,
  GB: 1e9,
  T: 1e12,
  TB: 1e12,
  P: 1e15,
  PB: 1e15,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
  PiB: 2 ** 50,
};
const SIZE_RE = new RegExp(`^(${NUMBER})([A-Za-z]*)$`);

/** Parse a size into bytes: `nn[B|K|KB|M|MB|…|KiB|MiB|…]`, powers of 1000 or 1024. */
export function parseSize(value: unknown, field = 'size'): number {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.round(value);
  if (typeof value === 'string') {
    const m = SIZE_RE.exec(value.replace(/\s+/g, ''));
    const unit = m ? SIZE_UNITS[m[2] ?? ''] : undefined;
    if (m && unit !== undefined) return Math.round(Number(m[1]) * unit);
  }
  throw new ValidationError(
    `${field}: bad size ${JSON.stringify(value)}: use a number of bytes or a string such as "100K", "10MB" or "2MiB"`,
  );
}

/** Python str2bool: true/t/yes/y, false/f/no/n (any case), integer strings (non-zero = true). */
export function parseBool(value: unknown, field = 'boolean'): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (['true', 't', 'yes', 'y'].includes(v)) return true;
    if (['false', 'f', 'no', 'n'].includes(v)) return false;
    if (/^[+-]?\d+$/.test(v)) return Number(v) !== 0;
  }
  throw new ValidationError(`${field}: bad boolean ${JSON.stringify(value)}: use true/false, yes/no or 1/0`);
}

export function isDuration(value: unknown): boolean {
  try {
    parseDuration(value);
    return true;
  } catch {
    return false;
  }
}

export function isSize(value: unknown): boolean {
  try {
    parseSize(value);
    return true;
  } catch {
    return false;
  }
}
