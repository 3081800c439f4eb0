/**
 * The `lava` Python package (python/lava) in real exe and pkg jobs run by Debian's python3: SQLite
 * always (stdlib sqlite3), PostgreSQL through pg8000 and MariaDB through PyMySQL when those drivers
 * are installed (python3-pg8000, python3-pymysql), against throwaway servers. A job reaches only the
 * connections it declares; no password reaches events, outputs or the log.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON_DIR } from '../../src/connections/python.js';
import type { Logger } from '../../src/core/logger.js';
import { makeRealm, type TestRealm } from '../helpers.js';
import { mariadbSkipReason, startThrowawayMariadb, type MariadbServer } from '../support/mariadb.js';
import { adminQuery, pgSkipReason, startThrowawayPostgres, type PgServer } from '../support/pg.js';
import { captureLogger, readUri, runJob, type Ran } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const PG_PASSWORD = 'Py-Pg-Secret-4b1d';
const MY_PASSWORD = 'Py-My-Secret-6e0a';
const GEN_TOKEN = 'Py-Gen-Token-2c9f';

function pythonHas(module: string): boolean {
  try {
    execFileSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const pythonSkip = fs.existsSync(PYTHON) ? undefined : `${PYTHON} is missing: apt-get install python3`;
const pgSkip =
  pythonSkip ??
  pgSkipReason ??
  (pythonHas('pg8000') ? undefined : 'pg8000 is not installed for python3: apt-get install python3-pg8000');
const mySkip =
  pythonSkip ??
  mariadbSkipReason ??
  (pythonHas('pymysql') ? undefined : 'PyMySQL is not installed for python3: apt-get install python3-pymysql');
const saSkip =
  pythonSkip ??
  (pythonHas('sqlalchemy') ? undefined : 'SQLAlchemy is not installed for python3: apt-get install python3-sqlalchemy');

let t: TestRealm;
let logger: Logger;
let logLines: string[];

const stdout = (r: Ran) => readUri((r.last.output as { stdout: string }[])[0]?.stdout);

/** A Python payload run by Debian's python3. */
function pyPayload(name: string, body: string): void {
  t.writePayload(name, `#!${PYTHON}\nimport os, sys\n${body}`, 0o755);
}

/** Run Python outside any job, with python/ on the path. */
function python(code: string, env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      PYTHON,
      ['-c', code],
      { env: { PATH: process.env.PATH ?? '', PYTHONPATH: PYTHON_DIR, ...env } },
      (err, out, errOut) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out, err: errOut }),
    );
  });
}

describe.skipIf(pythonSkip)(`the lava Python package${pythonSkip ? ` (skipped: ${pythonSkip})` : ''}`, () => {
  beforeAll(async () => {
    t = await makeRealm();
    ({ logger, lines: logLines } = captureLogger());
    await t.backend.secrets.put('test', '/lava/test/gen/token', GEN_TOKEN);
    const put = (spec: Record<string, unknown>) => t.backend.config.put('test', 'connections', { enabled: true, ...spec });
    await put({ conn_id: 'lite', type: 'sqlite3', host: path.join(t.dir, 'py.db') });
    await put({ conn_id: 'other', type: 'sqlite3', host: path.join(t.dir, 'other.db') });
    await put({
      conn_id: 'gen',
      type: 'generic',
      attributes: { url: 'https://api.example.com', token: { type: 'ssm', parameter: '/lava/test/gen/token' } },
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('sqlite3: get_pysql_connection, begin_transaction, query_to_dict and get_generic_connection in an exe job', async () => {
    pyPayload(
      'py/lite.py',
      `import stat
from lava.connection import get_pysql_connection, get_generic_connection, LavaConnectionError
from lava.lib.db import begin_transaction, query_to_dict
conn = get_pysql_connection(os.environ['LAVA_CONNID_DB'])
cur = conn.cursor()
cur.execute('create table if not exists t (id integer, name text)')
conn.commit()
begin_transaction(conn, cur)
cur.execute('insert into t values (1, ?)', ('one',))
conn.rollback()
begin_transaction(conn)
cur.execute('insert into t values (2, ?)', ('two',))
conn.commit()
print('rows:', list(query_to_dict(conn.cursor(), 'select id, name from t order by id')))
print('generic:', sorted(get_generic_connection('gen').items()) == [('token', os.environ['TOKEN_CHECK']), ('url', 'https://api.example.com')])
for bad in ('other', 'nope'):
    try:
        get_pysql_connection(bad)
    except LavaConnectionError as e:
        print('refused:', e)
try:
    get_pysql_connection('lite', realm='elsewhere')
except LavaConnectionError as e:
    print('realm:', e)
f = os.environ['LAVA_CONNECTIONS_FILE']
print('file mode:', oct(stat.S_IMODE(os.stat(f).st_mode)), 'in scratch:', f.startswith(os.getcwd() + '/conn.'))
print('path:', os.environ['PYTHONPATH'].split(':')[0], os.environ['PYTHONPATH'].split(':')[-1].endswith('/python'))
`,
    );
    const r = await runJob(t, logger, {
      job_id: 'py/lite',
      type: 'exe',
      payload: 'py/lite.py',
      // TOKEN_CHECK lets the job compare the generic secret without printing it.
      parameters: { connections: { db: 'lite', g: 'gen' }, env: { PYTHONPATH: '/opt/mine', TOKEN_CHECK: GEN_TOKEN } },
    });
    expect(r.statuses, JSON.stringify(r.last)).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(stdout(r).split('\n')).toEqual([
      "rows: [{'id': 2, 'name': 'two'}]",
      'generic: True',
      'refused: connection "other" is not declared by this job: add it to the job\'s "connections" parameter (LABEL: other); declared database and generic connections: gen, lite',
      'refused: connection "nope" is not declared by this job: add it to the job\'s "connections" parameter (LABEL: nope); declared database and generic connections: gen, lite',
      'realm: connection "lite" of realm "elsewhere" is not available: this job runs in realm "test"',
      'file mode: 0o600 in scratch: True',
      'path: /opt/mine True',
      '',
    ]);
    // Another sqlite3 connection the job did not declare was not touched.
    expect(fs.existsSync(path.join(t.dir, 'other.db'))).toBe(false);
    // The connections file went with the run.
    expect(
      fs
        .readdirSync(t.tmpRoot, { recursive: true })
        .map(String)
        .filter((f) => f.includes('lava-connections')),
    ).toEqual([]);
  });

  it('a pkg job gets the package and the file too', async () => {
    const src = path.join(t.dir, 'pkgsrc');
    fs.mkdirSync(src, { recursive: true });
    fs.writeFileSync(
      path.join(src, 'main.py'),
      `#!${PYTHON}\nfrom lava.connection import get_pysql_connection\nprint(get_pysql_connection('lite').execute('select 40 + 2').fetchone()[0])\n`,
      { mode: 0o755 },
    );
    fs.mkdirSync(path.join(t.dir, 'payloads/py'), { recursive: true });
    execFileSync('tar', ['-cf', path.join(t.dir, 'payloads/py/app.tar'), '-C', src, 'main.py']);
    const r = await runJob(t, logger, {
      job_id: 'py/pkg',
      type: 'pkg',
      payload: 'py/app.tar',
      parameters: { command: 'main.py', connections: { db: 'lite' } },
    });
    expect(r.statuses.at(-1), JSON.stringify(r.last)).toBe('complete');
    expect(stdout(r)).toBe('42\n');
  });

  it('without declared connections there is no file, and the error says how to declare one', async () => {
    pyPayload(
      'py/none.py',
      `from lava.connection import get_pysql_connection
try:
    get_pysql_connection('lite')
except Exception as e:
    print(type(e).__name__, e)
print('LAVA_CONNECTIONS_FILE' in os.environ)
`,
    );
    const r = await runJob(t, logger, { job_id: 'py/none', type: 'exe', payload: 'py/none.py' });
    expect(stdout(r)).toBe(
      'LavaConnectionError LAVA_CONNECTIONS_FILE is not set: lava connections are available to exe and pkg jobs that declare them in their "connections" parameter (LABEL: conn_id)\nFalse\n',
    );
  });

  it('refuses a connections file others can read', async () => {
    const file = path.join(t.dir, 'loose.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, realm: 'test', connections: {} }), { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    const r = await python('from lava.connection import get_pysql_connection\nget_pysql_connection("x")', {
      LAVA_CONNECTIONS_FILE: file,
    });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`LavaConnectionError: the connections file ${file} must be a private (0600) regular file`);
  });

  it('get_sqlalchemy_engine without SQLAlchemy is a clear ImportError', async () => {
    const r = await python(
      "import sys\nsys.modules['sqlalchemy'] = None\nfrom lava.connection import get_sqlalchemy_engine\nget_sqlalchemy_engine('x')",
    );
    expect(r.err).toContain(
      'ImportError: get_sqlalchemy_engine needs SQLAlchemy, which is not installed: pip install sqlalchemy (Debian: apt-get install python3-sqlalchemy); get_pysql_connection works without it',
    );
  });

  it.skipIf(saSkip)(`get_sqlalchemy_engine on a sqlite3 connection${saSkip ? ` (skipped: ${saSkip})` : ''}`, async () => {
    pyPayload(
      'py/sa.py',
      `import sqlalchemy
from lava.connection import get_sqlalchemy_engine
engine = get_sqlalchemy_engine('lite')
with engine.connect() as c:
    print(engine.dialect.name, c.execute(sqlalchemy.text('select 6 * 7')).scalar())
try:
    get_sqlalchemy_engine('lite', module='x')
except ValueError as e:
    print(e)
`,
    );
    const r = await runJob(t, logger, {
      job_id: 'py/sa',
      type: 'exe',
      payload: 'py/sa.py',
      parameters: { connections: { db: 'lite' } },
    });
    expect(stdout(r)).toBe('sqlite 42\nget_sqlalchemy_engine: Module selection not permitted\n');
  });

  describe.skipIf(pgSkip)(`PostgreSQL through pg8000${pgSkip ? ` (skipped: ${pgSkip})` : ''}`, () => {
    let pg: PgServer;
    beforeAll(async () => {
      pg = await startThrowawayPostgres();
      // Debian 12's pg8000 (1.10) speaks md5 password authentication, not SCRAM.
      await adminQuery(pg, 'DROP DATABASE IF EXISTS pylava');
      await adminQuery(pg, 'DROP ROLE IF EXISTS py_md5');
      await adminQuery(pg, `SET password_encryption = 'md5'; CREATE ROLE py_md5 LOGIN PASSWORD '${PG_PASSWORD}'`);
      await adminQuery(pg, 'CREATE DATABASE pylava OWNER py_md5');
      const [row] = await adminQuery<{ hba_file: string }>(pg, 'SHOW hba_file');
      const hba = row?.hba_file as string;
      fs.writeFileSync(hba, `host pylava py_md5 127.0.0.1/32 md5\n${fs.readFileSync(hba, 'utf8')}`);
      await adminQuery(pg, 'SELECT pg_reload_conf()');
      await t.backend.secrets.put('test', '/lava/test/pypg/password', PG_PASSWORD);
      await t.backend.config.put('test', 'connections', {
        enabled: true,
        conn_id: 'pypg',
        type: 'postgres',
        host: '127.0.0.1',
        port: Number(new URL(pg.url).port),
        database: 'pylava',
        user: 'py_md5',
        password: '/lava/test/pypg/password',
      });
    }, 120_000);
    afterAll(async () => {
      await pg?.stop();
    });

    it('connects with the resolved password, sets the application name, and leaks nothing', async () => {
      pyPayload(
        'py/pg.py',
        `from lava.connection import get_pysql_connection
from lava.lib.db import begin_transaction, query_to_dict
conn = get_pysql_connection(os.environ['LAVA_CONNID_PG'])
cur = conn.cursor()
cur.execute('create table t (n int)')
conn.commit()
begin_transaction(conn, cur)
cur.execute('insert into t values (%s)', (5,))
conn.rollback()
cur.execute('insert into t values (%s)', (7,))
conn.commit()
print(list(query_to_dict(cur, "select current_user as u, current_setting('application_name') as app, sum(n) as s from t")))
auto = get_pysql_connection('pypg', autocommit=True, application_name='mine')
c2 = auto.cursor()
c2.execute("select current_setting('application_name')")
print(c2.fetchone()[0], auto.autocommit)
`,
      );
      const r = await runJob(t, logger, {
        job_id: 'py/pg',
        type: 'exe',
        payload: 'py/pg.py',
        parameters: { connections: { pg: 'pypg' } },
      });
      expect(r.statuses.at(-1), JSON.stringify(r.last)).toBe('complete');
      expect(stdout(r)).toBe("[{'u': 'py_md5', 'app': 'lv-test-py/pg', 's': 7}]\nmine True\n");
      const events = JSON.stringify(await t.backend.events.query('test', { limit: 1000 }));
      expect(events).not.toContain(PG_PASSWORD);
      expect(logLines.join('\n')).not.toContain(PG_PASSWORD);
    });

    it('a refused login names the connection, not the password', async () => {
      await t.backend.secrets.put('test', '/lava/test/pypg/wrong', 'Py-Wrong-Pw-1a');
      await t.backend.config.put('test', 'connections', {
        enabled: true,
        conn_id: 'pypg-bad',
        type: 'postgres',
        host: '127.0.0.1',
        port: Number(new URL(pg.url).port),
        database: 'pylava',
        user: 'py_md5',
        password: '/lava/test/pypg/wrong',
      });
      pyPayload(
        'py/pgbad.py',
        `from lava.connection import get_pysql_connection\ntry:\n    get_pysql_connection('pypg-bad')\nexcept Exception as e:\n    print(type(e).__name__, e)\n`,
      );
      const r = await runJob(t, logger, {
        job_id: 'py/pgbad',
        type: 'exe',
        payload: 'py/pgbad.py',
        parameters: { connections: { pg: 'pypg-bad' } },
      });
      const out = stdout(r);
      expect(out).toMatch(
        /^LavaConnectionError cannot connect to postgres connection "pypg-bad" \(127\.0\.0\.1:\d+ as py_md5\): .*password authentication failed/,
      );
      expect(out).not.toContain('Py-Wrong-Pw-1a');
    });
  });

  describe.skipIf(mySkip)(`MariaDB through PyMySQL${mySkip ? ` (skipped: ${mySkip})` : ''}`, () => {
    let my: MariadbServer;
    beforeAll(async () => {
      my = await startThrowawayMariadb();
      const admin = await mysql.createConnection({ host: my.host, port: my.port, user: my.user, password: my.password });
      await admin.query('DROP DATABASE IF EXISTS pylava');
      await admin.query('CREATE DATABASE pylava');
      await admin.query("DROP USER IF EXISTS 'py_my'@'%'");
      await admin.query("CREATE USER 'py_my'@'%' IDENTIFIED BY ?", [MY_PASSWORD]);
      await admin.query("GRANT ALL PRIVILEGES ON pylava.* TO 'py_my'@'%'");
      await admin.end();
      await t.backend.secrets.put('test', '/lava/test/pymy/password', MY_PASSWORD);
      await t.backend.config.put('test', 'connections', {
        enabled: true,
        conn_id: 'pymy',
        type: 'mariadb',
        host: my.host,
        port: my.port,
        database: 'pylava',
        user: 'py_my',
        password: '/lava/test/pymy/password',
      });
    }, 120_000);
    afterAll(async () => {
      await my?.stop();
    });

    it('connects, and begin_transaction uses conn.begin()', async () => {
      pyPayload(
        'py/my.py',
        `from lava.connection import get_pysql_connection
from lava.lib.db import begin_transaction, query_to_dict
conn = get_pysql_connection(os.environ['LAVA_CONNID_MY'], autocommit=True)
cur = conn.cursor()
cur.execute('create table t (n int) engine=InnoDB')
begin_transaction(conn)
cur.execute('insert into t values (%s)', (5,))
conn.rollback()
cur.execute('insert into t values (%s)', (9,))
print(list(query_to_dict(cur, 'select current_user() as u, sum(n) as s from t')))
`,
      );
      const r = await runJob(t, logger, {
        job_id: 'py/my',
        type: 'exe',
        payload: 'py/my.py',
        parameters: { connections: { my: 'pymy' } },
      });
      expect(r.statuses.at(-1), JSON.stringify(r.last)).toBe('complete');
      expect(stdout(r)).toBe("[{'u': 'py_my@%', 's': Decimal('9')}]\n");
      expect(JSON.stringify(await t.backend.events.query('test', { limit: 1000 }))).not.toContain(MY_PASSWORD);
    });
  });
});
