/**
 * The run lifecycle (upstream §3.4): skipped | starting → [rejected] → [logging] → [skipped] →
 * running → complete | retrying … | failed, then actions (→ action_failed). Orchestration
 * handlers run their children through the same function, under the parent's run id.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { blobStoreFor, joinUri } from '../backends/blob/index.js';
import type { Backend, EarlierEntry, NewEvent } from '../backends/ports.js';
import type { ActionRegistry } from '../actions/registry.js';
import type { Config } from '../core/config.js';
import { JobError, LavaError, errorMessage } from '../core/errors.js';
import { checkOutputName, confine, makeDirsSync } from '../core/paths.js';
import type { Logger } from '../core/logger.js';
import type { RealmSpec } from '../core/schemas.js';
import { isoLocal, parseIso, sleep, wholeSeconds, type Clock } from '../core/time.js';
import { parseDuration } from '../core/units.js';
import { parseSpec } from '../core/validate.js';
import type { HandlerRegistry } from '../handlers/registry.js';
import type { Handler, HandlerContext, JobResult, RunJob, RunOutcome } from '../handlers/types.js';
import {
  TemplateLimitError,
  buildTemplateContext,
  renderStructure,
  renderTemplate,
  withTemplateLimits,
} from '../template/index.js';
import { initLavaGlobals } from './globals.js';
import { runTemplateLimits } from './template-limits.js';
import type { ProcessRegistry } from './process.js';
import { importState } from '../state/state.js';

/** What every run of one worker shares. */
export interface RunEnvironment {
  readonly backend: Backend;
  readonly realm: RealmSpec;
  readonly config: Config;
  readonly worker: string;
  readonly hostname: string;
  readonly dev: boolean;
  readonly logger: Logger;
  readonly handlers: HandlerRegistry;
  readonly actions: ActionRegistry;
  readonly processes: ProcessRegistry;
  readonly clock: Clock;
  /** The worker's scratch root: `<TMPDIR>/<realm>/<worker>.<pid>`. */
  readonly workerDir: string;
  /** Aborted when the worker is forced to stop. */
  readonly signal: AbortSignal;
}

/** Append one event to the run's record (with `before`, entries held back for this write). A failed write is logged. */
export async function recordEvent(
  env: RunEnvironment,
  job: RunJob,
  status: string,
  info: unknown,
  before?: EarlierEntry[],
): Promise<void> {
  try {
    await env.backend.events.record(env.realm.realm, newEvent(env, job, status, info, before));
  } catch (err) {
    env.logger.error({ job_id: job.job_id, run_id: job.run_id, status, err: errorMessage(err) }, 'could not write event');
  }
}

function newEvent(env: RunEnvironment, job: RunJob, status: string, info: unknown, before?: EarlierEntry[]): NewEvent {
  return {
    job_id: job.job_id,
    run_id: job.run_id,
    status,
    info: toPlain(info),
    at: env.clock.now(),
    ts_dispatch: job.ts_dispatch,
    worker: env.worker,
    hostname: env.hostname,
    ttlSeconds: env.config.optDuration('EVENT_TTL'),
    ...(before ? { before } : {}),
  };
}

/** The backend did not take a run's outcome: the run must stay unfinished so that it runs again. */
export class OutcomeNotRecorded extends Error {
  constructor(runId: string, status: string, cause: unknown) {
    super(`could not record "${status}" for run ${runId} (${errorMessage(cause)}); it runs again when its lease ends`, {
      cause,
    });
  }
}

/** JSON-safe copy (Dates as local ISO strings). */
function toPlain(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(
    JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
      const raw = this[key];
      return raw instanceof Date ? isoLocal(raw) : v;
    }),
  ) as unknown;
}

export interface RunJobOptions {
  /** A child's scratch dir is its parent's. */
  scratch?: Scratch;
  /** Which claim of this run id this is (2+ when taken over from a worker that died). */
  attempt?: number;
  /**
   * Records a top-level run's outcome and ends the run (claim finished, message deleted) in one step;
   * false when the run is no longer this worker's (its lease lapsed and another worker took it over).
   * Without it, the outcome is only recorded.
   */
  end?: (outcome: NewEvent) => Promise<boolean>;
}

/** The run's claim passed to another worker while this one ran it: its result is dropped. */
export class RunLost extends Error {
  constructor(runId: string) {
    super(`run ${runId} was taken over by another worker after this worker's lease lapsed; its result is dropped`);
  }
}

export async function runJob(env: RunEnvironment, job: RunJob, options: RunJobOptions = {}): Promise<RunOutcome> {
  const log = env.logger.child({ job_id: job.job_id, run_id: job.run_id });
  const topLevel = options.scratch === undefined;
  // Entries that go out with the run's next event, in the same write (`starting`): one write fewer per run.
  let held: EarlierEntry[] | undefined;
  const takeHeld = () => {
    const before = held;
    held = undefined;
    return before;
  };
  const record = (status: string, info: unknown) => recordEvent(env, job, status, info, takeHeld());
  // A top-level run in a worker ends with its outcome; a child's outcome is only recorded.
  const outcome = async (status: string, info: unknown) => {
    const before = takeHeld();
    if (!options.end) return recordEvent(env, job, status, info, before);
    let ended: boolean;
    try {
      ended = await options.end(newEvent(env, job, status, info, before));
    } catch (err) {
      log.error({ status, err: errorMessage(err) }, 'could not record the outcome');
      throw new OutcomeNotRecorded(job.run_id, status, err);
    }
    if (!ended) throw new RunLost(job.run_id);
  };

  // Static disable: boolean false, or no `enabled` at all (upstream's default).
  if (job.enabled === false || job.enabled === undefined) {
    await outcome('skipped', 'not enabled (static)');
    return { status: 'skipped' };
  }

  const start = wholeSeconds(env.clock.now());
  job.ts_start = isoLocal(start);
  job.ts_ustart = start.toISOString().replace(/\.\d{3}Z$/, '+00:00');
  const attempt = options.attempt ?? 1;
  held = [
    {
      status: 'starting',
      info: attempt > 1 ? `Attempt ${attempt}: run taken over from a worker that stopped` : null,
      at: env.clock.now(),
    },
  ];

  const rejection = checkLimits(env, job, start);
  if (rejection) {
    log.warn(rejection);
    await outcome('rejected', rejection);
    return { status: 'rejected', result: { error: rejection } };
  }

  initLavaGlobals(job, start);
  const renderLimits = runTemplateLimits(env.config, job);
  const templateContext = (vars?: Record<string, unknown>) =>
    withTemplateLimits(
      buildTemplateContext({ job, realm: env.realm, globals: job.globals, state: job.state, start, ...(vars ? { vars } : {}) }),
      renderLimits(),
    );

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
      await record('logging', info);
    }

    if (typeof job.enabled === 'string') {
      const rendered = renderTemplate(job.enabled, templateContext()).trim();
      if (rendered.toLowerCase() !== 'true') {
        await outcome('skipped', `not enabled (dynamic): ${rendered}`);
        return { status: 'skipped' };
      }
    }
  } catch (err) {
    if (err instanceof OutcomeNotRecorded || err instanceof RunLost) throw err;
    // Upstream lets these escape with no event; we record the failure.
    const message = errorMessage(err);
    log.error({ err: message }, 'run failed before it started');
    await outcome('failed', { error: message, error_data: null });
    return { status: 'failed', result: { error: message, error_data: null } };
  }

  const handler = env.handlers.get(job.type);
  if (!handler) {
    const known = [...env.handlers.keys()].sort().join(', ');
    const message = `Unknown job type "${job.type}": use one of ${known}`;
    await outcome('failed', message);
    return { status: 'failed', result: { error: message, error_data: null } };
  }

  const scratch = options.scratch ?? new Scratch(env.workerDir, job.run_id);
  try {
    return await iterate(env, job, handler, { scratch, start, templateContext, log, record, outcome });
  } finally {
    // Removed in the background: the run is over, and the worker waits for removals before it exits.
    if (topLevel) scratch.remove();
  }
}

/**
 * A run's private directory, made on first use: many jobs (log, chain, dispatch…) never need one,
 * and directory churn is a large share of a short run's cost.
 */
export class Scratch {
  private made = false;
  private static readonly removing = new Set<Promise<void>>();

  /** Wait for background removals (a stopping worker calls this). */
  static async settle(): Promise<void> {
    await Promise.allSettled([...Scratch.removing]);
  }

  readonly dir: string;

  /** `<root>/<runId>`; a run id that would leave root fails the run when the directory is first used. */
  constructor(
    private readonly root: string,
    private readonly runId: string,
  ) {
    this.dir = path.join(root, runId);
  }

  /** The directory, created if needed, private to the owner (it may hold connection files with secrets). */
  get path(): string {
    if (!this.made) {
      makeDirsSync(confine(this.root, this.runId, 'run id'));
      this.made = true;
    }
    return this.dir;
  }

  remove(): void {
    if (!this.made) return;
    const p = fsp
      .rm(this.dir, { recursive: true, force: true })
      .catch(() => undefined)
      .finally(() => Scratch.removing.delete(p));
    Scratch.removing.add(p);
  }
}

function checkLimits(env: RunEnvironment, job: RunJob, start: Date): string | undefined {
  try {
    if (job.max_run_delay !== undefined) {
      const max = parseDuration(job.max_run_delay, 'max_run_delay');
      const dispatched = parseIso(job.ts_dispatch);
      if (dispatched && (start.getTime() - dispatched.getTime()) / 1000 > max) {
        return `Run delay exceeded max_run_delay (${String(job.max_run_delay)}): dispatched ${job.ts_dispatch}, started ${job.ts_start}`;
      }
    }
    const limit = job.iteration_limit ?? 1;
    const maxLimit = env.config.int('ITERATION_MAX_LIMIT');
    if (limit > maxLimit) return `iteration_limit ${limit} is over ITERATION_MAX_LIMIT (${maxLimit})`;
    if (limit < 1) return 'iteration_limit is 0, so the job would never run: use 1 or more';
    const delay = parseDuration(job.iteration_delay ?? 0, 'iteration_delay');
    const maxDelay = env.config.duration('ITERATION_MAX_DELAY');
    if (delay > maxDelay) return `iteration_delay ${String(job.iteration_delay)} is over ITERATION_MAX_DELAY (${maxDelay}s)`;
  } catch (err) {
    return errorMessage(err);
  }
  return undefined;
}

async function iterate(
  env: RunEnvironment,
  job: RunJob,
  handler: Handler,
  r: {
    scratch: Scratch;
    start: Date;
    templateContext: (vars?: Record<string, unknown>) => Record<string, unknown>;
    log: Logger;
    record: (status: string, info: unknown) => Promise<void>;
    outcome: (status: string, info: unknown) => Promise<void>;
  },
): Promise<RunOutcome> {
  const limit = job.iteration_limit ?? 1;
  const delay = parseDuration(job.iteration_delay ?? 0, 'iteration_delay');
  const ctx: HandlerContext = {
    job,
    realm: env.realm,
    config: env.config,
    backend: env.backend,
    get scratch() {
      return r.scratch.path;
    },
    s3tmp: joinUri(env.realm.s3_temp, job.job_id, job.run_id),
    dev: env.dev,
    signal: env.signal,
    logger: r.log,
    processes: env.processes,
    templateContext: r.templateContext,
    runChild: (jobId, globals) => runChild(env, job, jobId, globals, r.scratch),
    async saveOutput(name, from) {
      const uri = joinUri(this.s3tmp, checkOutputName(name));
      const store = blobStoreFor(uri, env.realm.s3_key ? { s3Key: env.realm.s3_key } : {});
      if ('file' in from) await store.upload(from.file, uri);
      else await store.write(uri, from.data);
      return uri;
    },
  };
  let outcome: RunOutcome = { status: 'failed' };
  for (let iteration = 1; iteration <= limit; iteration++) {
    job.globals.lava = { ...job.globals.lava, iteration };
    await r.record('running', `Iteration ${iteration}`);
    try {
      checkParameters(handler, job.parameters);
      const result: Record<string, unknown> = { ...(await handler.run(ctx)), error: null };
      await r.outcome('complete', result);
      await runActions(env, job, 'on_success', result, r.templateContext);
      return { status: 'complete', result };
    } catch (err) {
      // Handed back (the worker stops) or lost (another worker owns it): no failure is recorded.
      if (env.signal.aborted || err instanceof RunLost || err instanceof OutcomeNotRecorded) throw err;
      const result = failureResult(env, err);
      const last = iteration === limit;
      r.log.warn({ err: result.error, iteration }, last ? 'run failed' : 'run failed, will retry');
      await (last ? r.outcome('failed', result) : r.record('retrying', result));
      await runActions(env, job, last ? 'on_fail' : 'on_retry', result, r.templateContext);
      outcome = { status: 'failed', result };
      if (!last && delay > 0) await sleep(delay * 1000, env.signal);
    }
  }
  return outcome;
}

function failureResult(env: RunEnvironment, err: unknown): Record<string, unknown> {
  const result: Record<string, unknown> = {
    error: errorMessage(err),
    error_data: err instanceof LavaError ? (err.data ?? null) : null,
  };
  if (env.config.bool('DEBUG') && err instanceof Error && err.stack) result.exception = err.stack.split('\n');
  return result;
}

/** Upstream handlers reject parameters they do not know ("Bad job parameters: Unexpected keys"). */
function checkParameters(handler: Handler, params: Record<string, unknown>): void {
  if (!handler.parameters) return;
  const required = handler.parameters.required ?? [];
  const allowed = new Set([...required, ...handler.parameters.optional]);
  const unexpected = Object.keys(params).filter((k) => !allowed.has(k));
  const missing = required.filter((k) => !(k in params));
  if (unexpected.length || missing.length) {
    const parts = [];
    if (unexpected.length) parts.push(`Unexpected keys ${unexpected.join(', ')}`);
    if (missing.length) parts.push(`Missing keys ${missing.join(', ')}`);
    throw new JobError(
      `Bad job parameters: ${parts.join('; ')}: ${handler.type} jobs take ${[...allowed].sort().join(', ') || 'no parameters'}`,
    );
  }
}

async function runActions(
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
    templateContext: { ...templateContext(), result },
  };
  for (const spec of list) {
    const action = env.actions.get(spec.action);
    try {
      if (!action) {
        throw new LavaError(
          'LAVA_ACTION',
          `unknown action "${spec.action}": use one of ${[...env.actions.keys()].sort().join(', ')}`,
        );
      }
      await action.run(spec, ctx);
    } catch (err) {
      const message = `${key} action ${spec.action}: ${errorMessage(err)}`;
      env.logger.error({ job_id: job.job_id, run_id: job.run_id }, message);
      await recordEvent(env, job, 'action_failed', message);
      return; // the first failing action stops the rest
    }
  }
}

/** Each child run's parents, top-level job first: bounds nesting and names a cycle. */
const ancestry = new WeakMap<RunJob, readonly string[]>();

/**
 * Why a child may not start here: it is one of its own parents (chain/dag/foreach jobs that contain
 * each other would run without end, and a dag's fan-out multiplies every level), or it would nest
 * deeper than NESTING_MAX_DEPTH.
 */
function nestingProblem(env: RunEnvironment, parents: readonly string[], jobId: string): string | undefined {
  const path = [...parents, jobId].join(' → ');
  const seen = parents.indexOf(jobId);
  if (seen >= 0) {
    const cycle = [...parents.slice(seen), jobId].join(' → ');
    return `child job "${jobId}" is already running in this run as one of its parents (${cycle}), so the jobs would run each other without end: remove "${jobId}" from the payload of "${parents.at(-1)}" or break the cycle elsewhere; nesting: ${path}`;
  }
  const max = env.config.int('NESTING_MAX_DEPTH');
  if (parents.length > max) {
    return `child job "${jobId}" would be nested ${parents.length} deep, over NESTING_MAX_DEPTH (${max}): flatten the jobs or raise NESTING_MAX_DEPTH; nesting: ${path}`;
  }
  return undefined;
}

/** Load a child job and run it in-process under the parent's run id and scratch dir. */
async function runChild(
  env: RunEnvironment,
  parent: RunJob,
  jobId: string,
  globals: Record<string, unknown>,
  scratch: Scratch,
): Promise<RunOutcome> {
  const parents = [...(ancestry.get(parent) ?? []), parent.job_id];
  const problem = nestingProblem(env, parents, jobId);
  if (problem) throw new JobError(problem);
  // Copy before the first await: the caller may change its globals while this child loads.
  const inherited = structuredClone(globals);
  const raw = await env.backend.config.get(env.realm.realm, 'jobs', jobId);
  if (!raw) throw new JobError(`child job "${jobId}" does not exist: add it with \`lava job put\` or fix the job id`);
  const spec = parseSpec('job', raw, jobId);
  if (spec.worker !== parent.worker) {
    throw new JobError(
      `child job "${jobId}" belongs to worker "${spec.worker}", not "${parent.worker}": children run on their parent's worker`,
    );
  }
  const own = structuredClone(spec);
  const start = parent.ts_start ? (parseIso(parent.ts_start) ?? new Date()) : new Date();
  const child: RunJob = {
    ...own,
    realm: parent.realm,
    run_id: parent.run_id,
    ts_dispatch: parent.ts_dispatch,
    parameters: own.parameters ?? {},
    state: own.state ?? {},
    globals: {
      ...(own.globals ?? {}),
      ...inherited,
      lava: {
        ...((inherited.lava as object | undefined) ?? {}),
        parent_job_id: parent.job_id,
        parent_start: start,
        parent_ustart: start,
      },
    },
  };
  ancestry.set(child, parents);
  return runJob(env, child, { scratch });
}

export type { JobResult };
