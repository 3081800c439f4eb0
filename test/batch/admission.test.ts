/** Admission on the embedded backend with a real worker in-process: the cap holds, every task runs once. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { admitOnce, runBatch, taskRunId, unfinished } from '../../src/batch/admission.js';
import type { BusinessJob } from '../../src/batch/chunking.js';
import { submitBatch } from '../../src/batch/submit.js';
import { silentLogger } from '../../src/core/logger.js';
import { sleep } from '../../src/core/time.js';
import { Worker } from '../../src/worker/worker.js';
import { makeRealm, type TestRealm } from '../helpers.js';

const FINAL = new Set(['complete', 'failed', 'skipped', 'rejected', 'action_failed']);
const job = (n: number): BusinessJob => ({
  attrs: [{ name: 'store', plural: 'stores' }],
  values: Array.from({ length: n }, (_, i) => `s${i}`),
  isolate: { stores: true },
  payload: { report: 'sales' },
});

describe('admission', () => {
  let t: TestRealm;
  beforeEach(async () => {
    t = await makeRealm();
    await t.putJob({ job_id: 'quick', type: 'log' });
  });
  afterEach(async () => {
    await t.close();
  });

  async function startWorker(): Promise<{ worker: Worker; done: Promise<void> }> {
    const worker = await Worker.create({
      backend: t.backend,
      realm: 'test',
      worker: 'w',
      threads: 8,
      waitSeconds: 0.05,
      heartbeatSeconds: 0,
      logger: silentLogger,
    });
    return { worker, done: worker.run() };
  }

  /** Dispatches per task key, from the events table: every run of the job and the task key its globals carry. */
  async function runsPerKey(): Promise<Map<string, number>> {
    const records = await t.backend.events.query('test', { jobId: 'quick', limit: 10_000 });
    const per = new Map<string, number>();
    for (const r of records) {
      const queued = r.log.find((e) => e.status === 'queued')?.info as { globals?: { batch?: { key?: string } } } | undefined;
      const key = queued?.globals?.batch?.key ?? '?';
      per.set(key, (per.get(key) ?? 0) + 1);
    }
    return per;
  }

  it('keeps at most `cap` tasks in flight, and runs each of 200 tasks once', async () => {
    const { batch } = await submitBatch(t.backend, 'test', { jobId: 'quick', job: job(200) });
    const id = batch.batch_id;
    const { worker, done } = await startWorker();
    let sampling = true;
    let maxStore = 0;
    let maxRuns = 0;
    let samples = 0;
    const sampler = (async () => {
      while (sampling) {
        const c = await t.backend.batches.counts('test', id);
        maxStore = Math.max(maxStore, c.queued + c.running);
        const records = await t.backend.events.query('test', { jobId: 'quick', limit: 10_000 });
        maxRuns = Math.max(maxRuns, records.filter((r) => !FINAL.has(r.status)).length);
        samples++;
        await sleep(20);
      }
    })();
    const last = await runBatch(t.backend, 'test', id, { cap: 3, everyMs: 20 });
    sampling = false;
    await sampler;
    await worker.stop();
    await done;

    expect(samples).toBeGreaterThan(10);
    expect(maxStore).toBeLessThanOrEqual(3);
    expect(maxRuns).toBeLessThanOrEqual(3);
    expect(maxStore).toBeGreaterThan(0);
    expect(last.counts).toMatchObject({ complete: 200, pending: 0, queued: 0, running: 0, failed: 0 });
    const per = await runsPerKey();
    expect(per.size).toBe(200);
    expect([...per.values()].every((n) => n === 1)).toBe(true);
    // Each task's run is the one its info names, and it completed with the task's chunk in `globals.batch`.
    const page = await t.backend.batches.listTasks('test', id, 'complete', { limit: 1 });
    const task = page.tasks[0];
    expect(task?.info).toMatchObject({ run_id: taskRunId(id, task?.key ?? '', 1), attempt: 1, run_status: 'complete' });
    const record = await t.backend.events.get('test', 'quick', String(task?.info.run_id));
    expect(record?.status).toBe('complete');
    expect(record?.log[0]?.info).toMatchObject({
      globals: { batch: { id, key: task?.key, attrs: { stores: [expect.any(String)] }, payload: { report: 'sales' } } },
    });
  }, 120_000);

  it('two replicas racing never admit a task twice', async () => {
    const { batch } = await submitBatch(t.backend, 'test', { jobId: 'quick', job: job(60) });
    const id = batch.batch_id;
    const { worker, done } = await startWorker();
    const admitted = [0, 0];
    const replica = async (i: number) => {
      for (;;) {
        const r = await admitOnce(t.backend, 'test', id, { cap: 5 });
        admitted[i] = (admitted[i] ?? 0) + r.admitted;
        if (!unfinished(r.counts)) return;
        await sleep(5);
      }
    };
    await Promise.all([replica(0), replica(1)]);
    await worker.stop();
    await done;

    expect((admitted[0] ?? 0) + (admitted[1] ?? 0)).toBe(60);
    const per = await runsPerKey();
    expect(per.size).toBe(60);
    expect([...per.values()].every((n) => n === 1)).toBe(true);
    expect(await t.backend.batches.counts('test', id)).toMatchObject({ complete: 60, pending: 0, queued: 0, running: 0 });
  }, 120_000);

  it('fails a task whose claim never led to a run, once the orphan time has passed', async () => {
    const { batch } = await submitBatch(t.backend, 'test', { jobId: 'quick', job: job(1) });
    const id = batch.batch_id;
    const [task] = (await t.backend.batches.listTasks('test', id, 'pending')).tasks;
    const key = task?.key ?? '';
    const claimed = new Date('2026-01-01T00:00:00Z');
    await t.backend.batches.transition('test', id, key, ['pending'], 'queued', {
      run_id: taskRunId(id, key, 1),
      attempt: 1,
      admitted: claimed.toISOString(),
    });
    const early = await admitOnce(t.backend, 'test', id, { cap: 1, now: () => new Date(claimed.getTime() + 1000) });
    expect(early.counts).toMatchObject({ queued: 1, failed: 0 });
    const late = await admitOnce(t.backend, 'test', id, { cap: 1, now: () => new Date(claimed.getTime() + 301_000) });
    expect(late.counts).toMatchObject({ queued: 0, failed: 1 });
    expect((await t.backend.batches.getTask('test', id, key))?.info.error).toMatch(/never recorded/);
  });

  it('refuses a cap that is not a positive integer and an unknown batch', async () => {
    await expect(admitOnce(t.backend, 'test', 'nope', { cap: 0 })).rejects.toThrow(/cap/);
    await expect(admitOnce(t.backend, 'test', 'nope', { cap: 1 })).rejects.toThrow(/nope/);
  });
});
