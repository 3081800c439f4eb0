import type { ClaimResult, NewEvent, RunClaims, RunEnd } from '../ports.js';
import type { Db } from './db.js';
import { eventParams, eventUpsert } from './event-store.js';
import { PostgresQueue, idOf } from './queue.js';

/**
 * Run leases on the database clock. A claim is one conditional upsert: it takes the row when it is
 * new, ours, or its lease has ended, and leaves it alone when it is finished or leased to someone
 * else. Only then is the row read to say who holds it; if that read finds the lease already gone,
 * the claim is tried again, so no decision is ever made on a stale read.
 */
export class PostgresRunClaims implements RunClaims {
  private readonly claimSql: string;
  /** The claim with the run's first event recorded in the same statement, only on its first claim. */
  private readonly claimStartSql: string;
  private readonly holderSql: string;
  private readonly finishSqls = new Map<string, string>();

  constructor(private readonly db: Db) {
    const t = db.t('run_claims');
    this.claimSql = `
      INSERT INTO ${t} AS c (realm, run_id, owner, lease_until, attempts, done, updated_at)
      VALUES ($1, $2, $3, now() + make_interval(secs => $4), 1, false, now())
      ON CONFLICT (realm, run_id) DO UPDATE SET
        owner = excluded.owner, lease_until = excluded.lease_until, attempts = c.attempts + 1, updated_at = now()
      WHERE NOT c.done AND (c.owner = excluded.owner OR c.lease_until <= now())
      RETURNING attempts`;
    this.claimStartSql = `
      WITH c AS (${this.claimSql}),
      ev AS (${eventUpsert(db.t('events'), 5, 'WHERE EXISTS (SELECT 1 FROM c WHERE attempts = 1)')})
      SELECT attempts FROM c`;
    this.holderSql = `
      SELECT owner, done, lease_until > now() AS live,
             greatest(0, ceil(extract(epoch FROM lease_until - now())))::int AS lease_seconds
      FROM ${t} WHERE realm = $1 AND run_id = $2`;
  }

  async claim(realm: string, runId: string, owner: string, leaseSeconds: number, start?: NewEvent): Promise<ClaimResult> {
    // The same parameters (and append key) for every try of this call.
    const startParams = start && eventParams(realm, start);
    for (;;) {
      const won = startParams
        ? await this.db.query<{ attempts: number }>(this.claimStartSql, [realm, runId, owner, leaseSeconds, ...startParams])
        : await this.db.query<{ attempts: number }>(this.claimSql, [realm, runId, owner, leaseSeconds]);
      const attempts = won.rows[0]?.attempts;
      if (attempts !== undefined) {
        return startParams && attempts === 1
          ? { outcome: 'claimed', attempt: attempts, started: true }
          : { outcome: 'claimed', attempt: attempts };
      }
      const { rows } = await this.db.query<{ owner: string; done: boolean; live: boolean; lease_seconds: number }>(
        this.holderSql,
        [realm, runId],
      );
      const row = rows[0];
      if (row?.done) return { outcome: 'done' };
      if (row && row.live && row.owner !== owner) {
        return { outcome: 'busy', owner: row.owner, leaseSeconds: row.lease_seconds };
      }
      // The holder released, finished or let the lease lapse between the two statements: try again.
    }
  }

  async renew(realm: string, runId: string, owner: string, leaseSeconds: number): Promise<boolean> {
    const res = await this.db.query(
      `UPDATE ${this.db.t('run_claims')} SET lease_until = now() + make_interval(secs => $4), updated_at = now()
       WHERE realm = $1 AND run_id = $2 AND owner = $3 AND NOT done`,
      [realm, runId, owner, leaseSeconds],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async finish(realm: string, runId: string, owner: string, end: RunEnd = {}): Promise<boolean> {
    const { delivery, outcome } = end;
    // The message goes in the same statement when it lives in this schema's messages table.
    const local = delivery?.queue instanceof PostgresQueue && delivery.queue.table === this.db.t('messages');
    const id = local && delivery ? idOf(delivery.receipt) : undefined;
    const values: unknown[] = [realm, runId, owner];
    if (id !== undefined && delivery) values.push(id, delivery.receipt, delivery.queue.name);
    if (outcome) values.push(...eventParams(realm, outcome));
    const { rows } = await this.db.query<{ ok: boolean }>(this.finishSql(id !== undefined, outcome !== undefined), values);
    const ok = rows[0]?.ok === true;
    if (ok && delivery && id === undefined) await delivery.queue.delete(delivery.receipt);
    return ok;
  }

  /** The end-of-run statement, with or without the message delete and the outcome upsert (built once each). */
  private finishSql(withDelete: boolean, withOutcome: boolean): string {
    const key = `${withDelete}:${withOutcome}`;
    let sql = this.finishSqls.get(key);
    if (sql) return sql;
    const claims = this.db.t('run_claims');
    // `prior` reads the statement's snapshot: a claim this owner had already finished (a retried call).
    const parts = [
      `prior AS (SELECT done FROM ${claims} WHERE realm = $1 AND run_id = $2 AND owner = $3)`,
      `fin AS (UPDATE ${claims} SET done = true, updated_at = now()
         WHERE realm = $1 AND run_id = $2 AND owner = $3 AND NOT done RETURNING 1)`,
    ];
    const finished = '(EXISTS (SELECT 1 FROM fin) OR EXISTS (SELECT 1 FROM prior WHERE done))';
    if (withDelete) {
      parts.push(
        `gone AS (DELETE FROM ${this.db.t('messages')} WHERE id = $4::bigint AND receipt = $5::text AND queue = $6::text AND ${finished})`,
      );
    }
    if (withOutcome) {
      parts.push(`ev AS (${eventUpsert(this.db.t('events'), withDelete ? 7 : 4, 'WHERE EXISTS (SELECT 1 FROM fin)')})`);
    }
    sql = `WITH ${parts.join(',\n')} SELECT ${finished} AS ok`;
    this.finishSqls.set(key, sql);
    return sql;
  }

  async release(realm: string, runId: string, owner: string): Promise<void> {
    await this.db.query(
      `UPDATE ${this.db.t('run_claims')} SET lease_until = 'epoch', updated_at = now()
       WHERE realm = $1 AND run_id = $2 AND owner = $3 AND NOT done`,
      [realm, runId, owner],
    );
  }

  async expire(realm: string, olderThan: Date): Promise<number> {
    const res = await this.db.query(`DELETE FROM ${this.db.t('run_claims')} WHERE realm = $1 AND updated_at < $2`, [
      realm,
      olderThan,
    ]);
    return res.rowCount ?? 0;
  }
}
