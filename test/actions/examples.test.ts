/** The job specs shown in docs/state.md and docs/actions/{state,event}.md run as the pages say. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getState, putState } from '../../src/state/state.js';
import { Config } from '../../src/core/config.js';
import { makeRealm, type TestRealm } from '../helpers.js';

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/docs');

let t: TestRealm;
beforeEach(async () => {
  t = await makeRealm();
});
afterEach(async () => {
  await t.close();
});

/** Store every job of an example file on the test worker. */
async function load(file: string): Promise<void> {
  const specs = parse(fs.readFileSync(path.join(EXAMPLES, file), 'utf8')) as Record<string, unknown>[];
  for (const spec of specs) await t.putJob({ ...spec, worker: 'w' });
}

async function run(jobId: string) {
  const runId = await t.dispatch(jobId);
  await t.drain();
  const rec = await t.backend.events.get('test', jobId, runId);
  const log = rec?.log ?? [];
  return { runId, log, statuses: log.map((e) => e.status) };
}

function stdout(entry: unknown): string {
  const uri = (entry as { output: { stdout: string }[] }).output[0]?.stdout as string;
  return fs.readFileSync(fileURLToPath(uri), 'utf8');
}

describe('examples/docs/state.yaml', () => {
  it('uses the defaults first, then the watermark its state action stored, then a value from the CLI or API', async () => {
    await load('state.yaml');
    const first = await run('docs/state/watermark');
    expect(first.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(stdout(first.log[3]?.info)).toBe('orders after 1970-01-01 in all\n');
    const stored = await getState(t.backend, 'test', 'orders/watermark');
    expect(stored.value).toMatch(/^\d{4}-\d\d-\d\d$/);
    expect(stored.item?.publisher).toBe('docs/state/watermark');

    await putState(t.backend, 'test', new Config({}, {}), 'orders/limits', { region: 'apac' });
    const second = await run('docs/state/watermark');
    expect(stdout(second.log[3]?.info)).toBe(`orders after ${String(stored.value)} in apac\n`);
  });
});

describe('examples/docs/actions-state-event.yaml', () => {
  it('records the last success and an event with a custom detail', async () => {
    await load('actions-state-event.yaml');
    const r = await run('docs/actions/nightly');
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete', 'event']);
    const last = await getState(t.backend, 'test', 'docs/actions/nightly/last-success');
    expect(last.value).toEqual({ run_id: r.runId, exit_status: '0', started: expect.stringMatching(/^\d{4}-.*\+00:00$/) });
    expect(r.log.at(-1)?.info).toEqual({
      source: 'lava.test',
      detail_type: 'Nightly load finished',
      detail: { job_id: 'docs/actions/nightly', outcome: 'success' },
      resources: [],
      event_bus: 'default',
    });
  });

  it('on failure records the default event with the exit status, and the error as a secure item', async () => {
    await load('actions-state-event.yaml');
    const r = await run('docs/actions/broken');
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'failed', 'event']);
    expect((r.log.at(-1)?.info as { detail: Record<string, unknown> }).detail).toEqual({
      realm: 'test',
      worker: 'w',
      job_id: 'docs/actions/broken',
      run_id: r.runId,
      exit_status: 3,
    });
    const failure = await getState(t.backend, 'test', 'docs/actions/broken/last-failure');
    expect(failure.item?.type).toBe('secure');
    expect((failure.value as { error: string }).error).toBe('Failed with exit status 3');
  });
});
