/**
 * dag: run jobs in dependency order in this run, up to `workers` at a time.
 *
 * Scheduling (differs from upstream's waves, A19): a job starts as soon as all its predecessors
 * have finished (completed, skipped as disabled, or failed and tolerated by can_fail) and a slot
 * is free. Among ready jobs, the one named first in the payload starts first. A failure that
 * can_fail does not tolerate stops new starts; jobs already running finish, then the dag fails.
 */
import { JobError, errorMessage } from '../../core/errors.js';
import { canFailGlobs, intParam, jobPrefix, mayFail, runChildJob, type ChildEnd } from '../orchestration.js';
import { selfReference, specJobPrefix } from '../spec-check.js';
import type { Handler } from '../../run/handler.js';
import { assertAcyclic, buildGraph } from './graph.js';

/**
 * Problems `lava check` and `job put` can see in a dag spec: a payload that is not a dependency
 * map, a dependency cycle, and a dag that names itself (it would run itself without end).
 */
export function dagSpecProblems(spec: Record<string, unknown>): string[] {
  let graph;
  try {
    graph = buildGraph(spec.payload, specJobPrefix(spec));
    assertAcyclic(graph);
  } catch (err) {
    return [`payload: ${errorMessage(err)}`];
  }
  if (!graph.nodes.length) {
    return ['payload: dag job payload is empty: give a map of job → predecessor(s), e.g. {load: extract, extract: null}'];
  }
  if (typeof spec.job_id === 'string' && graph.nodes.includes(spec.job_id)) {
    const fix = `remove "${spec.job_id}" from the map, as a job and as a predecessor`;
    return [selfReference('dag', spec.job_id, 'names itself as one of its jobs', fix)];
  }
  return [];
}

export const dagHandler: Handler = {
  type: 'dag',
  parameters: { optional: ['can_fail', 'job_prefix', 'workers'] },
  async run(ctx) {
    const params = ctx.job.parameters;
    const prefix = jobPrefix(params);
    const canFail = canFailGlobs(params);
    const maxWorkers = ctx.config.int('DAG_MAX_WORKERS');
    let workers = intParam(params, 'workers', ctx.config.int('DAG_WORKERS'), 1);
    if (workers > maxWorkers) {
      ctx.logger.warn(`dag: parameters.workers ${workers} is over DAG_MAX_WORKERS (${maxWorkers}); using ${maxWorkers}`);
      workers = maxWorkers;
    }
    workers = Math.max(1, workers);
    const graph = buildGraph(ctx.job.payload, prefix);
    if (!graph.nodes.length) {
      throw new JobError('dag job payload is empty: give a map of job → predecessor(s), e.g. {load: extract, extract: null}');
    }
    assertAcyclic(graph);

    const rank = new Map(graph.nodes.map((n, i) => [n, i]));
    const waiting = new Map(graph.nodes.map((n) => [n, (graph.predecessors.get(n) ?? []).length]));
    const ready = graph.nodes.filter((n) => waiting.get(n) === 0);
    const running = new Map<string, Promise<{ id: string; end: ChildEnd }>>();
    const jobs: string[] = [];
    const failedJobs: string[] = [];
    let stop: { id: string; message: string } | undefined;

    for (;;) {
      while (!stop && running.size < workers && ready.length) {
        ready.sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0));
        const id = ready.shift() as string;
        ctx.logger.debug({ child: id, running: running.size + 1 }, 'dag: starting child');
        running.set(
          id,
          runChildJob(ctx, id, ctx.job.globals).then((end) => ({ id, end })),
        );
      }
      if (!running.size) break;
      const { id, end } = await Promise.race(running.values());
      running.delete(id);
      if (end.kind === 'ok' || (end.kind === 'failed' && mayFail(id, canFail))) {
        if (end.kind === 'ok') jobs.push(id);
        else {
          ctx.logger.warn({ child: id, err: end.error }, 'dag: child failed; can_fail allows it, its successors still run');
          failedJobs.push(id);
        }
        for (const next of graph.successors.get(id) ?? []) {
          const left = (waiting.get(next) ?? 0) - 1;
          waiting.set(next, left);
          if (left === 0) ready.push(next);
        }
        continue;
      }
      failedJobs.push(id);
      if (!stop) {
        stop = {
          id,
          message:
            end.kind === 'unloadable'
              ? `could not be run: ${end.error}`
              : `${end.outcome.status}: ${end.error}${canFail.length ? '' : ' (use parameters.can_fail to let a child fail)'}`,
        };
        if (running.size) ctx.logger.warn({ child: id }, `dag: child failed; waiting for ${running.size} running job(s)`);
      }
    }

    if (stop) {
      const notRun = graph.nodes.filter((n) => !jobs.includes(n) && !failedJobs.includes(n));
      throw new JobError(`dag stopped: job "${stop.id}" ${stop.message}`, {
        exit_status: 1,
        jobs,
        failed_jobs: failedJobs,
        not_run: notRun,
      });
    }
    return { exit_status: 0, jobs, failed_jobs: failedJobs };
  },
};
