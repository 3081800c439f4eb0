/**
 * sql, sqli, sqlc, sqlv and exe/pkg `connections` against a throwaway PostgreSQL, a throwaway
 * MariaDB and a SQLite file, then a scan of every event record, the worker log and every file the
 * runs left for the secret values.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tar from 'tar';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getConnection, getKysely } from '../../src/connections/api.js';
import { setLavaCommand } from '../../src/connections/cli-dir.js';
import { resolveConnection } from '../../src/connections/resolve.js';
import { checkSpec } from '../../src/core/validate.js';
import { makeRealm, type TestRealm } from '../helpers.js';
import {
  addConnections,
  captureLogger,
  findSecretLeaks,
  readUri,
  REPO,
  runJob,
  scratchFiles,
  SECRETS,
  startDatabases,
  useLavaSqlCli,
  type Databases,
} from '../connections/helpers.js';
import { mariadbSkipReason } from '../support/mariadb.js';
import { pgSkipReason } from '../support/pg.js';

const skip = pgSkipReason ?? mariadbSkipReason;
const has = (cmd: string) => {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
// psql comes with postgresql-client, the mysql client with mariadb-client; sqlite3 is apt package `sqlite3`.
const noSqlite3Cli = has('sqlite3') ? undefined : 'the sqlite3 CLI is not installed (apt-get install sqlite3)';

describe.skipIf(skip !== undefined)(`SQL job types on real databases${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let db: Databases;
  let t: TestRealm;
  const { logger, lines } = captureLogger();
  const run = (spec: Record<string, unknown>) => runJob(t, logger, spec);

  beforeAll(async () => {
    [db, t] = await Promise.all([startDatabases(), makeRealm()]);
    await addConnections(t, db);
  }, 90_000);

  afterAll(async () => {
    setLavaCommand(undefined);
    await t?.close();
    await db?.stop();
  });

  describe('sqli', () => {
    it('runs statements one by one on PostgreSQL, including a dollar-quoted function body, rendering each', async () => {
      const r = await run({
        job_id: 'sqli/pg',
        type: 'sqli',
        payload: [
          `create table if not exists people (id int, name text);
           truncate people;
           create or replace function add_one(i int) returns int as $$
           begin
             -- a comment; with a semicolon
             return i + 1;
           end;
           $$ language plpgsql;
           insert into people values (1, 'Ada'), ({{ vars.n }}, 'Grace; Hopper');
           select id, name, add_one(id) as next from people order by id;`,
          "select '{{ job.job_id }}' as job, 'say \"hi\"' as quote",
        ],
        parameters: { conn_id: 'pg', header: true, vars: { n: 2 }, escapechar: '\\' },
      });
      expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
      const prefix = `${t.realm.s3_temp}/sqli/pg/${r.runId}`;
      expect(r.last.output).toEqual({ '0': [`${prefix}/0.4.out`], '1': [`${prefix}/1.0.out`] });
      expect(readUri(`${prefix}/0.4.out`)).toBe('id|name|next\r\n1|Ada|2\r\n2|Grace; Hopper|3\r\n');
      expect(readUri(`${prefix}/1.0.out`)).toBe('job|quote\r\nsqli/pg|say \\"hi\\"\r\n');
    });

    it('rolls back everything when a statement fails in a transaction, and names the statement', async () => {
      await run({
        job_id: 'sqli/pg-setup',
        type: 'sqli',
        payload: 'create table if not exists tx (n int); truncate tx;',
        parameters: { conn_id: 'pg' },
      });
      const r = await run({
        job_id: 'sqli/pg-tx',
        type: 'sqli',
        payload: ['insert into tx values (1);', 'insert into tx values (2);\n-- then\nselect * from no_such_table;'],
        parameters: { conn_id: 'pg', transaction: true },
      });
      expect(r.statuses).toEqual(['queued', 'starting', 'running', 'failed']);
      expect(r.last.error).toBe(
        '1: statement 1 ("select * from no_such_table") failed: relation "no_such_table" does not exist (transaction rolled back)',
      );
      expect(r.last.error_data).toMatchObject({ payload: '1', statement: 1 });
      const c = await getConnection('pg', { backend: t.backend, realm: 'test' });
      try {
        expect((await c.query('select count(*)::int as n from tx')).rows).toEqual([{ n: 0 }]);
      } finally {
        await c.close();
      }
    });

    it('without a transaction, statements before the failing one stay committed', async () => {
      const r = await run({
        job_id: 'sqli/my-notx',
        type: 'sqli',
        payload: 'create table if not exists nt (n int); delete from nt; insert into nt values (7); insert into nt values (;',
        parameters: { conn_id: 'my' },
      });
      expect(r.statuses.at(-1)).toBe('failed');
      expect(r.last.error).toMatch(/^0: statement 3 \("insert into nt values \("\) failed: You have an error in your SQL syntax/);
      const c = await getConnection('my', { backend: t.backend, realm: 'test' });
      try {
        expect((await c.query('select n from nt')).rows).toEqual([{ n: 7 }]);
      } finally {
        await c.close();
      }
    });

    it('rolls back on MariaDB too', async () => {
      await run({
        job_id: 'sqli/my-setup',
        type: 'sqli',
        payload: 'create table if not exists txm (n int) engine=innodb; delete from txm;',
        parameters: { conn_id: 'my' },
      });
      const r = await run({
        job_id: 'sqli/my-tx',
        type: 'sqli',
        payload: ['insert into txm values (1)', 'insert into txm values (2); select nope from txm'],
        parameters: { conn_id: 'my', transaction: 'yes' },
      });
      expect(r.last.error).toMatch(
        /^1: statement 1 \("select nope from txm"\) failed: Unknown column 'nope'.*\(transaction rolled back\)$/,
      );
      const c = await getConnection('my', { backend: t.backend, realm: 'test' });
      try {
        expect((await c.query('select count(*) as n from txm')).rows).toEqual([{ n: 0 }]);
      } finally {
        await c.close();
      }
    });

    it('fails with the csv error when a value needs escaping and no escapechar is set (Lava defaults)', async () => {
      const r = await run({
        job_id: 'sqli/csv-error',
        type: 'sqli',
        payload: `select 'a"b' as x`,
        parameters: { conn_id: 'lite' },
      });
      expect(r.last.error).toBe('0: statement 0 ("select \'a\\"b\' as x") failed: need to escape, but no escapechar set');
    });

    it('writes SQLite results with the csv options given', async () => {
      const r = await run({
        job_id: 'sqli/lite',
        type: 'sqli',
        payload:
          "create table if not exists s (a text, b int); delete from s; insert into s values ('x,y', 1), (null, 2); select * from s order by b",
        parameters: {
          conn_id: 'lite',
          delimiter: ',',
          dialect: 'unix',
          quoting: 'nonnumeric',
          doublequote: true,
          output: 'res',
          header: true,
        },
      });
      expect(r.statuses.at(-1)).toBe('complete');
      const uri = `${t.realm.s3_temp}/sqli/lite/${r.runId}/res/0.3.out`;
      expect(r.last.output).toEqual({ '0': [uri] });
      expect(readUri(uri)).toBe('"a","b"\n"x,y",1\n"",2\n');
    });

    it('rejects bad parameters', async () => {
      const r1 = await run({
        job_id: 'sqli/bad1',
        type: 'sqli',
        payload: 'select 1',
        parameters: { conn_id: 'lite', output: '../x' },
      });
      expect(r1.last.error).toBe('Bad output parameter: Must be alphanumeric (letters, digits, _)');
      const r2 = await run({
        job_id: 'sqli/bad2',
        type: 'sqli',
        payload: 'select 1',
        parameters: { conn_id: 'lite', quoting: 'sometimes' },
      });
      expect(r2.last.error).toBe('Bad quoting style: SOMETIMES: use minimal, all, nonnumeric or none');
      const r3 = await run({
        job_id: 'sqli/bad3',
        type: 'sqli',
        payload: 'select 1',
        parameters: { conn_id: 'lite', timeout: 5 },
      });
      expect(r3.last.error).toMatch(/^Bad job parameters: Unexpected keys timeout/);
    });
  });

  describe('sql', () => {
    it('runs payload files in name order on MariaDB, raw or split', async () => {
      t.writePayload(
        'sql/my/01-load.sql',
        'create table if not exists sq (a varchar(10), b int);\ndelete from sq;\ninsert into sq values ("p|q", 1), ("r", {{ vars.b }});\n',
      );
      t.writePayload('sql/my/02-report.sql', '-- report\nselect a, b from sq order by b;\nselect count(*) as n from sq;\n');
      const r = await run({
        job_id: 'sql/my',
        type: 'sql',
        payload: 'sql/my/',
        parameters: { conn_id: 'my', vars: { b: 2 }, escapechar: '\\', quoting: 'minimal', output: 'out' },
      });
      expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
      const prefix = `${t.realm.s3_temp}/sql/my/${r.runId}/out`;
      expect(r.last.output).toEqual({
        '01-load.sql': [],
        '02-report.sql': [`${prefix}/02-report.sql.0.out`, `${prefix}/02-report.sql.1.out`],
      });
      expect(readUri(`${prefix}/02-report.sql.0.out`)).toBe('"p|q"|1\r\nr|2\r\n');
      expect(readUri(`${prefix}/02-report.sql.1.out`)).toBe('2\r\n');
    });

    it('refuses payload files over SQL_MAX_PAYLOAD_SIZE', async () => {
      t.writePayload('sql/big.sql', `select '${'x'.repeat(200)}';`);
      await t.backend.config.putRealm({ ...t.realm, config: { ...t.realm.config, SQL_MAX_PAYLOAD_SIZE: 100 } });
      try {
        const r = await run({ job_id: 'sql/big', type: 'sql', payload: 'sql/big.sql', parameters: { conn_id: 'lite' } });
        expect(r.last.error).toMatch(/is \d+ bytes, over the limit of 100/);
      } finally {
        await t.backend.config.putRealm(t.realm);
      }
    });
  });

  describe('connections that cannot be used', () => {
    it('a missing connection names the conn id', async () => {
      const r = await run({ job_id: 'conn/missing', type: 'sqli', payload: 'select 1', parameters: { conn_id: 'nope' } });
      expect(r.statuses).toEqual(['queued', 'starting', 'running', 'failed']);
      expect(r.last.error).toMatch(/^No such connection "nope" in realm "test"/);
    });

    it('a disabled connection is refused', async () => {
      const r = await run({ job_id: 'conn/off', type: 'sqli', payload: 'select 1', parameters: { conn_id: 'pg-off' } });
      expect(r.last.error).toMatch(/^Connection not enabled: connection "pg-off"/);
    });

    it('a bad MariaDB password gives a clear error without the password', async () => {
      const r = await run({ job_id: 'conn/my-bad', type: 'sqli', payload: 'select 1', parameters: { conn_id: 'my-bad' } });
      expect(r.last.error).toMatch(
        /^cannot connect to mariadb connection "my-bad" \(127\.0\.0\.1:\d+\/lavatest as lava_my\): Access denied for user 'lava_my'/,
      );
      expect(JSON.stringify(r.last)).not.toContain(SECRETS.wrong);
    });

    it('a bad PostgreSQL password gives a clear error without the password', async (ctx) => {
      if (!db.pgPasswordsChecked) ctx.skip(); // a server we cannot configure: it does not check passwords
      const r = await run({ job_id: 'conn/pg-bad', type: 'sqli', payload: 'select 1', parameters: { conn_id: 'pg-bad' } });
      expect(r.last.error).toMatch(
        /^cannot connect to postgres connection "pg-bad" .*password authentication failed for user "lava_pw"/,
      );
    });

    it('exe fails before running anything when a connection is missing', async () => {
      t.writePayload('conn/never.sh', '#!/bin/sh\necho ran\n', 0o755);
      const r = await run({
        job_id: 'conn/exe-missing',
        type: 'exe',
        payload: 'conn/never.sh',
        parameters: { connections: { db: 'nope' } },
      });
      expect(r.last.error).toMatch(/^No such connection "nope"/);
      expect(r.last.error_data).toBeNull();
    });
  });

  describe('exe and pkg with connections', () => {
    it('exe gets LAVA_CONN_* executables and LAVA_CONNID_*, with no secret in its environment', async () => {
      const tokenHash = createHash('sha256').update(`${SECRETS.gen}\n`).digest('hex');
      t.writePayload(
        'conn/check.sh',
        `#!/bin/sh
set -e
echo "pg: $($LAVA_CONN_PG -At -c 'select 42')"
echo "my: $($LAVA_CONN_MY -N -e 'select 43')"
echo "gen url: $($LAVA_CONN_GEN url)"
echo "gen password sha256: $($LAVA_CONN_GEN password | sha256sum | cut -d' ' -f1)"
echo "ids: $LAVA_CONNID_PG $LAVA_CONNID_MY $LAVA_CONNID_GEN"
case "$LAVA_CONN_PG" in "$PWD"/conn.*) echo "in scratch";; esac
if env | grep -q -e 'Secret' -e 'Gen-Token'; then echo "SECRET IN ENVIRONMENT"; fi
ls -l "$(dirname "$LAVA_CONN_PG")" | awk 'NR > 1 { print $1 }' | sort | uniq -c | awk '{ print $2 }' | tr '\\n' ' '; echo
`,
        0o755,
      );
      const r = await run({
        job_id: 'conn/exe',
        type: 'exe',
        payload: 'conn/check.sh',
        parameters: { connections: { pg: 'pg', my: 'my', gen: 'gen' } },
      });
      expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
      const out = readUri((r.last.output as { stdout: string }[])[0]?.stdout);
      const linesOut = out.split('\n');
      expect(linesOut.slice(0, 6)).toEqual([
        'pg: 42',
        'my: 43',
        'gen url: https://api.example.com',
        `gen password sha256: ${tokenHash}`,
        'ids: pg my gen',
        'in scratch',
      ]);
      expect(out).not.toContain('SECRET IN ENVIRONMENT');
      // Scripts are 0700 and credential files 0600: only those two modes in the directory.
      expect(linesOut[6]?.trim().split(' ').sort()).toEqual(['-rw-------', '-rwx------']);
    });

    it('pkg gets them too', async () => {
      const dir = path.join(t.dir, 'pkgsrc');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'run.sh'), '#!/bin/sh\necho "$LAVA_CONNID_G $($LAVA_CONN_G url)"\n', { mode: 0o755 });
      fs.mkdirSync(path.join(t.dir, 'payloads/conn'), { recursive: true });
      await tar.c({ file: path.join(t.dir, 'payloads/conn/app.tar'), cwd: dir }, ['run.sh']);
      const r = await run({
        job_id: 'conn/pkg',
        type: 'pkg',
        payload: 'conn/app.tar',
        parameters: { command: 'run.sh', connections: { g: 'gen' } },
      });
      expect(r.statuses.at(-1)).toBe('complete');
      expect(readUri((r.last.output as { stdout: string }[])[0]?.stdout)).toBe('gen https://api.example.com\n');
    });
  });

  describe('sqlc', () => {
    it('feeds the rendered file to psql, with PGAPPNAME set', async () => {
      t.writePayload(
        'sqlc/pg/report.sql',
        "\\pset format unaligned\nselect current_setting('application_name') as app, {{ vars.n }} + 1 as n;\n",
      );
      const r = await run({
        job_id: 'sqlc/pg',
        type: 'sqlc',
        payload: 'sqlc/pg/report.sql',
        parameters: { conn_id: 'pg', vars: { n: 2 } },
      });
      expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
      const [o] = r.last.output as { payload: string; stdout: string }[];
      expect(o?.payload).toBe('report.sql');
      expect(o?.stdout).toBe(`${t.realm.s3_temp}/sqlc/pg/${r.runId}/report.sql.stdout`);
      expect(readUri(o?.stdout)).toBe('app|n\nlv-test-sqlc/pg|3\n');
    });

    it('stops psql at the first error (ON_ERROR_STOP) and fails with its stderr', async () => {
      t.writePayload('sqlc/pg-bad.sql', 'select 1;\nselect * from nowhere;\nselect 2;\n');
      const r = await run({ job_id: 'sqlc/pg-bad', type: 'sqlc', payload: 'sqlc/pg-bad.sql', parameters: { conn_id: 'pg' } });
      expect(r.statuses.at(-1)).toBe('failed');
      expect(r.last.error).toBe('Failed with exit status 3');
      expect((r.last.error_data as { error: string }).error).toMatch(/relation "nowhere" does not exist/);
      const [o] = (r.last.error_data as { output: { stdout: string }[] }).output;
      expect(readUri(o?.stdout)).not.toContain('2\n(1 row)');
    });

    it('runs the mysql client with a defaults file (a password with quotes, # and \\ works)', async () => {
      t.writePayload('sqlc/my.sql', "select 'x' as a, {{ vars.n }} as n;\n");
      const r = await run({
        job_id: 'sqlc/my',
        type: 'sqlc',
        payload: 'sqlc/my.sql',
        parameters: { conn_id: 'my', vars: { n: 5 }, args: ['--column-names'] },
      });
      expect(r.statuses.at(-1)).toBe('complete');
      expect(readUri((r.last.output as { stdout: string }[])[0]?.stdout)).toBe('a\tn\nx\t5\n');
    });

    it.skipIf(noSqlite3Cli !== undefined)(`runs sqlite3 -bail${noSqlite3Cli ? ` (skipped: ${noSqlite3Cli})` : ''}`, async () => {
      t.writePayload('sqlc/lite.sql', 'select 1 + {{ vars.n }};\nselect * from nothing_here;\nselect 9;\n');
      const r = await run({
        job_id: 'sqlc/lite',
        type: 'sqlc',
        payload: 'sqlc/lite.sql',
        parameters: { conn_id: 'lite', vars: { n: 2 } },
      });
      expect(r.statuses.at(-1)).toBe('failed');
      const [o] = (r.last.error_data as { output: { stdout: string }[] }).output;
      expect(readUri(o?.stdout)).toBe('3\n');
      expect(r.last.error).toBe('Failed with exit status 1');
      expect((r.last.error_data as { error: string }).error).toMatch(/no such table: nothing_here/);
    });

    it('a template error fails the file with exit status 1 without running it', async () => {
      t.writePayload('sqlc/broken.sql', 'select {{ 1 + }};\n');
      const r = await run({ job_id: 'sqlc/broken', type: 'sqlc', payload: 'sqlc/broken.sql', parameters: { conn_id: 'pg' } });
      expect(r.last.error).toMatch(/^broken\.sql: Jinja template failed to render/);
      expect((r.last.error_data as { exit_status: number }).exit_status).toBe(1);
    });
  });

  describe('sqlv', () => {
    it('runs all rendered files in one `lava sql` process; results to stdout, messages to stderr', async () => {
      useLavaSqlCli(t.dir);
      t.writePayload('sqlv/a.sql', "select 1 as one, '{{ vars.word }}' as word;\n");
      t.writePayload('sqlv/b.sql', 'select 2 as two;\n');
      const r = await run({
        job_id: 'sqlv/pg',
        type: 'sqlv',
        payload: ['sqlv/a.sql', 'sqlv/b.sql'],
        parameters: { conn_id: 'pg', header: true, vars: { word: 'hi' }, delimiter: ',' },
      });
      expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
      const [o] = r.last.output as { payload: string; stdout: string; stderr?: string }[];
      expect(o?.payload).toBe('a.sql b.sql');
      expect(o?.stdout).toBe(`${t.realm.s3_temp}/sqlv/pg/${r.runId}/stdout`);
      expect(readUri(o?.stdout)).toBe('one,word\r\n1,hi\r\ntwo\r\n2\r\n');
      expect(o?.stderr).toBeUndefined();
    });

    it('fails with lava sql’s error, as jsonl on MariaDB when it works', async () => {
      useLavaSqlCli(t.dir);
      t.writePayload('sqlv/ok.sql', "select 'a' as x;\n");
      const ok = await run({
        job_id: 'sqlv/my',
        type: 'sqlv',
        payload: 'sqlv/ok.sql',
        parameters: { conn_id: 'my', format: 'jsonl' },
      });
      expect(ok.statuses.at(-1)).toBe('complete');
      expect(readUri((ok.last.output as { stdout: string }[])[0]?.stdout)).toBe('{"x":"a"}\n');
      t.writePayload('sqlv/bad.sql', 'select 1;\nselect * from nowhere_v;\n');
      const bad = await run({ job_id: 'sqlv/bad', type: 'sqlv', payload: 'sqlv/bad.sql', parameters: { conn_id: 'pg' } });
      expect(bad.statuses.at(-1)).toBe('failed');
      expect(bad.last.error).toBe('Failed with exit status 1');
      expect((bad.last.error_data as { error: string }).error).toMatch(
        /^lava: bad\.sql: statement 1 \("select \* from nowhere_v"\) failed: relation "nowhere_v" does not exist/,
      );
    });
  });

  describe('the TypeScript API on real servers', () => {
    it('getConnection: ? placeholders, transactions and rows on PostgreSQL and MariaDB', async () => {
      for (const id of ['pg', 'my']) {
        const c = await getConnection(id, { backend: t.backend, realm: 'test' });
        try {
          await c.query('create table if not exists api_t (id int, note varchar(20))');
          await c.query('delete from api_t');
          await c.beginTransaction();
          await c.query('insert into api_t values (?, ?)', [1, "it's ?"]);
          await c.rollback();
          await c.beginTransaction();
          await c.query('insert into api_t values (?, ?), (?, ?)', [2, 'two', 3, null]);
          await c.commit();
          const r = await c.query('select id, note from api_t where id >= ? order by id', [2]);
          expect(r.rows, id).toEqual([
            { id: 2, note: 'two' },
            { id: 3, note: null },
          ]);
          expect(r.columns).toEqual(['id', 'note']);
        } finally {
          await c.close();
        }
      }
    });

    it('getKysely on PostgreSQL and MariaDB', async () => {
      for (const id of ['pg', 'my']) {
        const k = await getKysely<{ api_t: { id: number; note: string | null } }>(id, { backend: t.backend, realm: 'test' });
        try {
          const rows = await k.selectFrom('api_t').select('note').where('id', '=', 2).execute();
          expect(rows, id).toEqual([{ note: 'two' }]);
        } finally {
          await k.destroy();
        }
      }
    });
  });

  describe('the documentation examples (examples/docs/sql.yaml, examples/docs/connections.yaml)', () => {
    const load = (file: string) => YAML.parse(fs.readFileSync(path.join(REPO, file), 'utf8')) as Record<string, unknown>[];
    const jobs = new Map(
      [...load('examples/docs/sql.yaml'), ...load('examples/docs/connections.yaml')].map((j) => [j.job_id, j]),
    );
    const job = (id: string) => jobs.get(id) as Record<string, unknown>;

    beforeAll(async () => {
      // examples/connections/docs.yaml, pointed at the throwaway servers.
      for (const spec of load('examples/connections/docs.yaml')) {
        expect(checkSpec('connection', spec).errors).toEqual([]);
        const local =
          spec.conn_id === 'docs/pg'
            ? { host: '127.0.0.1', port: db.pgPort, database: 'lavatest', user: 'lava_pw' }
            : spec.conn_id === 'docs/lite'
              ? { host: path.join(t.dir, 'docs.db') }
              : {};
        await t.backend.config.put('test', 'connections', { ...spec, ...local });
      }
      await t.backend.secrets.put('test', '/lava/default/docs/pg/password', SECRETS.pg);
      await t.backend.secrets.put('test', '/lava/default/docs/api/token', SECRETS.gen);
      const payloads = path.join(REPO, 'examples/docs/payloads');
      for (const rel of fs.readdirSync(payloads, { recursive: true }) as string[]) {
        const file = path.join(payloads, rel);
        if (fs.statSync(file).isFile())
          t.writePayload(`docs/${rel}`, fs.readFileSync(file, 'utf8'), fs.statSync(file).mode & 0o777);
      }
      useLavaSqlCli(t.dir);
    });

    it('every example spec is valid and every docs connection resolves', async () => {
      for (const spec of jobs.values()) expect(checkSpec('job', spec)).toMatchObject({ errors: [], warnings: [] });
      for (const id of ['docs/pg', 'docs/lite', 'docs/api']) await resolveConnection(id, { backend: t.backend, realm: 'test' });
    });

    it('docs/sql/report, docs/sqli/east and docs/sqli/rollback', async () => {
      const report = await run(job('docs/sql/report'));
      expect(report.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
      const uri = `${t.realm.s3_temp}/docs/sql/report/${report.runId}/report.sql.3.out`;
      expect(report.last.output).toEqual({ 'report.sql': [uri] });
      expect(readUri(uri)).toBe('region|amount\r\nnorth|10.5\r\nsouth|7\r\n');
      const east = await run(job('docs/sqli/east'));
      expect(readUri((east.last.output as Record<string, string[]>)['1']?.[0])).toBe('region|amount\r\neast|1\r\n');
      const rollback = await run(job('docs/sqli/rollback'));
      expect(rollback.statuses.at(-1)).toBe('failed');
      expect(rollback.last.error).toBe(
        '1: statement 0 ("select * from no_such_table") failed: relation "no_such_table" does not exist (transaction rolled back)',
      );
    });

    it('docs/sqlc/summary and docs/sqlv/export', async () => {
      const summary = await run(job('docs/sqlc/summary'));
      expect(readUri((summary.last.output as { stdout: string }[])[0]?.stdout)).toBe('sales|total\n3|18.5\n');
      const exp = await run(job('docs/sqlv/export'));
      expect(readUri((exp.last.output as { stdout: string }[])[0]?.stdout)).toBe(
        '{"region":"east","amount":"1"}\n{"region":"north","amount":"10.5"}\n{"region":"south","amount":"7"}\n',
      );
    });

    it('docs/db_from_s3/sales', async () => {
      const file = path.join(fileURLToPath(t.realm.s3_temp), 'incoming/sales-2024-01-31.csv');
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, 'day,region,amount\n2024-01-31,north,10.5\n2024-01-31,south,7\n');
      const r = await run(job('docs/db_from_s3/sales'));
      expect(r.statuses.at(-1)).toBe('complete');
      expect(r.last.events).toContain(
        `Loaded 2 rows into public.sales_raw from ${t.realm.s3_temp}/incoming/sales-2024-01-31.csv`,
      );
    });

    it('docs/exe/connections', async () => {
      const r = await run(job('docs/exe/connections'));
      expect(r.statuses.at(-1)).toBe('complete');
      expect(readUri((r.last.output as { stdout: string }[])[0]?.stdout)).toBe(
        `regions: 3\napi: https://api.example.com/v1 (connection docs/api)\ntoken: ${SECRETS.gen.length} characters\n`,
      );
    });
  });

  // Runs last: everything above has written events, log lines and files.
  it('no secret value appears in any event record, the worker log, or any file left behind', async () => {
    expect(lines.length).toBeGreaterThan(20);
    expect(await findSecretLeaks(t, lines)).toEqual([]);
    expect(scratchFiles(t).filter((f) => /\/conn\.[^/]+\//.test(f))).toEqual([]);
  });
});
