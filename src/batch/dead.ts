/**
 * Dead tasks of a batch (docs/batches.md): tasks out of attempts wait in `dead` for an operator, who
 * retries them (back to `pending`, with a fresh allowance of attempts) or discards them. Each move
 * is the store's guarded transition from `dead`, so two operators (or a retry of a request) acting on
 * the same tasks at once move each task once; acting again moves nothing.
 */
import type { Backend, BatchTask, BatchTaskPage } from '../backends/ports.js';
import { ValidationError } from '../core/errors.js';
import { MAX_TASK_PAGE, getBatch } from './tasks.js';

/** Most keys one retry or discard call names (`all` has no limit: it pages through the dead tasks). */
export const MAX_KEYS = 1000;
/** Dead tasks read per store call when acting on all of them. */
const PAGE = 200;

/** What a retry or discard did. */
export interface DeadActionResult {
  /** Tasks this call moved. */
  moved: number;
  /** Named keys that are not tasks of the batch. */
  unknown: string[];
  /** Named keys of tasks that were not dead (already retried or discarded, or never dead). */
  skipped: string[];
}

/** The dead tasks of a batch, in key order. */
export async function listDead(
  backend: Backend,
  realm: string,
  batchId: string,
  page: { limit?: number; cursor?: string } = {},
): Promise<BatchTaskPage> {
  const limit = page.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TASK_PAGE) {
    throw new ValidationError(`limit ${limit}: a whole number from 1 to ${MAX_TASK_PAGE}`);
  }
  await getBatch(backend, realm, batchId);
  return backend.batches.listTasks(realm, batchId, 'dead', { limit, ...(page.cursor ? { cursor: page.cursor } : {}) });
}

/** Attempts a task has used since it was last revived (info.attempt − info.attempts_from). */
export function attemptsUsed(task: BatchTask): number {
  const info = task.info as { attempt?: number; attempts_from?: number | null };
  return (info.attempt ?? 0) - (info.attempts_from ?? 0);
}

/**
 * Move dead tasks back to `pending` with a fresh allowance of attempts (`attempts_from` is set to
 * the attempts so far; `attempt` itself never goes back, run ids derive from it). A finished batch
 * becomes `submitted` again, so admission picks it up.
 */
export async function retryDead(
  backend: Backend,
  realm: string,
  batchId: string,
  keys: readonly string[] | 'all',
): Promise<DeadActionResult> {
  const batch = await getBatch(backend, realm, batchId);
  const result = await act(backend, realm, batchId, keys, async (task) =>
    backend.batches.transition(realm, batchId, task.key, ['dead'], 'pending', {
      attempts_from: (task.info as { attempt?: number }).attempt ?? 0,
      retry_at: null,
      died_at: null,
      error: null,
    }),
  );
  if (result.moved > 0) {
    // Read again: admission may have finished the batch after the read above.
    const now = (await backend.batches.get(realm, batchId)) ?? batch;
    if (now.state === 'finished') {
      await backend.batches.update(realm, batchId, {
        state: 'submitted',
        ...(now.task_count !== undefined ? { task_count: now.task_count } : {}),
      });
    }
  }
  return result;
}

/** Move dead tasks to `discarded`: they stay in the batch (counted as done) and are never run again. */
export async function discardDead(
  backend: Backend,
  realm: string,
  batchId: string,
  keys: readonly string[] | 'all',
  now: () => Date = () => new Date(),
): Promise<DeadActionResult> {
  await getBatch(backend, realm, batchId);
  return act(backend, realm, batchId, keys, (task) =>
    backend.batches.transition(realm, batchId, task.key, ['dead'], 'discarded', { discarded_at: now().toISOString() }),
  );
}

async function act(
  backend: Backend,
  realm: string,
  batchId: string,
  keys: readonly string[] | 'all',
  move: (task: BatchTask) => Promise<boolean>,
): Promise<DeadActionResult> {
  const result: DeadActionResult = { moved: 0, unknown: [], skipped: [] };
  if (keys === 'all') {
    // The store's cursor is the last key seen, so tasks moved out of `dead` meanwhile do not shift pages.
    let cursor: string | undefined;
    do {
      const page = await backend.batches.listTasks(realm, batchId, 'dead', { limit: PAGE, ...(cursor ? { cursor } : {}) });
      for (const task of page.tasks) if (await move(task)) result.moved++;
      cursor = page.cursor;
    } while (cursor);
    return result;
  }
  checkKeys(keys);
  for (const key of new Set(keys)) {
    const task = await backend.batches.getTask(realm, batchId, key);
    if (!task) result.unknown.push(key);
    else if (task.state !== 'dead' || !(await move(task))) result.skipped.push(key);
    else result.moved++;
  }
  return result;
}

function checkKeys(keys: readonly string[]): void {
  if (!keys.length) throw new ValidationError('keys: name at least one task key, or all dead tasks (--all / {"all": true})');
  if (keys.length > MAX_KEYS) throw new ValidationError(`keys: at most ${MAX_KEYS} keys at once (or all dead tasks)`);
  for (const k of keys) {
    if (typeof k !== 'string' || k === '' || k.length > 1000) throw new ValidationError('keys: each key is a non-empty string');
  }
}
