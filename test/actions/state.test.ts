/** The state action: rendered id/value/publisher, types, TTL cap, strict keys, reserved ids. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getState } from '../../src/state/state.js';
import { makeRealm, type TestRealm } from '../helpers.js';

let t: TestRealm;
beforeEach(async () => {
  t = await makeRealm();
});
afterEach(async () => {
  await t.close();
});

describe('state action', () => {
  it('in on_success writes a value rendered from result, job and globals; publisher defaults to the job id', async () => {
    const before = Date.now() / 1000;
    const ran = await t.runOnce({
      job_id: 'etl/orders',
      type: 'cmd',
      payload: 'echo done',
      globals: { region: 'apac' },
      on_success: [
        {
          action: 'state',
          state_id: '{{ job.job_id }}/last',
          value: { exit: '{{ result.exit_status }}', run: '{{ job.run_id }}', region: '{{ globals.region }}', n: 7, ok: true },
        },
      ],
    });
    expect(ran.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    const got = await getState(t.backend, 'test', 'etl/orders/last');
    expect(got.value).toEqual({ exit: '0', run: ran.runId, region: 'apac', n: 7, ok: true });
    expect(got.item?.type).toBe('json');
    expect(got.item?.publisher).toBe('etl/orders');
    // Default TTL: STATE_TTL (7 days).
    expect(got.item!.ttl - before).toBeGreaterThan(7 * 86400 - 60);
    expect(got.item!.ttl - before).toBeLessThanOrEqual(7 * 86400 + 1);
  });

  it("feeds the next run: a value written by the action replaces the job's state default", async () => {
    const spec = {
      job_id: 'counter',
      type: 'log',
      event_log: 'seen={{ state.seen }}',
      state: { seen: 'never' },
      on_success: [{ action: 'state', state_id: 'seen', value: '{{ job.run_id }}' }],
    };
    const first = await t.runOnce(spec);
    expect(first.info('logging')).toBe('seen=never');
    const second = await t.runOnce(spec);
    expect(second.info('logging')).toBe(`seen=${first.runId}`);
  });

  it('in on_fail records the failure, with raw and secure types, a publisher and a capped ttl', async () => {
    const before = Date.now() / 1000;
    const ran = await t.runOnce({
      job_id: 'flaky',
      type: 'cmd',
      payload: "sh -c 'exit 4'",
      on_fail: [
        { action: 'state', state_id: 'flaky/raw', type: 'raw', value: ['{{ result.error_data.exit_status }}', 1], ttl: '2h' },
        {
          action: 'state',
          state_id: 'flaky/secure',
          type: 'secure',
          kms_key: 'alias/ignored-here',
          publisher: 'on_fail of {{ job.job_id }}',
          value: { error: '{{ result.error }}' },
          ttl: '5000d',
        },
      ],
    });
    expect(ran.statuses).toEqual(['queued', 'starting', 'running', 'failed']);
    const raw = await t.backend.state.get('test', 'flaky/raw');
    expect(raw?.value).toEqual(['4', 1]);
    expect(raw!.ttl - before).toBeGreaterThan(7200 - 60);
    expect(raw!.ttl - before).toBeLessThanOrEqual(7201);
    const secure = await getState(t.backend, 'test', 'flaky/secure');
    expect((secure.value as { error: string }).error).toMatch(/exit status 4/);
    expect(secure.item?.publisher).toBe('on_fail of flaky');
    expect(String(secure.item?.value)).not.toMatch(/exit status/);
    expect(secure.item!.ttl - before).toBeLessThanOrEqual(366 * 86400 + 1);
    expect(secure.item!.ttl - before).toBeGreaterThan(366 * 86400 - 60);
  });

  it('rejects unknown fields, naming them, as an action_failed event that stops the rest of the list', async () => {
    const ran = await t.runOnce({
      job_id: 'typo',
      type: 'log',
      on_success: [
        { action: 'state', state_id: 'a', value: 1, tll: '1d' },
        { action: 'state', state_id: 'b', value: 2 },
      ],
    });
    expect(ran.statuses).toEqual(['queued', 'starting', 'running', 'complete', 'action_failed']);
    expect(ran.info('action_failed')).toMatch(/on_success action: state: state action: unknown field "tll"/);
    expect(await t.backend.state.list('test')).toEqual([]);
  });

  it.each([
    [{ state_id: 'lava-internal', value: 1 }, /reserved/],
    [{ state_id: '{{ "LAVA" }}x', value: 1 }, /reserved/],
    [{ value: 1 }, /needs a string "state_id"/],
    [{ state_id: 'x' }, /needs a "value"/],
    [{ state_id: 'x', value: 1, type: 'yaml' }, /type "yaml": use json/],
    [{ state_id: 'x', value: 1, kms_key: 'alias/k' }, /kms_key only applies to type secure/],
    [{ state_id: 'x', value: 1, ttl: 'forever' }, /bad duration/],
    [{ state_id: 'x', value: 1, publisher: 3 }, /"publisher" must be a string/],
  ])('fails %j with action_failed', async (fields, message) => {
    const ran = await t.runOnce({ job_id: 'bad', type: 'log', on_success: [{ action: 'state', ...fields }] });
    expect(ran.statuses).toEqual(['queued', 'starting', 'running', 'complete', 'action_failed']);
    expect(String(ran.info('action_failed'))).toMatch(message);
    expect(await t.backend.state.list('test')).toEqual([]);
  });
});
