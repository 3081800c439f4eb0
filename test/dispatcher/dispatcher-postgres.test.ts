/**
 * Dispatcher replicas on PostgreSQL, as on several hosts: each replica has its own backend (its own
 * pool), all share one schema. Simulated clocks; the tick claims are real rows in a throwaway server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresBackend } from '../../src/backends/postgres/index.js';
import type { Backend } from '../../src/backends/ports.js';
import { Dispatcher } from '../../src/dispatcher/dispatcher.js';
import { decodeMessage } from '../../src/dispatch/message.js';
import { makeBackend, pgSkipReason, startThrowawayPostgres, type PgServer } from '../support/pg.js';

const REALM = 'r';
const START = Date.parse('2026-06-01T00:00:00Z');

class SimClock {
  constructor(public t: number) {}
  now = () => new Date(this.t);
}

describe.skipIf(pgSkipReason)(`dispatcher replicas on PostgreSQL${pgSkipReason ? ` (skipped: ${pgSkipReason})` : ''}`, () => {
  let server: PgServer;
  beforeAll(async () => {
    server = await startThrowawayPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  /** A fresh schema with a realm and `jobs` scheduled every minute; returns its backend, URL and cleanup. */
  async function setup(jobs: number) {
    const made = await makeBackend(server);
    await made.backend.config.putRealm({ realm: REALM, s3_payloads: 'file:///tmp/p', s3_temp: 'file:///tmp/t' });
    for (let i = 0; i < jobs; i++) {
      await made.backend.config.put(REALM, 'jobs', {
        job_id: `job${i}`,
        type: 'log',
        worker: 'w',
        enabled: true,
        dispatcher: 'main',
        schedule: '* * * * *',
      });
    }
    return made;
  }

  async function takeAll(backend: Backend) {
    const q = backend.queue(REALM, 'w');
    const out = [];
    for (;;) {
      const got = await q.receive({ max: 100, visibilitySeconds: 60, waitSeconds: 0 });
      if (!got.length) return out;
      for (const m of got) {
        out.push(decodeMessage(m.body));
        await q.delete(m.receipt);
      }
    }
  }

  const replica = (backend: Backend, clock: SimClock, staleSeconds?: number) =>
    Dispatcher.create({
      backend,
      realm: REALM,
      name: 'main',
      tz: 'UTC',
      clock,
      reloadSeconds: 0,
      ...(staleSeconds === undefined ? {} : { staleSeconds }),
    });

  it('three replicas with their own pools race over 30 minutes × 10 jobs: each tick dispatched once', async () => {
    const { backend, url, cleanup } = await setup(10);
    const others = await Promise.all([createPostgresBackend(url), createPostgresBackend(url)]);
    try {
      const clocks = [0, 1, 2].map(() => new SimClock(START + 30_000));
      const replicas = await Promise.all([backend, ...others].map((b, i) => replica(b, clocks[i] as SimClock)));
      await Promise.all(replicas.map((d) => d.tick()));
      for (let minute = 1; minute <= 30; minute++) {
        for (const c of clocks) c.t = START + minute * 60_000 + Math.random() * 20_000;
        // Concurrent ticks: the claims race in the database.
        await Promise.all(replicas.map((d) => d.tick()));
      }
      const msgs = await takeAll(backend);
      const keys = new Set(msgs.map((m) => `${m.job_id}@${new Date(m.ts_dispatch).toISOString().slice(0, 16)}`));
      expect(msgs).toHaveLength(10 * 30);
      expect(keys.size).toBe(10 * 30);
      expect(replicas.reduce((n, d) => n + d.dispatched, 0)).toBe(10 * 30);
    } finally {
      await Promise.all(others.map((b) => b.close()));
      await cleanup();
    }
  }, 60_000);

  it('a tick claimed by a replica that died before sending is sent by another, under the claimed run id', async () => {
    const { backend, cleanup } = await setup(0);
    try {
      await backend.config.put(REALM, 'jobs', {
        job_id: 'yearly',
        type: 'log',
        worker: 'w',
        enabled: true,
        dispatcher: 'main',
        schedule: '0 0 1 1 *',
      });
      const fireTime = new Date('2026-06-01T10:01:00Z');
      await backend.schedules.claim(REALM, 'main', { jobId: 'yearly', fireTime, runId: 'run-of-dead-replica' }, 'dead:1');
      await new Promise((r) => setTimeout(r, 20));
      const d = await replica(backend, new SimClock(Date.parse('2026-06-01T10:01:30Z')), 0);
      await d.tick();
      expect((await takeAll(backend)).map((m) => m.run_id)).toEqual(['run-of-dead-replica']);
      expect(await backend.schedules.stale(REALM, 'main', new Date(Date.now() + 1000))).toEqual([]);
    } finally {
      await cleanup();
    }
  });
});
