/**
 * dispatch: queue runs of other jobs (each with a new run id) and finish without waiting for
 * them. Each target gets this job's globals with `lava.parent_*` naming this job, and the
 * rendered `parameters`.
 */
import { checkDelay, delayOptions, dispatch, maxDelay } from '../../dispatch/dispatch.js';
import { JobError, errorMessage } from '../../core/errors.js';
import { renderStructure } from '../../template/index.js';
import { parentGlobals } from '../../run/globals.js';
import { boolParam, describe, isPlainObject, jobPrefix, parseJobList } from '../orchestration.js';
import type { Handler } from '../../run/handler.js';

export const dispatchHandler: Handler = {
  type: 'dispatch',
  parameters: { optional: ['delay', 'jinja', 'job_prefix', 'parameters'] },
  async run(ctx) {
    const params = ctx.job.parameters;
    const prefix = jobPrefix(params);
    // The payload is not rendered (as upstream).
    const targets = parseJobList(ctx.job.payload, 'dispatch job payload', '"load, report"').map((id) => prefix + id);
    if (!targets.length) {
      throw new JobError('dispatch job payload is empty: list the jobs to dispatch, e.g. "load, report"');
    }
    const limits = delayOptions(ctx.config);
    let delay = 0;
    if (params.delay !== undefined && params.delay !== null) {
      try {
        // Every target's queue is of this backend, so the worker's own queue has their limit.
        delay = checkDelay(params.delay as number | string, maxDelay(ctx.backend.queue(ctx.job.realm, ctx.job.worker), limits));
      } catch (err) {
        throw new JobError(`parameters.delay: ${errorMessage(err).replace(/^delay:? /, '')}`);
      }
    }
    let parameters: Record<string, unknown> | undefined;
    if (params.parameters !== undefined && params.parameters !== null) {
      if (!isPlainObject(params.parameters)) {
        throw new JobError(
          `parameters.parameters must be a map of the parameters to give each target, not ${describe(params.parameters)}`,
        );
      }
      const rendered = boolParam(params, 'jinja', true)
        ? renderStructure(params.parameters, ctx.templateContext())
        : params.parameters;
      if (!isPlainObject(rendered)) throw new JobError('parameters.parameters must render to a map');
      parameters = rendered;
    }
    if (targets.includes(ctx.job.job_id)) {
      throw new JobError(
        `Circular dispatch not permitted: job "${ctx.job.job_id}" lists itself as a target; remove it from the payload`,
      );
    }

    const jobs: string[] = [];
    const runIds: string[] = [];
    for (const target of targets) {
      try {
        // A fresh copy per target: no two runs share an object (A6 fixed).
        const { lava, ...globals } = parentGlobals(ctx.job);
        const runId = await dispatch(
          ctx.backend,
          {
            realm: ctx.job.realm,
            jobId: target,
            globals,
            lavaGlobals: lava as Record<string, unknown>,
            ...(parameters ? { parameters: structuredClone(parameters) } : {}),
            delay,
          },
          // The worker's config: dispatch() need not read the realm record again for each target.
          { ...limits, config: ctx.config },
        );
        jobs.push(target);
        runIds.push(runId);
        ctx.logger.info({ dispatched: target, dispatched_run_id: runId, delay }, 'dispatch: queued');
      } catch (err) {
        throw new JobError(`dispatch of "${target}" failed: ${errorMessage(err)}`, {
          exit_status: 1,
          jobs,
          run_ids: runIds,
        });
      }
    }
    return { exit_status: 0, jobs, run_ids: runIds };
  },
};
