/**
 * batch: submit an orchestrated batch (docs/batches.md) of the job named by the payload, chunked
 * from `parameters.job`, and admitted by the realm's dispatchers. Submission is idempotent: a rerun
 * of this job with the same business job and dates writes nothing new. With `wait`, the run lasts
 * until the batch is finished and fails if any task died.
 */
import { submitBatch } from '../../batch/submit.js';
import { JobError, errorMessage } from '../../core/errors.js';
import { parseDuration } from '../../core/units.js';
import { sleep } from '../../core/time.js';
import { renderStructure } from '../../template/index.js';
import type { Handler } from '../../run/handler.js';
import { boolParam, describe, isPlainObject } from '../orchestration.js';

export const batchHandler: Handler = {
  type: 'batch',
  parameters: {
    required: ['job'],
    optional: ['admission', 'batch_id', 'jinja', 'time_zone', 'week_start', 'wait', 'poll'],
  },
  async run(ctx) {
    const params = ctx.job.parameters;
    const target = typeof ctx.job.payload === 'string' ? ctx.job.payload.trim() : '';
    if (!target) throw new JobError('batch job payload must name the job each task runs, e.g. "sales/report"');
    if (target === ctx.job.job_id) throw new JobError(`batch job "${target}" cannot run itself as its tasks`);
    // `admission` is not rendered here: its on_dead templates are for the alarm, when a task dies.
    const raw = { job: params.job, batch_id: params.batch_id };
    const rendered = boolParam(params, 'jinja', true)
      ? (renderStructure(raw, ctx.templateContext()) as Record<string, unknown>)
      : raw;
    const admission = params.admission;
    if (!isPlainObject(rendered.job)) {
      throw new JobError(
        `parameters.job must be the business job (a map of period, attrs, values…), not ${describe(rendered.job)}`,
      );
    }
    if (rendered.batch_id !== undefined && rendered.batch_id !== null && typeof rendered.batch_id !== 'string') {
      throw new JobError('parameters.batch_id must be a string');
    }
    const weekStart = params.week_start === undefined ? undefined : Number(params.week_start);
    let submitted;
    try {
      submitted = await submitBatch(ctx.backend, ctx.job.realm, {
        jobId: target,
        job: rendered.job,
        ...(admission !== undefined && admission !== null ? { admission } : {}),
        ...(typeof rendered.batch_id === 'string' && rendered.batch_id ? { batchId: rendered.batch_id } : {}),
        options: {
          ...(typeof params.time_zone === 'string' ? { timeZone: params.time_zone } : {}),
          ...(weekStart !== undefined ? { weekStart } : {}),
        },
      });
    } catch (err) {
      throw new JobError(`batch of "${target}" not submitted: ${errorMessage(err)}`);
    }
    const { batch, created, taskCount, added } = submitted;
    ctx.logger.info({ batch_id: batch.batch_id, tasks: taskCount, created }, 'batch: submitted');
    const result = { exit_status: 0, batch_id: batch.batch_id, job_id: target, task_count: taskCount, created, added };
    if (!boolParam(params, 'wait', false)) return result;

    // Wait for the dispatchers to finish the batch; a forced stop of the worker ends the wait.
    const pollMs = parseDuration(params.poll ?? 5, 'parameters.poll') * 1000;
    for (;;) {
      const now = await ctx.backend.batches.get(ctx.job.realm, batch.batch_id);
      if (now?.state === 'finished') break;
      await sleep(pollMs, ctx.signal);
      if (ctx.signal.aborted) throw new JobError(`batch ${batch.batch_id}: the worker stopped while waiting for it`);
    }
    const counts = await ctx.backend.batches.counts(ctx.job.realm, batch.batch_id);
    if (counts.dead > 0) {
      throw new JobError(`batch ${batch.batch_id} finished with ${counts.dead} dead of ${taskCount} tasks`, {
        ...result,
        exit_status: 1,
        counts,
      });
    }
    return { ...result, counts };
  },
};
