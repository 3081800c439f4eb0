/** log: write the augmented job spec to the worker log. Used for smoke tests and as a no-op. */
import type { Handler } from '../../run/handler.js';

export const logHandler: Handler = {
  type: 'log',
  async run(ctx) {
    ctx.logger.info({ job_spec: ctx.job }, `job ${ctx.job.job_id} (run ${ctx.job.run_id})`);
    return { exit_status: 0 };
  },
};
