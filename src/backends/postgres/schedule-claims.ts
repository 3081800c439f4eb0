import type { ScheduleClaims, TickClaim } from '../ports.js';
import type { Db } from './db.js';

/**
 * Tick claims shared by every replica of a dispatcher. `claimed_at` is the database clock, so
 * replicas on hosts whose clocks differ still agree on which claims are old.
 */
export class PostgresScheduleClaims implements ScheduleClaims {
  constructor(private readonly db: Db) {}

  async claim(realm: string, dispatcher: string, tick: TickClaim, owner: string): Promise<boolean> {
    const res = await this.db.query(
      `INSERT INTO ${this.db.t('schedule_ticks')} (realm, dispatcher, job_id, fire_time, run_id, owner, claimed_at)
       VALUES ($1, $2, $3, $4, $5, $6, now()) ON CONFLICT DO NOTHING`,
      [realm, dispatcher, tick.jobId, tick.fireTime, tick.runId, owner],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async markDispatched(realm: string, dispatcher: string, jobId: string, fireTime: Date): Promise<void> {
    await this.db.query(
      `UPDATE ${this.db.t('schedule_ticks')} SET dispatched = true
       WHERE realm = $1 AND dispatcher = $2 AND job_id = $3 AND fire_time = $4`,
      [realm, dispatcher, jobId, fireTime],
    );
  }

  async stale(realm: string, dispatcher: string, claimedBefore: Date): Promise<TickClaim[]> {
    const { rows } = await this.db.query<{ job_id: string; fire_time: Date; run_id: string }>(
      `SELECT job_id, fire_time, run_id FROM ${this.db.t('schedule_ticks')}
       WHERE realm = $1 AND dispatcher = $2 AND NOT dispatched AND claimed_at < $3 ORDER BY fire_time`,
      [realm, dispatcher, claimedBefore],
    );
    return rows.map((r) => ({ jobId: r.job_id, fireTime: r.fire_time, runId: r.run_id }));
  }

  async getMark(realm: string, dispatcher: string): Promise<Date | undefined> {
    const { rows } = await this.db.query<{ mark: Date }>(
      `SELECT mark FROM ${this.db.t('schedule_marks')} WHERE realm = $1 AND dispatcher = $2`,
      [realm, dispatcher],
    );
    return rows[0]?.mark;
  }

  async setMark(realm: string, dispatcher: string, at: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO ${this.db.t('schedule_marks')} AS m (realm, dispatcher, mark) VALUES ($1, $2, $3)
       ON CONFLICT (realm, dispatcher) DO UPDATE SET mark = greatest(m.mark, excluded.mark)`,
      [realm, dispatcher, at],
    );
  }

  async prune(realm: string, before: Date): Promise<number> {
    const res = await this.db.query(
      `DELETE FROM ${this.db.t('schedule_ticks')} WHERE realm = $1 AND fire_time < $2 AND dispatched`,
      [realm, before],
    );
    return res.rowCount ?? 0;
  }
}
