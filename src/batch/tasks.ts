/**
 * Reading a batch for operators: its record with tasks per state and how much is done, and its
 * tasks across several states with one cursor (`lava batch tasks`, GET /api/batches/{id}/tasks).
 */
import { BATCH_TASK_STATES, type Backend, type BatchRecord, type BatchTask, type BatchTaskState } from '../backends/ports.js';
import { NotFoundError, ValidationError } from '../core/errors.js';

/** States a task does not leave on its own: they count as done for progress. */
export const DONE_STATES: readonly BatchTaskState[] = ['complete', 'dead', 'discarded'];
/** States of a task whose work ended: its outcome is known (the archive). */
export const CLOSED_STATES: readonly BatchTaskState[] = ['complete', 'dead', 'discarded'];
/** Most tasks one listing call returns. */
export const MAX_TASK_PAGE = 1000;

export interface BatchSummary extends BatchRecord {
  counts: Record<BatchTaskState, number>;
  /** Tasks in the batch (every state). */
  total: number;
  /** Tasks complete, dead or discarded. */
  done: number;
  /** done / total, 0 … 1 (0 for an empty batch). */
  fraction: number;
}

/** The batch, or NotFoundError naming how to list batches. */
export async function getBatch(backend: Backend, realm: string, batchId: string): Promise<BatchRecord> {
  const batch = await backend.batches.get(realm, batchId);
  if (!batch) throw new NotFoundError('batch', batchId, 'list batches with `lava batch ls`');
  return batch;
}

export function summarize(batch: BatchRecord, counts: Record<BatchTaskState, number>): BatchSummary {
  const total = BATCH_TASK_STATES.reduce((n, s) => n + counts[s], 0);
  const done = DONE_STATES.reduce((n, s) => n + counts[s], 0);
  return { ...batch, counts, total, done, fraction: total ? done / total : 0 };
}

export async function batchSummary(backend: Backend, realm: string, batchId: string): Promise<BatchSummary> {
  const batch = await getBatch(backend, realm, batchId);
  return summarize(batch, await backend.batches.counts(realm, batchId));
}

export interface TaskListing {
  tasks: BatchTask[];
  /** Pass back for the next page; absent on the last one. */
  cursor?: string;
}

interface Position {
  /** Index into the listed states. */
  s: number;
  /** The store's cursor within that state. */
  c?: string;
}

function encode(p: Position): string {
  return Buffer.from(JSON.stringify(p)).toString('base64url');
}

function decode(cursor: string, states: readonly BatchTaskState[]): Position {
  try {
    const p = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Position;
    if (Number.isInteger(p.s) && p.s >= 0 && p.s < states.length && (p.c === undefined || typeof p.c === 'string')) return p;
  } catch {
    // reported below
  }
  throw new ValidationError('cursor: not a cursor from this listing: pass back the `cursor` of the previous page unchanged');
}

/** Parse a task state named by an operator. */
export function taskState(value: string, what = 'state'): BatchTaskState {
  if ((BATCH_TASK_STATES as readonly string[]).includes(value)) return value as BatchTaskState;
  throw new ValidationError(`${what} "${value}" is not a task state: use one of ${BATCH_TASK_STATES.join(', ')}`);
}

/**
 * Tasks of the batch in `states`, state by state and in key order within a state, at most `limit`
 * (default 100, at most MAX_TASK_PAGE) from after `cursor`.
 */
export async function listBatchTasks(
  backend: Backend,
  realm: string,
  batchId: string,
  states: readonly BatchTaskState[],
  page: { limit?: number; cursor?: string } = {},
): Promise<TaskListing> {
  const limit = page.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TASK_PAGE) {
    throw new ValidationError(`limit ${limit}: a whole number from 1 to ${MAX_TASK_PAGE}`);
  }
  if (!states.length) throw new ValidationError('state: name at least one task state');
  await getBatch(backend, realm, batchId);
  let at: Position = page.cursor ? decode(page.cursor, states) : { s: 0 };
  const tasks: BatchTask[] = [];
  while (tasks.length < limit) {
    const state = states[at.s] as BatchTaskState;
    const got = await backend.batches.listTasks(realm, batchId, state, {
      limit: limit - tasks.length,
      ...(at.c ? { cursor: at.c } : {}),
    });
    tasks.push(...got.tasks);
    if (got.cursor) at = { s: at.s, c: got.cursor };
    else if (at.s + 1 < states.length) at = { s: at.s + 1 };
    else return { tasks };
  }
  return { tasks, cursor: encode(at) };
}
