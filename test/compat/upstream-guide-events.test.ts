/**
 * The upstream user guide's trigger and action examples (test/fixtures/upstream-guide/s3trigger.yaml,
 * event-pattern.yaml and actions.yaml, copied unchanged): each passes `lava check`'s spec checks, and the ones that can
 * run here run as the guide says — the action list of 08-Actions/00.md on a real worker, and the
 * EventBridge pattern for S3 events as an event rule that an S3 "Object Created" event fires.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkSpec } from '../../src/core/validate.js';
import { routeEvent } from '../../src/events/route.js';
import { GUIDE } from './guide.js';
import { makeRealm, type TestRealm } from '../helpers.js';

const load = (name: string) => parse(fs.readFileSync(path.join(GUIDE, name), 'utf8')) as Record<string, unknown>[];
const [s3trigger] = load('s3trigger.yaml');
const [pattern] = load('event-pattern.yaml') as [{ event_pattern: Record<string, unknown> }];
const actionLists = load('actions.yaml');

describe('upstream guide triggers and actions pass lava check', () => {
  it('the s3trigger spec of 05-Dispatch/05-s3-dispatch.md', () => {
    expect(checkSpec('trigger', s3trigger).errors).toEqual([]);
  });

  it('its EventBridge pattern for S3 events, as an event rule', () => {
    const rule = {
      trigger_id: 'guide/s3-events',
      job_id: 'guide/on-object',
      enabled: true,
      event_pattern: pattern.event_pattern,
    };
    expect(checkSpec('trigger', rule).errors).toEqual([]);
  });

  it('every action list of 08-Actions, in a job spec', () => {
    expect(actionLists).toHaveLength(5);
    for (const fragment of actionLists) {
      const job = { job_id: 'guide/actions', type: 'log', worker: 'core', enabled: true, payload: null, ...fragment };
      expect(checkSpec('job', job).errors, JSON.stringify(fragment)).toEqual([]);
    }
  });
});

describe('upstream guide examples run as documented', () => {
  let t: TestRealm;
  beforeAll(async () => {
    t = await makeRealm();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('08-Actions/00.md: on_success logs "It worked!" and dispatches downstream_job', async () => {
    await t.putJob({ job_id: 'downstream_job', type: 'log', worker: 'later' });
    const fragment = actionLists[0] as Record<string, unknown>;
    const ran = await t.runOnce({ job_id: 'guide/actions-00', type: 'log', on_success: fragment.on_success, on_fail: [] });
    expect(ran.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    const [downstream] = await t.backend.events.query('test', { jobId: 'downstream_job' });
    expect(downstream?.status).toBe('queued');
    expect((await t.backend.queue('test', 'later').counts()).visible).toBe(1);
  });

  it('05-Dispatch/05-s3-dispatch.md: the EventBridge pattern fires its rule for an S3 Object Created event under the prefix only', async () => {
    await t.putJob({ job_id: 'guide/on-object', type: 'log', worker: 'events' });
    await t.backend.config.put('test', 'triggers', {
      trigger_id: 'guide/s3-events',
      job_id: 'guide/on-object',
      enabled: true,
      event_pattern: pattern.event_pattern,
    });
    const event = (key: string) => ({
      source: 'aws.s3',
      'detail-type': 'Object Created',
      detail: { bucket: { name: 'my-bucket' }, object: { key, size: 10 }, reason: 'PutObject' },
    });
    const fired = await routeEvent(t.backend, 'test', event('an-interesting-prefix/data.csv'));
    expect(fired.map((f) => f.job_id)).toEqual(['guide/on-object']);
    expect(await routeEvent(t.backend, 'test', event('elsewhere/data.csv'))).toEqual([]);
  });
});
