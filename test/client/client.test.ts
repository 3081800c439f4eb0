/**
 * The TypeScript client against a real embedded realm, with a worker running in this process:
 * dispatch, result() of a run that completes and of one that fails, the timeout, runs() and follow().
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, NotFoundError, RunWaitTimeout, type LavaClient, type RunSummary } from '../../src/index.js';
import { Worker } from '../../src/worker/worker.js';
import { makeRealm, type TestRealm } from '../helpers.js';

let t: TestRealm;
let worker: Worker;
let working: Promise<void>;
let lava: LavaClient;

beforeAll(async () => {
  t = await makeRealm();
  await t.putJob({ job_id: 'c/hello', type: 'cmd', payload: `sh -c 'echo hi'` });
  await t.putJob({ job_id: 'c/fail', type: 'cmd', payload: `sh -c 'echo oops >&2; exit 3'` });
  await t.putJob({ job_id: 'c/unserved', type: 'log', worker: 'nobody' });
  worker = await Worker.create({ backend: t.backend, realm: 'test', worker: 'w', waitSeconds: 1 });
  working = worker.run();
  lava = await connect({ backend: t.backend, realm: 'test' });
});

afterAll(async () => {
  await lava.close();
  await worker.stop();
  await working;
  await t.close();
});

describe('the client', () => {
  it('dispatches a run and waits for its result, with its outputs', async () => {
    const run = await lava.dispatch('c/hello');
    expect(run.jobId).toBe('c/hello');
    expect(run.runId).toMatch(/^[0-9a-f-]{36}$/);
    const r = await run.result({ timeoutMs: 20_000 });
    expect(r).toMatchObject({ status: 'complete', ok: true, exitStatus: 0, error: null });
    expect(r.result).toMatchObject({ exit_status: 0, error: null });
    expect(r.outputs).toEqual([{ name: 'stdout', size: 3, modified: expect.any(String) }]);
    expect(await run.output('stdout')).toBe('hi\n');
    expect(r.record.run_id).toBe(run.runId);
    expect(await run.status()).toBe('complete');
    expect((await run.events()).map((e) => e.status)).toEqual(['queued', 'starting', 'running', 'complete']);
  });

  it("reports a failed run's exit status, error and stderr", async () => {
    const run = await lava.dispatch('c/fail');
    const r = await run.result({ timeoutMs: 20_000 });
    expect(r).toMatchObject({ status: 'failed', ok: false, exitStatus: 3 });
    expect(r.error).toBe('Failed with exit status 3');
    expect(r.outputs.map((o) => o.name)).toContain('stderr');
    expect(await run.output('stderr')).toBe('oops\n');
  });

  it('gives up waiting after timeoutMs with RunWaitTimeout; the run stays queued', async () => {
    const run = await lava.dispatch('c/unserved');
    const started = Date.now();
    await expect(run.result({ timeoutMs: 300 })).rejects.toBeInstanceOf(RunWaitTimeout);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await run.status()).toBe('queued');
    expect((await run.events()).map((e) => e.status)).toEqual(['queued']);
  });

  it('stops waiting when its signal aborts', async () => {
    const run = await lava.dispatch('c/unserved');
    await expect(run.result({ signal: AbortSignal.timeout(200) })).rejects.toThrow();
  });

  it('refuses a job that does not exist with NotFoundError', async () => {
    await expect(lava.dispatch('c/none')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists runs newest first, filtered', async () => {
    const mine = await lava.runs({ job: 'c/hello' });
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((r) => r.job_id === 'c/hello' && r.status === 'complete')).toBe(true);
    expect((await lava.runs({ status: 'failed', since: '1h' })).map((r) => r.job_id)).toEqual(['c/fail']);
    expect(await lava.runs({ limit: 1 })).toHaveLength(1);
  });

  it('follows runs as their status changes, until the signal aborts', async () => {
    const stop = new AbortController();
    const seen: RunSummary[] = [];
    // Runs of c/hello that ended before follow() was called are not yielded.
    const changes = lava.follow({ job: 'c/hello', signal: stop.signal, pollMs: 100 });
    const run = await lava.dispatch('c/hello');
    const following = (async () => {
      for await (const s of changes) {
        seen.push(s);
        if (s.run_id === run.runId && s.status === 'complete') stop.abort();
      }
    })();
    await Promise.race([following, new Promise((_, reject) => setTimeout(() => reject(new Error('follow saw no end')), 20_000))]);
    expect(new Set(seen.map((s) => s.run_id))).toEqual(new Set([run.runId]));
    const statuses = seen.filter((s) => s.run_id === run.runId).map((s) => s.status);
    expect(statuses.at(-1)).toBe('complete');
    expect(new Set(statuses).size).toBe(statuses.length); // one item per change
  });

  it('leaves an open backend it was given open, and closes one it opened', async () => {
    const own = await connect({ backend: t.backendUrl });
    expect(own.realm.realm).toBe('test');
    expect(own.backend).not.toBe(t.backend);
    await own.close();
    const borrowed = await connect({ backend: t.backend });
    await borrowed.close();
    expect(await t.backend.config.getRealm('test')).toBeDefined();
  });
});
