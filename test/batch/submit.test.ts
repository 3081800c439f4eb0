/** submitBatch on the embedded backend: durable, idempotent, resumable, and in bounded memory. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/ports.js';
import { createSqliteBackend } from '../../src/backends/sqlite/index.js';
import type { BusinessJob } from '../../src/batch/chunking.js';
import { deriveBatchId, submitBatch } from '../../src/batch/submit.js';

const stores = [{ name: 'store', plural: 'stores' }];
const now = new Date('2026-03-04T09:00:00Z');
const job = (n: number, extra: Partial<BusinessJob> = {}): BusinessJob => ({
  attrs: stores,
  values: Array.from({ length: n }, (_, i) => `store-${i}`),
  isolate: { stores: true },
  payload: { report: 'sales' },
  ...extra,
});

describe('submitBatch', () => {
  let dir: string;
  let backend: Backend;
  const realm = 'r';

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-batch-submit-'));
    backend = createSqliteBackend(path.join(dir, 'lava.db'));
    await backend.config.putRealm({ realm, s3_payloads: 'file:///tmp/p', s3_temp: 'file:///tmp/t' });
    await backend.config.put(realm, 'jobs', { job_id: 'report', type: 'cmd', worker: 'core', payload: 'echo hi' });
  });
  afterAll(async () => {
    await backend.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes the tasks once: a resubmit adds nothing and returns the same batch', async () => {
    const first = await submitBatch(backend, realm, { jobId: 'report', job: job(1200), options: { now } });
    expect(first).toMatchObject({ created: true, taskCount: 1200, added: 1200 });
    expect(first.batch).toMatchObject({ job_id: 'report', state: 'submitted', task_count: 1200 });
    expect(first.batch.batch_id).toBe(deriveBatchId('report', job(1200), { now: now.toISOString() }));
    const again = await submitBatch(backend, realm, { jobId: 'report', job: job(1200), options: { now } });
    expect(again).toMatchObject({ created: false, taskCount: 1200, added: 0, batch: { batch_id: first.batch.batch_id } });
    expect((await backend.batches.counts(realm, first.batch.batch_id)).pending).toBe(1200);
    const page = await backend.batches.listTasks(realm, first.batch.batch_id, 'pending', { limit: 1 });
    expect(page.tasks[0]?.task).toMatchObject({ attrs: { stores: [expect.any(String)] }, payload: { report: 'sales' } });
  });

  it('derives the id from the job, the business job and its dates', () => {
    const at = (iso: string) => ({ now: new Date(iso).toISOString(), timeZone: 'UTC' });
    const y = job(3, { period: 'yesterday' });
    expect(deriveBatchId('report', y, at('2026-03-04T01:00:00Z'))).toBe(deriveBatchId('report', y, at('2026-03-04T23:00:00Z')));
    expect(deriveBatchId('report', y, at('2026-03-04T01:00:00Z'))).not.toBe(
      deriveBatchId('report', y, at('2026-03-05T01:00:00Z')),
    );
    expect(deriveBatchId('report', y, at('2026-03-04T01:00:00Z'))).not.toBe(
      deriveBatchId('other', y, at('2026-03-04T01:00:00Z')),
    );
    expect(deriveBatchId('report', job(3), at('2026-03-04T01:00:00Z'))).toMatch(/^report-[0-9a-f]{16}$/);
  });

  it('finishes a submission that stopped half-way, with the tasks of the first attempt', async () => {
    const id = 'half-way';
    const business = job(10, { period: 'yesterday', isolate_days: true });
    await backend.batches.create(realm, {
      batch_id: id,
      job_id: 'report',
      options: { job: business, now: now.toISOString(), timeZone: 'UTC' },
      submitted: now.toISOString(),
      state: 'submitting',
    });
    const full = await submitBatch(backend, realm, {
      batchId: 'reference',
      jobId: 'report',
      job: business,
      options: { now, timeZone: 'UTC' },
    });
    const ref = await backend.batches.listTasks(realm, 'reference', 'pending', { limit: 4 });
    await backend.batches.addTasks(
      realm,
      id,
      ref.tasks.map((t) => ({ key: t.key, task: t.task })),
    );
    // Resubmitted a day later: the stored instant decides the dates, not today's.
    const later = new Date('2026-03-05T09:00:00Z');
    const r = await submitBatch(backend, realm, { batchId: id, jobId: 'report', job: business, options: { now: later } });
    expect(r).toMatchObject({ created: false, taskCount: 10, added: 6, batch: { state: 'submitted', task_count: 10 } });
    expect(full.taskCount).toBe(10);
    const t = await backend.batches.getTask(realm, id, ref.tasks[0]!.key);
    expect(t?.task).toMatchObject({ date_list: ['2026-03-03'] });
  });

  it('refuses a missing job, a bad business job, and an id taken by another job, writing nothing', async () => {
    await expect(submitBatch(backend, realm, { jobId: 'nope', job: job(1) })).rejects.toMatchObject({ code: 'LAVA_NOT_FOUND' });
    await expect(
      submitBatch(backend, realm, { batchId: 'bad', jobId: 'report', job: { period: 'someday' } }),
    ).rejects.toMatchObject({ code: 'LAVA_INVALID' });
    expect(await backend.batches.get(realm, 'bad')).toBeUndefined();
    await backend.config.put(realm, 'jobs', { job_id: 'other', type: 'cmd', worker: 'core', payload: 'echo' });
    await submitBatch(backend, realm, { batchId: 'taken', jobId: 'report', job: job(1) });
    await expect(submitBatch(backend, realm, { batchId: 'taken', jobId: 'other', job: job(1) })).rejects.toThrow(
      /exists already, for job report/,
    );
  });

  it('submits 100,000 tasks in bounded memory; a resubmit adds nothing', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // 100 days × 1,000 stores, one task each.
    const big = job(1000, { period: { from: '2026-01-01', to: '2026-04-10' }, isolate_days: true });
    gc();
    const base = process.memoryUsage().heapUsed;
    // Measured at every 20th write, after a collection: what submitting holds while it runs.
    let peak = 0;
    let calls = 0;
    const store = backend.batches;
    const addTasks = store.addTasks.bind(store);
    store.addTasks = async (...args) => {
      if (++calls % 20 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - base);
        console.log('PEAK', peak);
      }
      return addTasks(...args);
    };
    let r;
    try {
      r = await submitBatch(backend, realm, { batchId: 'big', jobId: 'report', job: big, options: { now } });
    } finally {
      delete (store as Partial<typeof store>).addTasks;
    }
    gc();
    const retained = process.memoryUsage().heapUsed - base;
    expect(r).toMatchObject({ taskCount: 100_000, added: 100_000 });
    expect(calls).toBe(200);
    // The whole list of 100,000 tasks would take about 50 MB of heap.
    expect(peak).toBeLessThan(15 * 1024 * 1024);
    expect(retained).toBeLessThan(15 * 1024 * 1024);
    expect((await backend.batches.counts(realm, 'big')).pending).toBe(100_000);
    const again = await submitBatch(backend, realm, { batchId: 'big', jobId: 'report', job: big, options: { now } });
    expect(again).toMatchObject({ created: false, taskCount: 100_000, added: 0 });
  }, 120_000);
});
