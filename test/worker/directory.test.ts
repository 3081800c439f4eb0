/**
 * The `queued` event, run start/end log lines, directory beats of workers and dispatchers, and stop
 * requests: real in-process workers on a real SQLite file, real job processes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Queue } from '../../src/backends/ports.js';
import { createLogger } from '../../src/core/logger.js';
import { dispatch } from '../../src/dispatch/dispatch.js';
import { STOP_KIND, requestStop } from '../../src/dispatch/stop.js';
import { Dispatcher } from '../../src/dispatcher/dispatcher.js';
import { Worker } from '../../src/worker/worker.js';
import { alive, makeRealm, type TestRealm } from '../helpers.js';

let t: TestRealm;
beforeEach(async () => {
  t = await makeRealm({ DIRECTORY_BEAT: '1s' });
});
afterEach(async () => {
  await t.close();
});

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'info',
    json: true,
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    }),
  });
  return { logger, lines };
}

async function until<T>(fn: () => Promise<T> | T, ms = 10_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('queued', () => {
  it('is recorded before the message is sent, with the worker, delay, parameters and globals', async () => {
    await t.putJob({ job_id: 'q', type: 'cmd', payload: 'true' });
    const runId = await t.dispatch('q', {
      parameters: { a: 1 },
      globals: { g: 'x' },
      lavaGlobals: { master_job_id: 'm' },
      delay: 2,
    });
    const rec = await t.backend.events.get('test', 'q', runId);
    expect(rec?.status).toBe('queued');
    expect(rec?.ts_dispatch).toBeTruthy();
    expect(rec?.worker).toBe('w');
    expect(rec?.log).toHaveLength(1);
    expect(rec?.log[0]?.info).toEqual({
      worker: 'w',
      delay: 2,
      parameters: { a: 1 },
      globals: { g: 'x', lava: { master_job_id: 'm' } },
    });
    expect(rec?.ttl).toBeGreaterThan(Date.now() / 1000);

    const plain = await t.dispatch('q');
    expect((await t.backend.events.get('test', 'q', plain))?.log[0]?.info).toEqual({ worker: 'w' });
    await t.drain();
    expect(await t.statuses(plain, 'q')).toEqual(['queued', 'starting', 'running', 'complete']);
  });

  it('is followed by failed when the message cannot be sent, and the dispatch still throws', async () => {
    await t.putJob({ job_id: 'q', type: 'cmd', payload: 'true' });
    const broken = Object.create(t.backend) as typeof t.backend;
    broken.queue = (realm: string, worker: string): Queue => {
      const q = t.backend.queue(realm, worker);
      return Object.assign(Object.create(q) as Queue, { send: () => Promise.reject(new Error('queue is down')) });
    };
    await expect(dispatch(broken, { realm: 'test', jobId: 'q', runId: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa' })).rejects.toThrow(
      /could not queue job q for worker w: Error: queue is down/,
    );
    const rec = await t.backend.events.get('test', 'q', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa');
    expect(rec?.log.map((e) => e.status)).toEqual(['queued', 'failed']);
    expect(rec?.log[1]?.info).toEqual({ error: 'could not queue job q for worker w: Error: queue is down', error_data: null });
  });
});

describe('run log lines', () => {
  it('logs run started and run ended at info level with the outcome and duration', async () => {
    await t.putJob({ job_id: 'logme', type: 'cmd', payload: 'sleep 0.2' });
    const runId = await t.dispatch('logme');
    const { logger, lines } = capture();
    await t.drain({ logger });
    const started = lines.find((l) => l.msg === 'run started');
    const ended = lines.find((l) => l.msg === 'run ended');
    expect(started).toMatchObject({ level: 30, job_id: 'logme', run_id: runId, type: 'cmd', worker: 'w', realm: 'test' });
    expect(ended).toMatchObject({ level: 30, job_id: 'logme', run_id: runId, status: 'complete' });
    expect(ended?.duration).toBeGreaterThanOrEqual(0.2);
    expect(String(ended?.duration)).toMatch(/^\d+(\.\d)?$/);
    expect(lines.indexOf(started!)).toBeLessThan(lines.indexOf(ended!));
  });
});

describe('directory beats', () => {
  it('a worker puts its entry at once and every beat with its runs, and deletes it when it stops', async () => {
    await t.putJob({ job_id: 'slow', type: 'cmd', payload: 'sleep 3' });
    const worker = await Worker.create({ backend: t.backend, realm: 'test', worker: 'w', waitSeconds: 1, threads: 3 });
    const other = await Worker.create({ backend: t.backend, realm: 'test', worker: 'w', waitSeconds: 1 });
    expect(worker.directoryId).not.toBe(other.directoryId);
    expect(worker.directoryId).toMatch(new RegExp(`^[^:]+:${process.pid}:w:\\d+$`));
    const running = worker.run();
    const first = await until(() => t.backend.directory.get('test', 'worker', worker.directoryId), 2000);
    expect(first.data).toMatchObject({ worker: 'w', realm: 'test', pid: process.pid, threads: 3, busy: 0, runs: [] });
    expect(first.data.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Date.parse(String(first.data.started))).not.toBeNaN();
    expect(first.expires!.getTime() - first.updated.getTime()).toBe(3000);

    const runId = await t.dispatch('slow');
    const busy = await until(async () => {
      const e = await t.backend.directory.get('test', 'worker', worker.directoryId);
      return e?.data.busy === 1 ? e : undefined;
    }, 5000);
    expect(busy.data.runs).toEqual([{ job_id: 'slow', run_id: runId, started: expect.any(String) as string }]);
    await worker.stop();
    await running;
    expect(await t.backend.directory.get('test', 'worker', worker.directoryId)).toBeUndefined();
    expect(await t.statuses(runId, 'slow')).toEqual(['queued', 'starting', 'running', 'complete']);
  });

  it('a dispatcher puts its entry with ticks, lag and dispatch count, and deletes it when it stops', async () => {
    const d = await Dispatcher.create({ backend: t.backend, realm: 'test', name: 'main', tz: 'UTC', tickMs: 200 });
    const running = d.run();
    const e = await until(async () => {
      const got = await t.backend.directory.get('test', 'dispatcher', d.directoryId);
      return got && Number(got.data.ticks) > 0 ? got : undefined;
    }, 5000);
    expect(e.data).toMatchObject({ dispatcher: 'main', realm: 'test', pid: process.pid, dispatched: 0 });
    expect(Date.parse(String(e.data.last_tick))).not.toBeNaN();
    expect(e.data.lag_seconds).toBeGreaterThanOrEqual(0);
    expect(e.data.lag_seconds).toBeLessThan(3);
    await d.stop();
    await running;
    expect(await t.backend.directory.list('test', 'dispatcher')).toEqual([]);
  });

  it('a failing beat is logged at warn and the worker goes on', async () => {
    const broken = Object.create(t.backend) as typeof t.backend;
    Object.defineProperty(broken, 'directory', {
      value: {
        ...t.backend.directory,
        put: () => Promise.reject(new Error('directory down')),
        list: () => Promise.reject(new Error('down')),
      },
    });
    await t.putJob({ job_id: 'ok', type: 'cmd', payload: 'true' });
    const runId = await t.dispatch('ok');
    const { logger, lines } = capture();
    await Worker.create({ backend: broken, realm: 'test', worker: 'w', batch: true, waitSeconds: 0, logger }).then((w) =>
      w.run(),
    );
    expect(lines.some((l) => l.level === 40 && String(l.err).includes('directory down'))).toBe(true);
    expect(await t.statuses(runId, 'ok')).toEqual(['queued', 'starting', 'running', 'complete']);
  });
});

describe('stop requests', () => {
  it('kill a running run and its whole process group; it ends failed "Stopped on request" and on_fail runs', async () => {
    await t.putJob({ job_id: 'after', type: 'cmd', payload: 'true' });
    await t.putJob({
      job_id: 'sleeper',
      type: 'cmd',
      payload: `sh -c "sleep 30 & echo $! > '${t.dir}/child.pid'; sleep 30"`,
      on_fail: [{ action: 'dispatch', job_id: 'after' }],
    });
    const worker = await Worker.create({ backend: t.backend, realm: 'test', worker: 'w', waitSeconds: 1 });
    const running = worker.run();
    const runId = await t.dispatch('sleeper');
    await until(async () => (await t.statuses(runId, 'sleeper')).includes('running'));
    await new Promise((r) => setTimeout(r, 300)); // the process is up
    const asked = Date.now();
    const req = await requestStop(t.backend, 'test', runId, 'tester', 'sleeper');
    expect(req).toMatchObject({ run_id: runId, by: 'tester', job_id: 'sleeper' });
    const stop = await t.backend.directory.get('test', STOP_KIND, runId);
    expect(stop!.expires!.getTime() - stop!.updated.getTime()).toBe(86400_000);
    const rec = await until(async () => {
      const r = await t.backend.events.get('test', 'sleeper', runId);
      return r?.status === 'failed' ? r : undefined;
    }, 10_000);
    expect(Date.now() - asked).toBeLessThan(5000);
    expect(rec.log.map((e) => e.status)).toEqual(['queued', 'starting', 'running', 'failed']);
    expect((rec.log.at(-1)?.info as { error: string }).error).toBe('Stopped on request');
    // The whole process group was killed, the background grandchild too.
    const grandchild = Number(fs.readFileSync(path.join(t.dir, 'child.pid'), 'utf8'));
    await until(() => !alive(grandchild), 3000);
    // on_fail ran: the follow-up was dispatched.
    await until(async () => (await t.backend.events.query('test', { jobId: 'after' })).length > 0);
    await worker.stop();
    await running;
    expect(worker.outcomes.failed).toBe(1);
    expect((await t.backend.events.query('test', { jobId: 'after' }))[0]?.status).toBe('complete');
  });

  it('a run stopped before it starts (delayed dispatch) ends failed without running', async () => {
    await t.putJob({ job_id: 'later', type: 'cmd', payload: 'touch "$LAVA_S3_TMP.ran"' });
    const runId = await t.dispatch('later', { delay: 2 });
    await requestStop(t.backend, 'test', runId, 'tester');
    const worker = await Worker.create({ backend: t.backend, realm: 'test', worker: 'w', waitSeconds: 1 });
    const running = worker.run();
    const rec = await until(async () => {
      const r = await t.backend.events.get('test', 'later', runId);
      return r?.status === 'failed' ? r : undefined;
    }, 10_000);
    expect(rec.log.map((e) => e.status)).toEqual(['queued', 'failed']);
    expect(rec.log.at(-1)?.info).toEqual({ error: 'Stopped on request before it started', error_data: null });
    await worker.stop();
    await running;
    expect(await t.backend.queue('test', 'w').counts()).toMatchObject({ visible: 0, inflight: 0, delayed: 0 });
    expect(worker.outcomes.failed).toBe(1);
  });
});
