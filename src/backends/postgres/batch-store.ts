/**
 * Orchestrated batches and their tasks in `<schema>.batches` and `<schema>.batch_tasks`. Adding
 * tasks is one `INSERT … ON CONFLICT DO NOTHING` per chunk; a transition is one conditional UPDATE,
 * so of two replicas moving the same task only one matches its `from` state.
 */
import {
  BATCH_TASK_STATES,
  type BatchRecord,
  type BatchStore,
  type BatchTask,
  type BatchTaskPage,
  type BatchTaskState,
  type Item,
  type NewBatchTask,
} from '../ports.js';
import type { Db } from './db.js';

interface BatchRow {
  batch_id: string;
  job_id: string;
  options: Item;
  submitted: string;
  state: string;
  task_count: number | null;
}

interface TaskRow {
  key: string;
  state: BatchTaskState;
  task: Item;
  info: Item;
  updated: Date;
}

function toBatch(r: BatchRow): BatchRecord {
  return {
    batch_id: r.batch_id,
    job_id: r.job_id,
    options: r.options,
    submitted: r.submitted,
    state: r.state,
    ...(r.task_count !== null ? { task_count: r.task_count } : {}),
  };
}

const toTask = (r: TaskRow): BatchTask => ({
  key: r.key,
  state: r.state,
  task: r.task,
  info: r.info,
  updated: r.updated.toISOString(),
});

const BATCH_COLS = 'batch_id, job_id, options, submitted, state, task_count';
const TASK_COLS = 'key, state, task, info, updated';

export class PostgresBatchStore implements BatchStore {
  constructor(private readonly db: Db) {}

  async create(realm: string, batch: BatchRecord): Promise<{ batch: BatchRecord; created: boolean }> {
    const res = await this.db.query(
      `INSERT INTO ${this.db.t('batches')} (realm, ${BATCH_COLS}) VALUES ($1, $2, $3, $4::json, $5, $6, $7)
       ON CONFLICT (realm, batch_id) DO NOTHING`,
      [
        realm,
        batch.batch_id,
        batch.job_id,
        JSON.stringify(batch.options),
        batch.submitted,
        batch.state,
        batch.task_count ?? null,
      ],
    );
    return { batch: (await this.get(realm, batch.batch_id)) as BatchRecord, created: (res.rowCount ?? 0) > 0 };
  }

  async get(realm: string, batchId: string): Promise<BatchRecord | undefined> {
    const { rows } = await this.db.query<BatchRow>(
      `SELECT ${BATCH_COLS} FROM ${this.db.t('batches')} WHERE realm = $1 AND batch_id = $2`,
      [realm, batchId],
    );
    return rows[0] ? toBatch(rows[0]) : undefined;
  }

  async list(realm: string): Promise<BatchRecord[]> {
    const { rows } = await this.db.query<BatchRow>(
      `SELECT ${BATCH_COLS} FROM ${this.db.t('batches')} WHERE realm = $1 ORDER BY submitted, batch_id`,
      [realm],
    );
    return rows.map(toBatch);
  }

  async update(realm: string, batchId: string, patch: { state: string; task_count?: number }): Promise<void> {
    await this.db.query(
      `UPDATE ${this.db.t('batches')} SET state = $3, task_count = coalesce($4, task_count) WHERE realm = $1 AND batch_id = $2`,
      [realm, batchId, patch.state, patch.task_count ?? null],
    );
  }

  async addTasks(realm: string, batchId: string, tasks: readonly NewBatchTask[]): Promise<number> {
    if (!tasks.length) return 0;
    const res = await this.db.query(
      `INSERT INTO ${this.db.t('batch_tasks')} (realm, batch_id, key, state, task)
       SELECT $1, $2, k, 'pending', t::json FROM unnest($3::text[], $4::text[]) AS u(k, t)
       ON CONFLICT (realm, batch_id, key) DO NOTHING`,
      [realm, batchId, tasks.map((t) => t.key), tasks.map((t) => JSON.stringify(t.task))],
    );
    return res.rowCount ?? 0;
  }

  async counts(realm: string, batchId: string): Promise<Record<BatchTaskState, number>> {
    const out = Object.fromEntries(BATCH_TASK_STATES.map((s) => [s, 0])) as Record<BatchTaskState, number>;
    const { rows } = await this.db.query<{ state: BatchTaskState; n: string }>(
      `SELECT state, count(*) AS n FROM ${this.db.t('batch_tasks')} WHERE realm = $1 AND batch_id = $2 GROUP BY state`,
      [realm, batchId],
    );
    for (const r of rows) out[r.state] = Number(r.n);
    return out;
  }

  async listTasks(
    realm: string,
    batchId: string,
    state: BatchTaskState,
    page: { limit?: number; cursor?: string } = {},
  ): Promise<BatchTaskPage> {
    const limit = page.limit ?? 100;
    const { rows } = await this.db.query<TaskRow>(
      `SELECT ${TASK_COLS} FROM ${this.db.t('batch_tasks')}
       WHERE realm = $1 AND batch_id = $2 AND state = $3 AND key > $4 ORDER BY key LIMIT $5`,
      [realm, batchId, state, page.cursor ?? '', limit + 1],
    );
    const tasks = rows.slice(0, limit).map(toTask);
    return rows.length > limit ? { tasks, cursor: tasks.at(-1)?.key as string } : { tasks };
  }

  async getTask(realm: string, batchId: string, key: string): Promise<BatchTask | undefined> {
    const { rows } = await this.db.query<TaskRow>(
      `SELECT ${TASK_COLS} FROM ${this.db.t('batch_tasks')} WHERE realm = $1 AND batch_id = $2 AND key = $3`,
      [realm, batchId, key],
    );
    return rows[0] ? toTask(rows[0]) : undefined;
  }

  async transition(
    realm: string,
    batchId: string,
    key: string,
    from: readonly BatchTaskState[],
    to: BatchTaskState,
    patch: Item = {},
  ): Promise<boolean> {
    const res = await this.db.query(
      `UPDATE ${this.db.t('batch_tasks')} SET state = $5, info = info || $6::jsonb, updated = now()
       WHERE realm = $1 AND batch_id = $2 AND key = $3 AND state = ANY($4::text[])`,
      [realm, batchId, key, [...from], to, JSON.stringify(patch)],
    );
    return (res.rowCount ?? 0) > 0;
  }
}
