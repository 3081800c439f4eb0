/** The settings resolver: one order for configuration keys, process settings and the realm; dispatch's delay bounds. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveRealm, realmName, RealmNotChosenError } from '../../src/backends/realm.js';
import { Config, defineKeys, type ConfigKey } from '../../src/core/config.js';
import { ConfigError } from '../../src/core/errors.js';
import { processSetting } from '../../src/core/settings.js';
import { getConnectionSpec } from '../../src/connections/api.js';
import { dispatch } from '../../src/dispatch/dispatch.js';
import { CONFIG_PARAMS } from '../../src/handlers/config-keys.js';
import { makeRealm, type TestRealm } from '../helpers.js';

describe('Config', () => {
  it('resolves flag > LAVA_<KEY> > realm config > default, naming the source', () => {
    const env = { LAVA_CMD_TIMEOUT: '2m', LAVA_EXE_TIMEOUT: '3m' };
    const c = new Config({ cmd_timeout: '20m', exe_timeout: '30m', pkg_timeout: '40m' }, env, { EXE_TIMEOUT: '4m' });
    expect(c.duration('EXE_TIMEOUT')).toBe(240);
    expect(c.raw('EXE_TIMEOUT').source).toBe('command-line option for EXE_TIMEOUT');
    expect(c.duration('CMD_TIMEOUT')).toBe(120);
    expect(c.duration('PKG_TIMEOUT')).toBe(2400);
    expect(c.raw('SQLV_TIMEOUT')).toEqual({ value: '10m', source: 'default' });
  });

  it('reads the live output keys: 2s and 8 MiB by default, 0 turns publishing off', () => {
    const c = new Config({}, {});
    expect(c.duration('OUTPUT_LIVE_INTERVAL')).toBe(2);
    expect(c.size('OUTPUT_LIVE_MAX')).toBe(8 * 1024 ** 2);
    expect(new Config({ output_live_interval: '0' }, {}).duration('OUTPUT_LIVE_INTERVAL')).toBe(0);
  });

  it('knows the keys job types declare beside their code, and lists them all', () => {
    for (const key of [
      'CMD_TIMEOUT',
      'DAG_WORKERS',
      'CRONTAB_FILE',
      'PG_COPY_TIMEOUT',
      'SQL_OUTPUT_SUFFIX',
      'TMPDIR',
      'S3TRIGGER_QUEUE',
    ]) {
      expect(CONFIG_PARAMS, key).toHaveProperty(key);
    }
    // Core keys, the keys job types declare, email (SES_*, EMAIL_MAX_*), EVENT_QUEUE and the four of object triggers.
    expect(Object.keys(CONFIG_PARAMS)).toHaveLength(72);
    expect(Object.keys(new Config({}, {}).dump()).sort()).toEqual(Object.keys(CONFIG_PARAMS).sort());
  });

  it('refuses an undeclared key and a key declared twice', () => {
    expect(() => new Config({}, {}).str('NO_SUCH_KEY' as ConfigKey)).toThrow(ConfigError);
    expect(() => defineKeys({ CMD_TIMEOUT: { kind: 'duration', default: '1m', doc: 'again' } })).toThrow(/declared twice/);
  });
});

describe('processSetting', () => {
  it('is flag > LAVA_<NAME>; empty counts as unset', () => {
    expect(processSetting('REALM', { flag: 'a', env: { LAVA_REALM: 'b' } })).toBe('a');
    expect(processSetting('REALM', { flag: '', env: { LAVA_REALM: 'b' } })).toBe('b');
    expect(processSetting('REALM', { env: { LAVA_REALM: '' } })).toBeUndefined();
  });
});

describe('the realm', () => {
  let t: TestRealm;
  let saved: string | undefined;
  beforeEach(async () => {
    t = await makeRealm();
    saved = process.env.LAVA_REALM;
    delete process.env.LAVA_REALM;
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env.LAVA_REALM;
    else process.env.LAVA_REALM = saved;
    await t.close();
  });

  it('is --realm > LAVA_REALM > the only realm in the backend', async () => {
    expect((await resolveRealm(t.backend)).realm).toBe('test');
    expect(await realmName(t.backend, { env: { LAVA_REALM: 'other' } })).toBe('other');
    expect(await realmName(t.backend, { realm: 'mine', env: { LAVA_REALM: 'other' } })).toBe('mine');
    await expect(resolveRealm(t.backend, { realm: 'nope' })).rejects.toThrow(/realm "nope" does not exist/);
  });

  it('with several realms and none named, says how to name one', async () => {
    await t.backend.config.putRealm({ ...t.realm, realm: 'second' });
    const err = await resolveRealm(t.backend).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RealmNotChosenError);
    expect(err).toMatchObject({ code: 'LAVA_CONFIG', reason: 'several' });
    expect(String((err as Error).message)).toMatch(/several realms .*\(second, test\)|several realms .*\(test, second\)/);
    expect(String((err as Error).message)).toMatch(/pass --realm or set LAVA_REALM/);
  });

  it('the connection API falls back to the only realm when neither { realm } nor LAVA_REALM is given', async () => {
    await t.backend.config.put('test', 'connections', { conn_id: 'gen', type: 'generic', enabled: true, attributes: { a: 1 } });
    expect(await getConnectionSpec('gen', { backend: t.backend })).toMatchObject({ conn_id: 'gen', type: 'generic' });
  });
});

describe('dispatch() delay bounds', () => {
  let t: TestRealm;
  beforeEach(async () => {
    t = await makeRealm({ DISPATCH_MAX_DELAY: '1h' });
    await t.putJob({ job_id: 'j', type: 'log' });
  });
  afterEach(() => t.close());

  it("a caller without options gets the realm's limit", async () => {
    await expect(dispatch(t.backend, { realm: 'test', jobId: 'j', delay: '2h' })).rejects.toThrow(
      /use 0 to 1h \(the limit is DISPATCH_MAX_DELAY\)/,
    );
    await expect(dispatch(t.backend, { realm: 'test', jobId: 'j', delay: '30m' })).resolves.toMatch(/./);
    await expect(dispatch(t.backend, { realm: 'test', jobId: 'j' })).resolves.toMatch(/./);
  });

  it('explicit bounds and a passed config still win', async () => {
    const opts = { config: new Config({ DISPATCH_MAX_DELAY: '3h' }, {}) };
    await expect(dispatch(t.backend, { realm: 'test', jobId: 'j', delay: '2h' }, opts)).resolves.toMatch(/./);
    await expect(
      dispatch(t.backend, { realm: 'test', jobId: 'j', delay: '2h' }, { maxDelayMinutes: 15, maxDispatchDelaySeconds: 60 }),
    ).rejects.toThrow(/use 0 to 1m/);
  });
});
