/**
 * The bounds a run's templates render under: the realm's TEMPLATE_* config, and the job's own
 * `parameters.timeout`, which covers rendering too (a render may not run past the attempt's start
 * plus that timeout).
 */
import type { Config } from '../core/config.js';
import { parseDuration } from '../core/units.js';
import type { RunJob } from './handler.js';
import type { TemplateLimits } from '../template/index.js';

/** `parameters.timeout` in seconds, or undefined when absent or not a duration (the handler reports that). */
function jobTimeout(job: RunJob): number | undefined {
  const raw = (job.parameters as Record<string, unknown> | undefined)?.timeout;
  if (raw === undefined || raw === null) return undefined;
  try {
    const seconds = parseDuration(raw, 'parameters.timeout');
    return seconds > 0 ? seconds : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A function giving the limits for a render now. An attempt starts when `globals.lava.iteration`
 * changes, so each retry gets the whole timeout again, as its processes do.
 */
export function runTemplateLimits(config: Config, job: RunJob, clock: () => number = Date.now): () => TemplateLimits {
  const base: TemplateLimits = {
    maxRange: config.int('TEMPLATE_MAX_RANGE'),
    maxIterations: config.int('TEMPLATE_MAX_ITERATIONS'),
    maxOutput: config.size('TEMPLATE_MAX_OUTPUT'),
    timeout: config.duration('TEMPLATE_TIMEOUT'),
    maxMemory: config.size('TEMPLATE_MAX_MEMORY'),
  };
  const timeout = jobTimeout(job);
  if (timeout === undefined) return () => base;
  const deadlineSource = `the job's parameters.timeout (${timeout}s)`;
  let iteration: unknown = job.globals.lava?.iteration;
  let deadline = clock() + timeout * 1000;
  return () => {
    const now = job.globals.lava?.iteration;
    if (now !== iteration) {
      iteration = now;
      deadline = clock() + timeout * 1000;
    }
    return { ...base, deadline, deadlineSource };
  };
}
