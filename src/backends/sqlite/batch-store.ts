/** Orchestrated batches and their tasks in the `batches` and `batch_tasks` tables. */
import type Database from 'better-sqlite3';
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

interface BatchRow {
  batch_id: string;
  job_id: string;
  options: string;
  submitted: string;
  state: string;
  task_count: number | null;
}

interface TaskRow {
  key: string;
  state: string;
  task: string;
  info: string;
  updated: string;
}

function toBatch(r: BatchRow): BatchRecord {
  return {
    batch_id: r.batch_id,
    job_id: r.job_id,
    options: JSON.parse(r.options) as Item,
    submitted: r.submitted,
    state: r.state,
    ...(r.task_count !== null ? { task_count: r.task_count } : {}),
  };
}

function toTask(r: TaskRow): BatchTask {
  return {
    key: r.key,
    state: r.state as BatchTaskState,
    task: JSON.parse(r.task) as Item,
    info: JSON.parse(r.info) as Item,
    updated: r.updated,
  };
}

export class SqliteBatchStore implements BatchStore {
  private readonly insertTasks: (realm: string, batchId: string, tasks: readonly NewBatchTask[]) => number;
  private readonly move: Database.Transaction<
    (realm: string, batchId: string, key: string, from: readonly BatchTaskState[], to: BatchTaskState, patch: Item) => boolean
  >;

  /** Statements prepared once: preparing is a good part of a short query's cost. */
  private readonly statements = new Map<string, Database.Statement>();
  private sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (!st) this.statements.set(text, (st = this.db.prepare(text)));
    return st;
  }

  constructor(private readonly db: Database.Database) {
    const insert = db.prepare(
      `INSERT OR IGNORE INTO batch_tasks (realm, batch_id, key, state, task, info, updated)
       VALUES (?, ?, ?, 'pending', ?, '{}', ?)`,
    );
    this.insertTasks = db.transaction((realm: string, batchId: string, tasks: readonly NewBatchTask[]) => {
      const now = new Date().toISOString();
      let added = 0;
      for (const t of tasks) added += insert.run(realm, batchId, t.key, JSON.stringify(t.task), now).changes;
      return added;
    });
    const read = db.prepare('SELECT state, info FROM batch_tasks WHERE realm = ? AND batch_id = ? AND key = ?');
    const write = db.prepare(
      'UPDATE batch_tasks SET state = ?, info = ?, updated = ? WHERE realm = ? AND batch_id = ? AND key = ?',
    );
    this.move = db.transaction(
      (realm: string, batchId: string, key: string, from: readonly BatchTaskState[], to: BatchTaskState, patch: Item) => {
        const row = read.get(realm, batchId, key) as { state: BatchTaskState; info: string } | undefined;
        if (!row || !from.includes(row.state)) return false;
        const info = { ...(JSON.parse(row.info) as Item), ...patch };
        write.run(to, JSON.stringify(info), new Date().toISOString(), realm, batchId, key);
        return true;
      },
    );
  }

  async create(realm: string, batch: BatchRecord): Promise<{ batch: BatchRecord; created: boolean }> {
    const created =
      this.sql(
        `INSERT OR IGNORE INTO batches (realm, batch_id, job_id, options, submitted, state, task_count)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        realm,
        batch.batch_id,
        batch.job_id,
        JSON.stringify(batch.options),
        batch.submitted,
        batch.state,
        batch.task_count ?? null,
      ).changes > 0;
    return { batch: (await this.get(realm, batch.batch_id)) as BatchRecord, created };
  }

  async get(realm: string, batchId: string): Promise<BatchRecord | undefined> {
    const row = this.sql('SELECT * FROM batches WHERE realm = ? AND batch_id = ?').get(realm, batchId) as BatchRow | undefined;
    return row ? toBatch(row) : undefined;
  }

  async list(realm: string): Promise<BatchRecord[]> {
    const rows = this.sql('SELECT * FROM batches WHERE realm = ? ORDER BY submitted, batch_id').all(realm) as BatchRow[];
    return rows.map(toBatch);
  }

  async update(realm: string, batchId: string, patch: { state: string; task_count?: number }): Promise<void> {
    this.sql('UPDATE batches SET state = ?, task_count = coalesce(?, task_count) WHERE realm = ? AND batch_id = ?').run(
      patch.state,
      patch.task_count ?? null,
      realm,
      batchId,
    );
  }

  async addTasks(realm: string, batchId: string, tasks: readonly NewBatchTask[]): Promise<number> {
    return tasks.length ? this.insertTasks(realm, batchId, tasks) : 0;
  }

  async counts(realm: string, batchId: string): Promise<Record<BatchTaskState, number>> {
    const out = Object.fromEntries(BATCH_TASK_STATES.map((s) => [s, 0])) as Record<BatchTaskState, number>;
    const rows = this.sql('SELECT state, count(*) AS n FROM batch_tasks WHERE realm = ? AND batch_id = ? GROUP BY state').all(
      realm,
      batchId,
    ) as { state: BatchTaskState; n: number }[];
    for (const r of rows) out[r.state] = r.n;
    return out;
  }

  async listTasks(
    realm: string,
    batchId: string,
    state: BatchTaskState,
    page: { limit?: number; cursor?: string } = {},
  ): Promise<BatchTaskPage> {
    const limit = page.limit ?? 100;
    const rows = this.sql(
      `SELECT key, state, task, info, updated FROM batch_tasks
         WHERE realm = ? AND batch_id = ? AND state = ? AND key > ? ORDER BY key LIMIT ?`,
    ).all(realm, batchId, state, page.cursor ?? '', limit + 1) as TaskRow[];
    const tasks = rows.slice(0, limit).map(toTask);
    return rows.length > limit ? { tasks, cursor: tasks.at(-1)?.key as string } : { tasks };
  }

  async getTask(realm: string, batchId: string, key: string): Promise<BatchTask | undefined> {
    const row = this.sql(
      'SELECT key, state, task, info, updated FROM batch_tasks WHERE realm = ? AND batch_id = ? AND key = ?',
    ).get(realm, batchId, key) as TaskRow | undefined;
    return row ? toTask(row) : undefined;
  }

  async transition(
    realm: string,
    batchId: string,
    key: string,
    from: readonly BatchTaskState[],
    to: BatchTaskState,
    patch: Item = {},
  ): Promise<boolean> {
    // IMMEDIATE: take the write lock before reading, so two processes cannot both see the old state.
    return this.move.immediate(realm, batchId, key, from, to, patch);
  }
}
