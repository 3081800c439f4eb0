/** The settings resolver: one order for configuration keys, process settings and the realm; dispatch's delay bounds. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveRealm, realmName, RealmNotChosenError } from '../../src/backends/realm.js';
import { Config, defineKeys, NOT_IN_THIS_BUILD, notInThisBuildWarnings, type ConfigKey } from '../../src/core/config.js';
import { ConfigError } from '../../src/core/errors.js';
import { checkSpec } from '../../src/core/validate.js';
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
    // Core keys (BATCH_* among them), the keys job types declare (DOCKER_* too), email (SES_*, EMAIL_MAX_*), EVENT_QUEUE and the six of object triggers.
    expect(Object.keys(CONFIG_PARAMS)).toHaveLength(86);
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

/** Upstream Lava's configuration parameters (lava/config.py), all 68. */
const UPSTREAM_KEYS = [
  'AWS_ACCESS_KEY_CACHE_SIZE',
  'AWS_ACCESS_KEY_CACHE_TTL',
  'AWS_CONN_DURATION',
  'CHECK_FOR_ZOMBIES',
  'CMD_TIMEOUT',
  'CONN_APP_NAME',
  'CW_METRICS_JOB',
  'CW_METRICS_PERIOD',
  'CW_METRICS_WORKER',
  'CW_NAMESPACE',
  'DAG_MAX_WORKERS',
  'DAG_WORKERS',
  'DEBUG',
  'DISPATCHER',
  'DOCKER_TIMEOUT',
  'EMAIL_MAX_ATTACHMENTS',
  'EMAIL_MAX_ATTACHMENT_SIZE',
  'EMAIL_MAX_SIZE',
  'EVENT_TTL',
  'EXE_MAX_PAYLOAD_SIZE',
  'EXE_TIMEOUT',
  'FOREACH_LIMIT',
  'FOREACH_MAX_LIMIT',
  'HEARTBEAT_FILE',
  'ITERATION_MAX_DELAY',
  'ITERATION_MAX_LIMIT',
  'JOB_LOCAL_TMPDIR',
  'JUMPSTART_DELAY',
  'NO_DISPATCH',
  'PARAM_CACHE_SIZE',
  'PARAM_CACHE_TTL',
  'PAYLOAD_DOWNLOADER',
  'PAYLOAD_SETTLING_TIME',
  'PG_COPY_TIMEOUT',
  'PKG_MAX_PAYLOAD_SIZE',
  'PKG_TIMEOUT',
  'PKG_UNPACK_TIMEOUT',
  'RS_PASSWORD_DURATION',
  'S3TRIGGER_CACHE_TTL',
  'S3TRIGGER_DEDUP_CACHE_SIZE',
  'S3TRIGGER_DEDUP_TTL',
  'SES_CONFIGURATION_SET',
  'SES_FROM',
  'SES_REGION',
  'SMB_TIMEOUT',
  'SP_LIST_DELIMITER',
  'SP_LIST_DOUBLEQUOTE',
  'SP_LIST_ESCAPECHAR',
  'SP_LIST_QUOTECHAR',
  'SP_LIST_QUOTING',
  'SP_LOGGING',
  'SQLC_MAX_PAYLOAD_SIZE',
  'SQLC_TIMEOUT',
  'SQLV_TIMEOUT',
  'SQL_BATCH_SIZE',
  'SQL_DELIMITER',
  'SQL_DIALECT',
  'SQL_DOUBLEQUOTE',
  'SQL_ESCAPECHAR',
  'SQL_MAX_PAYLOAD_SIZE',
  'SQL_OUTPUT_SUFFIX',
  'SQL_QUOTECHAR',
  'SQL_QUOTING',
  'SQS_MAX_DELAY_MINS',
  'STATE_MAX_TTL',
  'STATE_TTL',
  'STDERR_SIZE',
  'TMPDIR',
];

describe('upstream parameters', () => {
  it('has all 68: each declared here, or listed as not in this build with the reason', () => {
    expect(UPSTREAM_KEYS).toHaveLength(68);
    // DOCKER_TIMEOUT belongs to the docker job type, declared beside it when that type is built.
    const missing = UPSTREAM_KEYS.filter((k) => !(k in CONFIG_PARAMS) && !(k in NOT_IN_THIS_BUILD) && k !== 'DOCKER_TIMEOUT');
    expect(missing).toEqual([]);
    expect(Object.keys(NOT_IN_THIS_BUILD)).toHaveLength(9);
    for (const k of Object.keys(NOT_IN_THIS_BUILD)) {
      expect(UPSTREAM_KEYS, k).toContain(k);
      expect(CONFIG_PARAMS, k).not.toHaveProperty(k);
    }
  });

  it('warns about one set in a realm config (any case) or as LAVA_<NAME>, naming why', () => {
    const realm = {
      realm: 'r',
      s3_payloads: 'file:///p',
      s3_temp: 'file:///t',
      config: { cw_namespace: 'Lava', CMD_TIMEOUT: '1m' },
    };
    const r = checkSpec('realm', realm);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([
      'config.cw_namespace: a Lava parameter that nothing reads here: CloudWatch metrics (cw_metrics) are not in this build; `lava serve` exposes run counts and durations at /metrics; remove it',
    ]);
    expect(notInThisBuildWarnings(undefined, { LAVA_CW_NAMESPACE: 'X', LAVA_CMD_TIMEOUT: '1m', CW_METRICS_JOB: 'true' })).toEqual(
      [
        expect.stringMatching(
          /^LAVA_CW_NAMESPACE: a Lava parameter that nothing reads here: CloudWatch metrics .* not in this build.*; unset it$/,
        ),
      ],
    );
  });
});
