import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeRealm, type TestRealm } from '../helpers.js';

let t: TestRealm;
let out: string;
beforeEach(async () => {
  t = await makeRealm();
  out = path.join(t.dir, 'order.txt');
});
afterEach(async () => {
  await t.close();
});

/** A cmd child that appends its job id to the order file. */
async function putStep(jobId: string, extra: Record<string, unknown> = {}): Promise<void> {
  await t.putJob({ job_id: jobId, type: 'cmd', payload: `sh -c "echo {{ job.job_id }} >> ${out}"`, ...extra });
}

async function putFailing(jobId: string): Promise<void> {
  await t.putJob({ job_id: jobId, type: 'cmd', payload: `sh -c "echo ${jobId} failing >> ${out}; exit 3"` });
}

async function run(spec: Record<string, unknown>) {
  await t.putJob({ type: 'chain', ...spec });
  const runId = await t.dispatch(String(spec.job_id));
  await t.drain();
  const rec = await t.backend.events.get('test', String(spec.job_id), runId);
  return { runId, statuses: rec?.log.map((e) => e.status) ?? [], last: rec?.log.at(-1)?.info as Record<string, unknown> };
}

function order(): string[] {
  return fs.existsSync(out) ? fs.readFileSync(out, 'utf8').trim().split('\n') : [];
}

describe('chain job type', () => {
  it('runs children in order under the parent run id, each with its own events', async () => {
    for (const id of ['c/a', 'c/b', 'c/c']) await putStep(id);
    const r = await run({ job_id: 'c/top', payload: ' c/b, c/a ,c/c' });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(order()).toEqual(['c/b', 'c/a', 'c/c']);
    expect(r.last).toMatchObject({ exit_status: 0, jobs: ['c/b', 'c/a', 'c/c'], failed_jobs: [], error: null });
    for (const id of ['c/a', 'c/b', 'c/c']) {
      expect(await t.statuses(r.runId, id)).toEqual(['starting', 'running', 'complete']);
    }
    // Children share the parent's run id and have no run of their own.
    const all = await t.events(r.runId);
    expect(all.map((e) => e.job_id).sort()).toEqual(['c/a', 'c/b', 'c/c', 'c/top']);
  });

  it('accepts a list payload, prepends job_prefix to every id and to start, and begins at start', async () => {
    for (const id of ['etl/x', 'etl/y', 'etl/z']) await putStep(id);
    const r = await run({ job_id: 'etl/chain', payload: ['x', 'y', 'z'], parameters: { job_prefix: 'etl/', start: 'y' } });
    expect(r.statuses.at(-1)).toBe('complete');
    expect(order()).toEqual(['etl/y', 'etl/z']);
    expect(r.last.jobs).toEqual(['etl/y', 'etl/z']);
    expect(await t.statuses(r.runId, 'etl/x')).toEqual([]);
  });

  it('fails when start is not in the chain, and when the chain is empty, before running anything', async () => {
    await putStep('s/a');
    const bad = await run({ job_id: 's/top', payload: 's/a', parameters: { start: 's/nope' } });
    expect(bad.statuses.at(-1)).toBe('failed');
    expect(String(bad.last.error)).toMatch(/parameters\.start: job "s\/nope" is not in the chain/);
    const empty = await run({ job_id: 's/empty', payload: ' , ' });
    expect(String(empty.last.error)).toMatch(/chain job payload is empty/);
    expect(order()).toEqual([]);
  });

  it('continues past a failure that can_fail matches, recording it in failed_jobs', async () => {
    await putStep('f/a');
    await putFailing('f/optional-1');
    await putStep('f/b');
    const r = await run({ job_id: 'f/top', payload: 'f/a,f/optional-1,f/b', parameters: { can_fail: ['f/optional-*'] } });
    expect(r.statuses.at(-1)).toBe('complete');
    expect(order()).toEqual(['f/a', 'f/optional-1 failing', 'f/b']);
    expect(r.last).toMatchObject({ exit_status: 0, jobs: ['f/a', 'f/b'], failed_jobs: ['f/optional-1'] });
    expect(await t.statuses(r.runId, 'f/optional-1')).toEqual(['starting', 'running', 'failed']);
  });

  it('stops at a failure that can_fail does not match (globs are case-sensitive), with the progress in error_data', async () => {
    await putStep('g/a');
    await putFailing('g/Must');
    await putStep('g/b');
    const r = await run({ job_id: 'g/top', payload: 'g/a,g/Must,g/b', parameters: { can_fail: 'g/must' } });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'failed']);
    expect(order()).toEqual(['g/a', 'g/Must failing']);
    expect(String(r.last.error)).toMatch(/chain stopped: job "g\/Must" failed/);
    expect(r.last.error_data).toEqual({ exit_status: 1, jobs: ['g/a'], failed_jobs: ['g/Must'] });
    expect(await t.statuses(r.runId, 'g/b')).toEqual([]);
  });

  it('treats a disabled child as success', async () => {
    await putStep('d/a');
    await putStep('d/off', { enabled: false });
    await putStep('d/b');
    const r = await run({ job_id: 'd/top', payload: 'd/a,d/off,d/b' });
    expect(r.statuses.at(-1)).toBe('complete');
    expect(order()).toEqual(['d/a', 'd/b']);
    expect(r.last.jobs).toEqual(['d/a', 'd/off', 'd/b']);
    expect(await t.statuses(r.runId, 'd/off')).toEqual(['skipped']);
  });

  it('fails on a missing child or one of another worker even when can_fail matches it', async () => {
    await putStep('m/a');
    const r = await run({ job_id: 'm/top', payload: 'm/a,m/missing,m/a', parameters: { can_fail: '*' } });
    expect(r.statuses.at(-1)).toBe('failed');
    expect(String(r.last.error)).toMatch(/job "m\/missing" could not be run: child job "m\/missing" does not exist/);
    expect(order()).toEqual(['m/a']);

    await putStep('m/other', { worker: 'elsewhere' });
    const r2 = await run({ job_id: 'm/top2', payload: 'm/other', parameters: { can_fail: '*' } });
    expect(String(r2.last.error)).toMatch(/belongs to worker "elsewhere"/);
  });

  it('rejects unknown parameters and a payload that is not a job list', async () => {
    const r = await run({ job_id: 'p/top', payload: 'x', parameters: { workers: 2 } });
    expect(String(r.last.error)).toMatch(/Unexpected keys workers/);
    const r2 = await run({ job_id: 'p/top2', payload: { a: 1 } });
    expect(String(r2.last.error)).toMatch(/chain job payload must be a comma-separated string or a list/);
  });

  it("passes the parent's globals to children, the parent's winning over the child's own", async () => {
    await t.putJob({
      job_id: 'gl/child',
      type: 'cmd',
      globals: { colour: 'child', own: 'kept' },
      payload: `sh -c "echo {{ globals.colour }} {{ globals.own }} {{ globals.lava.parent_job_id }} {{ globals.lava.master_job_id }} >> ${out}"`,
    });
    await run({ job_id: 'gl/top', payload: 'gl/child', globals: { colour: 'parent' } });
    expect(order()).toEqual(['parent kept gl/top gl/top']);
  });
});

describe('examples/docs/chain.yaml (docs/job-types/chain.md)', () => {
  it('nightly tolerates optional-report and runs load; resume starts at load', async () => {
    await loadExamples(t, 'chain.yaml');
    const r = await run({ ...(await exampleSpec('chain.yaml', 'docs/chain/nightly')), worker: 'w' });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(r.last).toEqual({
      exit_status: 0,
      jobs: ['docs/chain/extract', 'docs/chain/load'],
      failed_jobs: ['docs/chain/optional-report'],
      error: null,
    });
    expect(await stdoutOf(r.runId, 'docs/chain/extract')).toBe('extract b7 (parent docs/chain/nightly)\n');
    expect(await stdoutOf(r.runId, 'docs/chain/load')).toBe('load b7\n');
    expect(await t.statuses(r.runId, 'docs/chain/optional-report')).toEqual(['starting', 'running', 'failed']);

    const resume = await run({ ...(await exampleSpec('chain.yaml', 'docs/chain/resume')), worker: 'w' });
    expect(resume.last).toEqual({ exit_status: 0, jobs: ['docs/chain/load'], failed_jobs: [], error: null });
    expect(await t.statuses(resume.runId, 'docs/chain/extract')).toEqual([]);
  });
});

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/docs');

async function exampleSpec(file: string, jobId: string): Promise<Record<string, unknown>> {
  const specs = parseYaml(fs.readFileSync(path.join(EXAMPLES, file), 'utf8')) as Record<string, unknown>[];
  return specs.find((s) => s.job_id === jobId) as Record<string, unknown>;
}

/** Store every job of an example file on the test worker "w". */
async function loadExamples(realm: TestRealm, file: string): Promise<void> {
  const specs = parseYaml(fs.readFileSync(path.join(EXAMPLES, file), 'utf8')) as Record<string, unknown>[];
  for (const spec of specs) await realm.putJob({ ...spec, worker: 'w' });
}

async function stdoutOf(runId: string, jobId: string): Promise<string> {
  const rec = await t.backend.events.get('test', jobId, runId);
  const info = rec?.log.at(-1)?.info as { output: { stdout: string }[] };
  return fs.readFileSync(fileURLToPath(info.output[0]!.stdout), 'utf8');
}
