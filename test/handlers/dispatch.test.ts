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
  out = path.join(t.dir, 'out.txt');
});
afterEach(async () => {
  await t.close();
});

function lines(): string[] {
  return fs.existsSync(out) ? fs.readFileSync(out, 'utf8').trim().split('\n') : [];
}

/** A target that appends "<job_id> <greeting param> <parent_job_id> <master_job_id> <global g>" to out.txt. */
async function putTarget(jobId: string): Promise<void> {
  await t.putJob({
    job_id: jobId,
    type: 'cmd',
    payload: `sh -c 'printf "%s\\n" "$*" >> ${out}' sh {{job.job_id}} {{vars.greeting}} {{globals.lava.parent_job_id}} {{globals.lava.master_job_id}} {{globals.g}}`,
    parameters: { vars: { greeting: 'default' } },
  });
}

async function runDispatcher(spec: Record<string, unknown>) {
  await t.putJob({ type: 'dispatch', ...spec });
  const runId = await t.dispatch(String(spec.job_id));
  // once: only the dispatch job itself runs; the targets wait in the queue.
  await t.drain({ once: true });
  const rec = await t.backend.events.get('test', String(spec.job_id), runId);
  return { runId, statuses: rec?.log.map((e) => e.status) ?? [], last: rec?.log.at(-1)?.info as Record<string, unknown> };
}

describe('dispatch job type', () => {
  it('queues each target with a new run id and does not wait; the targets run on the next drain', async () => {
    await putTarget('tg/a');
    await putTarget('tg/b');
    const r = await runDispatcher({ job_id: 'tg/disp', payload: 'tg/a, tg/b', globals: { g: 'G1' } });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(r.last).toMatchObject({ exit_status: 0, jobs: ['tg/a', 'tg/b'] });
    const runIds = r.last.run_ids as string[];
    expect(runIds).toHaveLength(2);
    expect(new Set([...runIds, r.runId]).size).toBe(3);
    expect(lines()).toEqual([]); // not run yet: dispatch is asynchronous
    expect(await t.statuses(runIds[0]!, 'tg/a')).toEqual(['queued']);

    await t.drain();
    expect(await t.statuses(runIds[0]!, 'tg/a')).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(await t.statuses(runIds[1]!, 'tg/b')).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(lines().sort()).toEqual(['tg/a default tg/disp tg/disp G1', 'tg/b default tg/disp tg/disp G1']);
  });

  it('renders parameters (job context) and gives them to every target; job_prefix applies; payload is not rendered', async () => {
    await putTarget('pre/t');
    const r = await runDispatcher({
      job_id: 'pre/disp',
      payload: ['t'],
      globals: { g: 'G2', who: 'world' },
      parameters: { job_prefix: 'pre/', parameters: { vars: { greeting: 'hello-{{ globals.who }}-{{ job.job_id }}' } } },
    });
    expect(r.last.jobs).toEqual(['pre/t']);
    await t.drain();
    expect(lines()).toEqual(['pre/t hello-world-pre/disp pre/disp pre/disp G2']);

    const raw = await runDispatcher({
      job_id: 'pre/raw',
      payload: 'pre/t',
      parameters: { jinja: false, parameters: { vars: { greeting: '{{x}}' } } },
    });
    expect(raw.statuses.at(-1)).toBe('complete');
    await t.drain();
    // Not rendered by the dispatch job; the target's own rendering is single-pass, so it stays as it is.
    expect(lines()[1]).toBe('pre/t {{x}} pre/raw pre/raw');
    const unrendered = await runDispatcher({ job_id: 'pre/bad', payload: '{{ job.job_id }}' });
    expect(String(unrendered.last.error)).toMatch(/job "\{\{ job\.job_id \}\}" not found/);
  });

  it('validates delay: 0..DISPATCH_MAX_DELAY (no SQS limit here); a delayed target is not run at once', async () => {
    await putTarget('dl/t');
    const tooLong = await runDispatcher({ job_id: 'dl/long', payload: 'dl/t', parameters: { delay: '8d' } });
    expect(tooLong.statuses.at(-1)).toBe('failed');
    expect(String(tooLong.last.error)).toMatch(/parameters\.delay: "8d" is out of range: use 0 to 7d/);
    const negative = await runDispatcher({ job_id: 'dl/neg', payload: 'dl/t', parameters: { delay: -5 } });
    expect(String(negative.last.error)).toMatch(/parameters\.delay/);
    const later = await runDispatcher({ job_id: 'dl/ok', payload: 'dl/t', parameters: { delay: '10m' } });
    expect(later.statuses.at(-1)).toBe('complete');
    await t.drain();
    expect(await t.statuses((later.last.run_ids as string[])[0]!, 'dl/t')).toEqual(['queued']);
  });

  it('refuses to dispatch itself, and stops at the first target that cannot be dispatched', async () => {
    await putTarget('c/t');
    const self = await runDispatcher({ job_id: 'c/self', payload: 'c/t, c/self' });
    expect(self.statuses.at(-1)).toBe('failed');
    expect(String(self.last.error)).toMatch(/Circular dispatch not permitted/);
    const missing = await runDispatcher({ job_id: 'c/m', payload: 'c/t, c/nope, c/t' });
    expect(String(missing.last.error)).toMatch(/dispatch of "c\/nope" failed: job "c\/nope" not found/);
    expect(missing.last.error_data).toMatchObject({ exit_status: 1, jobs: ['c/t'] });
    await t.drain();
    expect(lines()).toHaveLength(1); // only the first c/t was queued
  });

  it('gives each target a copy of the globals with lava.parent_* naming the dispatch job', async () => {
    await putTarget('gl/t');
    await t.putJob({ job_id: 'gl/chain', type: 'chain', payload: 'gl/disp' });
    await t.putJob({ job_id: 'gl/disp', type: 'dispatch', payload: 'gl/t', globals: { g: 'own' } });
    await t.dispatch('gl/chain', { globals: { g: 'from-dispatch' } });
    await t.drain();
    // master is the chain (start of the hierarchy); parent is the dispatch job; chain globals win.
    expect(lines()).toEqual(['gl/t default gl/disp gl/chain from-dispatch']);
  });
});

describe('examples/docs/dispatch.yaml (docs/job-types/dispatch.md)', () => {
  beforeEach(async () => {
    const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/docs/dispatch.yaml');
    for (const spec of parseYaml(fs.readFileSync(file, 'utf8')) as Record<string, unknown>[]) {
      await t.putJob({ ...spec, worker: 'w' });
    }
  });

  async function runExample(jobId: string) {
    const runId = await t.dispatch(jobId);
    await t.drain({ once: true });
    const rec = await t.backend.events.get('test', jobId, runId);
    return { runId, statuses: rec?.log.map((e) => e.status) ?? [], last: rec?.log.at(-1)?.info as Record<string, unknown> };
  }

  async function stdoutOf(runId: string, jobId: string): Promise<string> {
    const rec = await t.backend.events.get('test', jobId, runId);
    expect(rec?.log.map((e) => e.status)).toEqual(['queued', 'starting', 'running', 'complete']);
    const uri = (rec?.log.at(-1)?.info as { output: { stdout: string }[] }).output[0]!.stdout;
    return fs.readFileSync(fileURLToPath(uri), 'utf8');
  }

  it('fanout queues report and audit with rendered vars; they run as runs of their own', async () => {
    const r = await runExample('docs/dispatch/fanout');
    expect(r.last).toMatchObject({ exit_status: 0, jobs: ['docs/dispatch/report', 'docs/dispatch/audit'], error: null });
    const [report, audit] = r.last.run_ids as string[];
    await t.drain();
    expect(await stdoutOf(report!, 'docs/dispatch/report')).toBe(
      'report 2024-01-31 from docs/dispatch/fanout (parent docs/dispatch/fanout)\n',
    );
    expect(await stdoutOf(audit!, 'docs/dispatch/audit')).toBe('audit 2024-01-31\n');
  });

  it('later completes at once; its audit run is not visible for ten minutes', async () => {
    const r = await runExample('docs/dispatch/later');
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    await t.drain();
    expect(await t.statuses((r.last.run_ids as string[])[0]!, 'docs/dispatch/audit')).toEqual(['queued']);
  });
});
