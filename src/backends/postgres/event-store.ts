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
 * The upsert of one `record` call as SQL whose parameters are numbered from `first` (13 of them, see
 * `eventParams`); `where` (e.g. `WHERE EXISTS (…)`) makes it conditional inside a larger statement.
 * Each event updates the top-level fields and appends to the `log` jsonb array, at most once even
 * when a retry repeats a statement the server had committed (`last_append`, see schema.ts).
 */
export function eventUpsert(table: string, first: number, where = ''): string {
  const p = (n: number) => `$${first + n - 1}`;
  return `
    INSERT INTO ${table} AS e (realm, job_id, run_id, status, ts_dispatch, ts_event, tu_event, ttl, worker, hostname, log, last_append)
    SELECT ${p(1)}::text, ${p(2)}::text, ${p(3)}::text, ${p(4)}::text, ${p(5)}::text, ${p(6)}::text, ${p(7)}::text,
      ${p(8)}::bigint, ${p(9)}::text, ${p(10)}::text, ${p(11)}::jsonb, ${p(13)}::uuid ${where}
    ON CONFLICT (realm, job_id, run_id) DO UPDATE SET
      status = CASE WHEN ${p(12)}::boolean THEN e.status ELSE excluded.status END,
      ts_event = excluded.ts_event, tu_event = excluded.tu_event, ttl = excluded.ttl,
      ts_dispatch = coalesce(excluded.ts_dispatch, e.ts_dispatch), worker = coalesce(excluded.worker, e.worker),
      hostname = coalesce(excluded.hostname, e.hostname),
      log = CASE WHEN e.last_append = excluded.last_append THEN e.log ELSE e.log || excluded.log END,
      last_append = excluded.last_append`;
}

/** The parameters of `eventUpsert`, in order. */
export function eventParams(realm: string, e: NewEvent): unknown[] {
  const entries = logEntries(e);
  const last = entries.at(-1) as EventEntry;
  return [
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
    // Every retry of this call sends the same key.
    randomUUID(),
  ];
}

/** One row per run, with its events in a `log` jsonb array. */
export class PostgresEventStore implements EventStore {
  private readonly upsert: string;

  constructor(private readonly db: Db) {
    this.upsert = eventUpsert(db.t('events'), 1);
  }

  async record(realm: string, e: NewEvent): Promise<void> {
    await this.db.query(this.upsert, eventParams(realm, e));
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
