import type Database from 'better-sqlite3';
import type { ScheduleClaims, TickClaim } from '../ports.js';

export class SqliteScheduleClaims implements ScheduleClaims {
  constructor(private readonly db: Database.Database) {}

  async claim(realm: string, dispatcher: string, tick: TickClaim, owner: string): Promise<boolean> {
    const info = this.db
      .prepare(
        `INSERT INTO schedule_ticks (realm, dispatcher, job_id, fire_time, run_id, owner, claimed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      )
      .run(realm, dispatcher, tick.jobId, tick.fireTime.getTime(), tick.runId, owner, Date.now());
    return info.changes > 0;
  }

  async markDispatched(realm: string, dispatcher: string, jobId: string, fireTime: Date): Promise<void> {
    this.db
      .prepare('UPDATE schedule_ticks SET dispatched = 1 WHERE realm = ? AND dispatcher = ? AND job_id = ? AND fire_time = ?')
      .run(realm, dispatcher, jobId, fireTime.getTime());
  }

  async stale(realm: string, dispatcher: string, claimedBefore: Date): Promise<TickClaim[]> {
    const rows = this.db
      .prepare(
        `SELECT job_id, fire_time, run_id FROM schedule_ticks
         WHERE realm = ? AND dispatcher = ? AND dispatched = 0 AND claimed_at < ? ORDER BY fire_time`,
      )
      .all(realm, dispatcher, claimedBefore.getTime()) as { job_id: string; fire_time: number; run_id: string }[];
    return rows.map((r) => ({ jobId: r.job_id, fireTime: new Date(r.fire_time), runId: r.run_id }));
  }

  async getMark(realm: string, dispatcher: string): Promise<Date | undefined> {
    const row = this.db.prepare('SELECT mark FROM schedule_marks WHERE realm = ? AND dispatcher = ?').get(realm, dispatcher) as
      { mark: number } | undefined;
    return row ? new Date(row.mark) : undefined;
  }

  async setMark(realm: string, dispatcher: string, at: Date): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO schedule_marks (realm, dispatcher, mark) VALUES (?, ?, ?)
         ON CONFLICT (realm, dispatcher) DO UPDATE SET mark = max(mark, excluded.mark)`,
      )
      .run(realm, dispatcher, at.getTime());
  }

  async prune(realm: string, before: Date): Promise<number> {
    return this.db
      .prepare('DELETE FROM schedule_ticks WHERE realm = ? AND fire_time < ? AND dispatched = 1')
      .run(realm, before.getTime()).changes;
  }
}
