/**
 * routeEvent over an embedded realm: rules match, render with the event, honour enabled, jinja and
 * delay, show their trigger in the queued event, and a broken rule does not stop the others.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- queued event info is read loosely */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeEvent } from '../../src/events/route.js';
import { makeRealm, type TestRealm } from '../helpers.js';

let t: TestRealm;

const put = (spec: Record<string, unknown>) => t.backend.config.put('test', 'triggers', { enabled: true, ...spec });

beforeAll(async () => {
  t = await makeRealm();
  await t.putJob({ job_id: 'ev/load', type: 'log', payload: null });
  await t.putJob({ job_id: 'ev/audit', type: 'log', payload: null });
  await t.putJob({ job_id: 'ev/other', type: 'log', payload: null });
  await put({
    trigger_id: 'orders',
    event_pattern: { source: ['shop.orders'], detail: { amount: [{ numeric: ['>=', 100] }] } },
    job_id: ['ev/load', 'ev/audit'],
    parameters: { vars: { order: '{{ detail.order_id }}', kind: "{{ event['detail-type'] }}" } },
    globals: { region: '{{ detail.region | upper }}' },
    delay: '1m',
  });
  await put({
    trigger_id: 'by-name',
    event_pattern: { source: ['shop.orders'], detail: { job: [{ exists: true }] } },
    job_id: 'ev/{{ detail.job }}',
  });
  await put({
    trigger_id: 'raw',
    event_pattern: { source: ['shop.raw'] },
    job_id: 'ev/other',
    jinja: false,
    parameters: { vars: { text: '{{ not rendered }}' } },
  });
  await put({ trigger_id: 'off', enabled: false, event_pattern: { source: ['shop.orders'] }, job_id: 'ev/other' });
  await put({ trigger_id: 'object', bucket: 'b', prefix: 'p/', job_id: 'ev/other' });
  await put({ trigger_id: 'broken', event_pattern: { source: ['shop.orders'] }, job_id: '{{ detail.missing(' });
  await put({ trigger_id: 'unknown-job', event_pattern: { source: ['shop.orders'] }, job_id: 'ev/nope' });
}, 60_000);

afterAll(async () => {
  await t?.close();
});

async function queuedInfo(jobId: string, runId: string): Promise<any> {
  const rec = await t.backend.events.get('test', jobId, runId);
  return (rec as any).log?.find((e: any) => e.status === 'queued')?.info ?? (rec as any).info;
}

describe('routeEvent', () => {
  it('fires the matching rules, rendering job ids, parameters and globals, with the delay and trigger', async () => {
    const fired = await routeEvent(t.backend, 'test', {
      id: 'ev-1',
      source: 'shop.orders',
      'detail-type': 'Order Placed',
      detail: { order_id: 'A17', amount: 250, region: 'eu', job: 'other' },
    });
    expect(fired.map((f) => `${f.trigger_id} ${f.job_id}`).sort()).toEqual([
      'by-name ev/other',
      'orders ev/audit',
      'orders ev/load',
    ]);
    const load = fired.find((f) => f.job_id === 'ev/load')!;
    const info = await queuedInfo('ev/load', load.run_id);
    expect(info).toMatchObject({
      delay: 60,
      parameters: { vars: { order: 'A17', kind: 'Order Placed' } },
      globals: { region: 'EU' },
      trigger: { trigger_id: 'orders', event_id: 'ev-1', source: 'shop.orders', detail_type: 'Order Placed' },
    });
  });

  it('does not fire rules whose pattern does not match', async () => {
    const fired = await routeEvent(t.backend, 'test', {
      source: 'shop.orders',
      'detail-type': 'Order Placed',
      detail: { amount: 5 },
    });
    expect(fired).toEqual([]);
  });

  it('leaves templates alone with jinja: false', async () => {
    const [f] = await routeEvent(t.backend, 'test', { source: 'shop.raw', 'detail-type': 'x', detail: {} });
    expect(f).toMatchObject({ trigger_id: 'raw', job_id: 'ev/other' });
    expect((await queuedInfo('ev/other', f!.run_id)).parameters).toEqual({ vars: { text: '{{ not rendered }}' } });
  });

  it('logs and skips a rule that fails to render or names an unknown job', async () => {
    const lines: any[] = [];
    const logger = { warn: (o: any, m: string) => lines.push({ ...o, m }), info: () => undefined } as any;
    await routeEvent(t.backend, 'test', { source: 'shop.orders', 'detail-type': 'd', detail: { amount: 1 } }, { logger });
    expect(lines.map((l) => l.trigger_id).sort()).toEqual(['broken', 'unknown-job']);
    expect(lines.find((l) => l.trigger_id === 'unknown-job').err).toMatch(/ev\/nope/);
  });
});
