/**
 * PostgreSQL queue specifics: LISTEN/NOTIFY wakes long polls across backends within milliseconds, and
 * receivers on separate backends (separate pools, as on separate hosts) share a queue with each message
 * deleted exactly once.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresBackend } from '../../src/backends/postgres/index.js';
import type { Backend, QueueMessage } from '../../src/backends/ports.js';
import { adminQuery, makeBackend, pgSkipReason, startThrowawayPostgres, type PgServer } from '../support/pg.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (pgSkipReason) {
  describe.skip(`PostgreSQL queue [skipped: ${pgSkipReason}]`, () => {
    it('NOTIFY wake-ups and concurrent receivers', () => {});
  });
} else {
  describe('PostgreSQL queue', () => {
    let server: PgServer;
    const cleanups: (() => Promise<void>)[] = [];

    beforeAll(async () => {
      server = await startThrowawayPostgres();
    }, 120_000);
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });
    afterAll(async () => {
      await server?.stop();
    }, 60_000);

    /** `n` backends on one fresh schema, each with its own pool and LISTEN connection. */
    let schema = '';
    async function backends(n: number): Promise<Backend[]> {
      const first = await makeBackend(server);
      schema = first.schema;
      cleanups.push(first.cleanup);
      const out = [first.backend];
      for (let i = 1; i < n; i++) {
        const b = await createPostgresBackend(first.url);
        cleanups.push(() => b.close());
        out.push(b);
      }
      return out;
    }

    it('a send from another backend wakes a long poll within milliseconds (NOTIFY, not polling)', async () => {
      const [receiver, sender] = (await backends(2)) as [Backend, Backend];
      const rq = receiver.queue('r', 'w');
      const sq = sender.queue('r', 'w');
      const latencies: number[] = [];
      for (let i = 0; i < 5; i++) {
        const pending = rq.receive({ max: 10, visibilitySeconds: 30, waitSeconds: 10 });
        // Past the first empty look, and not aligned with the 1 s fallback poll.
        await sleep(150 + i * 70);
        const sentAt = Date.now();
        await sq.send(`wake ${i}`);
        const sent = Date.now();
        const got = await pending;
        latencies.push(Date.now() - sent);
        expect(got.map((m) => m.body)).toEqual([`wake ${i}`]);
        expect(Date.now() - sentAt).toBeLessThan(200);
        await rq.delete((got[0] as QueueMessage).receipt);
      }
      expect(Math.max(...latencies)).toBeLessThan(200);
    });

    it('extendVisibility(0) from another backend wakes a long poll at once', async () => {
      const [a, b] = (await backends(2)) as [Backend, Backend];
      await b.queue('r', 'w').send('give back');
      const [msg] = await b.queue('r', 'w').receive({ max: 1, visibilitySeconds: 60, waitSeconds: 0 });
      expect(msg).toBeDefined();
      const pending = a.queue('r', 'w').receive({ max: 1, visibilitySeconds: 30, waitSeconds: 10 });
      await sleep(200);
      const t0 = Date.now();
      expect(await b.queue('r', 'w').extendVisibility((msg as QueueMessage).receipt, 0)).toBe(true);
      const got = await pending;
      expect(Date.now() - t0).toBeLessThan(200);
      expect(got.map((m) => [m.body, m.receiveCount])).toEqual([['give back', 2]]);
    });

    it('a notification for another queue does not hand over its message; a delayed one arrives by polling', async () => {
      const [a] = (await backends(1)) as [Backend];
      const pending = a.queue('r', 'mine').receive({ max: 10, visibilitySeconds: 30, waitSeconds: 3 });
      await sleep(100);
      await a.queue('r', 'other').send('not for you');
      await a.queue('r', 'mine').send('later', { delaySeconds: 1 });
      const t0 = Date.now();
      const got = await pending;
      expect(got.map((m) => m.body)).toEqual(['later']);
      // Due after ~1 s, seen by the next fallback look at most a second later.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(800);
      expect(Date.now() - t0).toBeLessThan(2_500);
      expect(await a.queue('r', 'other').counts()).toMatchObject({ visible: 1, inflight: 0, delayed: 0 });
    });

    it('4 receivers on separate backends drain 1,000 messages: each deleted exactly once', async () => {
      const all = await backends(5);
      const [sender, ...receivers] = all as [Backend, ...Backend[]];
      const sq = sender.queue('r', 'core');
      const ids = new Set<string>();
      for (let i = 0; i < 1000; i += 50) {
        const batch = await Promise.all(Array.from({ length: 50 }, (_, j) => sq.send(JSON.stringify({ n: i + j }))));
        for (const id of batch) ids.add(id);
      }
      expect(ids.size).toBe(1000);

      const start = Date.now();
      const results = await Promise.all(
        receivers.map(async (b) => {
          const q = b.queue('r', 'core');
          const deleted: string[] = [];
          const counts: number[] = [];
          let empty = 0;
          while (empty < 2) {
            const batch = await q.receive({ max: 10, visibilitySeconds: 60, waitSeconds: 0.3 });
            if (!batch.length) {
              empty++;
              continue;
            }
            empty = 0;
            for (const m of batch) {
              counts.push(m.receiveCount);
              if (await q.delete(m.receipt)) deleted.push(m.id);
            }
          }
          return { deleted, counts };
        }),
      );
      const elapsed = Date.now() - start;
      const deleted = results.flatMap((r) => r.deleted);
      expect(deleted).toHaveLength(1000);
      expect(new Set(deleted)).toEqual(ids);
      expect(results.flatMap((r) => r.counts).every((c) => c === 1)).toBe(true);
      // The work was shared.
      for (const r of results) expect(r.deleted.length).toBeGreaterThan(50);
      expect(await sq.counts()).toEqual({ visible: 0, inflight: 0, delayed: 0 });
      expect(elapsed).toBeLessThan(20_000);
    }, 60_000);

    it('each backend holds one LISTEN connection, whatever the number of long polls', async () => {
      const bs = await backends(3);
      const polls = bs.flatMap((b) =>
        ['w1', 'w2'].flatMap((w) => [1, 2].map(() => b.queue('r', w).receive({ max: 1, visibilitySeconds: 30, waitSeconds: 2 }))),
      );
      const listeners = async () =>
        Number(
          (
            await adminQuery<{ n: string }>(
              server,
              'SELECT count(*)::text AS n FROM pg_stat_activity WHERE application_name = $1',
              [`lava-listen:${schema}`],
            )
          )[0]?.n,
        );
      await sleep(300);
      expect(await listeners()).toBe(3);
      // One send wakes one of them with the message; the rest time out empty.
      await (bs[0] as Backend).queue('r', 'w1').send('one');
      const got = (await Promise.all(polls)).flat();
      expect(got.map((m) => m.body)).toEqual(['one']);
    });

    it('a cached job spec is dropped as soon as another backend changes it, and again on direct SQL after at most 5 s', async () => {
      const [worker, cli] = (await backends(2)) as [Backend, Backend];
      await cli.config.putRealm({ realm: 'r' } as never);
      await cli.config.put('r', 'jobs', { job_id: 'j', type: 'log', worker: 'w', v: 1 });
      // The worker's LISTEN connection comes up with its first long poll.
      await worker.queue('r', 'w').receive({ max: 1, visibilitySeconds: 30, waitSeconds: 0.2 });
      expect(await worker.config.get('r', 'jobs', 'j')).toMatchObject({ v: 1 });
      // Served from the cache: a change behind the store's back is not seen at once...
      await adminQuery(
        server,
        `UPDATE "${schema}".items SET spec = '{"job_id":"j","type":"log","worker":"w","v":2}' WHERE id = 'j'`,
      );
      expect(await worker.config.get('r', 'jobs', 'j')).toMatchObject({ v: 1 });
      // ...a change through any backend is, once its notification arrives (milliseconds).
      await cli.config.put('r', 'jobs', { job_id: 'j', type: 'log', worker: 'w', v: 3 });
      const t0 = Date.now();
      while ((await worker.config.get('r', 'jobs', 'j'))?.v !== 3 && Date.now() - t0 < 2_000) await sleep(5);
      expect(Date.now() - t0).toBeLessThan(1_000);
      await cli.config.delete('r', 'jobs', 'j');
      const t1 = Date.now();
      while ((await worker.config.get('r', 'jobs', 'j')) !== undefined && Date.now() - t1 < 2_000) await sleep(5);
      expect(await worker.config.get('r', 'jobs', 'j')).toBeUndefined();
      // A cached copy is not the caller's to change.
      await cli.config.put('r', 'jobs', { job_id: 'k', type: 'log', worker: 'w', v: 1 });
      await sleep(200); // its notification has arrived: what is cached next stays cached
      const a = await worker.config.get('r', 'jobs', 'k');
      (a as Record<string, unknown>).v = 99;
      expect(await worker.config.get('r', 'jobs', 'k')).toMatchObject({ v: 1 });
      // Direct SQL (no notification) is seen within CONFIG_CACHE_MS.
      await adminQuery(
        server,
        `UPDATE "${schema}".items SET spec = '{"job_id":"k","type":"log","worker":"w","v":4}' WHERE id = 'k'`,
      );
      const t2 = Date.now();
      expect(await worker.config.get('r', 'jobs', 'k')).toMatchObject({ v: 1 });
      while ((await worker.config.get('r', 'jobs', 'k'))?.v !== 4 && Date.now() - t2 < 8_000) await sleep(50);
      expect(Date.now() - t2).toBeGreaterThan(1_000);
      expect(Date.now() - t2).toBeLessThan(5_500);
    }, 20_000);
  });
}
