import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type Database from 'better-sqlite3';
import { sleep } from '../../core/time.js';
import type { Queue, QueueCounts, QueueMessage, ReceiveOptions } from '../ports.js';
import type { WriteBatcher } from './batch.js';

interface Row {
  id: number;
  body: string;
  sent_at: number;
  receive_count: number;
}

function idOf(receipt: string): number {
  const id = Number(receipt.slice(0, receipt.indexOf(':')));
  return Number.isInteger(id) ? id : -1;
}

/** Emitted when another process may have written (the WAL file changed): idle receivers look again. */
export const ANY_WRITE = Symbol('any write');

/** Idle long-polls re-check at this period; a send in the same process wakes them at once. */
const POLL_MS = 20;

/**
 * A queue with SQS semantics in one SQLite table. Receiving leases rows in an IMMEDIATE
 * transaction, so processes sharing the file never receive the same lease.
 */
export class SqliteQueue implements Queue {
  private readonly takeTx: (max: number, now: number, visibleAt: number) => QueueMessage[];
  private readonly stmts: Record<'send' | 'extend' | 'delete', Database.Statement>;

  constructor(
    readonly db: Database.Database,
    readonly name: string,
    private readonly wakeups: EventEmitter,
    private readonly batch: WriteBatcher,
  ) {
    const select = db.prepare(
      'SELECT id, body, sent_at, receive_count FROM messages WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, id LIMIT ?',
    );
    const lease = db.prepare('UPDATE messages SET visible_at = ?, receive_count = receive_count + 1, receipt = ? WHERE id = ?');
    const tx = db.transaction((max: number, now: number, visibleAt: number) =>
      (select.all(name, now, max) as Row[]).map((row) => {
        const receipt = `${row.id}:${randomUUID()}`;
        lease.run(visibleAt, receipt, row.id);
        return {
          id: String(row.id),
          receipt,
          body: row.body,
          receiveCount: row.receive_count + 1,
          sentAt: new Date(row.sent_at),
        };
      }),
    );
    this.takeTx = (max, now, visibleAt) => tx.immediate(max, now, visibleAt);
    // Receipts are `<id>:<uuid>`, so extend and delete find the row by primary key.
    this.stmts = {
      send: db.prepare('INSERT INTO messages (queue, body, sent_at, visible_at) VALUES (?, ?, ?, ?)'),
      extend: db.prepare('UPDATE messages SET visible_at = ? WHERE id = ? AND receipt = ? AND queue = ?'),
      delete: db.prepare('DELETE FROM messages WHERE id = ? AND receipt = ? AND queue = ?'),
    };
  }

  async send(body: string, options: { delaySeconds?: number } = {}): Promise<string> {
    const now = Date.now();
    const delay = Math.max(0, options.delaySeconds ?? 0) * 1000;
    const info = await this.batch.run(() => this.stmts.send.run(this.name, body, now, now + delay));
    this.wakeups.emit(this.name);
    return String(info.lastInsertRowid);
  }

  async receive(options: ReceiveOptions): Promise<QueueMessage[]> {
    const deadline = Date.now() + options.waitSeconds * 1000;
    for (;;) {
      const now = Date.now();
      const got = this.takeTx(Math.max(1, options.max), now, now + options.visibilitySeconds * 1000);
      if (got.length || now >= deadline || options.signal?.aborted) return got;
      await this.waitForSend(Math.min(POLL_MS, deadline - now), options.signal);
    }
  }

  private waitForSend(ms: number, signal?: AbortSignal): Promise<void> {
    const ac = new AbortController();
    const wake = () => ac.abort();
    const onAbort = () => ac.abort();
    this.wakeups.once(this.name, wake);
    this.wakeups.once(ANY_WRITE, wake);
    signal?.addEventListener('abort', onAbort, { once: true });
    return sleep(ms, ac.signal).finally(() => {
      this.wakeups.off(this.name, wake);
      this.wakeups.off(ANY_WRITE, wake);
      signal?.removeEventListener('abort', onAbort);
    });
  }

  async extendVisibility(receipt: string, seconds: number): Promise<boolean> {
    const until = Date.now() + seconds * 1000;
    const info = await this.batch.run(() => this.stmts.extend.run(until, idOf(receipt), receipt, this.name));
    if (info.changes && seconds === 0) this.wakeups.emit(this.name);
    return info.changes > 0;
  }

  async delete(receipt: string): Promise<boolean> {
    return this.batch.run(() => this.deleteNow(receipt));
  }

  /** `delete` inside a transaction the caller holds. */
  deleteNow(receipt: string): boolean {
    return this.stmts.delete.run(idOf(receipt), receipt, this.name).changes > 0;
  }

  async counts(): Promise<QueueCounts> {
    const now = Date.now();
    const row = this.db
      .prepare(
        `SELECT
           sum(visible_at <= @now) AS visible,
           sum(visible_at > @now AND receive_count > 0) AS inflight,
           sum(visible_at > @now AND receive_count = 0) AS delayed,
           min(sent_at) AS oldest
         FROM messages WHERE queue = @queue`,
      )
      .get({ now, queue: this.name }) as Record<string, number | null>;
    return {
      visible: row.visible ?? 0,
      inflight: row.inflight ?? 0,
      delayed: row.delayed ?? 0,
      ...(row.oldest !== null && row.oldest !== undefined ? { oldestSentAt: new Date(row.oldest) } : {}),
    };
  }
}
