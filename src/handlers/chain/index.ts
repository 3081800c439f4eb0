/**
 * chain: run jobs one after another in this run (same run id, same scratch dir), stopping at the
 * first failure that `can_fail` does not tolerate.
 */
import { JobError, errorMessage } from '../../core/errors.js';
import { canFailGlobs, jobPrefix, mayFail, parseJobList, runChildJob } from '../orchestration.js';
import { selfReference, specJobPrefix } from '../spec-check.js';
import type { Handler } from '../../run/handler.js';

export interface ChainResult {
  exit_status: number;
  /** Children that completed (or were skipped as disabled), in run order. */
  jobs: string[];
  /** Children that failed and were tolerated by can_fail (plus, on failure, the one that stopped the chain). */
  failed_jobs: string[];
  [key: string]: unknown;
}

/**
 * Problems `lava check` and `job put` can see in a chain spec: a payload that is not a job list,
 * and a chain that lists itself (it would run itself without end).
 */
export function chainSpecProblems(spec: Record<string, unknown>): string[] {
  const prefix = specJobPrefix(spec);
  let ids: string[];
  try {
    ids = parseJobList(spec.payload, 'chain job payload', '"extract, transform, load"').map((id) => prefix + id);
  } catch (err) {
    return [`payload: ${errorMessage(err)}`];
  }
  if (!ids.length) return ['payload: chain job payload is empty: list the jobs to run, e.g. "extract, transform, load"'];
  if (typeof spec.job_id === 'string' && ids.includes(spec.job_id)) {
    const fix = `remove "${spec.job_id}" from the list (to repeat work, use iteration_limit or foreach)`;
    return [selfReference('chain', spec.job_id, 'lists itself', fix)];
  }
  return [];
}

export const chainHandler: Handler = {
  type: 'chain',
  parameters: { optional: ['can_fail', 'job_prefix', 'start'] },
  async run(ctx) {
    const params = ctx.job.parameters;
    const prefix = jobPrefix(params);
    const canFail = canFailGlobs(params);
    let ids = parseJobList(ctx.job.payload, 'chain job payload', '"extract, transform, load"').map((id) => prefix + id);
    if (!ids.length) {
      throw new JobError('chain job payload is empty: list the jobs to run, e.g. "extract, transform, load"');
    }
    if (params.start !== undefined && params.start !== null) {
      if (typeof params.start !== 'string' || !params.start.trim()) {
        throw new JobError('parameters.start must be the id of a job in the chain (without job_prefix)');
      }
      const start = prefix + params.start.trim();
      const at = ids.indexOf(start);
      if (at < 0) {
        throw new JobError(`parameters.start: job "${start}" is not in the chain (${ids.join(', ')}): use one of those ids`);
      }
      ids = ids.slice(at);
    }

    const result: ChainResult = { exit_status: 0, jobs: [], failed_jobs: [] };
    for (const id of ids) {
      const end = await runChildJob(ctx, id, ctx.job.globals);
      if (end.kind === 'ok') {
        result.jobs.push(id);
        continue;
      }
      if (end.kind === 'failed' && mayFail(id, canFail)) {
        ctx.logger.warn({ child: id, err: end.error }, 'chain: child failed; can_fail allows it, continuing');
        result.failed_jobs.push(id);
        continue;
      }
      const why =
        end.kind === 'unloadable'
          ? `could not be run: ${end.error}`
          : `${end.outcome.status}: ${end.error}${canFail.length ? '' : ' (use parameters.can_fail to let a child fail)'}`;
      throw new JobError(`chain stopped: job "${id}" ${why}`, {
        exit_status: 1,
        jobs: result.jobs,
        failed_jobs: [...result.failed_jobs, id],
      });
    }
    return result;
  },
};
