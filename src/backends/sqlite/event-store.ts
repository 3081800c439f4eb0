import type Database from 'better-sqlite3';
import { isoUtcNaive } from '../../core/time.js';
import { logEntries } from '../event-entries.js';
import type { EventQuery, EventRecord, EventStore, NewEvent } from '../ports.js';
import type { WriteBatcher } from './batch.js';

interface Row extends Omit<EventRecord, 'log'> {
  log: string;
}

const COLUMNS = 'job_id, run_id, status, ts_dispatch, ts_event, tu_event, ttl, worker, worker_id, instance_id, hostname, log';

export class SqliteEventStore implements EventStore {
  private readonly upsert: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly batch: WriteBatcher,
  ) {
    // One statement per event: set the top-level fields and append to the log, as upstream's UpdateItem does.
    this.upsert = db.prepare(`
      INSERT INTO events (realm, job_id, run_id, status, ts_dispatch, ts_event, tu_event, ttl, worker, hostname, log)
      VALUES (@realm, @job_id, @run_id, @status, @ts_dispatch, @ts_event, @tu_event, @ttl, @worker, @hostname, json_array(json(@entry)))
      ON CONFLICT (realm, job_id, run_id) DO UPDATE SET
        status = CASE WHEN @keep_status = 1 THEN events.status ELSE excluded.status END, ts_event = excluded.ts_event, tu_event = excluded.tu_event, ttl = excluded.ttl,
        ts_dispatch = coalesce(excluded.ts_dispatch, ts_dispatch), worker = coalesce(excluded.worker, worker),
        hostname = coalesce(excluded.hostname, hostname),
        log = json_insert(log, '$[#]', json(@entry))`);
  }

  async record(realm: string, e: NewEvent): Promise<void> {
    await this.batch.run(() => this.recordNow(realm, e));
  }

  /** `record` inside a transaction the caller holds: one upsert per entry, the last one leaves the record's fields. */
  recordNow(realm: string, e: NewEvent): void {
    for (const entry of logEntries(e)) {
      this.upsert.run({
        realm,
        job_id: e.job_id,
        run_id: e.run_id,
        status: entry.status,
        ts_dispatch: e.ts_dispatch ?? null,
        ts_event: entry.ts_event,
        tu_event: entry.tu_event,
        ttl: e.ttlSeconds === undefined ? null : Math.floor(e.at.getTime() / 1000 + e.ttlSeconds),
        worker: e.worker ?? null,
        hostname: e.hostname ?? null,
        entry: JSON.stringify(entry),
        keep_status: e.keepStatus ? 1 : 0,
      });
    }
  }

  async get(realm: string, jobId: string, runId: string): Promise<EventRecord | undefined> {
    const row = this.db
      .prepare(`SELECT ${COLUMNS} FROM events WHERE realm = ? AND job_id = ? AND run_id = ?`)
      .get(realm, jobId, runId) as Row | undefined;
    return row && toRecord(row);
  }

  async query(realm: string, q: EventQuery): Promise<EventRecord[]> {
    const where = ['realm = @realm'];
    const params: Record<string, string | number> = { realm, limit: q.limit ?? 100 };
    const add = (sql: string, key: string, value: string | undefined) => {
      if (value === undefined) return;
      where.push(sql);
      params[key] = value;
    };
    add('job_id = @jobId', 'jobId', q.jobId);
    add('run_id = @runId', 'runId', q.runId);
    add('status = @status', 'status', q.status);
    add('tu_event >= @since', 'since', q.since && isoUtcNaive(q.since));
    const rows = this.db
      .prepare(`SELECT ${COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY tu_event DESC, rowid DESC LIMIT @limit`)
      .all(params) as Row[];
    return rows.map(toRecord);
  }

  async expire(realm: string, now: Date): Promise<number> {
    const epoch = Math.floor(now.getTime() / 1000);
    return this.db.prepare('DELETE FROM events WHERE realm = ? AND ttl IS NOT NULL AND ttl < ?').run(realm, epoch).changes;
  }
}

function toRecord(row: Row): EventRecord {
  return { ...row, log: JSON.parse(row.log) as EventRecord['log'] };
}
