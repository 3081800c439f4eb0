import type Database from 'better-sqlite3';
import type { ClaimResult, NewEvent, RunClaims, RunEnd } from '../ports.js';
import type { WriteBatcher } from './batch.js';
import type { SqliteEventStore } from './event-store.js';
import { SqliteQueue } from './queue.js';

interface Row {
  owner: string;
  lease_until: number;
  attempts: number;
  done: number;
}

export class SqliteRunClaims implements RunClaims {
  private readonly claimTx: (
    realm: string,
    runId: string,
    owner: string,
    leaseSeconds: number,
    start: NewEvent | undefined,
  ) => ClaimResult;

  private readonly renewStmt: Database.Statement;
  private readonly finishStmt: Database.Statement;
  private readonly releaseStmt: Database.Statement;
  private readonly read: Database.Statement<[string, string]>;

  constructor(
    private readonly db: Database.Database,
    private readonly batch: WriteBatcher,
    private readonly events: SqliteEventStore,
  ) {
    this.renewStmt = db.prepare(
      'UPDATE run_claims SET lease_until = ?, updated_at = ? WHERE realm = ? AND run_id = ? AND owner = ? AND done = 0',
    );
    this.finishStmt = db.prepare('UPDATE run_claims SET done = 1, updated_at = ? WHERE realm = ? AND run_id = ? AND owner = ?');
    this.releaseStmt = db.prepare(
      'UPDATE run_claims SET lease_until = 0, updated_at = ? WHERE realm = ? AND run_id = ? AND owner = ? AND done = 0',
    );
    const read = db.prepare('SELECT owner, lease_until, attempts, done FROM run_claims WHERE realm = ? AND run_id = ?');
    this.read = read;
    const write = db.prepare(
      `INSERT INTO run_claims (realm, run_id, owner, lease_until, attempts, done, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?)
       ON CONFLICT (realm, run_id) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until,
         attempts = excluded.attempts, updated_at = excluded.updated_at`,
    );
    const tx = db.transaction(
      (realm: string, runId: string, owner: string, leaseSeconds: number, start?: NewEvent): ClaimResult => {
        const now = Date.now();
        const row = read.get(realm, runId) as Row | undefined;
        if (row?.done) return { outcome: 'done' };
        if (row && row.owner !== owner && row.lease_until > now) {
          return { outcome: 'busy', owner: row.owner, leaseSeconds: Math.ceil((row.lease_until - now) / 1000) };
        }
        const attempt = (row?.attempts ?? 0) + 1;
        write.run(realm, runId, owner, now + leaseSeconds * 1000, attempt, now);
        if (start && attempt === 1) {
          events.recordNow(realm, start);
          return { outcome: 'claimed', attempt, started: true };
        }
        return { outcome: 'claimed', attempt };
      },
    );
    this.claimTx = tx;
  }

  async claim(realm: string, runId: string, owner: string, leaseSeconds: number, start?: NewEvent): Promise<ClaimResult> {
    return this.batch.run(() => this.claimTx(realm, runId, owner, leaseSeconds, start));
  }

  async renew(realm: string, runId: string, owner: string, leaseSeconds: number): Promise<boolean> {
    const now = Date.now();
    return this.batch.run(() => this.renewStmt.run(now + leaseSeconds * 1000, now, realm, runId, owner).changes > 0);
  }

  async finish(realm: string, runId: string, owner: string, end: RunEnd = {}): Promise<boolean> {
    const { outcome, delivery } = end;
    // The message goes in the same transaction when it lives in this database.
    const local = delivery?.queue instanceof SqliteQueue && delivery.queue.db === this.db ? delivery.queue : undefined;
    const ok = await this.batch.run(() => {
      if (!this.finishNow(realm, runId, owner, outcome)) return false;
      if (local && delivery) local.deleteNow(delivery.receipt);
      return true;
    });
    if (ok && delivery && !local) await delivery.queue.delete(delivery.receipt);
    return ok;
  }

  /** Finish the claim and record the outcome, if the claim is `owner`'s; true also when it already was finished. */
  private finishNow(realm: string, runId: string, owner: string, outcome: NewEvent | undefined): boolean {
    const row = this.read.get(realm, runId) as Row | undefined;
    if (row?.owner !== owner) return false;
    if (row.done) return true;
    this.finishStmt.run(Date.now(), realm, runId, owner);
    if (outcome) this.events.recordNow(realm, outcome);
    return true;
  }

  async release(realm: string, runId: string, owner: string): Promise<void> {
    await this.batch.run(() => this.releaseStmt.run(Date.now(), realm, runId, owner));
  }

  async expire(realm: string, olderThan: Date): Promise<number> {
    return this.batch.run(
      () => this.db.prepare('DELETE FROM run_claims WHERE realm = ? AND updated_at < ?').run(realm, olderThan.getTime()).changes,
    );
  }
}
