/** The `batch` job type: submits a batch of its payload's job, idempotently, and with `wait` lasts until it is finished. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Config } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { BatchAdmitter } from '../../src/dispatcher/batches.js';
import { Worker } from '../../src/worker/worker.js';
import { makeRealm, type TestRealm } from '../helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('batch job type', () => {
  let t: TestRealm;
  beforeEach(async () => {
    t = await makeRealm();
    await t.putJob({ job_id: 'quick', type: 'log' });
    await t.putJob({ job_id: 'broken', type: 'cmd', payload: 'false' });
  });
  afterEach(async () => {
    await t.close();
  });

  const business = { attrs: [{ name: 'store', plural: 'stores' }], values: ['a', 'b', 'c', 'd', 'e'], isolate: { stores: true } };

  /** A worker and a dispatcher's admitter in-process until `until` settles. */
  async function withFleet<T>(until: () => Promise<T>, fleet = 'w'): Promise<T> {
    const worker = await Worker.create({
      backend: t.backend,
      realm: 'test',
      worker: fleet,
      threads: 4,
      waitSeconds: 0.02,
      heartbeatSeconds: 0,
      logger: silentLogger,
    });
    const working = worker.run();
    const stop = new AbortController();
    const admitter = new BatchAdmitter({
      backend: t.backend,
      realm: 'test',
      config: new Config({ BATCH_ADMIT_INTERVAL: '0.05s' }),
      logger: silentLogger,
    });
    const admitting = admitter.run(stop.signal);
    try {
      return await until();
    } finally {
      stop.abort();
      await admitting;
      await worker.stop();
      await working;
    }
  }

  it('submits the batch, waits for it, and a rerun writes nothing new', async () => {
    await t.putJob({
      job_id: 'nightly',
      type: 'batch',
      payload: 'quick',
      parameters: { job: business, admission: { cap: 2 }, batch_id: 'nightly-{{ globals.day }}', wait: true, poll: 0.05 },
    });
    const runId = await t.dispatch('nightly', { globals: { day: 'd1' } });
    const record = await withFleet(async () => {
      for (;;) {
        const r = await t.backend.events.get('test', 'nightly', runId);
        if (r && ['complete', 'failed'].includes(r.status)) return r;
        await new Promise((res) => setTimeout(res, 50));
      }
    });
    expect(record.status).toBe('complete');
    const result = record.log.at(-1)?.info as Record<string, unknown>;
    expect(result).toMatchObject({ batch_id: 'nightly-d1', job_id: 'quick', task_count: 5, created: true, added: 5 });
    expect(result.counts).toMatchObject({ complete: 5, dead: 0 });
    expect((await t.backend.batches.get('test', 'nightly-d1'))?.state).toBe('finished');
    expect(await t.backend.events.query('test', { jobId: 'quick', limit: 100 })).toHaveLength(5);

    // The same business job again: the same batch, nothing written, nothing run again.
    await t.putJob({ job_id: 'again', type: 'batch', payload: 'quick', parameters: { job: business, batch_id: 'nightly-d1' } });
    const again = await t.runOnce({
      job_id: 'again',
      type: 'batch',
      payload: 'quick',
      parameters: { job: business, batch_id: 'nightly-d1' },
    });
    expect(again.statuses.at(-1)).toBe('complete');
    expect(again.last).toMatchObject({ batch_id: 'nightly-d1', created: false, added: 0 });
    expect(await t.backend.events.query('test', { jobId: 'quick', limit: 100 })).toHaveLength(5);
  }, 60_000);

  it('fails when the batch finishes with dead tasks', async () => {
    await t.putJob({
      job_id: 'doomed',
      type: 'batch',
      payload: 'broken',
      parameters: { job: business, admission: { cap: 5, max_attempts: 1 }, wait: true, poll: 0.05 },
    });
    const runId = await t.dispatch('doomed');
    const record = await withFleet(async () => {
      for (;;) {
        const r = await t.backend.events.get('test', 'doomed', runId);
        if (r && ['complete', 'failed'].includes(r.status)) return r;
        await new Promise((res) => setTimeout(res, 50));
      }
    });
    expect(record.status).toBe('failed');
    expect(JSON.stringify(record.log.at(-1)?.info)).toMatch(/finished with 5 dead of 5 tasks/);
  }, 60_000);

  it('runs the example of docs/job-types/batch.md', async () => {
    const specs = YAML.parse(fs.readFileSync(path.join(ROOT, 'examples/docs/batch.yaml'), 'utf8')) as Record<string, unknown>[];
    for (const spec of specs) await t.backend.config.put('test', 'jobs', spec);
    const runId = await t.dispatch('docs/batch/weekly');
    const record = await withFleet(async () => {
      for (;;) {
        const r = await t.backend.events.get('test', 'docs/batch/weekly', runId);
        if (r && ['complete', 'failed'].includes(r.status)) return r;
        await new Promise((res) => setTimeout(res, 50));
      }
    }, 'core');
    expect(record.status).toBe('complete');
    expect(record.log.at(-1)?.info).toMatchObject({ batch_id: 'sales-2026-48', task_count: 21, counts: { complete: 21 } });
    const runs = await t.backend.events.query('test', { jobId: 'docs/batch/report', limit: 100 });
    expect(runs).toHaveLength(21);
  }, 60_000);

  it('refuses a missing business job, a bad admission policy and an unknown target', async () => {
    const bad = await t.runOnce({
      job_id: 'b1',
      type: 'batch',
      payload: 'quick',
      parameters: { job: business, admission: { cap: 0 } },
    });
    expect((bad.last as { error: string }).error).toMatch(/admission\.cap: a positive whole number/);
    const missing = await t.runOnce({ job_id: 'b2', type: 'batch', payload: 'nope', parameters: { job: business } });
    expect((missing.last as { error: string }).error).toMatch(/job "nope" not found/);
    const self = await t.runOnce({ job_id: 'b3', type: 'batch', payload: 'b3', parameters: { job: business } });
    expect((self.last as { error: string }).error).toMatch(/cannot run itself/);
  }, 60_000);
});
