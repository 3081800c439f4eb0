/**
 * The `event` action delivers its event to the realm's event rules on every backend: a job's
 * on_success event starts the job a matching rule names (rendered with the event's detail), and a
 * rule whose pattern does not match starts nothing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeRealm, type TestRealm } from '../helpers.js';

let t: TestRealm;

beforeAll(async () => {
  t = await makeRealm();
  await t.putJob({ job_id: 'next/step', type: 'log', worker: 'downstream' });
  await t.putJob({ job_id: 'next/never', type: 'log', worker: 'downstream' });
  await t.backend.config.put('test', 'triggers', {
    trigger_id: 'after-extract',
    enabled: true,
    event_pattern: { source: ['lava.test'], 'detail-type': ['Lava Job Action'], detail: { job_id: [{ prefix: 'etl/' }] } },
    job_id: 'next/step',
    parameters: { upstream: '{{ detail.job_id }}:{{ detail.exit_status }}' },
  });
  await t.backend.config.put('test', 'triggers', {
    trigger_id: 'other-source',
    enabled: true,
    event_pattern: { source: ['somewhere.else'] },
    job_id: 'next/never',
  });
});

afterAll(async () => {
  await t?.close();
});

it('an event action starts the job of the rule its event matches, with the event rendered into parameters', async () => {
  const ran = await t.runOnce({ job_id: 'etl/extract', type: 'log', on_success: [{ action: 'event' }] });
  expect(ran.statuses).toContain('complete');
  expect(ran.statuses).not.toContain('action_failed');
  const [step] = await t.backend.events.query('test', { jobId: 'next/step' });
  expect(step?.status).toBe('queued');
  const queued = step?.log[0]?.info as { parameters?: Record<string, unknown>; trigger?: { trigger_id?: string } };
  expect(queued.parameters).toEqual({ upstream: 'etl/extract:0' });
  expect(queued.trigger?.trigger_id).toBe('after-extract');
  expect(await t.backend.events.query('test', { jobId: 'next/never' })).toEqual([]);
});
