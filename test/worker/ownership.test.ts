/**
 * Only the worker holding a run's claim records its outcome, exactly once: a worker whose claim
 * was taken over drops its result; a redelivered run whose outcome is already recorded is not run
 * again; a run whose outcome could not be written is not marked finished. Real SQLite realm,
 * 1-second leases.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunClaims } from '../../src/backends/ports.js';
import { alive, makeRealm, type TestRealm } from '../helpers.js';
import { waitFor } from '../e2e/cli-helpers.js';

let t: TestRealm;
beforeEach(async () => {
  t = await makeRealm({ VISIBILITY_TIMEOUT: '1s' });
});
afterEach(async () => {
  await t.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('run ownership', () => {
  it('a worker that cannot renew its claim kills the job before the claim could lapse, and records no outcome', async () => {
    const pidFile = path.join(t.dir, 'job.pid');
    await t.putJob({ job_id: 'long', type: 'cmd', payload: `sh -c 'echo $$ > ${pidFile}; exec sleep 30'` });
    const runId = await t.dispatch('long');
    // The backend stops answering renewals (an outage): the 1-second claim would lapse and another
    // worker could take the run over, so this worker must have stopped the job by then.
    const runs = t.backend.runs as { renew: RunClaims['renew'] };
    runs.renew = () => Promise.reject(new Error('backend unreachable'));
    const draining = t.drain();
    await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '', 3_000, 'the job to start', 5);
    const started = Date.now();
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    await waitFor(() => !alive(pid), 5_000, 'the job to be killed', 10);
    expect(Date.now() - started).toBeLessThan(1000);
    await draining;
    expect(await t.statuses(runId, 'long')).toEqual(['queued', 'starting', 'running']);
  });

  it('a worker whose claim was taken over while its job ran drops its result', async () => {
    await t.putJob({ job_id: 'slow', type: 'cmd', payload: 'sleep 1.5' });
    const runId = await t.dispatch('slow');
    const draining = t.drain();
    await waitFor(async () => (await t.statuses(runId, 'slow')).includes('running'), 10_000, 'the run to start', 20);
    // As if the worker had been cut off past its lease: its claim lapses and another worker takes it.
    const held = await t.backend.runs.claim('test', runId, 'probe', 60);
    expect(held.outcome).toBe('busy');
    await t.backend.runs.release('test', runId, held.outcome === 'busy' ? held.owner : '');
    expect(await t.backend.runs.claim('test', runId, 'other-worker', 60)).toEqual({ outcome: 'claimed', attempt: 2 });

    await draining;
    expect(await t.statuses(runId, 'slow')).toEqual(['queued', 'starting', 'running']);
    // The claim is still the other worker's, unfinished: its outcome is the one that will count.
    expect(await t.backend.runs.claim('test', runId, 'probe', 60)).toMatchObject({ outcome: 'busy', owner: 'other-worker' });
  });

  it('a redelivered run whose outcome was recorded before its worker died is dropped, not run again', async () => {
    await t.putJob({ job_id: 'once', type: 'log' });
    const runId = await t.dispatch('once');
    // The dead worker: received the message, claimed the run, recorded its outcome, then died.
    const q = t.backend.queue('test', 'w');
    expect(await q.receive({ max: 1, visibilitySeconds: 1, waitSeconds: 0 })).toHaveLength(1);
    expect(await t.backend.runs.claim('test', runId, 'dead-worker', 1)).toEqual({ outcome: 'claimed', attempt: 1 });
    for (const status of ['starting', 'running', 'complete']) {
      await t.backend.events.record('test', { job_id: 'once', run_id: runId, status, info: null, at: new Date() });
    }
    await sleep(1100); // both leases lapse

    await t.drain({ waitSeconds: 2 });
    expect(await t.statuses(runId, 'once')).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(await t.backend.runs.claim('test', runId, 'probe', 60)).toEqual({ outcome: 'done' });
    expect(await q.counts()).toMatchObject({ visible: 0, inflight: 0 });
  });

  it('a run whose outcome could not be written stays unfinished and runs again after its lease', async () => {
    await t.putJob({ job_id: 'flaky', type: 'log' });
    const runId = await t.dispatch('flaky');
    // The backend refuses to end the run with its first outcome (injected at the port; the store behind it is real).
    let refused = 0;
    const runs = new Proxy(t.backend.runs, {
      get(target, prop, receiver) {
        if (prop === 'finish') {
          return (...args: Parameters<RunClaims['finish']>) => {
            if (args[3]?.outcome && refused++ === 0) return Promise.reject(new Error('database is unavailable'));
            return target.finish(...args);
          };
        }
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const backend = new Proxy(t.backend, {
      get: (target, prop) => {
        if (prop === 'runs') return runs;
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });

    await t.drain({ backend });
    expect(refused).toBe(1);
    // Nothing of the end was written: no outcome, the claim still held, the message still leased.
    expect(await t.statuses(runId, 'flaky')).toEqual(['queued', 'starting', 'running']);
    expect(await t.backend.runs.claim('test', runId, 'probe', 60)).toMatchObject({ outcome: 'busy' });
    expect((await t.backend.queue('test', 'w').counts()).inflight).toBe(1);

    await sleep(1100); // the lease lapses
    await t.drain({ backend, waitSeconds: 2 });
    expect(await t.statuses(runId, 'flaky')).toEqual(['queued', 'starting', 'running', 'starting', 'running', 'complete']);
    expect(await t.backend.runs.claim('test', runId, 'probe', 60)).toEqual({ outcome: 'done' });
  });
});
