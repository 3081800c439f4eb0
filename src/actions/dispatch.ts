/** dispatch action: dispatch another job, passing this job's globals with `lava.parent_*` set to it. */
import { LavaError } from '../core/errors.js';
import { dispatch } from '../dispatch/dispatch.js';
import { parentGlobals } from '../run/globals.js';
import { renderStructure, renderTemplate } from '../template/index.js';
import type { Action } from '../run/action.js';

export const dispatchAction: Action = {
  type: 'dispatch',
  async run(spec, ctx) {
    if (typeof spec.job_id !== 'string' || !spec.job_id) {
      throw new LavaError('LAVA_ACTION', 'dispatch action needs "job_id": the job to dispatch');
    }
    const jobId = renderTemplate(spec.job_id, ctx.templateContext);
    const parameters = spec.parameters === undefined ? undefined : renderStructure(spec.parameters, ctx.templateContext);
    if (parameters !== undefined && (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters))) {
      throw new LavaError('LAVA_ACTION', 'dispatch action "parameters" must be a map');
    }
    const { lava, ...globals } = parentGlobals(ctx.job);
    const runId = await dispatch(
      ctx.backend,
      {
        realm: ctx.job.realm,
        jobId,
        parameters: parameters as Record<string, unknown> | undefined,
        globals,
        lavaGlobals: lava as Record<string, unknown>,
        ...(spec.delay !== undefined ? { delay: spec.delay as string | number } : {}),
      },
      { config: ctx.config },
    );
    ctx.logger.info(
      { job_id: ctx.job.job_id, run_id: ctx.job.run_id, dispatched: jobId, dispatched_run_id: runId },
      'dispatch action',
    );
  },
};
