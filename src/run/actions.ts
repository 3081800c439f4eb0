/** Post-run actions (on_success, on_fail, on_retry): the job's list, or else the realm's. */
import { LavaError, errorMessage } from '../core/errors.js';
import type { RunEnvironment } from './environment.js';
import type { RunJob } from './handler.js';
import { recordEvent } from './recorder.js';

export async function runActions(
  env: RunEnvironment,
  job: RunJob,
  key: 'on_success' | 'on_fail' | 'on_retry',
  result: Record<string, unknown>,
  templateContext: () => Record<string, unknown>,
): Promise<void> {
  // A job's list replaces the realm's, even when empty.
  const list = key in job ? job[key] : env.realm[key];
  if (!list?.length) return;
  const ctx = {
    job,
    realm: env.realm,
    config: env.config,
    backend: env.backend,
    logger: env.logger,
    when: key,
    templateContext: { ...templateContext(), result },
  };
  for (const spec of list) {
    const action = env.actions.get(spec.action);
    try {
      if (!action) throw new LavaError('LAVA_ACTION', 'unknown action');
      await action.run(spec, ctx);
    } catch (err) {
      // Upstream's text: "<key> action: <action>: <reason>".
      const message = `${key} action: ${spec.action}: ${errorMessage(err)}`;
      const hint = action ? '' : ` (use one of ${[...env.actions.keys()].sort().join(', ')})`;
      env.logger.error({ job_id: job.job_id, run_id: job.run_id }, message + hint);
      await recordEvent(env, job, 'action_failed', message);
      return; // the first failing action stops the rest
    }
  }
}
