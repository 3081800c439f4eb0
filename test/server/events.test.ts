/**
 * POST /api/events and POST /api/dispatch-helper on a real server (port 0) over an embedded realm:
 * rules fire, helper messages dispatch in JSON and text, bad input is a 4xx naming the field, and a
 * viewer is refused.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the JSON answers are read loosely in assertions */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { Server } from '../../src/server/server.js';
import { createToken } from '../../src/server/tokens.js';
import { makeRealm, type TestRealm } from '../helpers.js';

let t: TestRealm;
let server: Server;
let base: string;
let operator: string;
let viewer: string;

async function post(path: string, body: string, type = 'application/json', token = operator) {
  const res = await fetch(base + path, {
    method: 'POST',
    body,
    headers: { 'content-type': type, authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  t = await makeRealm();
  await t.putJob({ job_id: 'ev/load', type: 'log', payload: null });
  await t.backend.config.put('test', 'triggers', {
    trigger_id: 'orders',
    enabled: true,
    event_pattern: { source: ['shop.orders'], 'detail-type': [{ prefix: 'Order' }] },
    job_id: 'ev/load',
    parameters: { vars: { order: '{{ detail.order_id }}' } },
  });
  server = new Server({ backend: t.backend, realm: t.realm, host: '127.0.0.1', port: 0, tz: 'UTC', logger: silentLogger });
  base = (await server.start()).replace(/\/$/, '');
  operator = (await createToken(t.backend, 'test', 'operator')).token;
  viewer = (await createToken(t.backend, 'test', 'viewer')).token;
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await t?.close();
});

describe('POST /api/events', () => {
  it('routes an event to the matching rules: 202 with what fired', async () => {
    const event = { source: 'shop.orders', 'detail-type': 'Order Placed', detail: { order_id: 'A1' }, id: 'e-1' };
    const res = await post('/api/events', JSON.stringify(event));
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ fired: [{ trigger_id: 'orders', job_id: 'ev/load', run_id: expect.any(String) }] });
    const rec = await t.backend.events.get('test', 'ev/load', res.body.fired[0].run_id);
    expect(rec?.status).toBe('queued');
    const other = await post('/api/events', JSON.stringify({ ...event, source: 'shop.returns' }));
    expect(other).toEqual({ status: 202, body: { fired: [] } });
  });

  it('refuses a bad event, naming the field', async () => {
    const missing = await post('/api/events', JSON.stringify({ 'detail-type': 'x', detail: {} }));
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'LAVA_INVALID', field: 'source' });
    const detail = await post('/api/events', JSON.stringify({ source: 's', 'detail-type': 'x', detail: 'text' }));
    expect(detail.body.error).toMatchObject({ field: 'detail' });
    const extra = await post('/api/events', JSON.stringify({ source: 's', 'detail-type': 'x', detail: {}, colour: 1 }));
    expect(extra.body.error.message).toMatch(/colour/);
    expect((await post('/api/events', 'source=s', 'text/plain')).status).toBe(415);
    expect((await post('/api/events', '{nope')).status).toBe(400);
  });

  it('is refused to a viewer', async () => {
    const event = { source: 'shop.orders', 'detail-type': 'Order Placed', detail: {} };
    expect((await post('/api/events', JSON.stringify(event), 'application/json', viewer)).status).toBe(403);
  });
});

describe('POST /api/dispatch-helper', () => {
  it('dispatches a JSON request or list', async () => {
    const one = await post('/api/dispatch-helper', JSON.stringify({ job_id: 'ev/load', parameters: { a: 1 }, 'x-by': 'ci' }));
    expect(one).toEqual({ status: 200, body: { dispatched: [{ job_id: 'ev/load', run_id: expect.any(String) }], errors: [] } });
    const two = await post('/api/dispatch-helper', JSON.stringify([{ job_id: 'ev/load' }, { job_id: 'ev/none' }]));
    expect(two.status).toBe(200);
    expect(two.body.dispatched).toHaveLength(1);
    expect(two.body.errors).toEqual([{ request: 'request 2', job_id: 'ev/none', error: expect.stringMatching(/ev\/none/) }]);
  });

  it('dispatches text, one request per line', async () => {
    const res = await post('/api/dispatch-helper', '# two runs\nev/load -p vars.x=1\nev/load -d 10s\n', 'text/plain');
    expect(res.status).toBe(200);
    expect(res.body.dispatched.map((d: any) => d.job_id)).toEqual(['ev/load', 'ev/load']);
  });

  it('answers 400 when nothing could be dispatched, with the errors', async () => {
    const res = await post('/api/dispatch-helper', JSON.stringify({ job_id: 'ev/load', colour: 'red' }));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'LAVA_INVALID', message: expect.stringMatching(/"colour"/) });
    expect(res.body.errors).toHaveLength(1);
    expect((await post('/api/dispatch-helper', '"just a string"')).body.error.message).toMatch(/request object/);
    expect((await post('/api/dispatch-helper', 'x', 'application/xml')).status).toBe(415);
  });

  it('is refused to a viewer', async () => {
    expect((await post('/api/dispatch-helper', 'ev/load', 'text/plain', viewer)).status).toBe(403);
  });
});
