import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildGraph, findCycle, topologicalOrder } from '../../src/handlers/dag/graph.js';
import { makeRealm, type TestRealm } from '../helpers.js';

let t: TestRealm;
let dir: string;
beforeEach(async () => {
  t = await makeRealm();
  dir = path.join(t.dir, 'marks');
  fs.mkdirSync(dir);
});
afterEach(async () => {
  await t.close();
});

/** A child that records its start and end times (ms) in marks/<name>, sleeping in between. */
async function putTimed(jobId: string, sleep = '1'): Promise<void> {
  const file = path.join(dir, jobId.replace(/\//g, '_'));
  await t.putJob({
    job_id: jobId,
    type: 'cmd',
    payload: `sh -c "date +%s%3N >> ${file}; sleep ${sleep}; date +%s%3N >> ${file}"`,
  });
}

function times(jobId: string): { start: number; end: number } {
  const [start, end] = fs
    .readFileSync(path.join(dir, jobId.replace(/\//g, '_')), 'utf8')
    .trim()
    .split('\n')
    .map(Number);
  return { start: start!, end: end! };
}

function ran(jobId: string): boolean {
  return fs.existsSync(path.join(dir, jobId.replace(/\//g, '_')));
}

async function putFailing(jobId: string): Promise<void> {
  await t.putJob({ job_id: jobId, type: 'cmd', payload: 'sh -c "exit 4"' });
}

async function run(spec: Record<string, unknown>) {
  await t.putJob({ type: 'dag', ...spec });
  const runId = await t.dispatch(String(spec.job_id));
  await t.drain();
  const rec = await t.backend.events.get('test', String(spec.job_id), runId);
  return { runId, statuses: rec?.log.map((e) => e.status) ?? [], last: rec?.log.at(-1)?.info as Record<string, unknown> };
}

describe('dag graph', () => {
  it('makes every job named anywhere a node, with string, list, null and [] predecessors', () => {
    const g = buildGraph({ c: ['a', 'b'], d: 'c', a: null, e: [] }, 'p/');
    expect(g.nodes).toEqual(['p/c', 'p/a', 'p/b', 'p/d', 'p/e']);
    expect(g.predecessors.get('p/c')).toEqual(['p/a', 'p/b']);
    expect(g.successors.get('p/c')).toEqual(['p/d']);
    expect(topologicalOrder(g)).toEqual(['p/a', 'p/b', 'p/c', 'p/d', 'p/e']);
  });

  it('finds a cycle and names its jobs', () => {
    expect(findCycle(buildGraph({ a: 'c', b: 'a', c: 'b', d: null }))).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(buildGraph({ a: 'a' }))).toEqual(['a', 'a']);
    expect(findCycle(buildGraph({ b: 'a', c: ['a', 'b'] }))).toBeUndefined();
  });
});

describe('dag job type', () => {
  it('runs independent jobs at the same time and a successor only after all its predecessors', async () => {
    await putTimed('d/a');
    await putTimed('d/b');
    await putTimed('d/c', '0');
    const r = await run({ job_id: 'd/top', payload: { 'd/c': ['d/a', 'd/b'] }, parameters: { workers: 2 } });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    const [a, b, c] = [times('d/a'), times('d/b'), times('d/c')];
    expect(a.start).toBeLessThan(b.end); // overlap: each started before the other ended
    expect(b.start).toBeLessThan(a.end);
    expect(c.start).toBeGreaterThanOrEqual(Math.max(a.end, b.end));
    expect(r.last).toMatchObject({ exit_status: 0, failed_jobs: [] });
    expect((r.last.jobs as string[]).slice().sort()).toEqual(['d/a', 'd/b', 'd/c']);
    expect((r.last.jobs as string[])[2]).toBe('d/c');
    for (const id of ['d/a', 'd/b', 'd/c']) {
      expect(await t.statuses(r.runId, id)).toEqual(['starting', 'running', 'complete']);
    }
  });

  it('runs one at a time with workers: 1, and starts a job as soon as its own predecessors are done', async () => {
    await putTimed('s/a', '0');
    await putTimed('s/b', '0');
    const r1 = await run({ job_id: 's/top', payload: { 's/a': null, 's/b': null }, parameters: { workers: 1 } });
    expect(r1.last.jobs).toEqual(['s/a', 's/b']);
    expect(times('s/b').start).toBeGreaterThanOrEqual(times('s/a').end);

    // slow runs 1.5 s; fast (0 s) then next (0 s) must both finish while slow is still running,
    // not wait for a "wave" containing slow to end.
    await putTimed('w/slow', '1.5');
    await putTimed('w/fast', '0');
    await putTimed('w/next', '0');
    await run({ job_id: 'w/top', payload: { 'w/slow': null, 'w/fast': null, 'w/next': 'w/fast' }, parameters: { workers: 3 } });
    expect(times('w/next').end).toBeLessThan(times('w/slow').end);
  });

  it('lets a failure tolerated by can_fail unblock its successors', async () => {
    await putFailing('t/flaky');
    await putTimed('t/after', '0');
    const r = await run({
      job_id: 't/top',
      payload: { after: 'flaky' },
      parameters: { job_prefix: 't/', can_fail: 't/fl*' },
    });
    expect(r.statuses.at(-1)).toBe('complete');
    expect(ran('t/after')).toBe(true);
    expect(r.last).toMatchObject({ exit_status: 0, jobs: ['t/after'], failed_jobs: ['t/flaky'] });
    expect(await t.statuses(r.runId, 't/flaky')).toEqual(['starting', 'running', 'failed']);
  });

  it('stops scheduling after a failure that is not tolerated, lets running jobs finish, then fails', async () => {
    await putFailing('x/bad');
    await putTimed('x/running', '1');
    await putTimed('x/blocked', '0');
    await putTimed('x/later', '0');
    const r = await run({
      job_id: 'x/top',
      payload: { 'x/blocked': 'x/bad', 'x/running': null, 'x/later': 'x/running' },
      parameters: { workers: 2 },
    });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'failed']);
    expect(String(r.last.error)).toMatch(/dag stopped: job "x\/bad" failed/);
    expect(ran('x/running')).toBe(true);
    expect(times('x/running').end).toBeGreaterThan(0);
    expect(ran('x/blocked')).toBe(false);
    expect(ran('x/later')).toBe(false);
    expect(r.last.error_data).toMatchObject({ exit_status: 1, jobs: ['x/running'], failed_jobs: ['x/bad'] });
  });

  it('refuses a cycle before running anything, naming the jobs in it', async () => {
    await putTimed('y/a', '0');
    await putTimed('y/b', '0');
    await putTimed('y/free', '0');
    const r = await run({ job_id: 'y/top', payload: { 'y/a': 'y/b', 'y/b': ['y/a'], 'y/free': null } });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'failed']);
    expect(String(r.last.error)).toMatch(/dependency cycle: y\/a → y\/b → y\/a/);
    expect(ran('y/free')).toBe(false);
  });

  it('clamps workers to DAG_MAX_WORKERS and rejects bad payloads and workers', async () => {
    const small = await makeRealm({ DAG_MAX_WORKERS: 1 });
    try {
      const m = path.join(small.dir, 'm');
      for (const id of ['k/a', 'k/b']) {
        await small.putJob({ job_id: id, type: 'cmd', payload: `sh -c "date +%s%3N >> ${m}; sleep 0.5; date +%s%3N >> ${m}"` });
      }
      await small.putJob({ job_id: 'k/top', type: 'dag', payload: { 'k/a': null, 'k/b': null }, parameters: { workers: 8 } });
      const runId = await small.dispatch('k/top');
      await small.drain();
      expect(await small.statuses(runId, 'k/top')).toEqual(['queued', 'starting', 'running', 'complete']);
      const [s1, e1, s2] = fs.readFileSync(m, 'utf8').trim().split('\n').map(Number);
      expect(s2).toBeGreaterThanOrEqual(e1!); // one at a time
      expect(s1).toBeLessThanOrEqual(e1!);
    } finally {
      await small.close();
    }
    const bad = await run({ job_id: 'z/top', payload: ['a', 'b'] });
    expect(String(bad.last.error)).toMatch(/dag job payload must be a map of job → predecessor/);
    const badPred = await run({ job_id: 'z/top2', payload: { a: { b: 1 } } });
    expect(String(badPred.last.error)).toMatch(/predecessors of "a" must be a job id, a list of job ids or null/);
    const badWorkers = await run({ job_id: 'z/top3', payload: { a: null }, parameters: { workers: 0 } });
    expect(String(badWorkers.last.error)).toMatch(/parameters\.workers must be a whole number of at least 1/);
  });

  it('fails when a job cannot be loaded, even if can_fail matches', async () => {
    await putTimed('l/a', '0');
    const r = await run({ job_id: 'l/top', payload: { 'l/missing': 'l/a' }, parameters: { can_fail: '*' } });
    expect(r.statuses.at(-1)).toBe('failed');
    expect(String(r.last.error)).toMatch(/job "l\/missing" could not be run: child job "l\/missing" does not exist/);
  });
});

describe('examples/docs/dag.yaml (docs/job-types/dag.md)', () => {
  it('warehouse runs both extracts at once, tolerates stats, and runs load then report', async () => {
    const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/docs/dag.yaml');
    for (const spec of parseYaml(fs.readFileSync(file, 'utf8')) as Record<string, unknown>[]) {
      await t.putJob({ ...spec, worker: 'w' });
    }
    const runId = await t.dispatch('docs/dag/warehouse');
    await t.drain();
    // The two one-second extracts overlapped: each started running before the other completed.
    const span = async (jobId: string) => {
      const log = (await t.backend.events.get('test', jobId, runId))?.log ?? [];
      const at = (status: string) => Date.parse(String(log.find((e) => e.status === status)?.ts_event));
      return { start: at('running'), end: at('complete') };
    };
    const [a, b] = [await span('docs/dag/extract_a'), await span('docs/dag/extract_b')];
    expect(a.start).toBeLessThan(b.end);
    expect(b.start).toBeLessThan(a.end);
    const rec = await t.backend.events.get('test', 'docs/dag/warehouse', runId);
    expect(rec?.log.map((e) => e.status)).toEqual(['queued', 'starting', 'running', 'complete']);
    const result = rec?.log.at(-1)?.info as Record<string, unknown>;
    expect(result.failed_jobs).toEqual(['docs/dag/stats']);
    const jobs = result.jobs as string[];
    expect(jobs.slice(0, 2).sort()).toEqual(['docs/dag/extract_a', 'docs/dag/extract_b']);
    expect(jobs.slice(2)).toEqual(['docs/dag/load', 'docs/dag/report']);
    const report = await t.backend.events.get('test', 'docs/dag/report', runId);
    const stdout = (report?.log.at(-1)?.info as { output: { stdout: string }[] }).output[0]!.stdout;
    expect(fs.readFileSync(fileURLToPath(stdout), 'utf8')).toBe('report (parent docs/dag/warehouse)\n');
    expect(await t.statuses(runId, 'docs/dag/stats')).toEqual(['starting', 'running', 'failed']);
  });
});
