/**
 * A batch's admission policy (docs/batches.md, "Admission policy"): how many of its tasks may be in
 * flight, how often a failed task is tried and how long it waits between attempts, the health gates
 * that scale admission, and the actions run when a task dies. It is given at submission and kept in
 * the batch record, so every dispatcher replica admits the batch the same way.
 */
import { ValidationError } from '../core/errors.js';
import { parseDuration } from '../core/units.js';
import { parseGates, type HealthGate } from './health.js';

export interface Backoff {
  /** Seconds before the second attempt. */
  base: number;
  /** Each further attempt waits `factor` times longer. */
  factor: number;
  /** Seconds no wait exceeds. */
  max: number;
  /** Each wait is moved at random by up to this fraction either way (0 … 1). */
  jitter: number;
}

export interface AdmissionPolicy {
  /** Most tasks of the batch in flight (`queued` + `running`) at once. */
  cap: number;
  /** Attempts a task gets before it is dead. */
  max_attempts: number;
  backoff: Backoff;
  /** Health gates (docs/health-gates.md). */
  health: HealthGate[];
  /** Actions run when a task dies (any action type, as in `on_fail`). */
  on_dead: Array<Record<string, unknown> & { action: string }>;
}

export const DEFAULT_POLICY: Readonly<AdmissionPolicy> = Object.freeze({
  cap: 10,
  max_attempts: 3,
  backoff: Object.freeze({ base: 30, factor: 2, max: 3600, jitter: 0.2 }),
  health: [],
  on_dead: [],
});

const KEYS = ['cap', 'max_attempts', 'backoff', 'health', 'on_dead'] as const;
const BACKOFF_KEYS = ['base', 'factor', 'max', 'jitter'] as const;

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function positiveInt(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ValidationError(`${field}: a positive whole number, got ${JSON.stringify(v)}`);
  }
  return v;
}

function seconds(v: unknown, field: string): number {
  const s = parseDuration(v, field);
  if (!(s >= 0)) throw new ValidationError(`${field}: a duration of 0 or more, got ${JSON.stringify(v)}`);
  return s;
}

/**
 * The policy from a submission's `admission` value (unknown keys refused, each error naming its
 * field), over the defaults.
 */
export function parsePolicy(value: unknown, field = 'admission'): AdmissionPolicy {
  if (value === undefined || value === null) return structuredClone(DEFAULT_POLICY);
  if (!isObject(value)) throw new ValidationError(`${field}: a map of ${KEYS.join(', ')}`);
  for (const k of Object.keys(value)) {
    if (!(KEYS as readonly string[]).includes(k)) throw new ValidationError(`${field}.${k}: unknown; use ${KEYS.join(', ')}`);
  }
  const p = structuredClone(DEFAULT_POLICY) as AdmissionPolicy;
  if (value.cap !== undefined) p.cap = positiveInt(value.cap, `${field}.cap`);
  if (value.max_attempts !== undefined) p.max_attempts = positiveInt(value.max_attempts, `${field}.max_attempts`);
  if (value.backoff !== undefined) {
    const b = value.backoff;
    if (!isObject(b)) throw new ValidationError(`${field}.backoff: a map of ${BACKOFF_KEYS.join(', ')}`);
    for (const k of Object.keys(b)) {
      if (!(BACKOFF_KEYS as readonly string[]).includes(k)) {
        throw new ValidationError(`${field}.backoff.${k}: unknown; use ${BACKOFF_KEYS.join(', ')}`);
      }
    }
    if (b.base !== undefined) p.backoff.base = seconds(b.base, `${field}.backoff.base`);
    if (b.max !== undefined) p.backoff.max = seconds(b.max, `${field}.backoff.max`);
    if (b.factor !== undefined) {
      if (typeof b.factor !== 'number' || !(b.factor >= 1) || b.factor > 100) {
        throw new ValidationError(`${field}.backoff.factor: a number from 1 (linear waits of base) to 100`);
      }
      p.backoff.factor = b.factor;
    }
    if (b.jitter !== undefined) {
      if (typeof b.jitter !== 'number' || !(b.jitter >= 0 && b.jitter <= 1)) {
        throw new ValidationError(`${field}.backoff.jitter: a fraction from 0 to 1`);
      }
      p.backoff.jitter = b.jitter;
    }
  }
  if (value.health !== undefined) p.health = parseGates(value.health, `${field}.health`);
  if (value.on_dead !== undefined) {
    const list = value.on_dead;
    if (!Array.isArray(list)) throw new ValidationError(`${field}.on_dead: a list of actions, as in on_fail`);
    list.forEach((a, i) => {
      if (!isObject(a) || typeof a.action !== 'string' || !a.action) {
        throw new ValidationError(`${field}.on_dead[${i}]: an action needs "action", e.g. {"action": "log", "message": "…"}`);
      }
    });
    p.on_dead = list as AdmissionPolicy['on_dead'];
  }
  return p;
}

/**
 * Seconds a task waits after its `failures`-th failed attempt (1 = the first):
 * min(max, base × factor^(failures − 1)), moved by up to ±jitter of itself. `random` is in [0, 1).
 */
export function backoffSeconds(b: Backoff, failures: number, random: () => number = Math.random): number {
  const raw = Math.min(b.max, b.base * b.factor ** Math.max(0, failures - 1));
  const moved = raw * (1 + b.jitter * (2 * random() - 1));
  return Math.max(0, Math.min(b.max, moved));
}

/** Parse `NAME=N,NAME=N` (BATCH_FLEET_CAPS, BATCH_JOB_CAPS) into caps by name. */
export function parseCaps(text: string, field: string): Map<string, number> {
  const caps = new Map<string, number>();
  for (const part of text.split(',')) {
    const item = part.trim();
    if (!item) continue;
    const i = item.lastIndexOf('=');
    const name = i > 0 ? item.slice(0, i).trim() : '';
    const n = Number(item.slice(i + 1));
    if (!name || !Number.isInteger(n) || n < 0) {
      throw new ValidationError(`${field}: "${item}" is not NAME=N (N a whole number, 0 admits none), e.g. core=10,etl=4`);
    }
    caps.set(name, n);
  }
  return caps;
}
