/**
 * What chain, dag, foreach and dispatch share: reading job lists and orchestration parameters,
 * and running one child so that every way a child can end is one of three outcomes.
 */
import { JobError, errorMessage } from '../core/errors.js';
import { fnmatchAny } from '../core/fnmatch.js';
import { parseBool } from '../core/units.js';
import type { HandlerContext, RunOutcome } from '../run/handler.js';

/** How one child run ended, from the parent's point of view. */
export type ChildEnd =
  /** complete, or skipped because it is disabled (a disabled child counts as success). */
  | { kind: 'ok'; outcome: RunOutcome }
  /** The child ran and failed, or was rejected (max_run_delay, iteration limits). */
  | { kind: 'failed'; outcome: RunOutcome; error: string }
  /** The child could not be started at all: missing job, other worker, bad spec, worker stopping. */
  | { kind: 'unloadable'; error: string };

/**
 * Run one child through the full run lifecycle under this run's id and scratch dir.
 * `globals` is what the child inherits; `ctx.runChild` deep-copies it, so the caller's objects
 * are never shared with the child (upstream A6 fixed).
 */
export async function runChildJob(ctx: HandlerContext, jobId: string, globals: Record<string, unknown>): Promise<ChildEnd> {
  if (ctx.signal.aborted) return { kind: 'unloadable', error: `not started: the worker is stopping` };
  let outcome: RunOutcome;
  try {
    // Copy now, before any await: runChild copies too, but only after loading the spec, and a dag
    // starts several children before any of them gets that far.
    outcome = await ctx.runChild(jobId, structuredClone(globals));
  } catch (err) {
    return { kind: 'unloadable', error: errorMessage(err) };
  }
  if (outcome.status === 'complete' || outcome.status === 'skipped') return { kind: 'ok', outcome };
  const reason = outcome.result?.error;
  return { kind: 'failed', outcome, error: typeof reason === 'string' && reason ? reason : outcome.status };
}

/**
 * A list of job ids: a comma-separated string (items trimmed, empty items dropped) or a list of
 * strings. `what` names the field in errors, e.g. "chain job payload".
 */
export function parseJobList(value: unknown, what: string, example: string): string[] {
  let items: unknown[];
  if (typeof value === 'string') items = value.split(',');
  else if (Array.isArray(value)) items = value;
  else {
    throw new JobError(`${what} must be a comma-separated string or a list of job ids, e.g. ${example}; got ${describe(value)}`);
  }
  const ids: string[] = [];
  for (const [i, item] of items.entries()) {
    if (typeof item !== 'string') {
      throw new JobError(`${what} item ${i + 1} must be a job id string, not ${describe(item)}`);
    }
    const id = item.trim();
    if (id) ids.push(id);
  }
  return ids;
}

/** `job_prefix`: a string prepended to every child id (default ""). */
export function jobPrefix(params: Record<string, unknown>): string {
  const p = params.job_prefix;
  if (p === undefined || p === null) return '';
  if (typeof p !== 'string') {
    throw new JobError(`parameters.job_prefix must be a string such as "etl/daily/", not ${describe(p)}`);
  }
  return p;
}

/** `can_fail`: a glob or a list of globs, matched case-sensitively against full child ids. */
export function canFailGlobs(params: Record<string, unknown>): string[] {
  const c = params.can_fail;
  if (c === undefined || c === null) return [];
  const list = typeof c === 'string' ? [c] : c;
  if (!Array.isArray(list) || !list.every((g): g is string => typeof g === 'string')) {
    throw new JobError(
      `parameters.can_fail must be a glob or a list of globs matched against full child job ids, e.g. "etl/optional-*"; got ${describe(c)}`,
    );
  }
  return list;
}

export function mayFail(jobId: string, globs: readonly string[]): boolean {
  return fnmatchAny(jobId, globs);
}

/** A boolean parameter (true/false, yes/no, 1/0). */
export function boolParam(params: Record<string, unknown>, key: string, defaultValue: boolean): boolean {
  const v = params[key];
  if (v === undefined || v === null) return defaultValue;
  try {
    return parseBool(v, `parameters.${key}`);
  } catch (err) {
    throw new JobError(errorMessage(err));
  }
}

/** An integer parameter (a number or a string of digits), at least `min`. */
export function intParam(params: Record<string, unknown>, key: string, defaultValue: number, min: number): number {
  const v = params[key];
  if (v === undefined || v === null) return defaultValue;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min) {
    throw new JobError(`parameters.${key} must be a whole number of at least ${min}, not ${describe(v)}`);
  }
  return n;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `${typeof value} ${JSON.stringify(value)}`;
}
