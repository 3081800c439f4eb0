/**
 * BatchStore conformance: orchestrated batches and their tasks (idempotent create and add,
 * counts per state, paged listing by state, conditional transitions).
 * Backend-agnostic: every test uses its own realm.
 */
import { describe, expect } from 'vitest';
import type { Backend, BatchRecord, NewBatchTask } from '../../src/backends/ports.js';
import { type ConformanceOptions, skippableTest, useBackend } from './harness.js';

export type BatchStoreConformanceOptions = ConformanceOptions;

function batch(id: string, extra: Partial<BatchRecord> = {}): BatchRecord {
  return {
    batch_id: id,
    job_id: 'report',
    options: { job: { period: 'today', payload: { n: 1 } } },
    submitted: '2026-03-04T09:00:00.000Z',
    state: 'submitting',
    ...extra,
  };
}

const tasks = (n: number, prefix = 'k'): NewBatchTask[] =>
  Array.from({ length: n }, (_, i) => ({
    key: `${prefix}${String(i).padStart(4, '0')}`,
    task: { attrs: { stores: [`s${i}`] }, payload: { i } },
  }));

export function runBatchStoreConformance(opts: BatchStoreConformanceOptions): void {
  const test = skippableTest(opts.name, opts.skip);

  describe(`BatchStore conformance: ${opts.name}`, () => {
    let backend!: Backend;
    const { freshRealm } = useBackend(opts.make, (b) => (backend = b));

    test('create is idempotent: the same id again returns the existing batch unchanged', async () => {
      const realm = await freshRealm('bt-create');
      expect(await backend.batches.get(realm, 'b1')).toBeUndefined();
      const first = await backend.batches.create(realm, batch('b1'));
      expect(first).toEqual({ batch: batch('b1'), created: true });
      const again = await backend.batches.create(realm, batch('b1', { job_id: 'other', submitted: '2027-01-01T00:00:00.000Z' }));
      expect(again).toEqual({ batch: batch('b1'), created: false });
      expect(await backend.batches.get(realm, 'b1')).toEqual(batch('b1'));
    });

    test('list and update batches', async () => {
      const realm = await freshRealm('bt-list');
      await backend.batches.create(realm, batch('later', { submitted: '2026-03-05T00:00:00.000Z' }));
      await backend.batches.create(realm, batch('earlier'));
      await backend.batches.update(realm, 'earlier', { state: 'submitted', task_count: 12 });
      const list = await backend.batches.list(realm);
      expect(list.map((b) => b.batch_id)).toEqual(['earlier', 'later']);
      expect(list[0]).toEqual(batch('earlier', { state: 'submitted', task_count: 12 }));
      expect(await backend.batches.list(await freshRealm('bt-empty'))).toEqual([]);
    });

    test('addTasks is idempotent by key and counts per state', async () => {
      const realm = await freshRealm('bt-add');
      await backend.batches.create(realm, batch('b'));
      expect(await backend.batches.addTasks(realm, 'b', tasks(30))).toBe(30);
      expect(await backend.batches.addTasks(realm, 'b', tasks(40))).toBe(10);
      expect(await backend.batches.addTasks(realm, 'b', [])).toBe(0);
      const counts = await backend.batches.counts(realm, 'b');
      expect(counts).toEqual({ pending: 40, queued: 0, running: 0, complete: 0, failed: 0, dead: 0, discarded: 0 });
      const t = await backend.batches.getTask(realm, 'b', 'k0003');
      expect(t).toMatchObject({
        key: 'k0003',
        state: 'pending',
        info: {},
        task: { attrs: { stores: ['s3'] }, payload: { i: 3 } },
      });
      expect(typeof t?.updated).toBe('string');
      expect(await backend.batches.getTask(realm, 'b', 'nope')).toBeUndefined();
      // Another batch's tasks are its own.
      expect(await backend.batches.counts(realm, 'other')).toMatchObject({ pending: 0 });
    });

    test('a moved task is not reset by adding it again', async () => {
      const realm = await freshRealm('bt-readd');
      await backend.batches.create(realm, batch('b'));
      await backend.batches.addTasks(realm, 'b', tasks(3));
      expect(await backend.batches.transition(realm, 'b', 'k0001', ['pending'], 'queued', { run_id: 'r1' })).toBe(true);
      expect(await backend.batches.addTasks(realm, 'b', tasks(3))).toBe(0);
      expect(await backend.batches.getTask(realm, 'b', 'k0001')).toMatchObject({ state: 'queued', info: { run_id: 'r1' } });
    });

    test('listTasks pages through one state in key order', async () => {
      const realm = await freshRealm('bt-page');
      await backend.batches.create(realm, batch('b'));
      await backend.batches.addTasks(realm, 'b', tasks(25));
      for (const k of ['k0002', 'k0010', 'k0020']) await backend.batches.transition(realm, 'b', k, ['pending'], 'complete');
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await backend.batches.listTasks(realm, 'b', 'pending', { limit: 10, ...(cursor ? { cursor } : {}) });
        expect(page.tasks.length).toBeLessThanOrEqual(10);
        seen.push(...page.tasks.map((t) => t.key));
        cursor = page.cursor;
        pages++;
      } while (cursor);
      expect(pages).toBeLessThanOrEqual(3);
      expect(seen).toEqual(
        tasks(25)
          .map((t) => t.key)
          .filter((k) => !['k0002', 'k0010', 'k0020'].includes(k)),
      );
      const done = await backend.batches.listTasks(realm, 'b', 'complete');
      expect(done.tasks.map((t) => t.key)).toEqual(['k0002', 'k0010', 'k0020']);
      expect(done.cursor).toBeUndefined();
      expect((await backend.batches.listTasks(realm, 'b', 'dead')).tasks).toEqual([]);
    });

    test('transition moves a task only from the given states, merging the patch', async () => {
      const realm = await freshRealm('bt-move');
      await backend.batches.create(realm, batch('b'));
      await backend.batches.addTasks(realm, 'b', tasks(2));
      expect(await backend.batches.transition(realm, 'b', 'k0000', ['queued'], 'running')).toBe(false);
      expect(await backend.batches.transition(realm, 'b', 'k0000', ['pending', 'failed'], 'queued', { run_id: 'r1', n: 1 })).toBe(
        true,
      );
      expect(await backend.batches.transition(realm, 'b', 'k0000', ['queued'], 'running', { n: 2, worker: 'w' })).toBe(true);
      expect(await backend.batches.getTask(realm, 'b', 'k0000')).toMatchObject({
        state: 'running',
        info: { run_id: 'r1', n: 2, worker: 'w' },
      });
      expect(await backend.batches.transition(realm, 'b', 'missing', ['pending'], 'queued')).toBe(false);
      expect(await backend.batches.counts(realm, 'b')).toMatchObject({ pending: 1, running: 1, queued: 0 });
    });

    test('concurrent transitions of one task: exactly one wins', async () => {
      const realm = await freshRealm('bt-race');
      await backend.batches.create(realm, batch('b'));
      await backend.batches.addTasks(realm, 'b', tasks(1));
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => backend.batches.transition(realm, 'b', 'k0000', ['pending'], 'queued', { by: i })),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect(await backend.batches.getTask(realm, 'b', 'k0000')).toMatchObject({ state: 'queued', info: { by: winner } });
    });

    test('addTasks takes a chunk larger than one backend request', async () => {
      const realm = await freshRealm('bt-big');
      await backend.batches.create(realm, batch('b'));
      expect(await backend.batches.addTasks(realm, 'b', tasks(260, 'x'))).toBe(260);
      expect(await backend.batches.addTasks(realm, 'b', tasks(270, 'x'))).toBe(10);
      expect((await backend.batches.counts(realm, 'b')).pending).toBe(270);
    }, 60_000);
  });
}
