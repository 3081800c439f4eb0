/** The state manager core and the job-code API: types, TTL, expiry, reserved ids, defaults from env. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Config } from '../../src/core/config.js';
import { LavaState, openState } from '../../src/state/api.js';
import { getState, putState } from '../../src/state/state.js';
import { makeRealm, type TestRealm } from '../helpers.js';

const DAY = 86400;
let t: TestRealm;
beforeEach(async () => {
  t = await makeRealm();
});
afterEach(async () => {
  await t.close();
});

const config = () => new Config(t.realm.config ?? {}, {});
const nowSeconds = () => Date.now() / 1000;

describe('putState / getState', () => {
  const value = { rows: 3, when: '2026-11-01', tags: ['a', 'b'], nested: { ok: true, none: null } };

  it.each(['json', 'raw', 'secure'] as const)('round-trips a %s value', async (type) => {
    await putState(t.backend, 'test', config(), 'round/trip', value, { type, publisher: 'me' });
    const got = await getState(t.backend, 'test', 'round/trip');
    expect(got.found).toBe(true);
    expect(got.value).toEqual(value);
    expect(got.item?.type).toBe(type);
    expect(got.item?.publisher).toBe('me');
  });

  it('stores json as JSON text and raw as the value itself', async () => {
    await putState(t.backend, 'test', config(), 'j', [1, 'x'], { type: 'json' });
    await putState(t.backend, 'test', config(), 'r', [1, 'x'], { type: 'raw' });
    expect((await t.backend.state.get('test', 'j'))?.value).toBe('[1,"x"]');
    expect((await t.backend.state.get('test', 'r'))?.value).toEqual([1, 'x']);
  });

  it('stores a secure value encrypted: the raw item does not contain the plaintext', async () => {
    await putState(t.backend, 'test', config(), 'db/creds', { password: 'hunter2-secret' }, { type: 'secure' });
    const raw = await t.backend.state.get('test', 'db/creds');
    expect(raw?.type).toBe('secure');
    expect(typeof raw?.value).toBe('string');
    expect(String(raw?.value)).not.toContain('hunter2-secret');
    expect(String(raw?.value)).not.toContain('password');
    expect((await getState(t.backend, 'test', 'db/creds')).value).toEqual({ password: 'hunter2-secret' });
  });

  it('refuses a secure value over 4096 bytes of JSON', async () => {
    await expect(putState(t.backend, 'test', config(), 'big', 'x'.repeat(5000), { type: 'secure' })).rejects.toThrow(/4096/);
  });

  it('refuses an unknown type', async () => {
    await expect(putState(t.backend, 'test', config(), 'odd', 1, { type: 'yaml' as unknown as 'json' })).rejects.toThrow(
      /use json, raw or secure/,
    );
  });

  it('gives items a TTL of STATE_TTL (7d) by default, and silently caps a longer one at STATE_MAX_TTL (366d)', async () => {
    const before = nowSeconds();
    const dflt = await putState(t.backend, 'test', config(), 'ttl/default', 1);
    const capped = await putState(t.backend, 'test', config(), 'ttl/capped', 1, { ttl: '1000d' });
    const short = await putState(t.backend, 'test', config(), 'ttl/short', 1, { ttl: '90m' });
    const after = nowSeconds();
    expect(dflt.ttl).toBeGreaterThanOrEqual(Math.floor(before + 7 * DAY));
    expect(dflt.ttl).toBeLessThanOrEqual(after + 7 * DAY);
    expect(capped.ttl).toBeGreaterThanOrEqual(Math.floor(before + 366 * DAY));
    expect(capped.ttl).toBeLessThanOrEqual(after + 366 * DAY);
    expect(short.ttl).toBeGreaterThanOrEqual(Math.floor(before + 5400));
    expect(short.ttl).toBeLessThanOrEqual(after + 5400);
    // The stored item carries the same ttl.
    expect((await t.backend.state.get('test', 'ttl/capped'))?.ttl).toBe(capped.ttl);
  });

  it("takes STATE_TTL and STATE_MAX_TTL from the realm's config", async () => {
    const cfg = new Config({ state_ttl: '1h', state_max_ttl: '2h' }, {});
    const before = nowSeconds();
    const dflt = await putState(t.backend, 'test', cfg, 'a', 1);
    const capped = await putState(t.backend, 'test', cfg, 'b', 1, { ttl: '1d' });
    expect(dflt.ttl - before).toBeGreaterThan(3590);
    expect(dflt.ttl - before).toBeLessThanOrEqual(3601);
    expect(capped.ttl - before).toBeGreaterThan(7190);
    expect(capped.ttl - before).toBeLessThanOrEqual(7201);
  });

  it('does not return an expired item (unlike upstream, which returns items not yet reaped)', async () => {
    const longAgo = { now: () => new Date(Date.now() - 3 * DAY * 1000) };
    await putState(t.backend, 'test', config(), 'old', 'stale', { ttl: '1d' }, longAgo);
    expect(await t.backend.state.get('test', 'old')).toBeDefined(); // still stored…
    expect((await getState(t.backend, 'test', 'old')).found).toBe(false); // …but gone to readers
    await putState(t.backend, 'test', config(), 'fresh', 'ok', { ttl: '1d' }, longAgo);
    // Seen from the past (when it was written) the same kind of item is still live.
    expect((await getState(t.backend, 'test', 'fresh', longAgo)).value).toBe('ok');
  });

  it('rejects ids starting with "lava" (any case) only when asked to, as the action and CLI do', async () => {
    await expect(putState(t.backend, 'test', config(), 'LavaThing', 1, { checkReserved: true })).rejects.toThrow(/reserved/);
    await putState(t.backend, 'test', config(), 'LavaThing', 1);
    expect((await getState(t.backend, 'test', 'LavaThing')).value).toBe(1);
  });
});

describe('LavaState API for job code', () => {
  it('opens the realm from LAVA_BACKEND and LAVA_REALM and uses LAVA_JOB_ID as publisher', async () => {
    const env = { LAVA_BACKEND: t.backendUrl, LAVA_REALM: 'test', LAVA_JOB_ID: 'etl/orders' };
    const state = await openState({ env });
    try {
      expect(state.realm).toBe('test');
      const put = await state.put('orders/last', { id: 42 });
      expect(put.publisher).toBe('etl/orders');
      expect(put.type).toBe('json');
      expect(await state.get('orders/last')).toEqual({ id: 42 });
      const entry = await state.getEntry('orders/last');
      expect(entry?.publisher).toBe('etl/orders');
      expect(entry?.value).toEqual({ id: 42 });
    } finally {
      await state.close();
    }
    // Written through its own connection, visible through the test's.
    expect((await getState(t.backend, 'test', 'orders/last')).value).toEqual({ id: 42 });
  });

  it('defaults the publisher to "lava-state API" outside a job, and finds the only realm', async () => {
    const state = await LavaState.open({ backend: t.backendUrl, env: {} });
    try {
      expect(state.realm).toBe('test');
      expect((await state.put('x', 1)).publisher).toBe('lava-state API');
    } finally {
      await state.close();
    }
  });

  it('puts each type with a ttl, and reads secure values back decrypted', async () => {
    const state = await openState({ backend: t.backend, realm: 'test', env: {} });
    const before = nowSeconds();
    await state.put('s', { token: 'abc-very-secret' }, { type: 'secure', ttl: '2h', publisher: 'p' });
    await state.put('r', [1, 2], { type: 'raw' });
    expect(await state.get('s')).toEqual({ token: 'abc-very-secret' });
    expect(await state.get('r')).toEqual([1, 2]);
    const raw = await t.backend.state.get('test', 's');
    expect(String(raw?.value)).not.toContain('abc-very-secret');
    expect(raw?.publisher).toBe('p');
    expect(raw!.ttl - before).toBeGreaterThan(7190);
    expect(raw!.ttl - before).toBeLessThanOrEqual(7201);
    await state.close();
    // A backend passed in is not closed by close().
    expect(await t.backend.state.get('test', 'r')).toBeDefined();
  });

  it('throws for a missing item unless given a fallback', async () => {
    const state = await openState({ backend: t.backend, realm: 'test', env: {} });
    await expect(state.get('missing')).rejects.toThrow(/state item "missing" not found/);
    expect(await state.get('missing', 0)).toBe(0);
    expect(await state.get('missing', null)).toBeNull();
    expect(await state.getEntry('missing')).toBeUndefined();
  });

  it('allows reserved "lava" ids, as upstream\'s API does', async () => {
    const state = await openState({ backend: t.backend, realm: 'test', env: {} });
    await state.put('lava/internal', 'ok');
    expect(await state.get('lava/internal')).toBe('ok');
    expect(await state.delete('lava/internal')).toBe(true);
    expect(await state.delete('lava/internal')).toBe(false);
  });

  it('says which realm is missing', async () => {
    await expect(openState({ backend: t.backend, realm: 'nope', env: {} })).rejects.toThrow(/realm "nope" does not exist/);
  });
});
