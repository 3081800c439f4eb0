/**
 * Dead tasks on SQLite and PostgreSQL (a throwaway server): listing, retry and discard by key and
 * all at once, unknown keys, a finished batch reopened by a retry, and concurrent retries through
 * two backends opened on the same store moving each task exactly once.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBackend } from '../../src/backends/index.js';
import type { Backend, BatchRecord } from '../../src/backends/ports.js';
import { attemptsUsed, discardDead, listDead, retryDead } from '../../src/batch/dead.js';
import { batchSummary, listBatchTasks } from '../../src/batch/tasks.js';
import { uniqueRealm } from '../conformance/harness.js';
import { makeBackend, pgSkipReason, startThrowawayPostgres, type PgServer } from '../support/pg.js';

interface Subject {
  /** Two backends on the same store (two replicas, or two operators' CLIs). */
  a: Backend;
  b: Backend;
  cleanup(): Promise<void>;
}

async function sqlite(): Promise<Subject> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lava-dead-'));
  const url = `sqlite:${path.join(dir, 'lava.db')}`;
  const a = await openBackend(url);
  const b = await openBackend(url);
  return {
    a,
    b,
    async cleanup() {
      await a.close();
      await b.close();
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}

let pgServer: PgServer | undefined;
async function postgres(): Promise<Subject> {
  pgServer ??= await startThrowawayPostgres();
  const made = await makeBackend(pgServer);
  const b = await openBackend(made.url);
  return {
    a: made.backend,
    b,
    async cleanup() {
      await b.close();
      await made.cleanup();
    },
  };
}

afterAll(async () => {
  await pgServer?.stop();
}, 60_000);

const batch = (id: string, extra: Partial<BatchRecord> = {}): BatchRecord => ({
  batch_id: id,
  job_id: 'report',
  options: {},
  submitted: '2026-03-04T09:00:00.000Z',
  state: 'submitted',
  task_count: 10,
  ...extra,
});

const keys = (n: number) => Array.from({ length: n }, (_, i) => `k${String(i).padStart(2, '0')}`);

const kinds: [string, () => Promise<Subject>, string | undefined][] = [
  ['sqlite', sqlite, undefined],
  ['postgres', postgres, pgSkipReason],
];

for (const [kind, make, skip] of kinds) {
  const suite = skip ? describe.skip : describe;
  suite(`dead tasks on ${kind}${skip ? ` [skipped: ${skip}]` : ''}`, () => {
    let s: Subject;
    let realm: string;
    beforeAll(async () => {
      s = await make();
    }, 120_000);
    afterAll(async () => {
      await s?.cleanup();
    }, 60_000);

    /** A batch of `n` tasks; the first `dead` are driven to dead after `attempts` claims each. */
    async function setup(id: string, n: number, dead: number, attempts = 3, extra: Partial<BatchRecord> = {}): Promise<void> {
      realm = uniqueRealm(`dead-${id}`);
      await s.a.config.putRealm({ realm, s3_payloads: 'file:///tmp/p', s3_temp: 'file:///tmp/t' });
      await s.a.batches.create(realm, batch(id, { task_count: n, ...extra }));
      await s.a.batches.addTasks(
        realm,
        id,
        keys(n).map((key) => ({ key, task: { key } })),
      );
      for (const key of keys(n).slice(0, dead)) {
        const moved = await s.a.batches.transition(realm, id, key, ['pending'], 'dead', {
          attempt: attempts,
          run_id: `run-${key}`,
          run_status: 'failed',
          error: `boom ${key}`,
          died_at: '2026-03-04T10:00:00.000Z',
        });
        expect(moved).toBe(true);
      }
    }

    it('lists dead tasks with their error, in pages', async () => {
      await setup('list', 10, 5);
      const first = await listDead(s.a, realm, 'list', { limit: 3 });
      expect(first.tasks.map((t) => t.key)).toEqual(['k00', 'k01', 'k02']);
      expect(first.tasks[0]?.info).toMatchObject({ error: 'boom k00', attempt: 3, run_id: 'run-k00' });
      expect(attemptsUsed(first.tasks[0]!)).toBe(3);
      const second = await listDead(s.a, realm, 'list', { limit: 3, cursor: first.cursor! });
      expect(second.tasks.map((t) => t.key)).toEqual(['k03', 'k04']);
      expect(second.cursor).toBeUndefined();
      await expect(listDead(s.a, realm, 'nope')).rejects.toThrow(/batch "nope" not found: list batches with `lava batch ls`/);
      await expect(listDead(s.a, realm, 'list', { limit: 0 })).rejects.toThrow(/limit 0/);
    });

    it('retries named keys: pending again with a fresh allowance; unknown and not-dead keys are reported', async () => {
      await setup('retry', 10, 4);
      const r = await retryDead(s.a, realm, 'retry', ['k00', 'k01', 'k01', 'k09', 'zz']);
      expect(r).toEqual({ moved: 2, unknown: ['zz'], skipped: ['k09'] });
      const t = await s.a.batches.getTask(realm, 'retry', 'k00');
      expect(t?.state).toBe('pending');
      expect(t?.info).toMatchObject({ attempt: 3, attempts_from: 3, retry_at: null, died_at: null, error: null });
      expect(attemptsUsed(t!)).toBe(0);
      // Again: nothing moves (idempotent).
      expect(await retryDead(s.a, realm, 'retry', ['k00', 'k01'])).toEqual({ moved: 0, unknown: [], skipped: ['k00', 'k01'] });
      expect((await s.a.batches.counts(realm, 'retry')).dead).toBe(2);
      await expect(retryDead(s.a, realm, 'retry', [])).rejects.toThrow(/keys: name at least one task key/);
      await expect(retryDead(s.a, realm, 'nope', 'all')).rejects.toThrow(/batch "nope" not found/);
    });

    it('retry all reopens a finished batch; discard all keeps the batch as it is', async () => {
      await setup('all', 10, 6, 2, { state: 'finished' });
      expect(await retryDead(s.a, realm, 'all', 'all')).toEqual({ moved: 6, unknown: [], skipped: [] });
      expect(await s.a.batches.get(realm, 'all')).toMatchObject({ state: 'submitted', task_count: 10 });
      expect(await s.a.batches.counts(realm, 'all')).toMatchObject({ pending: 10, dead: 0 });
      expect(await retryDead(s.a, realm, 'all', 'all')).toEqual({ moved: 0, unknown: [], skipped: [] });

      await setup('disc', 10, 4, 3, { state: 'finished' });
      const at = new Date('2026-03-05T08:00:00.000Z');
      expect(await discardDead(s.a, realm, 'disc', ['k03'], () => at)).toMatchObject({ moved: 1 });
      expect((await s.a.batches.getTask(realm, 'disc', 'k03'))?.info).toMatchObject({
        discarded_at: at.toISOString(),
        error: 'boom k03',
      });
      expect(await discardDead(s.a, realm, 'disc', 'all')).toMatchObject({ moved: 3 });
      expect(await discardDead(s.a, realm, 'disc', 'all')).toMatchObject({ moved: 0 });
      expect(await s.a.batches.get(realm, 'disc')).toMatchObject({ state: 'finished' });
      // A discarded task cannot be retried.
      expect(await retryDead(s.a, realm, 'disc', ['k03'])).toEqual({ moved: 0, unknown: [], skipped: ['k03'] });
      const summary = await batchSummary(s.a, realm, 'disc');
      expect(summary).toMatchObject({ total: 10, done: 4, fraction: 0.4, counts: { discarded: 4, pending: 6 } });
    });

    it('concurrent retries through two backends move each task once', async () => {
      await setup('race', 40, 40, 5, { state: 'finished' });
      const results = await Promise.all([
        retryDead(s.a, realm, 'race', 'all'),
        retryDead(s.b, realm, 'race', 'all'),
        retryDead(s.a, realm, 'race', keys(40).reverse()),
        retryDead(s.b, realm, 'race', keys(40)),
      ]);
      expect(results.reduce((n, r) => n + r.moved, 0)).toBe(40);
      expect(await s.a.batches.counts(realm, 'race')).toMatchObject({ pending: 40, dead: 0 });
      for (const t of (await s.a.batches.listTasks(realm, 'race', 'pending', { limit: 100 })).tasks) {
        expect(t.info).toMatchObject({ attempt: 5, attempts_from: 5 });
      }
      // Retry and discard racing on the same tasks: each task ends in exactly one of the two states.
      await setup('race2', 30, 30, 1);
      const [r, d] = await Promise.all([retryDead(s.a, realm, 'race2', 'all'), discardDead(s.b, realm, 'race2', 'all')]);
      expect(r.moved + d.moved).toBe(30);
      expect(await s.a.batches.counts(realm, 'race2')).toMatchObject({ pending: r.moved, discarded: d.moved, dead: 0 });
    }, 60_000);

    it('lists closed tasks across states with one cursor', async () => {
      await setup('arch', 6, 2);
      await s.a.batches.transition(realm, 'arch', 'k05', ['pending'], 'complete', { run_id: 'r5' });
      await s.a.batches.transition(realm, 'arch', 'k04', ['pending'], 'complete', { run_id: 'r4' });
      await discardDead(s.a, realm, 'arch', ['k01']);
      const states = ['complete', 'dead', 'discarded'] as const;
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await listBatchTasks(s.a, realm, 'arch', states, { limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...page.tasks.map((t) => `${t.state}:${t.key}`));
        cursor = page.cursor;
        pages++;
      } while (cursor && pages < 10);
      expect(seen).toEqual(['complete:k04', 'complete:k05', 'dead:k00', 'discarded:k01']);
      await expect(listBatchTasks(s.a, realm, 'arch', states, { cursor: 'garbage' })).rejects.toThrow(/cursor/);
    });
  });
}
