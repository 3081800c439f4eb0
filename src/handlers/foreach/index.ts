/**
 * foreach: run one job once per value of a generator, one at a time, in this run. Each
 * iteration's globals are the parent's with the generator's values on top, plus
 * `globals.lava.foreach_index` (0-based).
 */
import { JobError } from '../../core/errors.js';
import { boolParam, describe, intParam, runChildJob } from '../orchestration.js';
import { selfReference } from '../spec-check.js';
import type { Handler } from '../../run/handler.js';
import { generate } from './generators.js';

export interface ForeachResult {
  exit_status: number;
  limit: number;
  /** How many values the generator produced (= iterations planned). */
  foreach_len: number;
  /** Iterations that completed (or were skipped because the child is disabled). */
  jobs_completed: number;
  /** 0-based indexes of the iterations that failed (tolerated by can_fail, or the last one on failure). */
  failed_indexes: number[];
  [key: string]: unknown;
}

/**
 * Problems `lava check` and `job put` can see in a foreach spec: a payload that is not one job id,
 * and a foreach that runs itself (it would run itself without end).
 */
export function foreachSpecProblems(spec: Record<string, unknown>): string[] {
  const payload = spec.payload;
  if (typeof payload !== 'string' || !payload.trim()) {
    return [`payload: foreach job payload must be the id of the job to run for each value, not ${describe(payload)}`];
  }
  if (typeof spec.job_id === 'string' && payload.trim() === spec.job_id) {
    return [selfReference('foreach', spec.job_id, 'runs itself for each value', 'name another job as the payload')];
  }
  return [];
}

export const foreachHandler: Handler = {
  type: 'foreach',
  parameters: { required: ['foreach'], optional: ['can_fail', 'jinja', 'limit'] },
  async run(ctx) {
    const params = ctx.job.parameters;
    const payload = ctx.job.payload;
    if (typeof payload !== 'string' || !payload.trim()) {
      throw new JobError(`foreach job payload must be the id of the job to run for each value, not ${describe(payload)}`);
    }
    const child = payload.trim();
    const canFail = boolParam(params, 'can_fail', false);
    const maxLimit = ctx.config.int('FOREACH_MAX_LIMIT');
    const limit = intParam(params, 'limit', ctx.config.int('FOREACH_LIMIT'), 1);
    if (limit > maxLimit) {
      throw new JobError(`parameters.limit ${limit} is over FOREACH_MAX_LIMIT (${maxLimit}): use at most ${maxLimit}`);
    }
    const jinja = boolParam(params, 'jinja', true);

    // One more than the limit tells "exactly at the limit" from "over it" without reading everything.
    const values = await generate(ctx, params.foreach, { jinja, max: limit + 1 });
    if (values.length > limit) {
      throw new JobError(
        `foreach generator produced more than limit (${limit}) values; nothing was run: raise parameters.limit (at most FOREACH_MAX_LIMIT, ${maxLimit}) or narrow the generator`,
        { exit_status: 1, limit, foreach_len: null, jobs_completed: 0, failed_indexes: [] },
      );
    }

    const result: ForeachResult = {
      exit_status: 0,
      limit,
      foreach_len: values.length,
      jobs_completed: 0,
      failed_indexes: [],
    };
    const parent = ctx.job.globals;
    for (const [index, value] of values.entries()) {
      // Parent globals < generator values; runChild puts the child's own globals underneath and deep-copies.
      const globals = { ...parent, ...value, lava: { ...(parent.lava ?? {}), foreach_index: index } };
      const end = await runChildJob(ctx, child, globals);
      if (end.kind === 'ok') {
        result.jobs_completed++;
        continue;
      }
      if (end.kind === 'failed' && canFail) {
        ctx.logger.warn({ child, index, err: end.error }, 'foreach: iteration failed; can_fail allows it, continuing');
        result.failed_indexes.push(index);
        continue;
      }
      const why =
        end.kind === 'unloadable'
          ? `could not be run: ${end.error}`
          : `${end.outcome.status}: ${end.error}${canFail ? '' : ' (set parameters.can_fail: true to continue after failures)'}`;
      throw new JobError(`foreach stopped at index ${index}: job "${child}" ${why}`, {
        ...result,
        exit_status: 1,
        failed_indexes: [...result.failed_indexes, index],
      });
    }
    return result;
  },
};
