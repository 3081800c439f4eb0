/** Shared pieces of the checks that orchestration types run on a stored spec (not a run). */
import { isPlainObject } from './orchestration.js';

/** The spec's own `job_prefix` when it is a plain string; dispatch may override it, checks cannot know. */
export function specJobPrefix(spec: Record<string, unknown>): string {
  const params = spec.parameters;
  const prefix = isPlainObject(params) ? params.job_prefix : undefined;
  return typeof prefix === 'string' ? prefix : '';
}

/** The error for a job that names itself as its own child. */
export function selfReference(type: string, jobId: string, how: string, fix: string): string {
  return `payload: ${type} "${jobId}" ${how}, so it would run itself without end: ${fix}`;
}
