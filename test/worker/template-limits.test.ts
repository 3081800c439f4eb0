/**
 * Runaway templates in a real worker process (the compiled CLI): each bad run ends `failed` with
 * the limit's message, a normal run beside them completes, and the worker itself carries on and
 * exits cleanly. Before the bounds, range(10**10) aborted the worker and the loops froze it, so
 * the worker runs as a child process with a hard deadline: the suite cannot hang on a regression.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanEnv, killSpawned, spawnLava, waitExit } from '../e2e/cli-helpers.js';
import { makeRealm, type TestRealm } from '../helpers.js';

const WORKER_DEADLINE_MS = 30_000;

let realm: TestRealm | undefined;

afterEach(async () => {
  killSpawned();
  await realm?.close();
  realm = undefined;
});

/** Run a batch worker for the realm in a child process until its queue is empty. */
async function drainInChild(t: TestRealm): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const worker = spawnLava(['worker', '-w', 'w', '--batch'], {
    env: cleanEnv({ LAVA_BACKEND: t.backendUrl, LAVA_REALM: 'test' }),
  });
  const exit = await waitExit(worker, WORKER_DEADLINE_MS);
  return { ...exit, stderr: worker.stderr() };
}

async function record(t: TestRealm, jobId: string, runId: string) {
  const rec = await t.backend.events.get('test', jobId, runId);
  if (!rec) throw new Error(`no event record for ${jobId} ${runId}`);
  return rec;
}

/** A cmd job that echoes its rendered argument. */
const echoJob = (jobId: string, arg: string, extra: Record<string, unknown> = {}) => ({
  job_id: jobId,
  type: 'cmd',
  payload: 'echo',
  parameters: { args: [arg] },
  ...extra,
});

describe('runaway templates in a worker', () => {
  it('fail their own runs with the limit named, while a normal run completes and the worker survives', async () => {
    // A small iteration bound keeps the loop case quick and shows the realm config reaches the renderer.
    const t = (realm = await makeRealm({ TEMPLATE_MAX_ITERATIONS: 50_000 }));
    await t.putJob(echoJob('t/range', '{{ range(10**10)|length }}'));
    await t.putJob(echoJob('t/loop', '{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}x'));
    await t.putJob(echoJob('t/string', "{{ 'x' * 10**10 }}"));
    await t.putJob({ ...echoJob('t/event-log', 'fine'), event_log: '{{ range(10**10)|length }}' });
    await t.putJob(echoJob('t/normal', 'hello from {{ job.job_id }}'));

    const bad = {
      't/range': 'range() of 10000000000 items is more than TEMPLATE_MAX_RANGE (1000000)',
      't/loop': 'more than TEMPLATE_MAX_ITERATIONS (50000) loop iterations in one render',
      't/string': 'a string the template builds would be 10000000000 characters, more than TEMPLATE_MAX_OUTPUT (10485760)',
      't/event-log': 'range() of 10000000000 items is more than TEMPLATE_MAX_RANGE (1000000)',
    };
    const runs: [string, string][] = [];
    for (const jobId of Object.keys(bad)) runs.push([jobId, await t.dispatch(jobId)]);
    const normalRun = await t.dispatch('t/normal');

    const worker = await drainInChild(t);
    expect(worker.signal, worker.stderr).toBeNull();
    expect(worker.code, worker.stderr).toBe(0);

    for (const [jobId, runId] of runs) {
      const rec = await record(t, jobId, runId);
      expect(rec.status, jobId).toBe('failed');
      const failed = rec.log.filter((e) => e.status === 'failed');
      expect(failed, jobId).toHaveLength(1);
      const error = (failed[0]!.info as { error?: string }).error ?? String(failed[0]!.info);
      expect(error, jobId).toContain(bad[jobId as keyof typeof bad]);
      expect(error, jobId).toMatch(/raise the realm config key TEMPLATE_/);
    }
    const normal = await record(t, 't/normal', normalRun);
    expect(normal.status).toBe('complete');
    expect(normal.log.map((e) => e.status)).toEqual(['queued', 'starting', 'running', 'complete']);
  }, 90_000);

  it("stop a render at the job's parameters.timeout, well before the render's own limit", async () => {
    const t = (realm = await makeRealm());
    // Doubling macro calls: no loop and no output, so only the clock can stop it (it never ends otherwise).
    const forever = '{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(60) }}';
    await t.putJob({ ...echoJob('t/slow', forever), parameters: { args: [forever], timeout: 1 } });
    const runId = await t.dispatch('t/slow');

    const worker = await drainInChild(t);
    expect(worker.code, worker.stderr).toBe(0);

    const rec = await record(t, 't/slow', runId);
    expect(rec.status).toBe('failed');
    const at = (status: string) => Date.parse(rec.log.find((e) => e.status === status)!.tu_event);
    const error = (rec.log.find((e) => e.status === 'failed')!.info as { error: string }).error;
    expect(error).toContain("rendering a template ran past the job's parameters.timeout (1s)");
    const took = at('failed') - at('running');
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(3000); // TEMPLATE_TIMEOUT (5s) would end it later
  }, 90_000);
});
