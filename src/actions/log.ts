/** log action: write a rendered message to the worker log with the job and run ids. */
import { LavaError } from '../core/errors.js';
import { renderTemplate } from '../template/index.js';
import type { Action } from '../run/action.js';

export const logAction: Action = {
  type: 'log',
  async run(spec, ctx) {
    if (typeof spec.message !== 'string') {
      throw new LavaError(
        'LAVA_ACTION',
        'log action needs a string "message", e.g. {"action": "log", "message": "{{ job.job_id }} done"}',
      );
    }
    ctx.logger.info(
      { job_id: ctx.job.job_id, run_id: ctx.job.run_id, action: 'log' },
      renderTemplate(spec.message, ctx.templateContext),
    );
  },
};
