/** The event action: an `event` entry in the run's record, with EventBridge-shaped info. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeRealm, type TestRealm } from '../helpers.js';

let t: TestRealm;
beforeEach(async () => {
  t = await makeRealm();
});
afterEach(async () => {
  await t.close();
});

describe('event action', () => {
  it('records an event entry with the defaults after complete', async () => {
    const ran = await t.runOnce({ job_id: 'ev/ok', type: 'cmd', payload: 'true', on_success: [{ action: 'event' }] });
    expect(ran.statuses).toEqual(['queued', 'starting', 'running', 'complete', 'event']);
    expect(ran.info('event')).toEqual({
      source: 'lava.test',
      detail_type: 'Lava Job Action',
      detail: { realm: 'test', worker: 'w', job_id: 'ev/ok', run_id: ran.runId, exit_status: 0 },
      resources: [],
      event_bus: 'default',
    });
    const entry = ran.log.at(-1)!;
    expect(entry.ts_event).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(entry.tu_event >= ran.log[2]!.tu_event).toBe(true);
  });

  it('in on_fail takes exit_status from error_data (upstream fails here, Appendix A7)', async () => {
    const ran = await t.runOnce({
      job_id: 'ev/fail',
      type: 'cmd',
      payload: "sh -c 'exit 5'",
      on_fail: [{ action: 'event' }],
    });
    expect(ran.statuses).toEqual(['queued', 'starting', 'running', 'failed', 'event']);
    expect((ran.info('event') as { detail: { exit_status: unknown } }).detail.exit_status).toBe(5);
  });

  it('uses null when there is no exit status at all (a log job fails without one)', async () => {
    const ran = await t.runOnce({
      job_id: 'ev/none',
      type: 'cmd',
      payload: 'true',
      parameters: { bogus: 1 },
      on_fail: [{ action: 'event' }],
    });
    expect(ran.statuses).toEqual(['queued', 'starting', 'running', 'failed', 'event']);
    expect((ran.info('event') as { detail: { exit_status: unknown } }).detail.exit_status).toBeNull();
  });

  it('renders every given field, and each string value of a detail map', async () => {
    const ran = await t.runOnce({
      job_id: 'ev/custom',
      type: 'log',
      globals: { team: 'data' },
      on_success: [
        {
          action: 'event',
          source: 'app.{{ globals.team }}',
          detail_type: '{{ job.job_id }} finished',
          event_bus: 'bus-{{ realm.realm }}',
          resources: ['arn:x:{{ job.job_id }}', 'static'],
          detail: { job: '{{ job.job_id }}', status: '{{ "ok" if result.error is none else "bad" }}', n: 3 },
        },
        { action: 'event', detail: 'run {{ job.run_id }}' },
      ],
    });
    expect(ran.statuses).toEqual(['queued', 'starting', 'running', 'complete', 'event', 'event']);
    const events = ran.log.filter((e) => e.status === 'event').map((e) => e.info);
    expect(events[0]).toEqual({
      source: 'app.data',
      detail_type: 'ev/custom finished',
      event_bus: 'bus-test',
      resources: ['arn:x:ev/custom', 'static'],
      detail: { job: 'ev/custom', status: 'ok', n: 3 },
    });
    expect((events[1] as { detail: unknown }).detail).toBe(`run ${ran.runId}`);
  });

  it.each([
    [{ detail_typ: 'x' }, /unknown field "detail_typ"/],
    [{ detail: ['a'] }, /"detail" must be a string or a map/],
    [{ resources: 'arn:x' }, /"resources" must be a list/],
    [{ resources: [1] }, /"resources\[0\]" must be a string/],
    [{ source: 42 }, /"source" must be a string/],
  ])('fails %j with action_failed and records no event', async (fields, message) => {
    const ran = await t.runOnce({ job_id: 'ev/bad', type: 'log', on_success: [{ action: 'event', ...fields }] });
    expect(ran.statuses).toEqual(['queued', 'starting', 'running', 'complete', 'action_failed']);
    expect(String(ran.info('action_failed'))).toMatch(message);
  });
});
