/**
 * Orchestrated batches end to end, in-process, on the embedded backend and on a throwaway
 * PostgreSQL: the dispatcher's BatchAdmitter admits tasks to real workers. Checked from the run
 * records (each run's `queued` → final interval), not only from the store's counts: 5,000 tasks
 * through a cap of 3 never have more than 3 runs between dispatch and end; a health gate fed by a
 * changing metric throttles admission to zero and lets it back; failing tasks go through backoff to
 * dead, raise their alarm (a webhook to a real HTTP server) and are retried to success; a fleet cap
 * holds across two batches.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, BatchTaskState, EventRecord } from '../../src/backends/ports.js';
import type { AdmissionInfo } from '../../src/batch/admission.js';
import type { BusinessJob } from '../../src/batch/chunking.js';
import { retryDead } from '../../src/batch/dead.js';
import { HealthMonitor } from '../../src/batch/health.js';
import { submitBatch } from '../../src/batch/submit.js';
import { Config } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { sleep } from '../../src/core/time.js';
import { BatchAdmitter } from '../../src/dispatcher/batches.js';
import { Worker } from '../../src/worker/worker.js';
import { makeRealm } from '../helpers.js';
import { makeBackend, pgSkipReason, startThrowawayPostgres, type PgServer } from '../support/pg.js';

const REALM = 'test';
const FINAL = new Set(['complete', 'failed', 'skipped', 'rejected', 'action_failed', 'discarded']);
const TASKS = Number(process.env.LAVA_BATCH_TEST_TASKS ?? 5000);

const stores = (n: number): BusinessJob => ({
  attrs: [{ name: 'store', plural: 'stores' }],
  values: Array.from({ length: n }, (_, i) => `s${String(i).padStart(5, '0')}`),
  isolate: { stores: true },
});

interface Env {
  backend: Backend;
  dir: string;
  close(): Promise<void>;
}

/** Most runs alive at once: each run from its `queued` event to its final one, ends before starts on ties. */
function maxConcurrent(records: EventRecord[]): number {
  const points: Array<[number, number]> = [];
  for (const r of records) {
    const start = r.log.find((e) => e.status === 'queued');
    const end = [...r.log].reverse().find((e) => FINAL.has(e.status));
    if (!start) continue;
    points.push([Date.parse(start.ts_event), 1]);
    points.push([end ? Date.parse(end.ts_event) : Number.POSITIVE_INFINITY, -1]);
  }
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of points) {
    now += d;
    most = Math.max(most, now);
  }
  return most;
}

async function allRuns(backend: Backend, jobId: string): Promise<EventRecord[]> {
  return backend.events.query(REALM, { jobId, limit: 100_000 });
}

/** Task key of each run, from the `batch` global its `queued` event carries. */
function keyOf(r: EventRecord): string {
  const info = r.log.find((e) => e.status === 'queued')?.info as { globals?: { batch?: { key?: string } } } | undefined;
  return info?.globals?.batch?.key ?? '?';
}

const backends: Array<[string, () => Promise<Env>]> = [
  [
    'embedded',
    async () => {
      const t = await makeRealm();
      return { backend: t.backend, dir: t.dir, close: () => t.close() };
    },
  ],
];
let server: PgServer | undefined;
if (!pgSkipReason) {
  backends.push([
    'PostgreSQL',
    async () => {
      server ??= await startThrowawayPostgres();
      const made = await makeBackend(server);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-batch-pg-'));
      await made.backend.config.putRealm({
        realm: REALM,
        s3_payloads: `file://${dir}/payloads`,
        s3_temp: `file://${dir}/temp`,
        config: { TMPDIR: path.join(dir, 'scratch') },
      });
      return {
        backend: made.backend,
        dir,
        close: async () => {
          await made.cleanup();
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  ]);
}

afterAll(async () => {
  await server?.stop();
});

describe.each(backends)('orchestrated batches on the %s backend', (_name, makeEnv) => {
  let env: Env;
  let worker: Worker;
  let working: Promise<void>;
  let hook: http.Server;
  let hookUrl = '';
  const alarms: Array<Record<string, unknown>> = [];
  let metric = 0;
  let metricReads = 0;

  beforeAll(async () => {
    env = await makeEnv();
    const put = (spec: Record<string, unknown>) =>
      env.backend.config.put(REALM, 'jobs', { worker: 'w', enabled: true, payload: null, ...spec });
    await put({ job_id: 'quick', type: 'log' });
    await put({ job_id: 'slow', type: 'cmd', payload: 'sleep 0.2' });
    await put({ job_id: 'other', type: 'cmd', payload: 'sleep 0.1' });
    // Fails until the marker file exists.
    await put({ job_id: 'flaky', type: 'cmd', payload: `test -f ${path.join(env.dir, 'fixed')}` });
    hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (req.url === '/metric') {
          metricReads++;
          res.end(String(metric));
          return;
        }
        alarms.push(JSON.parse(body) as Record<string, unknown>);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;
    worker = await Worker.create({
      backend: env.backend,
      realm: REALM,
      worker: 'w',
      threads: 8,
      waitSeconds: 0.01,
      heartbeatSeconds: 0,
      logger: silentLogger,
    });
    working = worker.run();
  }, 180_000);

  afterAll(async () => {
    await worker?.stop();
    await working;
    await new Promise((resolve) => hook?.close(resolve));
    await env?.close();
  });

  function admitter(o: { config?: Record<string, unknown>; only?: string; health?: HealthMonitor } = {}) {
    return new BatchAdmitter({
      backend: env.backend,
      realm: REALM,
      config: new Config({ BATCH_ORPHAN_TIMEOUT: '30s', ...o.config }),
      logger: silentLogger,
      ...(o.only ? { only: o.only } : {}),
      ...(o.health ? { health: o.health } : {}),
    });
  }

  /** Admission passes (refilling at once when something ended) until the batch is finished. */
  async function drive(a: BatchAdmitter, batchId: string, onPass?: () => Promise<void>, timeoutMs = 600_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const results = await a.pass();
      await onPass?.();
      const r = results.get(batchId);
      if (r?.state === 'finished') return r;
      if (Date.now() > deadline) throw new Error(`batch ${batchId} not finished: ${JSON.stringify(r?.counts)}`);
      if (!a.moved(results)) await sleep(5);
    }
  }

  const counts = (id: string) => env.backend.batches.counts(REALM, id);

  it(`${TASKS} tasks through a cap of 3: never more than 3 in flight, each task runs once`, async () => {
    const { batch } = await submitBatch(env.backend, REALM, { jobId: 'quick', job: stores(TASKS), admission: { cap: 3 } });
    const a = admitter({ only: batch.batch_id });
    let maxStore = 0;
    const last = await drive(a, batch.batch_id, async () => {
      const c = await counts(batch.batch_id);
      maxStore = Math.max(maxStore, c.queued + c.running);
    });
    expect(last.counts.complete).toBe(TASKS);
    expect(maxStore).toBeLessThanOrEqual(3);
    const runs = await allRuns(env.backend, 'quick');
    expect(runs).toHaveLength(TASKS);
    expect(new Set(runs.map(keyOf)).size).toBe(TASKS);
    expect(runs.every((r) => r.status === 'complete')).toBe(true);
    expect(maxConcurrent(runs)).toBeLessThanOrEqual(3);
  }, 900_000);

  it('a health gate fed by a changing metric throttles admission to zero and lets it back', async () => {
    const gate = {
      name: 'load',
      source: { http: { url: `${hookUrl}/metric` } },
      direction: 'lower_is_better',
      thresholds: { '4': 10, '3': 20, '2': 30, '1': 40 },
    };
    metric = 0;
    const { batch } = await submitBatch(env.backend, REALM, {
      jobId: 'slow',
      job: stores(40),
      admission: { cap: 4, health: [gate] },
      batchId: 'health-gated',
    });
    const monitor = new HealthMonitor({ backend: env.backend, realm: REALM, cacheMs: 0, logger: silentLogger });
    const a = admitter({ only: batch.batch_id, health: monitor });
    const pass = async () => (await a.pass()).get(batch.batch_id)!;
    // Healthy: the whole cap.
    let r = await pass();
    expect(r.health).toBe(4);
    expect(r.admitted).toBe(4);
    // Bad: nothing more is admitted; what runs drains to zero and stays there.
    metric = 100;
    const pendingAtThrottle = (await counts(batch.batch_id)).pending;
    for (let i = 0; i < 40; i++) {
      r = await pass();
      expect(r.health).toBe(0);
      expect(r.allowed).toBe(0);
      expect(r.admitted).toBe(0);
      await sleep(50);
    }
    const throttled = await counts(batch.batch_id);
    expect(throttled.queued + throttled.running).toBe(0);
    expect(throttled.pending).toBe(pendingAtThrottle);
    // Good (level 3): 3 of 4 at most.
    metric = 15;
    let most = 0;
    for (let i = 0; i < 30; i++) {
      r = await pass();
      expect(r.health).toBe(3);
      expect(r.allowed).toBe(3);
      most = Math.max(most, r.inFlight);
      await sleep(50);
    }
    expect(most).toBe(3);
    // Healthy again: it finishes.
    metric = 0;
    const last = await drive(a, batch.batch_id);
    expect(last.counts.complete).toBe(40);
    expect(metricReads).toBeGreaterThan(70);
    await monitor.close();
  }, 300_000);

  it('failing tasks back off, die with their alarm sent, and are retried to success', async () => {
    alarms.length = 0;
    const admission = {
      cap: 5,
      max_attempts: 3,
      backoff: { base: 0.3, factor: 2, max: 10, jitter: 0 },
      on_dead: [
        {
          action: 'webhook',
          url: `${hookUrl}/dead`,
          body: {
            batch: '{{ batch.id }}',
            key: '{{ task.key }}',
            error: '{{ result.error }}',
            attempts: '{{ result.attempts }}',
          },
        },
      ],
    };
    const { batch } = await submitBatch(env.backend, REALM, { jobId: 'flaky', job: stores(5), admission, batchId: 'flaky-1' });
    const id = batch.batch_id;
    const a = admitter({ only: id });
    const seen = new Set<BatchTaskState>();
    const last = await drive(a, id, async () => {
      const c = await counts(id);
      for (const s of ['failed', 'dead'] as const) if (c[s]) seen.add(s);
    });
    expect(seen.has('failed')).toBe(true);
    expect(last.counts.dead).toBe(5);
    // Three attempts per task, each a failed run, each later attempt dispatched after its backoff.
    const runs = await allRuns(env.backend, 'flaky');
    expect(runs).toHaveLength(15);
    expect(runs.every((r) => r.status === 'failed')).toBe(true);
    const byKey = new Map<string, EventRecord[]>();
    for (const r of runs) byKey.set(keyOf(r), [...(byKey.get(keyOf(r)) ?? []), r]);
    for (const [key, list] of byKey) {
      expect(list, key).toHaveLength(3);
      const spans = list
        .map((r) => ({
          queued: Date.parse(r.log.find((e) => e.status === 'queued')!.ts_event),
          ended: Date.parse(r.log.at(-1)!.ts_event),
        }))
        .sort((x, y) => x.queued - y.queued);
      expect(spans[1]!.queued - spans[0]!.ended).toBeGreaterThanOrEqual(300 - 5);
      expect(spans[2]!.queued - spans[1]!.ended).toBeGreaterThanOrEqual(600 - 5);
    }
    // The alarm: one webhook per dead task, rendered with the task and the run's error.
    await expect.poll(() => alarms.length, { timeout: 5000 }).toBe(5);
    expect(new Set(alarms.map((x) => x.key)).size).toBe(5);
    for (const alarm of alarms) {
      expect(alarm.batch).toBe(id);
      expect(String(alarm.error)).toMatch(/exit status 1/);
      expect(alarm.attempts).toBe('3');
    }
    const dead = await env.backend.batches.listTasks(REALM, id, 'dead', { limit: 10 });
    expect(dead.tasks.every((t) => (t.info as AdmissionInfo).alarm === 'sent')).toBe(true);

    // Fixed: retried from dead (each with a fresh allowance of attempts), they succeed.
    fs.writeFileSync(path.join(env.dir, 'fixed'), '');
    expect((await retryDead(env.backend, REALM, id, 'all')).moved).toBe(5);
    expect((await env.backend.batches.get(REALM, id))?.state).toBe('submitted');
    const again = await drive(a, id);
    expect(again.counts.complete).toBe(5);
    expect(again.counts.dead).toBe(0);
    const after = await allRuns(env.backend, 'flaky');
    expect(after).toHaveLength(20);
    expect(after.filter((r) => r.status === 'complete')).toHaveLength(5);
    expect(alarms).toHaveLength(5); // no alarm for a task that succeeded
  }, 300_000);

  it('a fleet cap holds across batches of different jobs', async () => {
    const one = await submitBatch(env.backend, REALM, { jobId: 'slow', job: stores(12), batchId: 'fleet-a' });
    const two = await submitBatch(env.backend, REALM, { jobId: 'other', job: stores(12), batchId: 'fleet-b' });
    const a = admitter({ config: { BATCH_FLEET_CAPS: 'w=2' } });
    let most = 0;
    const deadline = Date.now() + 120_000;
    const finished = new Set<string>();
    for (;;) {
      const results = await a.pass();
      const c1 = await counts(one.batch.batch_id);
      const c2 = await counts(two.batch.batch_id);
      most = Math.max(most, c1.queued + c1.running + c2.queued + c2.running);
      for (const [id, r] of results) if (r.state === 'finished') finished.add(id);
      if (finished.has('fleet-a') && finished.has('fleet-b')) break;
      if (Date.now() > deadline) throw new Error('fleet batches did not finish');
      if (!a.moved(results)) await sleep(20);
    }
    expect(most).toBe(2);
    const runs = [...(await allRuns(env.backend, 'slow')), ...(await allRuns(env.backend, 'other'))].filter((r) =>
      r.log.some((e) => e.status === 'queued' && JSON.stringify(e.info).includes('fleet-')),
    );
    expect(runs).toHaveLength(24);
    expect(maxConcurrent(runs)).toBeLessThanOrEqual(2);
  }, 300_000);
});
