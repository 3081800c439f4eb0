/**
 * The run lifecycle (upstream §3.4): skipped | starting → [rejected] → [logging] → [skipped] →
 * running → complete | retrying … | failed, then actions (→ action_failed). Orchestration
 * handlers run their children through the same function, under the parent's run id.
 */
import { blobStoreFor, joinUri } from '../backends/blob/index.js';
import type { NewEvent } from '../backends/ports.js';
import { LavaError, errorMessage } from '../core/errors.js';
import { checkOutputName } from '../core/paths.js';
import type { Logger } from '../core/logger.js';
import { isoLocal, sleep, wholeSeconds } from '../core/time.js';
import { parseDuration } from '../core/units.js';
import { STOPPED, stopRequested } from '../dispatch/stop.js';
import { importState } from '../state/state.js';
import {
  TemplateLimitError,
  buildTemplateContext,
  renderStructure,
  renderTemplate,
  withTemplateLimits,
} from '../template/index.js';
import { runActions } from './actions.js';
import { checkLimits, checkParameters } from './checks.js';
import { runChild } from './child.js';
import type { RunEnvironment } from './environment.js';
import { initLavaGlobals } from './globals.js';
import type { Handler, HandlerContext, RunJob, RunOutcome } from './handler.js';
import { OutcomeNotRecorded, RunLost, RunRecorder, newEvent, type EndRun } from './recorder.js';
import { Scratch } from './scratch.js';
import { runTemplateLimits } from './template-limits.js';

export interface RunJobOptions {
  /** A child's scratch dir is its parent's. */
  scratch?: Scratch;
  /** Which claim of this run id this is (2+ when taken over from a worker that died). */
  attempt?: number;
  /** Ends a top-level run with its outcome (see EndRun). Without it, the outcome is only recorded. */
  end?: EndRun;
  /**
   * The run's `starting` and first `running` events were recorded with its claim (`startEvent`), and
   * this is the time they were made for: the run starts at it and does not record them again.
   */
  started?: Date;
}

type TemplateContext = (vars?: Record<string, unknown>) => Record<string, unknown>;

/** What one run's steps share. */
interface Run {
  readonly env: RunEnvironment;
  readonly job: RunJob;
  readonly log: Logger;
  readonly recorder: RunRecorder;
  readonly templateContext: TemplateContext;
}

export async function runJob(env: RunEnvironment, job: RunJob, options: RunJobOptions = {}): Promise<RunOutcome> {
  const log = env.logger.child({ job_id: job.job_id, run_id: job.run_id });
  const recorder = new RunRecorder(env, job, log, options.end);

  // Static disable: boolean false, or no `enabled` at all (upstream's default).
  if (job.enabled === false || job.enabled === undefined) {
    await recorder.outcome('skipped', 'Job not enabled (static)');
    return { status: 'skipped' };
  }

  const start = wholeSeconds(options.started ?? env.clock.now());
  job.ts_start = isoLocal(start);
  job.ts_ustart = start.toISOString().replace(/\.\d{3}Z$/, '+00:00');
  const attempt = options.attempt ?? 1;
  if (!options.started) {
    recorder.hold([
      {
        status: 'starting',
        info: attempt > 1 ? `Attempt ${attempt}: run taken over from a worker that stopped` : null,
        at: env.clock.now(),
      },
    ]);
  }

  const rejection = checkLimits(env, job, start);
  if (rejection) {
    log.warn(rejection);
    await recorder.outcome('rejected', rejection);
    return { status: 'rejected', result: { error: rejection } };
  }

  initLavaGlobals(job, start);
  const renderLimits = runTemplateLimits(env.config, job);
  const templateContext: TemplateContext = (vars) =>
    withTemplateLimits(
      buildTemplateContext({ job, realm: env.realm, globals: job.globals, state: job.state, start, ...(vars ? { vars } : {}) }),
      renderLimits(),
    );
  const run: Run = { env, job, log, recorder, templateContext };

  const ended = await prepare(run);
  if (ended) return ended;

  const handler = env.handlers.get(job.type);
  if (!handler) {
    const known = [...env.handlers.keys()].sort().join(', ');
    const message = `Unknown job type "${job.type}": use one of ${known}`;
    await recorder.outcome('failed', message);
    return { status: 'failed', result: { error: message, error_data: null } };
  }

  const scratch = options.scratch ?? new Scratch(env.workerDir, job.run_id);
  try {
    return await iterate(run, handler, scratch, options.started !== undefined);
  } finally {
    // Removed in the background: the run is over, and the worker waits for removals before it exits.
    if (options.scratch === undefined) scratch.remove();
  }
}

/** State import, `event_log` and a dynamic `enabled`: an outcome when the run ends here, else undefined. */
async function prepare({ env, job, log, recorder, templateContext }: Run): Promise<RunOutcome | undefined> {
  try {
    job.state = await importState(env.backend, env.realm.realm, job.state, env.config, env.clock);

    if (job.event_log !== undefined) {
      let info: unknown;
      try {
        info = renderStructure(job.event_log, templateContext());
      } catch (err) {
        if (err instanceof TemplateLimitError) throw err; // a runaway template fails the run, unlike a bad one
        info = `Error: Bad event_log: ${errorMessage(err)}`;
        log.error(info);
      }
      await recorder.record('logging', info);
    }

    if (typeof job.enabled === 'string') {
      const rendered = renderTemplate(job.enabled, templateContext()).trim().toLowerCase();
      if (rendered !== 'true') {
        await recorder.outcome('skipped', `Job not enabled (enabled="${rendered}")`);
        return { status: 'skipped' };
      }
    }
  } catch (err) {
    if (err instanceof OutcomeNotRecorded || err instanceof RunLost) throw err;
    // Upstream lets these escape with no event; we record the failure.
    const message = errorMessage(err);
    log.error({ err: message }, 'run failed before it started');
    await recorder.outcome('failed', { error: message, error_data: null });
    return { status: 'failed', result: { error: message, error_data: null } };
  }
  return undefined;
}

function handlerContext({ env, job, log, templateContext }: Run, scratch: Scratch): HandlerContext {
  return {
    job,
    realm: env.realm,
    config: env.config,
    backend: env.backend,
    get scratch() {
      return scratch.path;
    },
    s3tmp: joinUri(env.realm.s3_temp, job.job_id, job.run_id),
    dev: env.dev,
    signal: env.signal,
    logger: log,
    processes: env.processes,
    templateContext,
    runChild: (jobId, globals) => runChild(env, job, jobId, globals, scratch, runJob),
    async saveOutput(name, from) {
      const uri = joinUri(this.s3tmp, checkOutputName(name));
      const store = blobStoreFor(uri, env.realm.s3_key ? { s3Key: env.realm.s3_key } : {});
      if ('file' in from) await store.upload(from.file, uri);
      else await store.write(uri, from.data);
      return uri;
    },
  };
}

async function iterate(run: Run, handler: Handler, scratch: Scratch, firstRecorded: boolean): Promise<RunOutcome> {
  const { env, job, recorder, templateContext } = run;
  const limit = job.iteration_limit ?? 1;
  const delay = parseDuration(job.iteration_delay ?? 0, 'iteration_delay');
  const ctx = handlerContext(run, scratch);
  let outcome: RunOutcome = { status: 'failed' };
  for (let iteration = 1; iteration <= limit; iteration++) {
    job.globals.lava = { ...job.globals.lava, iteration };
    if (iteration > 1 || !firstRecorded) await recorder.record('running', runningInfo(iteration));
    try {
      env.signal.throwIfAborted(); // stopped during the iteration delay
      checkParameters(handler, job.parameters);
      const result: Record<string, unknown> = { ...(await handler.run(ctx)), error: null };
      await recorder.outcome('complete', result);
      await runActions(env, job, 'on_success', result, templateContext);
      return { status: 'complete', result };
    } catch (err) {
      // A stop request fails the run (its processes were killed as a timeout kills them), with no retry.
      const stopped = stopRequested(env.signal);
      // Handed back (the worker stops) or lost (another worker owns it): no failure is recorded.
      if ((env.signal.aborted && !stopped) || err instanceof RunLost || err instanceof OutcomeNotRecorded) throw err;
      const result = stopped ? { ...failureResult(env, err), error: STOPPED } : failureResult(env, err);
      const last = stopped || iteration === limit;
      run.log.warn({ err: result.error, iteration }, last ? 'run failed' : 'run failed, will retry');
      await (last ? recorder.outcome('failed', result) : recorder.record('retrying', result));
      await runActions(env, job, last ? 'on_fail' : 'on_retry', result, templateContext);
      outcome = { status: 'failed', result };
      if (stopped) return outcome;
      if (!last && delay > 0) await sleep(delay * 1000, env.signal);
    }
  }
  return outcome;
}

function runningInfo(iteration: number): string {
  return `Iteration ${iteration}`;
}

/**
 * The run's first event when it goes straight from `starting` to `running` (statically enabled, no
 * `event_log`, no state to import, a known job type, within its limits): `running` for iteration 1
 * with `starting` before it, both at `at`. It can then be recorded with the run's claim, and
 * `runJob` is told so through `started`. Undefined when the run may record anything else first.
 */
export function startEvent(env: RunEnvironment, job: RunJob, at: Date): NewEvent | undefined {
  if (job.enabled !== true || job.event_log !== undefined || Object.keys(job.state ?? {}).length > 0) return undefined;
  if (!env.handlers.has(job.type)) return undefined;
  const start = wholeSeconds(at);
  if (checkLimits(env, { ...job, ts_start: isoLocal(start) }, start) !== undefined) return undefined;
  return newEvent(env, job, 'running', runningInfo(1), [{ status: 'starting', info: null, at }]);
}

function failureResult(env: RunEnvironment, err: unknown): Record<string, unknown> {
  const result: Record<string, unknown> = {
    error: errorMessage(err),
    error_data: err instanceof LavaError ? (err.data ?? null) : null,
  };
  if (env.config.bool('DEBUG') && err instanceof Error && err.stack) result.exception = err.stack.split('\n');
  return result;
}
