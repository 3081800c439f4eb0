/** Send a run of a job to its worker's queue. The run id is made here, so redeliveries keep it. */
import type { Backend, Queue } from '../backends/ports.js';
import { Config } from '../core/config.js';
import { LavaError, NotFoundError, ValidationError } from '../core/errors.js';
import { newRunId } from '../core/ids.js';
import { checkJobId, checkRunId } from '../core/paths.js';
import { parseSpec } from '../core/validate.js';
import { isoLocal, systemClock, wholeSeconds, type Clock } from '../core/time.js';
import { parseDuration } from '../core/units.js';
import { encodeMessage } from './message.js';
import { unsafeKeyPath } from './params.js';

export interface DispatchRequest {
  realm: string;
  jobId: string;
  /** When given, the job spec is not looked up (as upstream's `--worker`). */
  worker?: string;
  parameters?: Record<string, unknown>;
  /** User globals: names starting with "lava" (any case) are reserved and refused. */
  globals?: Record<string, unknown>;
  /** `globals.lava` handed down by a dispatching job (the dispatch action and job type set it). */
  lavaGlobals?: Record<string, unknown>;
  /** Seconds, or a duration string such as "5m". */
  delay?: number | string;
  /** Reuse a run id made earlier (the scheduler claims ticks with one, so a retried dispatch stays one run). */
  runId?: string;
  /**
   * The trigger that fired this run, recorded first in the `queued` event's info as `trigger`: an object
   * trigger's `{trigger_id, bucket, key, event_type}` or an event rule's `{trigger_id, event_id, source, detail_type}`.
   */
  trigger?: Record<string, unknown>;
}

/**
 * The delay bounds come from the first of: `maxDelayMinutes`/`maxDispatchDelaySeconds`, `config`,
 * else the realm's configuration, read here, so a caller cannot forget them. The `queued` event's
 * lifetime (EVENT_TTL) comes from `config`, else the realm's.
 */
export interface DispatchOptions {
  clock?: Clock;
  /** The realm's configuration, when the caller has it (saves reading the realm record). */
  config?: Config;
  /** SQS_MAX_DELAY_MINS: the bound on queues with a delay limit of their own (SQS). */
  maxDelayMinutes?: number;
  /** DISPATCH_MAX_DELAY in seconds: the bound on queues without one (SQLite, PostgreSQL). */
  maxDispatchDelaySeconds?: number;
}

/** The realm's delay bounds, for dispatch()'s options and checks before a dispatch. */
export function delayOptions(config: Config): Pick<DispatchOptions, 'maxDelayMinutes' | 'maxDispatchDelaySeconds'> {
  return {
    maxDelayMinutes: config.int('SQS_MAX_DELAY_MINS'),
    maxDispatchDelaySeconds: config.duration('DISPATCH_MAX_DELAY'),
  };
}

export async function dispatch(backend: Backend, req: DispatchRequest, options: DispatchOptions = {}): Promise<string> {
  // Both become paths on the worker (`<s3_temp>/<job_id>/<run_id>`): refuse unsafe ones here, not there.
  checkJobId(req.jobId, 'job id');
  if (req.runId !== undefined) checkRunId(req.runId, 'run id');
  checkDispatchValues(req);
  let worker = req.worker;
  if (!worker) {
    const raw = await backend.config.get(req.realm, 'jobs', req.jobId);
    if (!raw) {
      throw new NotFoundError('job', req.jobId, `add it with \`lava job put FILE\` or check the realm ("${req.realm}")`);
    }
    worker = parseSpec('job', raw, req.jobId).worker;
  }
  const queue = backend.queue(req.realm, worker);
  const config = options.config ?? (await realmConfig(backend, req.realm));
  const delaySeconds = checkDelay(req.delay ?? 0, maxDelay(queue, { ...delayOptions(config), ...withoutUndefined(options) }));
  const runId = req.runId ?? newRunId();
  const clock = options.clock ?? systemClock;
  const now = wholeSeconds(clock.now());
  const globals = req.lavaGlobals ? { ...req.globals, lava: req.lavaGlobals } : req.globals;
  const body = encodeMessage({
    realm: req.realm,
    worker,
    job_id: req.jobId,
    run_id: runId,
    ts_dispatch: isoLocal(now),
    ...(req.parameters && Object.keys(req.parameters).length ? { parameters: req.parameters } : {}),
    ...(globals && Object.keys(globals).length ? { globals } : {}),
  });
  // `queued` goes in before the message is sent, so the worker's `starting` always follows it.
  const sent = JSON.parse(body) as { parameters?: unknown; globals?: unknown };
  const event = (status: string, info: unknown) =>
    backend.events.record(req.realm, {
      job_id: req.jobId,
      run_id: runId,
      status,
      info,
      at: clock.now(),
      ts_dispatch: isoLocal(now),
      worker,
      ttlSeconds: config.optDuration('EVENT_TTL'),
    });
  await event('queued', {
    ...(req.trigger ? { trigger: req.trigger } : {}),
    worker,
    ...(delaySeconds > 0 ? { delay: delaySeconds } : {}),
    ...(sent.parameters !== undefined ? { parameters: sent.parameters } : {}),
    ...(sent.globals !== undefined ? { globals: sent.globals } : {}),
  });
  try {
    await queue.send(body, { delaySeconds });
  } catch (cause) {
    const error = `could not queue job ${req.jobId} for worker ${worker}: ${String(cause)}`;
    await event('failed', { error, error_data: null }).catch(() => undefined); // the throw below says what matters
    throw new LavaError('LAVA_DISPATCH', error, { cause, retryable: true });
  }
  return runId;
}

/** The realm's configuration, for callers that dispatch many runs with one read. */
export async function realmConfig(backend: Backend, realm: string): Promise<Config> {
  return new Config((await backend.config.getRealm(realm))?.config ?? {});
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Upstream's rule for job specs ("Reserved global"), applied to dispatch-time globals too, and no
 * prototype names anywhere in parameters or globals.
 */
export function checkDispatchValues(req: Pick<DispatchRequest, 'parameters' | 'globals'>): void {
  for (const name of Object.keys(req.globals ?? {})) {
    if (name.toLowerCase().startsWith('lava')) {
      throw new ValidationError(
        `Reserved global "${name}": global names starting with "lava" (any case) are reserved for Lava's own globals; rename it`,
      );
    }
  }
  for (const [what, value] of [
    ['parameter', req.parameters],
    ['global', req.globals],
  ] as const) {
    const bad = unsafeKeyPath(value);
    if (bad) {
      throw new ValidationError(
        `${what} "${bad}": __proto__, constructor and prototype cannot be names in parameters or globals; rename it`,
      );
    }
  }
}

/** The longest delay this queue takes: SQS_MAX_DELAY_MINS where the queue has a limit (SQS), else DISPATCH_MAX_DELAY. */
export function maxDelay(queue: Pick<Queue, 'maxDelaySeconds'>, options: DispatchOptions = {}): { seconds: number; key: string } {
  if (queue.maxDelaySeconds !== undefined) {
    return { seconds: Math.min(queue.maxDelaySeconds, (options.maxDelayMinutes ?? 15) * 60), key: 'SQS_MAX_DELAY_MINS' };
  }
  return { seconds: options.maxDispatchDelaySeconds ?? DEFAULT_MAX_DISPATCH_DELAY, key: 'DISPATCH_MAX_DELAY' };
}

const DEFAULT_MAX_DISPATCH_DELAY = 7 * 86400;

/** Delays are 0..the queue's maximum; out of range is an error, not clamped. */
export function checkDelay(delay: number | string, max: { seconds: number; key: string }): number {
  const seconds = parseDuration(delay, 'delay');
  if (seconds < 0 || seconds > max.seconds) {
    throw new ValidationError(
      `delay ${JSON.stringify(delay)} is out of range: use 0 to ${shortDuration(max.seconds)} (the limit is ${max.key})`,
    );
  }
  return Math.round(seconds);
}

function shortDuration(seconds: number): string {
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}
