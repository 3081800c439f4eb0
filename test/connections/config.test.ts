/**
 * Connection lookup, validation, secrets, the API on SQLite, and option mapping for drivers whose
 * servers cannot run here (MSSQL, Oracle: only configuration and dialect mapping are tested).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Config } from '../../src/core/config.js';
import {
  getCliConnection,
  getConnection,
  getConnectionSpec,
  getGenericConnection,
  getKysely,
  prepareJobConnections,
} from '../../src/connections/api.js';
import { mysqlOptions } from '../../src/connections/connectors/mysql.js';
import { oracleConnectOptions } from '../../src/connections/connectors/oracle.js';
import { tediousConfig, tediousType } from '../../src/connections/connectors/mssql.js';
import { pgClientConfig } from '../../src/connections/connectors/postgres.js';
import { applicationName, resolveConnection } from '../../src/connections/resolve.js';
import { clearSecretCache, getSecret } from '../../src/connections/secrets.js';
import type { ResolvedConnection } from '../../src/connections/types.js';
import { makeRealm, type TestRealm } from '../helpers.js';

let t: TestRealm;
const opts = () => ({ backend: t.backend, realm: 'test' });
const putConn = (spec: Record<string, unknown>) => t.backend.config.put('test', 'connections', { enabled: true, ...spec });

beforeAll(async () => {
  t = await makeRealm();
  await t.backend.secrets.put('test', '/lava/test/pw', 's3cr3t-value');
  await t.backend.secrets.put('test', '/lava/test/api', 'api-token-value');
  await t.backend.secrets.put(
    'test',
    '/lava/test/db',
    JSON.stringify({ username: 'filled', password: 'from-secret-id', host: 'db.example', port: '5433', dbname: 'warehouse' }),
  );
  await putConn({ conn_id: 'lite', type: 'sqlite3', host: path.join(t.dir, 'lite.db') });
  await putConn({
    conn_id: 'off',
    type: 'postgres',
    enabled: false,
    host: 'h',
    port: 5432,
    database: 'd',
    user: 'u',
    password: '/lava/test/pw',
  });
  await putConn({ conn_id: 'noenabled', type: 'generic', attributes: { a: 1 }, enabled: undefined });
  await putConn({
    conn_id: 'gen',
    type: 'generic',
    attributes: {
      url: 'https://example.com',
      port: 8443,
      token: { type: 'ssm', parameter: '/lava/test/api' },
      mode: { type: 'local', value: 'fast' },
    },
  });
  await putConn({
    conn_id: 'pg',
    type: 'PostgreSQL',
    host: 'h',
    port: '5432',
    database: 'd',
    user: 'u',
    password: '/lava/test/pw',
    ssl: 'yes',
  });
  await putConn({ conn_id: 'viaid', type: 'postgres', secret_id: '/lava/test/db' });
  await putConn({
    conn_id: 'ms',
    type: 'mssql',
    host: 'sql.example',
    port: 1433,
    database: 'dw',
    user: 'sa',
    password: '/lava/test/pw',
    trust_server_certificate: true,
  });
  await putConn({
    conn_id: 'ora',
    type: 'oracle',
    host: 'ora.example',
    port: 1521,
    service_name: 'ORCLPDB1',
    user: 'scott',
    password: '/lava/test/pw',
  });
  await putConn({
    conn_id: 'ora-sid',
    type: 'oracle-rds',
    host: 'ora.example',
    port: 1521,
    database: 'ORCL',
    user: 'scott',
    password: '/lava/test/pw',
  });
  await putConn({ conn_id: 'my', type: 'mariadb', host: 'm', port: 3306, database: 'db', user: 'u', password: '/lava/test/pw' });
});

afterAll(async () => {
  await t.close();
});

describe('lookup and validation', () => {
  it('a missing connection names the conn id', async () => {
    await expect(resolveConnection('nope', opts())).rejects.toThrow(/No such connection "nope" in realm "test"/);
    await expect(getConnectionSpec('nope', opts())).rejects.toThrow(/lava conn put/);
  });

  it('a disabled connection (or one without enabled) is refused', async () => {
    await expect(resolveConnection('off', opts())).rejects.toThrow(/Connection not enabled: connection "off" has enabled: false/);
    await expect(resolveConnection('noenabled', opts())).rejects.toThrow(/Connection not enabled/);
  });

  it('an unknown or unsupported type is named with the supported ones', async () => {
    await putConn({ conn_id: 'weird', type: 'cassandra' });
    await putConn({ conn_id: 'sp', type: 'ses', host: 'x' });
    await expect(resolveConnection('weird', opts())).rejects.toThrow(
      /type "cassandra", which is not a connector type: use one of .*postgres/,
    );
    await expect(resolveConnection('sp', opts())).rejects.toThrow(/is not supported by Lava for TypeScript yet/);
  });

  it('a bad spec lists every problem', async () => {
    await putConn({ conn_id: 'bad', type: 'postgres', port: 'abc', user: 'u' });
    const err = await resolveConnection('bad', opts()).catch((e: Error) => e);
    expect(String(err)).toMatch(/bad connection "bad" \(type postgres\)/);
    expect(String(err)).toMatch(/port: must be a port number/);
    await putConn({ conn_id: 'bad2', type: 'postgres', host: 'h', port: 5432, user: 'u' });
    const err2 = await resolveConnection('bad2', opts()).catch((e: Error) => e);
    expect(String(err2)).toMatch(/database is required/);
    expect(String(err2)).toMatch(/Password must be specified/);
  });

  it('a password field holds a secret name, not a value', async () => {
    await putConn({
      conn_id: 'literal',
      type: 'postgres',
      host: 'h',
      port: 1,
      database: 'd',
      user: 'u',
      password: 'my pass word',
    });
    await expect(resolveConnection('literal', opts())).rejects.toThrow(/must be the name of a secret/);
  });

  it('a missing secret is named, with the field that refers to it', async () => {
    await putConn({
      conn_id: 'nosecret',
      type: 'postgres',
      host: 'h',
      port: 1,
      database: 'd',
      user: 'u',
      password: '/lava/test/missing',
    });
    await expect(resolveConnection('nosecret', opts())).rejects.toThrow(
      /secret "\/lava\/test\/missing" \(field password of connection "nosecret"\) does not exist in realm "test": store it with `lava secret put/,
    );
  });

  it('types match case-insensitively, ports are coerced, ssl is a config boolean', async () => {
    const c = await resolveConnection('pg', opts());
    expect(c.type).toBe('postgresql');
    expect(c.connector.type).toBe('postgres');
    expect(c.spec.port).toBe(5432);
    expect(c.spec.ssl).toBe(true);
    expect(c.secrets.password).toBe('s3cr3t-value');
    const cfg = pgClientConfig(c);
    expect(cfg).toMatchObject({
      host: 'h',
      port: 5432,
      database: 'd',
      user: 'u',
      password: 's3cr3t-value',
      ssl: { rejectUnauthorized: false },
    });
  });

  it('secret_id fills only missing fields from a JSON secret', async () => {
    const c = await resolveConnection('viaid', opts());
    expect(c.spec).toMatchObject({ user: 'filled', host: 'db.example', port: 5433, database: 'warehouse' });
    expect(c.secrets.password).toBe('from-secret-id');
    // The spec's own fields win.
    await putConn({ conn_id: 'viaid2', type: 'postgres', secret_id: '/lava/test/db', host: 'mine', password: '/lava/test/pw' });
    const c2 = await resolveConnection('viaid2', opts());
    expect(c2.spec.host).toBe('mine');
    expect(c2.secrets.password).toBe('s3cr3t-value');
  });

  it('CONN_APP_NAME is rendered with realm, job_id, conn_id and cleaned', async () => {
    expect(applicationName('lv-{{ realm }}-{{ job_id }}', { realm: 'r', job_id: 'a/b', conn_id: 'c' })).toBe('lv-r-a/b');
    expect(applicationName(`x-'{{ conn_id }}'\\"`, { realm: 'r', job_id: 'j', conn_id: 'c' })).toBe('x-c');
    const c = await resolveConnection('pg', { ...opts(), jobId: 'jobs/one', config: new Config({}) });
    expect(c.applicationName).toBe('lv-test-jobs/one');
  });
});

describe('secret cache (PARAM_CACHE_SIZE / PARAM_CACHE_TTL)', () => {
  it('caches per name for the TTL and evicts beyond the size', async () => {
    clearSecretCache();
    await t.backend.secrets.put('test', '/lava/test/c1', 'one');
    let now = 1_000_000;
    const get = (name: string) => getSecret(t.backend, 'test', name, { size: 1, ttl: 60 }, 'test', () => now);
    expect(await get('/lava/test/c1')).toBe('one');
    await t.backend.secrets.put('test', '/lava/test/c1', 'two');
    expect(await get('/lava/test/c1')).toBe('one'); // cached
    now += 61_000;
    expect(await get('/lava/test/c1')).toBe('two'); // expired
    await t.backend.secrets.put('test', '/lava/test/c1', 'three');
    await get('/lava/test/pw'); // evicts c1 (size 1)
    expect(await get('/lava/test/c1')).toBe('three');
    clearSecretCache();
  });
});

describe('generic connections', () => {
  it('resolves plain, local and secret attributes', async () => {
    expect(await getGenericConnection('gen', opts())).toEqual({
      url: 'https://example.com',
      port: 8443,
      token: 'api-token-value',
      mode: 'fast',
    });
  });

  it('rejects unknown top-level fields and bad attribute names', async () => {
    await putConn({ conn_id: 'gen-bad', type: 'generic', attributes: { '1x': 'a' }, extra: 1 });
    const err = String(await resolveConnection('gen-bad', opts()).catch((e: Error) => e));
    expect(err).toMatch(/attribute names must match/);
    expect(err).toMatch(/unknown field "extra"/);
  });

  it('the CLI connector prints one attribute per call, from 0600 files', async () => {
    const script = await getCliConnection('gen', path.join(t.dir, 'work'), opts());
    expect(fs.statSync(path.dirname(script)).mode & 0o777).toBe(0o700);
    expect(execFileSync(script, ['token'], { encoding: 'utf8' })).toBe('api-token-value\n');
    expect(execFileSync(script, ['port'], { encoding: 'utf8' })).toBe('8443\n');
    const secretFile = fs.readdirSync(path.dirname(script)).find((f) => f.endsWith('.attr.token')) as string;
    expect(fs.statSync(path.join(path.dirname(script), secretFile)).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(script, 'utf8')).not.toContain('api-token-value');
    let code = 0;
    let stderr = '';
    try {
      execFileSync(script, ['nope'], { stdio: 'pipe' });
    } catch (err) {
      code = (err as { status: number }).status;
      stderr = String((err as { stderr: Buffer }).stderr);
    }
    expect(code).toBe(1);
    expect(stderr).toMatch(/unknown attribute nope of connection gen: use one of: url, port, token, mode/);
  });
});

describe('SQLite through the API', () => {
  it('query with ? parameters, transactions, close', async () => {
    const db = await getConnection('lite', opts());
    try {
      await db.query('create table t (id integer, name text, flag integer)');
      await db.query('insert into t values (?, ?, ?)', [1, 'one', true]);
      await db.beginTransaction();
      await db.query('insert into t values (?, ?, ?)', [2, 'two', false]);
      await db.rollback();
      await db.beginTransaction();
      await db.query('insert into t values (?, ?, ?)', [3, 'three', null]);
      await db.commit();
      const r = await db.query<{ id: number; name: string }>('select id, name from t where id > ? order by id', [0]);
      expect(r.columns).toEqual(['id', 'name']);
      expect(r.rows).toEqual([
        { id: 1, name: 'one' },
        { id: 3, name: 'three' },
      ]);
      const u = await db.query('update t set name = ? where id = ?', ['uno', 1]);
      expect(u.rowCount).toBe(1);
      expect(u.columns).toEqual([]);
      await expect(db.query('select * from no_such_table')).rejects.toThrow(/no such table: no_such_table/);
    } finally {
      await db.close();
    }
    await expect(db.query('select 1')).rejects.toThrow(/closed/);
  });

  it('getKysely uses SqliteDialect', async () => {
    const k = await getKysely<{ t: { id: number; name: string } }>('lite', opts());
    try {
      const rows = await k.selectFrom('t').select(['id', 'name']).orderBy('id').execute();
      expect(rows[0]).toEqual({ id: 1, name: 'uno' });
    } finally {
      await k.destroy();
    }
  });

  it('the CLI connector runs sqlite3 -bail -batch on the file', async (ctx) => {
    try {
      execFileSync('sqlite3', ['-version'], { stdio: 'ignore' });
    } catch {
      ctx.skip(); // the sqlite3 CLI is missing: apt-get install sqlite3
    }
    const script = await getCliConnection('lite', path.join(t.dir, 'work'), opts());
    expect(execFileSync(script, [], { input: 'select name from t order by id;', encoding: 'utf8' })).toBe('uno\nthree\n');
  });

  it('a generic connection is not a database', async () => {
    await expect(getConnection('gen', opts())).rejects.toThrow(/not a database/);
  });
});

// MSSQL and Oracle servers cannot run on this machine: these tests check configuration, validation
// and the mapping onto driver options and Kysely dialects only.
describe('MSSQL and Oracle configuration (no server here)', () => {
  it('maps an mssql spec onto tedious options', async () => {
    const c = await resolveConnection('ms', { ...opts(), jobId: 'j' });
    expect(tediousConfig(c)).toEqual({
      server: 'sql.example',
      authentication: { type: 'default', options: { userName: 'sa', password: 's3cr3t-value' } },
      options: {
        port: 1433,
        database: 'dw',
        encrypt: true,
        trustServerCertificate: true,
        appName: 'lv-test-j',
        connectTimeout: 10_000,
        rowCollectionOnRequestCompletion: false,
        useColumnNames: false,
      },
    });
    const withInstance = {
      ...c,
      spec: { ...c.spec, instance_name: 'SQLEXPRESS', ssl: false, encrypt: undefined },
    } as ResolvedConnection;
    const o = tediousConfig(withInstance).options as Record<string, unknown>;
    expect(o.instanceName).toBe('SQLEXPRESS');
    expect(o.port).toBeUndefined();
    expect(o.encrypt).toBe(false);
  });

  it('picks tedious parameter types from values', async () => {
    const { TYPES } = await import('tedious');
    expect(tediousType(TYPES, 1)).toBe(TYPES.Int);
    expect(tediousType(TYPES, 2 ** 40)).toBe(TYPES.BigInt);
    expect(tediousType(TYPES, 1.5)).toBe(TYPES.Float);
    expect(tediousType(TYPES, true)).toBe(TYPES.Bit);
    expect(tediousType(TYPES, new Date())).toBe(TYPES.DateTime2);
    expect(tediousType(TYPES, 'x')).toBe(TYPES.NVarChar);
  });

  it('mssql needs port or instance_name; oracle needs sid or service_name', async () => {
    await putConn({ conn_id: 'ms-noport', type: 'mssql', host: 'h', database: 'd', user: 'u', password: '/lava/test/pw' });
    await expect(resolveConnection('ms-noport', opts())).rejects.toThrow(/port is required \(or instance_name\)/);
    await putConn({ conn_id: 'ora-bad', type: 'oracle', host: 'h', port: 1521, user: 'u', password: '/lava/test/pw' });
    await expect(resolveConnection('ora-bad', opts())).rejects.toThrow(/sid or service_name is required/);
  });

  it('maps oracle specs onto oracledb thin-mode connect strings', async () => {
    expect(oracleConnectOptions(await resolveConnection('ora', opts()))).toEqual({
      user: 'scott',
      password: 's3cr3t-value',
      connectString: 'ora.example:1521/ORCLPDB1',
      connectTimeout: 10,
    });
    expect(oracleConnectOptions(await resolveConnection('ora-sid', opts())).connectString).toBe(
      '(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=ora.example)(PORT=1521))(CONNECT_DATA=(SID=ORCL)))',
    );
  });

  it('getKysely gives mssql a MssqlDialect (no connection is made until a query runs)', async () => {
    const k = await getKysely<{ t: { id: number } }>('ms', opts());
    try {
      const q = k.selectFrom('t').top(5).selectAll().where('id', '=', 1).compile();
      expect(q.sql).toBe('select top(5) * from "t" where "id" = @1');
    } finally {
      await k.destroy();
    }
    await expect(getKysely('ora', opts())).rejects.toThrow(/Kysely has no dialect for it/);
  });

  it('getKysely gives mysql a MysqlDialect and postgres a PostgresDialect', async () => {
    const my = await getKysely<{ t: { id: number } }>('my', opts());
    expect(my.selectFrom('t').selectAll().where('id', '=', 1).compile().sql).toBe('select * from `t` where `id` = ?');
    await my.destroy();
    const pg = await getKysely<{ t: { id: number } }>('pg', opts());
    expect(pg.selectFrom('t').selectAll().where('id', '=', 1).compile().sql).toBe('select * from "t" where "id" = $1');
    await pg.destroy();
    const c = await resolveConnection('my', opts());
    expect(mysqlOptions(c)).toMatchObject({
      host: 'm',
      port: 3306,
      user: 'u',
      database: 'db',
      dateStrings: true,
      multipleStatements: false,
    });
  });

  it('mssql and oracle CLI connectors wrap `lava sql --conn-id` and hold no password', async () => {
    for (const id of ['ms', 'ora']) {
      const script = await getCliConnection(id, path.join(t.dir, 'work'), opts());
      const text = fs.readFileSync(script, 'utf8');
      expect(text).toContain(`sql --conn-id ${id} "$@"`);
      expect(text).toContain('bin/lava.js');
      expect(text).not.toContain('s3cr3t-value');
    }
  });
});

describe('job connections parameter', () => {
  it('checks labels and ids before anything runs', async () => {
    const o = { backend: t.backend, realm: 'test', config: new Config({}), jobId: 'j', scratch: path.join(t.dir, 'scr') };
    await expect(prepareJobConnections(['x'], o)).rejects.toThrow(/must be a map of LABEL: conn_id/);
    await expect(prepareJobConnections({ 'bad-label': 'gen' }, o)).rejects.toThrow(/bad label "bad-label"/);
    await expect(prepareJobConnections({ a: 3 }, o)).rejects.toThrow(/must be a conn_id string/);
    await expect(prepareJobConnections({ a: 'nope' }, o)).rejects.toThrow(/No such connection "nope"/);
    const ok = await prepareJobConnections({ gen: 'gen', g2: 'gen' }, o);
    expect(Object.keys(ok.env).sort()).toEqual([
      'LAVA_CONNECTIONS_FILE',
      'LAVA_CONNID_G2',
      'LAVA_CONNID_GEN',
      'LAVA_CONN_G2',
      'LAVA_CONN_GEN',
    ]);
    expect(ok.env.LAVA_CONN_GEN).not.toBe(ok.env.LAVA_CONN_G2);
    await ok.remove();
    expect(fs.existsSync(ok.dir as string)).toBe(false);
  });
});
