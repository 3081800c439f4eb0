/** What a run is checked against before its handler runs: the job's limits and its parameter keys. */
import { JobError, errorMessage } from '../core/errors.js';
import { parseIso } from '../core/time.js';
import { parseDuration } from '../core/units.js';
import type { RunEnvironment } from './environment.js';
import type { Handler, RunJob } from './handler.js';

/** Why the run is rejected (max_run_delay, iteration limits), or undefined when it may start. */
export function checkLimits(env: RunEnvironment, job: RunJob, start: Date): string | undefined {
  try {
    if (job.max_run_delay !== undefined) {
      const max = parseDuration(job.max_run_delay, 'max_run_delay');
      const dispatched = parseIso(job.ts_dispatch);
      if (dispatched && (start.getTime() - dispatched.getTime()) / 1000 > max) {
        return `Run delay exceeded max_run_delay (${String(job.max_run_delay)}): dispatched ${job.ts_dispatch}, started ${job.ts_start}`;
      }
    }
    const limit = job.iteration_limit ?? 1;
    const maxLimit = env.config.int('ITERATION_MAX_LIMIT');
    if (limit > maxLimit) return `iteration_limit ${limit} is over ITERATION_MAX_LIMIT (${maxLimit})`;
    if (limit < 1) return 'iteration_limit is 0, so the job would never run: use 1 or more';
    const delay = parseDuration(job.iteration_delay ?? 0, 'iteration_delay');
    const maxDelay = env.config.duration('ITERATION_MAX_DELAY');
    if (delay > maxDelay) return `iteration_delay ${String(job.iteration_delay)} is over ITERATION_MAX_DELAY (${maxDelay}s)`;
  } catch (err) {
    return errorMessage(err);
  }
  return undefined;
}

/** A handler's declared parameter keys against the ones given: what it does not take, and what it needs but lacks. */
export function parameterKeys(
  declared: NonNullable<Handler['parameters']>,
  params: Record<string, unknown>,
): { allowed: string[]; unexpected: string[]; missing: string[] } {
  const required = declared.required ?? [];
  const allowed = new Set([...required, ...declared.optional]);
  return {
    allowed: [...allowed].sort(),
    unexpected: Object.keys(params).filter((k) => !allowed.has(k)),
    missing: required.filter((k) => !(k in params)),
  };
}

/** Upstream handlers reject parameters they do not know ("Bad job parameters: Unexpected keys"). */
export function checkParameters(handler: Handler, params: Record<string, unknown>): void {
  if (!handler.parameters) return;
  const { allowed, unexpected, missing } = parameterKeys(handler.parameters, params);
  if (unexpected.length || missing.length) {
    const parts = [];
    if (unexpected.length) parts.push(`Unexpected keys ${unexpected.join(', ')}`);
    if (missing.length) parts.push(`Missing keys ${missing.join(', ')}`);
    throw new JobError(
      `Bad job parameters: ${parts.join('; ')}: ${handler.type} jobs take ${allowed.join(', ') || 'no parameters'}`,
    );
  }
}
