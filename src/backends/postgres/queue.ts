import { sleep } from '../../core/time.js';
import type { Queue, QueueCounts, QueueMessage, ReceiveOptions } from '../ports.js';
import type { Db } from './db.js';
import { NOTIFY_CHANNEL, type QueueNotifier } from './notifier.js';

/**
 * Long polls look again at least this often even without a notification: delayed messages and
 * ended leases become visible without one, and notifications are lost while the LISTEN connection
 * is down.
 */
export const FALLBACK_POLL_MS = 1_000;

interface Row {
  id: string;
  body: string;
  sent_at: Date;
  receive_count: number;
  receipt: string;
}

/** Receipts are `<id>:<uuid>`, so extend and delete find the row by primary key. */
export function idOf(receipt: string): string | undefined {
  return /^(\d{1,18}):/.exec(receipt)?.[1];
}

/**
 * A queue with SQS semantics in one table shared by all queues. Visibility is on the database
 * clock (`now()`), so hosts with skewed clocks agree on leases. Receiving leases rows with
 * `FOR UPDATE SKIP LOCKED`, so concurrent receivers never wait on each other nor get the same lease.
 */
export class PostgresQueue implements Queue {
  private readonly sql: Record<'send' | 'sendLater' | 'take' | 'extend' | 'extendNow' | 'delete' | 'counts', string>;

  /** The schema-qualified table holding every queue's messages. */
  readonly table: string;

  constructor(
    private readonly db: Db,
    readonly name: string,
    private readonly notifier: QueueNotifier,
    private readonly closing: AbortSignal,
  ) {
    const t = (this.table = db.t('messages'));
    const insert = `INSERT INTO ${t} (queue, body, visible_at) VALUES ($1, $2, now() + make_interval(secs => $3)) RETURNING id`;
    this.sql = {
      // The notification is sent when the insert commits: same statement, same transaction.
      send: `WITH m AS (${insert}) SELECT id::text AS id, pg_notify('${NOTIFY_CHANNEL}', $4) FROM m`,
      sendLater: `WITH m AS (${insert}) SELECT id::text AS id FROM m`,
      take: `
        UPDATE ${t} AS m SET visible_at = now() + make_interval(secs => $3), receive_count = m.receive_count + 1,
          receipt = m.id::text || ':' || gen_random_uuid()::text
        WHERE m.id IN (
          SELECT id FROM ${t} WHERE queue = $1 AND visible_at <= now()
          ORDER BY visible_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
        RETURNING m.id::text AS id, m.body, m.sent_at, m.receive_count, m.receipt`,
      extend: `UPDATE ${t} SET visible_at = now() + make_interval(secs => $4) WHERE id = $1 AND receipt = $2 AND queue = $3`,
      extendNow: `
        WITH m AS (UPDATE ${t} SET visible_at = now() WHERE id = $1 AND receipt = $2 AND queue = $3 RETURNING id)
        SELECT pg_notify('${NOTIFY_CHANNEL}', $4) FROM m`,
      delete: `DELETE FROM ${t} WHERE id = $1 AND receipt = $2 AND queue = $3`,
      counts: `
        SELECT count(*) FILTER (WHERE visible_at <= now())::int AS visible,
               count(*) FILTER (WHERE visible_at > now() AND receive_count > 0)::int AS inflight,
               count(*) FILTER (WHERE visible_at > now() AND receive_count = 0)::int AS delayed,
               min(sent_at) AS oldest
        FROM ${t} WHERE queue = $1`,
    };
  }

  async send(body: string, options: { delaySeconds?: number } = {}): Promise<string> {
    const delay = Math.max(0, options.delaySeconds ?? 0);
    const { rows } = delay
      ? await this.db.query<{ id: string }>(this.sql.sendLater, [this.name, body, delay])
      : await this.db.query<{ id: string }>(this.sql.send, [this.name, body, 0, this.notifier.payload(this.name)]);
    return (rows[0] as { id: string }).id;
  }

  async receive(options: ReceiveOptions): Promise<QueueMessage[]> {
    const deadline = Date.now() + options.waitSeconds * 1000;
    const signal = options.signal ? AbortSignal.any([options.signal, this.closing]) : this.closing;
    // Listen before the first look, so a send right after it is not missed.
    if (options.waitSeconds > 0 && !signal.aborted)
      await this.listening(Math.min(FALLBACK_POLL_MS, deadline - Date.now()), signal);
    for (;;) {
      const seen = this.notifier.version(this.name);
      const got = await this.take(Math.max(1, options.max), options.visibilitySeconds);
      const now = Date.now();
      if (got.length || now >= deadline || signal.aborted) return got;
      // A notification arrived while we were looking: look again at once.
      if (this.notifier.version(this.name) !== seen) continue;
      await this.notifier.wait(this.name, Math.min(FALLBACK_POLL_MS, deadline - now), signal);
      if (signal.aborted) return [];
    }
  }

  /** Wait until the LISTEN connection is up, at most `ms`: while the server is unreachable, polling carries on. */
  private async listening(ms: number, signal: AbortSignal): Promise<void> {
    if (this.notifier.listening) return;
    const ac = new AbortController();
    const stop = () => ac.abort();
    signal.addEventListener('abort', stop, { once: true });
    try {
      await Promise.race([this.notifier.ready(), sleep(ms, ac.signal)]);
    } finally {
      ac.abort();
      signal.removeEventListener('abort', stop);
    }
  }

  private async take(max: number, visibilitySeconds: number): Promise<QueueMessage[]> {
    const { rows } = await this.db.query<Row>(this.sql.take, [this.name, max, visibilitySeconds]);
    return rows
      .sort((a, b) => a.sent_at.getTime() - b.sent_at.getTime() || Number(a.id) - Number(b.id))
      .map((r) => ({ id: r.id, receipt: r.receipt, body: r.body, receiveCount: r.receive_count, sentAt: r.sent_at }));
  }

  async extendVisibility(receipt: string, seconds: number): Promise<boolean> {
    const id = idOf(receipt);
    if (id === undefined) return false;
    const res =
      seconds > 0
        ? await this.db.query(this.sql.extend, [id, receipt, this.name, seconds])
        : await this.db.query(this.sql.extendNow, [id, receipt, this.name, this.notifier.payload(this.name)]);
    return (res.rowCount ?? 0) > 0;
  }

  async delete(receipt: string): Promise<boolean> {
    const id = idOf(receipt);
    if (id === undefined) return false;
    return ((await this.db.query(this.sql.delete, [id, receipt, this.name])).rowCount ?? 0) > 0;
  }

  async counts(): Promise<QueueCounts> {
    const { rows } = await this.db.query<{ visible: number; inflight: number; delayed: number; oldest: Date | null }>(
      this.sql.counts,
      [this.name],
    );
    const row = rows[0];
    return {
      visible: row?.visible ?? 0,
      inflight: row?.inflight ?? 0,
      delayed: row?.delayed ?? 0,
      ...(row?.oldest ? { oldestSentAt: row.oldest } : {}),
    };
  }
}
