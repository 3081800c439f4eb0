/**
 * Queue conformance: SQS standard-queue semantics (delay, visibility lease, receive count,
 * receipts, long poll, max per receive).
 *
 * Order of ready messages is deliberately NOT asserted: SQS standard queues do not keep it, so
 * no test may depend on FIFO delivery.
 *
 * Backend-agnostic: every test uses its own realm, hence its own queue.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { queueName, type Backend, type Queue, type QueueCounts, type QueueMessage } from '../../src/backends/ports.js';
import { type ConformanceOptions, skippableTest, uniqueRealm, useBackend } from './harness.js';

export type QueueConformanceOptions = ConformanceOptions;

const NOW = { max: 10, visibilitySeconds: 30, waitSeconds: 0 } as const;

/** The three counts, without `oldestSentAt` (checked on its own). */
const numbers = ({ visible, inflight, delayed }: QueueCounts) => ({ visible, inflight, delayed });

/** Receive until `n` messages arrived (each batch checked against `max`) or the deadline. */
async function receiveN(q: Queue, n: number, max: number, deadlineMs = 5_000): Promise<QueueMessage[]> {
  const out: QueueMessage[] = [];
  const end = Date.now() + deadlineMs;
  while (out.length < n && Date.now() < end) {
    const batch = await q.receive({ max, visibilitySeconds: 30, waitSeconds: 1 });
    expect(batch.length).toBeLessThanOrEqual(max);
    out.push(...batch);
  }
  return out;
}

export function runQueueConformance(opts: QueueConformanceOptions): void {
  const test = skippableTest(opts.name, opts.skip);

  describe(`Queue conformance: ${opts.name}`, () => {
    let backend!: Backend;
    const { freshRealm } = useBackend(opts.make, (b) => (backend = b));
    const freshQueue = async (label: string, worker = 'core'): Promise<Queue> => backend.queue(await freshRealm(label), worker);

    test('send then receive returns the body, id, receive count 1 and sent time', async () => {
      const q = await freshQueue('q-basic');
      const body = JSON.stringify({ job_id: 'demo/ünïcødé', run_id: 'r-1', text: 'a "quoted" ✓\nline' });
      const before = Date.now();
      const id = await q.send(body);
      expect(typeof id).toBe('string');
      expect(id).not.toBe('');
      const [msg, ...rest] = await receiveN(q, 1, 10);
      expect(rest).toEqual([]);
      expect(msg?.id).toBe(id);
      expect(msg?.body).toBe(body);
      expect(msg?.receiveCount).toBe(1);
      expect(typeof msg?.receipt).toBe('string');
      expect(msg?.sentAt).toBeInstanceOf(Date);
      expect(msg?.sentAt.getTime()).toBeGreaterThanOrEqual(before - 2_000);
      expect(msg?.sentAt.getTime()).toBeLessThanOrEqual(Date.now() + 2_000);
      // Leased: not received again.
      expect(await q.receive(NOW)).toEqual([]);
    });

    test('an empty queue receives nothing', async () => {
      const q = await freshQueue('q-empty');
      expect(await q.receive(NOW)).toEqual([]);
      expect(await q.counts()).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    });

    test('queue name is lava-<realm>-<worker>, and queues are separate per realm and worker', async () => {
      const realm = uniqueRealm('q-names');
      await backend.config.putRealm({ realm, s3_payloads: 'file:///tmp/p', s3_temp: 'file:///tmp/t' });
      const other = uniqueRealm('q-names-2');
      await backend.config.putRealm({ realm: other, s3_payloads: 'file:///tmp/p', s3_temp: 'file:///tmp/t' });
      const a = backend.queue(realm, 'w1');
      const b = backend.queue(realm, 'w2');
      const c = backend.queue(other, 'w1');
      expect(a.name).toBe(queueName(realm, 'w1'));
      expect(a.name).toBe(`lava-${realm}-w1`);
      await a.send('for a');
      await b.send('for b');
      expect(await c.receive(NOW)).toEqual([]);
      expect((await receiveN(b, 1, 10)).map((m) => m.body)).toEqual(['for b']);
      expect((await receiveN(a, 1, 10)).map((m) => m.body)).toEqual(['for a']);
      expect(await b.receive(NOW)).toEqual([]);
    });

    test('a delayed message is hidden until it is due', async () => {
      const q = await freshQueue('q-delay');
      const sent = Date.now();
      await q.send('later', { delaySeconds: 1 });
      expect(await q.receive(NOW)).toEqual([]);
      expect(numbers(await q.counts())).toEqual({ visible: 0, inflight: 0, delayed: 1 });
      const got = await q.receive({ max: 10, visibilitySeconds: 30, waitSeconds: 5 });
      const elapsed = Date.now() - sent;
      expect(got.map((m) => m.body)).toEqual(['later']);
      expect(got[0]?.receiveCount).toBe(1);
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(4_000);
    }, 10_000);

    test('a received message stays hidden until its lease ends, then comes back with count 2 and a new receipt', async () => {
      const q = await freshQueue('q-visibility');
      const id = await q.send('leased');
      const [first] = await q.receive({ max: 10, visibilitySeconds: 1, waitSeconds: 0 });
      expect(first?.id).toBe(id);
      expect(first?.receiveCount).toBe(1);
      expect(await q.receive(NOW)).toEqual([]);
      expect(numbers(await q.counts())).toEqual({ visible: 0, inflight: 1, delayed: 0 });

      const again = await q.receive({ max: 10, visibilitySeconds: 30, waitSeconds: 5 });
      expect(again).toHaveLength(1);
      const [second] = again;
      expect(second?.id).toBe(id);
      expect(second?.body).toBe('leased');
      expect(second?.receiveCount).toBe(2);
      expect(second?.receipt).not.toBe(first?.receipt);
      expect(second?.sentAt.getTime()).toBe(first?.sentAt.getTime());
    }, 10_000);

    test('extendVisibility keeps the message hidden past its original lease', async () => {
      const q = await freshQueue('q-extend');
      await q.send('extend me');
      const [msg] = await q.receive({ max: 10, visibilitySeconds: 1, waitSeconds: 0 });
      expect(msg).toBeDefined();
      if (!msg) return;
      expect(await q.extendVisibility(msg.receipt, 30)).toBe(true);
      await sleep(1_300);
      expect(await q.receive(NOW)).toEqual([]);
      expect(numbers(await q.counts())).toEqual({ visible: 0, inflight: 1, delayed: 0 });
      // The receipt is still the latest one, so it deletes.
      expect(await q.delete(msg.receipt)).toBe(true);
      expect(await q.counts()).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    }, 10_000);

    test('extendVisibility to 0 makes the message visible at once', async () => {
      const q = await freshQueue('q-extend-zero');
      await q.send('give back');
      const [msg] = await q.receive(NOW);
      expect(msg).toBeDefined();
      if (!msg) return;
      expect(await q.extendVisibility(msg.receipt, 0)).toBe(true);
      const again = await receiveN(q, 1, 10, 3_000);
      expect(again.map((m) => [m.body, m.receiveCount])).toEqual([['give back', 2]]);
    });

    test('a stale receipt can neither delete nor extend', async () => {
      const q = await freshQueue('q-stale');
      await q.send('twice');
      const [first] = await q.receive({ max: 10, visibilitySeconds: 1, waitSeconds: 0 });
      expect(first).toBeDefined();
      const [second] = await q.receive({ max: 10, visibilitySeconds: 30, waitSeconds: 5 });
      expect(second).toBeDefined();
      if (!first || !second) return;
      expect(second.receipt).not.toBe(first.receipt);

      expect(await q.extendVisibility(first.receipt, 0)).toBe(false);
      expect(await q.receive(NOW)).toEqual([]); // the failed extend did not make it visible
      expect(await q.delete(first.receipt)).toBe(false);
      expect(numbers(await q.counts())).toEqual({ visible: 0, inflight: 1, delayed: 0 });

      expect(await q.extendVisibility(second.receipt, 30)).toBe(true);
      expect(await q.delete(second.receipt)).toBe(true);
      expect(await q.counts()).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    }, 10_000);

    test('delete removes the message; unknown receipts are refused', async () => {
      const q = await freshQueue('q-delete');
      await q.send('one');
      await q.send('two');
      const got = await receiveN(q, 2, 10);
      expect(got.map((m) => m.body).sort()).toEqual(['one', 'two']);
      const [a, b] = got;
      if (!a || !b) return;
      expect(await q.delete(a.receipt)).toBe(true);
      expect(await q.delete(a.receipt)).toBe(false);
      expect(await q.extendVisibility(a.receipt, 0)).toBe(false);
      expect(numbers(await q.counts())).toEqual({ visible: 0, inflight: 1, delayed: 0 });
      expect(await q.extendVisibility(b.receipt, 0)).toBe(true);
      const back = await receiveN(q, 1, 10, 3_000);
      expect(back.map((m) => m.body)).toEqual([b.body]);
      expect(await q.delete('no-such-receipt')).toBe(false);
      expect(await q.extendVisibility('no-such-receipt', 10)).toBe(false);
    });

    test('a receipt from another queue does not delete there', async () => {
      const q1 = await freshQueue('q-cross-1');
      const q2 = await freshQueue('q-cross-2');
      await q1.send('mine');
      const [msg] = await receiveN(q1, 1, 10);
      expect(msg).toBeDefined();
      if (!msg) return;
      expect(await q2.delete(msg.receipt)).toBe(false);
      expect(await q2.extendVisibility(msg.receipt, 0)).toBe(false);
      expect(numbers(await q1.counts())).toEqual({ visible: 0, inflight: 1, delayed: 0 });
      expect(await q1.delete(msg.receipt)).toBe(true);
    });

    test('max limits the batch', async () => {
      const q = await freshQueue('q-max');
      const sent = new Set<string>();
      for (let i = 0; i < 7; i++) sent.add(await q.send(`m${i}`));
      const first = await q.receive({ max: 3, visibilitySeconds: 30, waitSeconds: 1 });
      expect(first.length).toBeGreaterThanOrEqual(1);
      expect(first.length).toBeLessThanOrEqual(3);
      const rest = await receiveN(q, 7 - first.length, 3);
      const all = [...first, ...rest];
      expect(all).toHaveLength(7);
      expect(new Set(all.map((m) => m.id))).toEqual(sent);
      expect(all.map((m) => m.body).sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
      // One at a time.
      await q.send('single-1');
      await q.send('single-2');
      const one = await q.receive({ max: 1, visibilitySeconds: 30, waitSeconds: 1 });
      expect(one).toHaveLength(1);
    });

    test('a long poll returns as soon as a message is sent during the wait', async () => {
      const q = await freshQueue('q-longpoll');
      const start = Date.now();
      const pending = q.receive({ max: 10, visibilitySeconds: 30, waitSeconds: 10 });
      await sleep(300);
      await q.send('wake up');
      const got = await pending;
      const elapsed = Date.now() - start;
      expect(got.map((m) => m.body)).toEqual(['wake up']);
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(3_000);
    }, 15_000);

    test('a long poll with nothing to receive returns [] after the wait', async () => {
      const q = await freshQueue('q-longpoll-empty');
      const start = Date.now();
      const got = await q.receive({ max: 10, visibilitySeconds: 30, waitSeconds: 1 });
      const elapsed = Date.now() - start;
      expect(got).toEqual([]);
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(3_000);
    }, 10_000);

    test('an AbortSignal ends a long poll early', async () => {
      const q = await freshQueue('q-abort');
      const ac = new AbortController();
      const start = Date.now();
      const pending = q.receive({ max: 10, visibilitySeconds: 30, waitSeconds: 10, signal: ac.signal });
      await sleep(200);
      ac.abort();
      const got = await pending;
      expect(got).toEqual([]);
      expect(Date.now() - start).toBeLessThan(2_000);

      // An already-aborted signal returns at once.
      const t2 = Date.now();
      expect(await q.receive({ max: 10, visibilitySeconds: 30, waitSeconds: 10, signal: AbortSignal.abort() })).toEqual([]);
      expect(Date.now() - t2).toBeLessThan(1_000);

      // An aborted poll leased nothing: a later send is received normally.
      await q.send('after abort');
      expect((await receiveN(q, 1, 10)).map((m) => m.body)).toEqual(['after abort']);
    }, 15_000);

    test('counts reports visible, inflight and delayed messages', async () => {
      const q = await freshQueue('q-counts');
      await q.send('a');
      await q.send('b');
      await q.send('c');
      await q.send('later', { delaySeconds: 60 });
      expect(numbers(await q.counts())).toEqual({ visible: 3, inflight: 0, delayed: 1 });
      const got = await q.receive({ max: 2, visibilitySeconds: 30, waitSeconds: 1 });
      expect(got.length).toBeGreaterThanOrEqual(1);
      expect(numbers(await q.counts())).toEqual({ visible: 3 - got.length, inflight: got.length, delayed: 1 });
      for (const m of got) expect(await q.delete(m.receipt)).toBe(true);
      expect(numbers(await q.counts())).toEqual({ visible: 3 - got.length, inflight: 0, delayed: 1 });
    });

    test('counts reports when the oldest message still in the queue was sent', async () => {
      const q = await freshQueue('q-oldest');
      const t0 = Date.now();
      await q.send('first');
      await sleep(1_200);
      const t1 = Date.now();
      await q.send('second');
      // Sent times may come from the database clock: allow a little skew, less than the gap between sends.
      const near = (at: Date | undefined, from: number, to: number) => {
        expect(at).toBeInstanceOf(Date);
        expect(at!.getTime()).toBeGreaterThanOrEqual(from - 400);
        expect(at!.getTime()).toBeLessThanOrEqual(to + 400);
      };
      near((await q.counts()).oldestSentAt, t0, t1 - 1_000);
      const got = await receiveN(q, 2, 10);
      const first = got.find((m) => m.body === 'first');
      // Received, not deleted: still in the queue.
      near((await q.counts()).oldestSentAt, t0, t1 - 1_000);
      expect(await q.delete(first!.receipt)).toBe(true);
      near((await q.counts()).oldestSentAt, t1, Date.now());
      for (const m of got.filter((m) => m !== first)) await q.delete(m.receipt);
      expect(await q.counts()).not.toHaveProperty('oldestSentAt');
    }, 10_000);

    test('many messages are each received once while leased', async () => {
      const q = await freshQueue('q-many');
      const sent = new Set<string>();
      for (let i = 0; i < 40; i++) sent.add(await q.send(`n${i}`));
      const got = await receiveN(q, 40, 10);
      expect(got).toHaveLength(40);
      expect(new Set(got.map((m) => m.id))).toEqual(sent);
      expect(new Set(got.map((m) => m.receipt)).size).toBe(40);
      expect(got.every((m) => m.receiveCount === 1)).toBe(true);
      expect(await q.receive(NOW)).toEqual([]);
      const deleted = await Promise.all(got.map((m) => q.delete(m.receipt)));
      expect(deleted.every(Boolean)).toBe(true);
      expect(await q.counts()).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    });
  });
}
