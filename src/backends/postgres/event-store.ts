import { randomUUID } from 'node:crypto';
import { isoUtcNaive } from '../../core/time.js';
import { logEntries } from '../event-entries.js';
import type { EventEntry, EventQuery, EventRecord, EventStore, NewEvent } from '../ports.js';
import type { Db } from './db.js';

interface Row extends Omit<EventRecord, 'ttl'> {
  ttl: string | null;
}

const COLUMNS = 'job_id, run_id, status, ts_dispatch, ts_event, tu_event, ttl, worker, worker_id, instance_id, hostname, log';

/**
 * One row per run; each event updates the top-level fields and appends to the `log` jsonb array in one
 * statement, at most once even when a retry repeats a statement the server had committed.
 */
export class PostgresEventStore implements EventStore {
  private readonly upsert: string;

  constructor(private readonly db: Db) {
    const events = db.t('events');
    this.upsert = `
      INSERT INTO ${events} AS e (realm, job_id, run_id, status, ts_dispatch, ts_event, tu_event, ttl, worker, hostname, log, last_append)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $13)
      ON CONFLICT (realm, job_id, run_id) DO UPDATE SET
        status = CASE WHEN $12 THEN e.status ELSE excluded.status END,
        ts_event = excluded.ts_event, tu_event = excluded.tu_event, ttl = excluded.ttl,
        ts_dispatch = coalesce(excluded.ts_dispatch, e.ts_dispatch), worker = coalesce(excluded.worker, e.worker),
        hostname = coalesce(excluded.hostname, e.hostname),
        log = CASE WHEN e.last_append = $13 THEN e.log ELSE e.log || $11::jsonb END,
        last_append = $13`;
  }

  async record(realm: string, e: NewEvent): Promise<void> {
    const entries = logEntries(e);
    const last = entries.at(-1) as EventEntry;
    await this.db.query(this.upsert, [
      realm,
      e.job_id,
      e.run_id,
      e.status,
      e.ts_dispatch ?? null,
      last.ts_event,
      last.tu_event,
      e.ttlSeconds === undefined ? null : Math.floor(e.at.getTime() / 1000 + e.ttlSeconds),
      e.worker ?? null,
      e.hostname ?? null,
      JSON.stringify(entries, noNul),
      Boolean(e.keepStatus),
      // Every retry of this call sends the same key (see last_append in schema.ts).
      randomUUID(),
    ]);
  }

  async get(realm: string, jobId: string, runId: string): Promise<EventRecord | undefined> {
    const { rows } = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM ${this.db.t('events')} WHERE realm = $1 AND job_id = $2 AND run_id = $3`,
      [realm, jobId, runId],
    );
    return rows[0] && toRecord(rows[0]);
  }

  async query(realm: string, q: EventQuery): Promise<EventRecord[]> {
    const where = ['realm = $1'];
    const values: unknown[] = [realm];
    const add = (column: string, op: string, value: string | undefined) => {
      if (value === undefined) return;
      values.push(value);
      where.push(`${column} ${op} $${values.length}`);
    };
    add('job_id', '=', q.jobId);
    add('run_id', '=', q.runId);
    add('status', '=', q.status);
    add('tu_event', '>=', q.since && isoUtcNaive(q.since));
    values.push(q.limit ?? 100);
    const { rows } = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM ${this.db.t('events')} WHERE ${where.join(' AND ')}
       ORDER BY tu_event DESC, seq DESC LIMIT $${values.length}`,
      values,
    );
    return rows.map(toRecord);
  }

  async expire(realm: string, now: Date): Promise<number> {
    const epoch = Math.floor(now.getTime() / 1000);
    const res = await this.db.query(`DELETE FROM ${this.db.t('events')} WHERE realm = $1 AND ttl IS NOT NULL AND ttl < $2`, [
      realm,
      epoch,
    ]);
    return res.rowCount ?? 0;
  }
}

/** jsonb cannot hold U+0000 (job output may contain it): it becomes U+FFFD, as an undecodable byte would. */
function noNul(_key: string, value: unknown): unknown {
  return typeof value === 'string' && value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
}

function toRecord(row: Row): EventRecord {
  return { ...row, ttl: row.ttl === null ? null : Number(row.ttl) };
}
