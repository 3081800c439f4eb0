/**
 * Admission of a batch's tasks (docs/batches.md, "Admission"). One pass:
 * 1. follows admitted tasks: a run that moved on makes its task `running`, a run that ended makes it
 *    `complete`, or `failed` with a time to try again (exponential backoff with jitter), or `dead`
 *    once out of attempts (then the batch's `on_dead` actions run);
 * 2. returns `failed` tasks whose wait is over to `pending`;
 * 3. admits `pending` tasks, dispatching a run of the batch's job each, while the tasks in flight
 *    (`queued` + `running`) stay within the batch's cap scaled by its health gates, and within any
 *    caps shared with other batches (per job, per worker fleet);
 * 4. marks the batch `finished` once no task is left to run.
 * Every move is a guarded transition of the store, so replicas running passes at once never admit
 * one task twice: a task is claimed (`pending` → `queued`, with its run id) before its run is
 * dispatched, and only the replica whose claim won dispatches.
 */
import { createHash } from 'node:crypto';
import type { Backend, BatchRecord, BatchTask, BatchTaskState, EventRecord } from '../backends/ports.js';
import type { Config } from '../core/config.js';
import { LavaError, NotFoundError, ValidationError, errorMessage } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { parseSpec } from '../core/validate.js';
import { sleep } from '../core/time.js';
import { dispatch, realmConfig } from '../dispatch/dispatch.js';
import { allowedInFlight, type HealthMonitor } from './health.js';
import { backoffSeconds, parsePolicy, type AdmissionPolicy } from './policy.js';

/** Run statuses that end a run (as observe's FINAL_STATUSES, plus the worker's `discarded`). */
const FINAL_RUN_STATUSES: ReadonlySet<string> = new Set([
  'complete',
  'failed',
  'skipped',
  'rejected',
  'action_failed',
  'discarded',
]);

/** Tasks read per store call. */
const PAGE = 100;

/** A task whose claim is older than this and whose run has no record was never dispatched (its replica died). */
export const DEFAULT_ORPHAN_SECONDS = 60;

/** A run still `queued` this long after its dispatch is sent again, with the same run id (it runs at most once). */
export const DEFAULT_RESEND_SECONDS = 900;

/** An `on_dead` alarm not confirmed sent this long after the task died is sent again (at least once). */
const ALARM_RETRY_SECONDS = 120;
const ALARM_TRIES = 5;

/** A cap shared with other batches (BATCH_JOB_CAPS, BATCH_FLEET_CAPS): its tasks in flight, counted afresh. */
export interface SharedLimit {
  name: string;
  cap: number;
  inFlight(): Promise<number>;
}

/** What health gates tell admission: the fraction of the cap allowed now (docs/health-gates.md). */
export type HealthReader = Pick<HealthMonitor, 'read'>;

export interface AdmitOptions {
  /** Overrides the batch policy's cap. */
  cap?: number;
  logger?: Logger;
  /** See DEFAULT_ORPHAN_SECONDS. */
  orphanSeconds?: number;
  /** See DEFAULT_RESEND_SECONDS. */
  resendSeconds?: number;
  /** Needed when the batch has health gates. */
  health?: HealthReader;
  /** Caps shared with other batches. */
  limits?: readonly SharedLimit[];
  /** Runs the batch's `on_dead` actions for a task that died; throws when they fail. */
  onDead?: (batch: BatchRecord, task: BatchTask, policy: AdmissionPolicy) => Promise<void>;
  /** The realm's configuration, when the caller has it. */
  config?: Config;
  /** For tests. */
  now?: () => Date;
  random?: () => number;
}

export interface AdmitResult {
  /** Tasks moved `queued` → `running`. */
  started: number;
  /** Tasks moved to `complete`. */
  completed: number;
  /** Tasks whose attempt failed (now waiting to be tried again, or dead). */
  failed: number;
  /** Tasks that died this pass. */
  died: number;
  /** Tasks returned from `failed` to `pending`. */
  retried: number;
  /** Tasks this pass admitted (claimed and dispatched). */
  admitted: number;
  /** Runs dispatched again because they stayed `queued` too long. */
  resent: number;
  /** Tasks in flight after the pass. */
  inFlight: number;
  /** Most tasks in flight the batch's cap and health allowed this pass. */
  allowed: number;
  /** The health level (0 … 4; 4 without gates). */
  health: number;
  /** Tasks still `pending` after the pass. */
  pending: number;
  /** Tasks per state after the pass. */
  counts: Record<BatchTaskState, number>;
  /** The batch's state after the pass. */
  state: string;
}

/** What admission keeps in a task's `info`. */
export interface AdmissionInfo {
  run_id?: string | null;
  /** Claims that dispatched a run (or tried to); never goes back, since run ids derive from it. */
  attempt?: number;
  /** `attempt` when the task was last revived from `dead`: attempts used = attempt − attempts_from. */
  attempts_from?: number;
  /** ISO time of the claim. */
  admitted?: string;
  /** ISO time of the last resend of a run left `queued`. */
  resent?: string | null;
  /** The status of the run when it ended. */
  run_status?: string;
  error?: string | null;
  /** ISO time a failed task returns to `pending`. */
  retry_at?: string | null;
  /** ISO time the task died. */
  died_at?: string | null;
  /** The `on_dead` alarm: `pending` until sent, then `sent` (or `failed` after its last try). */
  alarm?: 'pending' | 'sent' | 'failed';
  alarm_tries?: number;
  alarm_error?: string;
}

/** The run id of a task's attempt: a UUID-shaped hash of the batch, the task key and the attempt. */
export function taskRunId(batchId: string, key: string, attempt: number): string {
  const h = createHash('sha256').update(`${batchId}\u0000${key}\u0000${attempt}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The `batch` global a task's run gets: the batch id, the task key and the chunk. */
export function taskGlobals(batch: BatchRecord, task: BatchTask): Record<string, unknown> {
  return { batch: { id: batch.batch_id, key: task.key, ...task.task } };
}

/** The admission policy kept in a batch record (the defaults for batches submitted without one). */
export function batchPolicy(batch: BatchRecord): AdmissionPolicy {
  return parsePolicy((batch.options as { admission?: unknown }).admission, 'admission');
}

/** Whether a batch still has work: a task `pending`, `queued`, `running` or waiting to be tried again. */
export function unfinished(counts: Record<BatchTaskState, number>): boolean {
  return counts.pending + counts.queued + counts.running + counts.failed > 0;
}

/** The failure message of an ended run, from its last event (`result.error` of a failed run). */
function runError(record: EventRecord): string {
  const last = record.log[record.log.length - 1]?.info;
  const error = (last as { error?: unknown } | null | undefined)?.error;
  if (typeof error === 'string' && error) return error;
  return typeof last === 'string' && last ? last : `run ended ${record.status}`;
}

/** One admission pass over a batch; see the file comment. */
export async function admitOnce(
  backend: Backend,
  realm: string,
  batchId: string,
  options: AdmitOptions = {},
): Promise<AdmitResult> {
  checkCap(options.cap);
  const batch = await backend.batches.get(realm, batchId);
  if (!batch) throw new NotFoundError('batch', batchId, 'list batches with `lava batch ls`');
  return new Pass(backend, realm, batch, options).run();
}

/** One admission pass over a batch record the caller has just read. */
export function admitBatch(
  backend: Backend,
  realm: string,
  batch: BatchRecord,
  options: AdmitOptions = {},
): Promise<AdmitResult> {
  checkCap(options.cap);
  return new Pass(backend, realm, batch, options).run();
}

function checkCap(cap: number | undefined): void {
  if (cap !== undefined && !(Number.isInteger(cap) && cap >= 1)) {
    throw new ValidationError('batch: the cap must be a positive integer');
  }
}

/** One pass over one batch: the steps of the file comment, with what they moved. */
class Pass {
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly policy: AdmissionPolicy;
  private readonly cap: number;
  private readonly r = { started: 0, completed: 0, failed: 0, died: 0, retried: 0, admitted: 0, resent: 0 };
  private config: Config | undefined;
  private worker: string | undefined;

  constructor(
    private readonly backend: Backend,
    private readonly realm: string,
    private readonly batch: BatchRecord,
    private readonly o: AdmitOptions,
  ) {
    this.logger = o.logger ?? silentLogger;
    this.now = o.now ?? (() => new Date());
    this.policy = batchPolicy(batch);
    this.cap = o.cap ?? this.policy.cap;
    this.config = o.config;
  }

  private get id(): string {
    return this.batch.batch_id;
  }

  async run(): Promise<AdmitResult> {
    await this.follow();
    await this.returnDue();
    await this.resendAlarms();
    let health = 4;
    let allowed = this.cap;
    if (this.policy.health.length) {
      if (!this.o.health) throw new ValidationError(`batch ${this.id} has health gates: admission needs a health reader`);
      const reading = await this.o.health.read(this.policy.health);
      health = reading.level;
      allowed = allowedInFlight(this.cap, reading);
    }
    await this.admit(allowed);
    const counts = await this.backend.batches.counts(this.realm, this.id);
    let state = this.batch.state;
    if (state === 'submitted' && !unfinished(counts)) {
      await this.backend.batches.update(this.realm, this.id, { state: 'finished' });
      state = 'finished';
      this.logger.info({ batch_id: this.id, complete: counts.complete, dead: counts.dead }, 'batch finished');
    }
    return { ...this.r, inFlight: counts.queued + counts.running, allowed, health, pending: counts.pending, counts, state };
  }

  private move(task: BatchTask, from: readonly BatchTaskState[], to: BatchTaskState, patch: AdmissionInfo = {}) {
    return this.backend.batches.transition(this.realm, this.id, task.key, from, to, { ...patch });
  }

  /** Step 1: admitted tasks whose run moved on, ended, or was lost. */
  private async follow(): Promise<void> {
    const now = this.now().getTime();
    for (const state of ['queued', 'running'] as const) {
      for await (const task of tasksIn(this.backend, this.realm, this.id, state)) {
        const info = task.info as AdmissionInfo;
        if (!info.run_id) continue;
        const record = await this.backend.events.get(this.realm, this.batch.job_id, info.run_id);
        const since = now - Date.parse(info.admitted ?? '');
        if (!record) {
          // Queued without a record: the admitting replica stopped before dispatching. Running without
          // one: the record expired (EVENT_TTL) before a pass saw the run end, so its outcome is unknown.
          if (state === 'running' || since > (this.o.orphanSeconds ?? DEFAULT_ORPHAN_SECONDS) * 1000) {
            const error =
              state === 'queued'
                ? `run ${info.run_id} was never recorded: the replica that admitted it stopped before dispatching`
                : `the record of run ${info.run_id} expired before its end was seen`;
            await this.attemptFailed(task, [state], { error });
          }
          continue;
        }
        if (FINAL_RUN_STATUSES.has(record.status)) {
          if (record.status === 'complete') {
            if (await this.move(task, ['queued', 'running'], 'complete', { run_status: 'complete', error: null })) {
              this.r.completed++;
            }
          } else {
            await this.attemptFailed(task, ['queued', 'running'], { run_status: record.status, error: runError(record) });
          }
        } else if (record.status === 'queued') {
          await this.resendIfStale(task, info, now);
        } else if (state === 'queued') {
          if (await this.move(task, ['queued'], 'running')) this.r.started++;
        }
      }
    }
  }

  /**
   * A run still `queued` long after its dispatch: the replica may have stopped between recording it and
   * sending its message. Sending it again with the same run id is safe: a run runs at most once.
   */
  private async resendIfStale(task: BatchTask, info: AdmissionInfo, now: number): Promise<void> {
    const last = Date.parse(info.resent ?? info.admitted ?? '');
    if (!(now - last > (this.o.resendSeconds ?? DEFAULT_RESEND_SECONDS) * 1000)) return;
    if (!(await this.move(task, ['queued'], 'queued', { resent: this.now().toISOString() }))) return;
    await this.send(task, info.run_id as string);
    this.r.resent++;
    this.logger.warn({ batch_id: this.id, key: task.key, run_id: info.run_id }, 'run still queued: dispatched again');
  }

  /** An attempt failed: wait and try again, or die when the attempts are used up. */
  private async attemptFailed(task: BatchTask, from: readonly BatchTaskState[], outcome: AdmissionInfo): Promise<void> {
    const info = task.info as AdmissionInfo;
    const used = (info.attempt ?? 0) - (info.attempts_from ?? 0);
    if (used < this.policy.max_attempts) {
      const wait = backoffSeconds(this.policy.backoff, used, this.o.random);
      const retry_at = new Date(this.now().getTime() + wait * 1000).toISOString();
      if (await this.move(task, from, 'failed', { ...outcome, retry_at })) {
        this.r.failed++;
        this.logger.info({ batch_id: this.id, key: task.key, run_id: info.run_id, retry_at, err: outcome.error }, 'task failed');
      }
      return;
    }
    const died: AdmissionInfo = { ...outcome, retry_at: null, died_at: this.now().toISOString() };
    if (this.policy.on_dead.length) Object.assign(died, { alarm: 'pending', alarm_tries: 0 });
    if (!(await this.move(task, from, 'dead', died))) return;
    this.r.failed++;
    this.r.died++;
    this.logger.warn({ batch_id: this.id, key: task.key, run_id: info.run_id, attempts: used, err: outcome.error }, 'task dead');
    if (this.policy.on_dead.length) await this.alarm({ ...task, state: 'dead', info: { ...task.info, ...died } });
  }

  /** Run the `on_dead` actions for a dead task, recording whether they were sent. */
  private async alarm(task: BatchTask): Promise<void> {
    const tries = ((task.info as AdmissionInfo).alarm_tries ?? 0) + 1;
    try {
      if (!this.o.onDead) throw new LavaError('LAVA_ACTION', 'no action runner was given to this admission pass');
      await this.o.onDead(this.batch, task, this.policy);
      await this.move(task, ['dead'], 'dead', { alarm: 'sent', alarm_tries: tries });
    } catch (err) {
      const alarm_error = errorMessage(err);
      await this.move(task, ['dead'], 'dead', {
        alarm: tries >= ALARM_TRIES ? 'failed' : 'pending',
        alarm_tries: tries,
        alarm_error,
      });
      this.logger.error({ batch_id: this.id, key: task.key, err: alarm_error }, 'on_dead actions failed');
    }
  }

  /** Alarms a replica did not confirm (it stopped, or the actions failed) are sent again. */
  private async resendAlarms(): Promise<void> {
    if (!this.policy.on_dead.length) return;
    const now = this.now().getTime();
    for await (const task of tasksIn(this.backend, this.realm, this.id, 'dead')) {
      const info = task.info as AdmissionInfo;
      if (info.alarm !== 'pending') continue;
      const since = now - Date.parse(info.died_at ?? '');
      if (since > ALARM_RETRY_SECONDS * 1000 * Math.max(1, info.alarm_tries ?? 0)) await this.alarm(task);
    }
  }

  /** Step 2: failed tasks whose wait is over go back to `pending`. */
  private async returnDue(): Promise<void> {
    const now = this.now().getTime();
    for await (const task of tasksIn(this.backend, this.realm, this.id, 'failed')) {
      const at = Date.parse((task.info as AdmissionInfo).retry_at ?? '');
      // A task failed before retries existed has no retry_at: it is due.
      if (Number.isNaN(at) || at <= now) {
        if (await this.move(task, ['failed'], 'pending', { run_id: null, retry_at: null })) this.r.retried++;
      }
    }
  }

  /**
   * The batch's tasks in flight, counted up to `upTo` + 1: two short index reads rather than a count
   * over every task of a large batch, since it is asked again after each claim.
   */
  private async inFlight(upTo: number): Promise<number> {
    let n = 0;
    for (const state of ['queued', 'running'] as const) {
      n += (await this.backend.batches.listTasks(this.realm, this.id, state, { limit: Math.max(1, upTo + 1) })).tasks.length;
    }
    return n;
  }

  /** The room left under the batch's allowance and every shared cap. */
  private async room(allowed: number): Promise<number> {
    let room = allowed - (await this.inFlight(allowed));
    for (const limit of this.o.limits ?? []) room = Math.min(room, limit.cap - (await limit.inFlight()));
    return room;
  }

  /** Step 3: admit pending tasks while there is room. */
  private async admit(allowed: number): Promise<void> {
    let room = await this.room(allowed);
    let cursor: string | undefined;
    while (room > 0) {
      const page = await this.backend.batches.listTasks(this.realm, this.id, 'pending', {
        limit: Math.max(room, 10),
        ...(cursor ? { cursor } : {}),
      });
      for (const task of page.tasks) {
        if (room <= 0) break;
        const outcome = await this.admitTask(task, allowed);
        if (outcome === 'admitted') room--;
        else if (outcome === 'full') room = 0;
      }
      if (!page.cursor) break;
      cursor = page.cursor;
    }
  }

  /**
   * Claim one pending task and dispatch its run. `lost`: another replica claimed it first; `full`:
   * claims of other replicas filled a cap, so this claim was given back undispatched.
   */
  private async admitTask(task: BatchTask, allowed: number): Promise<'admitted' | 'lost' | 'full' | 'failed'> {
    const prior = (task.info as AdmissionInfo).attempt ?? 0;
    const attempt = prior + 1;
    const runId = taskRunId(this.id, task.key, attempt);
    const claim: AdmissionInfo = { run_id: runId, attempt, admitted: this.now().toISOString(), resent: null };
    if (!(await this.move(task, ['pending'], 'queued', claim))) return 'lost';
    // Replicas counted in flight before claiming: over a cap now means some claimed at once. Each
    // one that sees it gives its claim back, so dispatched runs never exceed the caps.
    if ((await this.room(allowed)) < 0) {
      await this.move(task, ['queued'], 'pending', { run_id: null, attempt: prior });
      return 'full';
    }
    // A replica that stalled past BATCH_ORPHAN_TIMEOUT may have lost its claim to the orphan check:
    // dispatch only while the claim is still this attempt's.
    const held = await this.backend.batches.getTask(this.realm, this.id, task.key);
    if (held?.state !== 'queued' || (held.info as AdmissionInfo).run_id !== runId) return 'lost';
    try {
      await this.send(task, runId);
      this.r.admitted++;
      this.logger.debug({ batch_id: this.id, key: task.key, run_id: runId }, 'task admitted');
      return 'admitted';
    } catch (err) {
      const error = errorMessage(err);
      this.logger.warn({ batch_id: this.id, key: task.key, run_id: runId, err: error }, 'could not dispatch a task');
      // A retryable failure (the queue is down) puts the task back; the next claim is a new attempt, a
      // new run id. Any other (the job was deleted) is a failed attempt.
      if (err instanceof LavaError && err.retryable) {
        await this.move(task, ['queued'], 'pending', { run_id: null, error });
      } else {
        await this.attemptFailed({ ...task, info: { ...task.info, ...claim } }, ['queued'], { error });
      }
      return 'failed';
    }
  }

  private async send(task: BatchTask, runId: string): Promise<void> {
    this.config ??= await realmConfig(this.backend, this.realm);
    if (this.worker === undefined) {
      const raw = await this.backend.config.get(this.realm, 'jobs', this.batch.job_id);
      if (!raw) {
        throw new NotFoundError('job', this.batch.job_id, `the batch's job was deleted: put it back with \`lava job put FILE\``);
      }
      this.worker = parseSpec('job', raw, this.batch.job_id).worker;
    }
    await dispatch(
      this.backend,
      { realm: this.realm, jobId: this.batch.job_id, worker: this.worker, runId, globals: taskGlobals(this.batch, task) },
      { config: this.config },
    );
  }
}

async function* tasksIn(backend: Backend, realm: string, batchId: string, state: BatchTaskState): AsyncGenerator<BatchTask> {
  let cursor: string | undefined;
  do {
    const page = await backend.batches.listTasks(realm, batchId, state, { limit: PAGE, ...(cursor ? { cursor } : {}) });
    yield* page.tasks;
    cursor = page.cursor;
  } while (cursor);
}

export interface RunBatchOptions extends AdmitOptions {
  /** Milliseconds between passes. @default 1000 */
  everyMs?: number;
  /** Stops the loop between passes. */
  signal?: AbortSignal;
  /** Called after each pass. */
  onPass?: (result: AdmitResult) => void;
}

/** Admission passes until the batch has no task left to run (or `signal` aborts). */
export async function runBatch(
  backend: Backend,
  realm: string,
  batchId: string,
  options: RunBatchOptions = {},
): Promise<AdmitResult> {
  const everyMs = options.everyMs ?? 1000;
  for (;;) {
    const result = await admitOnce(backend, realm, batchId, options);
    options.onPass?.(result);
    if (!unfinished(result.counts) || options.signal?.aborted) return result;
    // Something ended or started: there may be room at once (a slot freed is refilled without waiting).
    if (!(result.completed || result.failed || result.retried)) await sleep(everyMs, options.signal);
    if (options.signal?.aborted) return result;
  }
}
