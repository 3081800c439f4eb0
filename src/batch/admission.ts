/**
 * Admission of a batch's tasks (docs/batches.md, "Admission"): one pass first moves admitted tasks
 * whose run has moved on (`queued` → `running`) or ended (→ `complete` or `failed`), then admits
 * `pending` tasks by dispatching a run of the batch's job each, keeping at most `cap` tasks in
 * flight (`queued` + `running`). Every move is a guarded transition of the store, so replicas
 * running passes at once never admit one task twice: a task is claimed (`pending` → `queued`, with
 * its run id) before its run is dispatched, and only the replica whose claim won dispatches.
 */
import { createHash } from 'node:crypto';
import type { Backend, BatchRecord, BatchTask, BatchTaskState } from '../backends/ports.js';
import type { Config } from '../core/config.js';
import { LavaError, NotFoundError, ValidationError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { sleep } from '../core/time.js';
import { dispatch, realmConfig } from '../dispatch/dispatch.js';

/** Run statuses that end a run (as observe's FINAL_STATUSES; batch/ may not import observe/). */
const FINAL_RUN_STATUSES: ReadonlySet<string> = new Set(['complete', 'failed', 'skipped', 'rejected', 'action_failed']);

/** Tasks read per store call. */
const PAGE = 100;

/** A task whose claim is older than this and whose run has no record was never dispatched (its replica died). */
export const DEFAULT_ORPHAN_SECONDS = 300;

export interface AdmitOptions {
  /** Most tasks in flight (`queued` + `running`) at once. */
  cap: number;
  logger?: Logger;
  /** See DEFAULT_ORPHAN_SECONDS. */
  orphanSeconds?: number;
  /** For tests. */
  now?: () => Date;
}

export interface AdmitResult {
  /** Tasks moved `queued` → `running`. */
  started: number;
  /** Tasks moved to `complete`. */
  completed: number;
  /** Tasks moved to `failed`. */
  failed: number;
  /** Tasks this pass admitted (claimed and dispatched). */
  admitted: number;
  /** Tasks in flight after the pass. */
  inFlight: number;
  /** Tasks still `pending` after the pass. */
  pending: number;
  /** Tasks per state after the pass. */
  counts: Record<BatchTaskState, number>;
}

/** What admission keeps in a task's `info`. */
export interface AdmissionInfo {
  run_id?: string | null;
  /** Claims that dispatched a run (or tried to). */
  attempt?: number;
  /** ISO time of the claim. */
  admitted?: string;
  /** The status of the run when it ended. */
  run_status?: string;
  error?: string;
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

/** One admission pass over a batch; see the file comment. */
export async function admitOnce(backend: Backend, realm: string, batchId: string, options: AdmitOptions): Promise<AdmitResult> {
  const { cap } = options;
  if (!Number.isInteger(cap) || cap < 1) throw new ValidationError('batch: the cap must be a positive integer');
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? (() => new Date());
  const orphanMs = (options.orphanSeconds ?? DEFAULT_ORPHAN_SECONDS) * 1000;
  const batch = await backend.batches.get(realm, batchId);
  if (!batch) throw new NotFoundError('batch', batchId, 'list batches with `lava batch ls`');
  const result = { started: 0, completed: 0, failed: 0, admitted: 0 };

  // 1. Admitted tasks whose run moved on or ended.
  for (const state of ['queued', 'running'] as const) {
    for await (const task of tasksIn(backend, realm, batchId, state)) {
      const info = task.info as AdmissionInfo;
      if (!info.run_id) continue;
      const record = await backend.events.get(realm, batch.job_id, info.run_id);
      if (!record) {
        const claimed = info.admitted ? Date.parse(info.admitted) : NaN;
        if (state === 'queued' && now().getTime() - claimed > orphanMs) {
          const error = `run ${info.run_id} was never recorded: the replica that admitted it stopped before dispatching`;
          if (await backend.batches.transition(realm, batchId, task.key, ['queued'], 'failed', { error })) {
            result.failed++;
            logger.warn({ batch_id: batchId, key: task.key, run_id: info.run_id }, error);
          }
        }
        continue;
      }
      if (FINAL_RUN_STATUSES.has(record.status)) {
        const to = record.status === 'complete' ? 'complete' : 'failed';
        if (
          await backend.batches.transition(realm, batchId, task.key, ['queued', 'running'], to, { run_status: record.status })
        ) {
          if (to === 'complete') result.completed++;
          else result.failed++;
        }
      } else if (state === 'queued' && record.status !== 'queued') {
        if (await backend.batches.transition(realm, batchId, task.key, ['queued'], 'running')) result.started++;
      }
    }
  }

  // 2. Admit pending tasks up to the cap.
  let counts = await backend.batches.counts(realm, batchId);
  let room = cap - counts.queued - counts.running;
  let cursor: string | undefined;
  let config: Config | undefined; // read once a task is admitted, then shared by every dispatch of the pass
  while (room > 0) {
    const page = await backend.batches.listTasks(realm, batchId, 'pending', {
      limit: Math.max(room, 10),
      ...(cursor ? { cursor } : {}),
    });
    for (const task of page.tasks) {
      if (room <= 0) break;
      const outcome = await admit(backend, realm, batch, task, cap, now, logger, (config ??= await realmConfig(backend, realm)));
      if (outcome === 'admitted') {
        result.admitted++;
        room--;
      } else if (outcome === 'full') room = 0;
    }
    if (!page.cursor) break;
    cursor = page.cursor;
  }
  counts = await backend.batches.counts(realm, batchId);
  return { ...result, inFlight: counts.queued + counts.running, pending: counts.pending, counts };
}

/**
 * Claim one pending task and dispatch its run. `lost`: another replica claimed it first; `full`:
 * claims of other replicas filled the cap, so this claim was given back undispatched.
 */
async function admit(
  backend: Backend,
  realm: string,
  batch: BatchRecord,
  task: BatchTask,
  cap: number,
  now: () => Date,
  logger: Logger,
  config: Config,
): Promise<'admitted' | 'lost' | 'full' | 'failed'> {
  const batchId = batch.batch_id;
  const prior = (task.info as AdmissionInfo).attempt ?? 0;
  const attempt = prior + 1;
  const runId = taskRunId(batchId, task.key, attempt);
  const claim: AdmissionInfo = { run_id: runId, attempt, admitted: now().toISOString() };
  if (!(await backend.batches.transition(realm, batchId, task.key, ['pending'], 'queued', { ...claim }))) return 'lost';
  // Replicas counted in flight before claiming: over the cap now means some claimed at once. Each
  // one that sees it gives its claim back, so dispatched runs never exceed the cap.
  const counts = await backend.batches.counts(realm, batchId);
  if (counts.queued + counts.running > cap) {
    const back: AdmissionInfo = { run_id: null, attempt: prior };
    await backend.batches.transition(realm, batchId, task.key, ['queued'], 'pending', { ...back });
    return 'full';
  }
  try {
    await dispatch(backend, { realm, jobId: batch.job_id, runId, globals: taskGlobals(batch, task) }, { config });
    logger.debug({ batch_id: batchId, key: task.key, run_id: runId }, 'task admitted');
    return 'admitted';
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    // A retryable failure (the queue is down) puts the task back; the next claim is a new attempt, a new run id.
    const retry = err instanceof LavaError && err.retryable;
    const patch: AdmissionInfo = retry ? { run_id: null, error } : { error };
    await backend.batches.transition(realm, batchId, task.key, ['queued'], retry ? 'pending' : 'failed', { ...patch });
    logger.warn({ batch_id: batchId, key: task.key, run_id: runId, err: error }, 'could not dispatch a task');
    return 'failed';
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

/** Whether a batch still has work: a task `pending`, `queued` or `running`. */
export function unfinished(counts: Record<BatchTaskState, number>): boolean {
  return counts.pending + counts.queued + counts.running > 0;
}

export interface RunBatchOptions extends AdmitOptions {
  /** Milliseconds between passes. @default 1000 */
  everyMs?: number;
  /** Stops the loop between passes. */
  signal?: AbortSignal;
  /** Called after each pass. */
  onPass?: (result: AdmitResult) => void;
}

/** Admission passes until the batch has no `pending`, `queued` or `running` task (or `signal` aborts). */
export async function runBatch(backend: Backend, realm: string, batchId: string, options: RunBatchOptions): Promise<AdmitResult> {
  const everyMs = options.everyMs ?? 1000;
  for (;;) {
    const result = await admitOnce(backend, realm, batchId, options);
    options.onPass?.(result);
    if (!unfinished(result.counts) || options.signal?.aborted) return result;
    await sleep(everyMs, options.signal);
    if (options.signal?.aborted) return result;
  }
}
