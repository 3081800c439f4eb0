/**
 * A run's record: its events as they happen and the outcome that ends it. Entries can be held back
 * to go out with the run's next event in the same write (`starting`): one write fewer per run.
 */
import type { EarlierEntry, NewEvent } from '../backends/ports.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { isoLocal } from '../core/time.js';
import type { RunEnvironment } from './environment.js';
import type { RunJob } from './handler.js';

/** The ids an event is recorded under: a whole run, or what a discarded message still names. */
export type EventIds = Pick<RunJob, 'job_id' | 'run_id' | 'ts_dispatch'>;

/** Append one event to the run's record (with `before`, entries held back for this write). A failed write is logged. */
export async function recordEvent(
  env: RunEnvironment,
  job: EventIds,
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

export function newEvent(env: RunEnvironment, job: EventIds, status: string, info: unknown, before?: EarlierEntry[]): NewEvent {
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

/** The backend did not take a run's outcome: the run must stay unfinished so that it runs again. */
export class OutcomeNotRecorded extends Error {
  constructor(runId: string, status: string, cause: unknown) {
    super(`could not record "${status}" for run ${runId} (${errorMessage(cause)}); it runs again when its lease ends`, {
      cause,
    });
  }
}

/** The run's claim passed to another worker while this one ran it: its result is dropped. */
export class RunLost extends Error {
  constructor(runId: string) {
    super(`run ${runId} was taken over by another worker after this worker's lease lapsed; its result is dropped`);
  }
}

/**
 * Records a top-level run's outcome and ends the run (claim finished, message deleted) in one step;
 * false when the run is no longer this worker's (its lease lapsed and another worker took it over).
 */
export type EndRun = (outcome: NewEvent) => Promise<boolean>;

/** One run's events and outcome. A top-level run in a worker ends with its outcome; a child's outcome is only recorded. */
export class RunRecorder {
  private held: EarlierEntry[] | undefined;

  constructor(
    private readonly env: RunEnvironment,
    private readonly job: RunJob,
    private readonly log: Logger,
    private readonly end?: EndRun,
  ) {}

  /** Entries that go out with the run's next event, in the same write. */
  hold(entries: EarlierEntry[]): void {
    this.held = entries;
  }

  private takeHeld(): EarlierEntry[] | undefined {
    const before = this.held;
    this.held = undefined;
    return before;
  }

  /** An event of the run that does not end it (logging, running, retrying). */
  readonly record = (status: string, info: unknown): Promise<void> =>
    recordEvent(this.env, this.job, status, info, this.takeHeld());

  /** The run's outcome; throws OutcomeNotRecorded or RunLost when the run could not be ended as this worker's. */
  readonly outcome = async (status: string, info: unknown): Promise<void> => {
    const before = this.takeHeld();
    if (!this.end) return recordEvent(this.env, this.job, status, info, before);
    let ended: boolean;
    try {
      ended = await this.end(newEvent(this.env, this.job, status, info, before));
    } catch (err) {
      this.log.error({ status, err: errorMessage(err) }, 'could not record the outcome');
      throw new OutcomeNotRecorded(this.job.run_id, status, err);
    }
    if (!ended) throw new RunLost(this.job.run_id);
  };
}
