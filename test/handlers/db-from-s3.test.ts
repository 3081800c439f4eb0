/**
 * db_from_s3 into a throwaway PostgreSQL (COPY FROM STDIN), MariaDB (LOAD DATA LOCAL INFILE) and
 * SQLite (INSERTs): every mode on PostgreSQL and MariaDB, append/truncate/switch on SQLite.
 * Objects are files in the realm's temp area: `bucket` is its file:// URI, `key` the path below.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { getConnection } from '../../src/connections/api.js';
import { copyFromStdin } from '../../src/connections/pg-copy.js';
import { nameFromKey, objectUri } from '../../src/handlers/db-from-s3/index.js';
import { makeRealm, type TestRealm } from '../helpers.js';
import {
  addConnections,
  captureLogger,
  findSecretLeaks,
  runJob,
  startDatabases,
  type Databases,
} from '../connections/helpers.js';
import { mariadbSkipReason } from '../support/mariadb.js';
import { pgSkipReason } from '../support/pg.js';

describe('db_from_s3 helpers', () => {
  it('maps bucket + key onto a blob URI', () => {
    expect(objectUri('file:///srv/lava/temp', 'in/a.csv')).toBe('file:///srv/lava/temp/in/a.csv');
    expect(objectUri('file:///srv/lava/temp/', '/in/a.csv')).toBe('file:///srv/lava/temp/in/a.csv');
    expect(objectUri('my-bucket', 'in/a.csv')).toBe('s3://my-bucket/in/a.csv');
  });

  it('takes /regex names from the key without its suffixes', () => {
    expect(nameFromKey('/(\\w+)$', 'data/2024/sales.csv.gz', 'table')).toBe('sales');
    expect(nameFromKey('/^data/(\\d+)/', 'data/2024/sales.csv', 'schema')).toBe('2024');
    expect(nameFromKey('plain', 'x/y.csv', 'table')).toBe('plain');
    expect(() => nameFromKey('/^nomatch(\\d)', 'x/y.csv', 'table')).toThrow(/does not match "x\/y"/);
  });
});

const skip = pgSkipReason ?? mariadbSkipReason;

describe.skipIf(skip !== undefined)(`db_from_s3 on real databases${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let db: Databases;
  let t: TestRealm;
  let bucket: string;
  const { logger, lines } = captureLogger();
  const CSV = 'id,name\n1,apple\n2,"pear, green"\n';

  function putObject(key: string, data: string | Buffer): void {
    const file = path.join(fileURLToPath(bucket), key);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
  }

  const load = (jobId: string, parameters: Record<string, unknown>) =>
    runJob(t, logger, {
      job_id: jobId,
      type: 'db_from_s3',
      payload: null,
      parameters: { bucket, key: 'in/sales.csv', ...parameters },
    });

  async function rows(connId: string, table: string): Promise<unknown[]> {
    const c = await getConnection(connId, { backend: t.backend, realm: 'test' });
    try {
      return (await c.query(`select * from ${table} order by 1`)).rows;
    } finally {
      await c.close();
    }
  }

  beforeAll(async () => {
    [db, t] = await Promise.all([startDatabases(), makeRealm()]);
    await addConnections(t, db);
    bucket = t.realm.s3_temp;
    putObject('in/sales.csv', CSV);
    putObject('in/sales.csv.gz', zlib.gzipSync(CSV));
    putObject('in/more.csv', 'id,name\n3,fig\n');
    putObject('in/people.jsonl', '{"id": 1, "name": "Ada"}\n{"name": "Grace", "id": 2}\n');
    putObject('in/tiny.csv', 'x');
  }, 90_000);

  afterAll(async () => {
    await t?.close();
    await db?.stop();
  });

  const pgBase = {
    db_conn_id: 'pg',
    schema: 'public',
    table: 'sales',
    columns: ['id int', 'name text'],
    args: ['CSV', 'HEADER'],
  };

  describe('PostgreSQL (COPY FROM STDIN)', () => {
    it('abort creates the table and loads it, then fails because the table exists', async () => {
      const r = await load('d/pg-abort', { ...pgBase, mode: 'abort' });
      expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
      expect(r.last).toMatchObject({ exit_status: 0, bucket, key: 'in/sales.csv' });
      expect(r.last.events).toEqual([
        `Downloaded ${bucket}/in/sales.csv (${CSV.length} bytes)`,
        'Created table public.sales',
        'COPY "public"."sales" FROM STDIN WITH (FORMAT csv, HEADER)',
        `Loaded 2 rows into public.sales from ${bucket}/in/sales.csv`,
      ]);
      expect(await rows('pg', 'sales')).toEqual([
        { id: 1, name: 'apple' },
        { id: 2, name: 'pear, green' },
      ]);
      const again = await load('d/pg-abort', { ...pgBase, mode: 'abort' });
      expect(again.statuses.at(-1)).toBe('failed');
      expect(again.last.error).toBe('table public.sales exists (mode abort): drop it, or use another mode');
      expect(again.last.error_data).toMatchObject({ exit_status: 1, bucket, key: 'in/sales.csv' });
    });

    it('append adds rows; delete and truncate replace them (gzip detected)', async () => {
      await load('d/pg-append', { ...pgBase, mode: 'append', key: 'in/more.csv' });
      expect(await rows('pg', 'sales')).toHaveLength(3);
      const del = await load('d/pg-delete', { ...pgBase, mode: 'delete' });
      expect(del.last.events).toContain('Deleted 3 rows from public.sales');
      expect(await rows('pg', 'sales')).toHaveLength(2);
      const tr = await load('d/pg-truncate', { ...pgBase, mode: 'truncate', key: 'in/sales.csv.gz', table: '/(\\w+)$' });
      expect(tr.statuses.at(-1)).toBe('complete');
      expect(tr.last.events).toContain('Truncated public.sales');
      expect(await rows('pg', 'sales')).toHaveLength(2);
    });

    it('drop recreates the table from columns; FORCE_NULL * names every column', async () => {
      const r = await load('d/pg-drop', {
        ...pgBase,
        mode: 'drop',
        columns: ['id bigint', 'name varchar(40)'],
        args: ['FORMAT csv', 'HEADER true', 'FORCE_NULL *'],
      });
      expect(r.statuses.at(-1)).toBe('complete');
      expect(r.last.events).toContain('Dropped public.sales');
      expect(r.last.events).toContain(
        'COPY "public"."sales" FROM STDIN WITH (FORMAT csv, HEADER true, FORCE_NULL ("id", "name"))',
      );
      expect(await rows('pg', 'sales')).toEqual([
        { id: '1', name: 'apple' },
        { id: '2', name: 'pear, green' },
      ]);
    });

    it('switch loads the empty one of <table>_a/_b and empties the other', async () => {
      const s = { ...pgBase, mode: 'switch', table: 'sw' };
      const first = await load('d/pg-switch', s);
      expect(first.last.events).toContain('Switched to public.sw_a');
      expect(await rows('pg', 'sw_a')).toHaveLength(2);
      const second = await load('d/pg-switch', s);
      expect(second.last.events).toContain('Switched to public.sw_b');
      expect(await rows('pg', 'sw_a')).toHaveLength(0);
      expect(await rows('pg', 'sw_b')).toHaveLength(2);
      const c = await getConnection('pg', { backend: t.backend, realm: 'test' });
      await c.query("insert into sw_a values (9, 'x')");
      await c.close();
      const third = await load('d/pg-switch', s);
      expect(third.last.error).toBe('switch mode: neither sw_a nor sw_b is empty: empty one of them first');
    });

    it('loads JSON Lines by column name with INSERTs', async () => {
      const r = await load('d/pg-json', { ...pgBase, table: 'people', mode: 'drop', key: 'in/people.jsonl', args: ['JSON'] });
      expect(r.statuses.at(-1)).toBe('complete');
      expect(await rows('pg', 'people')).toEqual([
        { id: 1, name: 'Ada' },
        { id: 2, name: 'Grace' },
      ]);
    });

    it('a bad row rolls the whole load back', async () => {
      putObject('in/bad.csv', 'id,name\n5,ok\nnot-a-number,bad\n');
      const r = await load('d/pg-bad', { ...pgBase, mode: 'truncate', key: 'in/bad.csv' });
      expect(r.statuses.at(-1)).toBe('failed');
      expect(r.last.error).toMatch(/invalid input syntax for type bigint: "not-a-number"/);
      expect((r.last.error_data as { events: string[] }).events.at(-1)).toBe('Rolled back');
      expect(await rows('pg', 'sales')).toHaveLength(2); // the truncate was rolled back too
    });

    it('a COPY that stalls is aborted after PG_COPY_TIMEOUT and the session stays usable', async () => {
      const c = await getConnection('pg', { backend: t.backend, realm: 'test' });
      try {
        async function* stalled(): AsyncGenerator<Buffer> {
          yield Buffer.from('7,seven\n');
          await new Promise((resolve) => setTimeout(resolve, 5000));
        }
        const started = Date.now();
        await expect(copyFromStdin(c.raw as pg.Client, 'COPY sales FROM STDIN WITH (FORMAT csv)', stalled(), 1)).rejects.toThrow(
          'COPY timed out after 1 seconds (PG_COPY_TIMEOUT)',
        );
        expect(Date.now() - started).toBeLessThan(4000);
        expect((await c.query('select count(*)::int as n from sales where id = 7')).rows).toEqual([{ n: 0 }]);
      } finally {
        await c.close();
      }
    });

    it('skip_missing, min_size, missing objects and bad options', async () => {
      const skipped = await load('d/skip', { ...pgBase, mode: 'append', key: 'in/nope.csv', skip_missing: 'yes' });
      expect(skipped.statuses.at(-1)).toBe('complete');
      expect(skipped.last.events).toEqual([`Skipped missing object ${bucket}/in/nope.csv`]);
      const missing = await load('d/missing', { ...pgBase, mode: 'append', key: 'in/{{ vars.f }}.csv', vars: { f: 'nope' } });
      expect(missing.last.error).toMatch(/^No such object .*\/in\/nope\.csv/);
      const runt = await load('d/runt', { ...pgBase, mode: 'append', key: 'in/tiny.csv', min_size: '1K' });
      expect(runt.last.events).toEqual([`Skipped runt object ${bucket}/in/tiny.csv: 1 bytes is under min_size 1000`]);
      const bad = await load('d/badopt', { ...pgBase, mode: 'append', args: ['CREDENTIALS x'] });
      expect(bad.last.error).toMatch(/^loader option CREDENTIALS is not allowed for PostgreSQL COPY/);
      const mode = await load('d/badmode', { ...pgBase, mode: 'replace' });
      expect(mode.last.error).toBe('Bad mode "replace": use one of abort, append, delete, drop, switch, truncate');
      const gs = await load('d/gs', { ...pgBase, mode: 'append', bucket: 'gs://my-bucket' });
      expect(gs.last.error).toMatch(/^unsupported storage location "gs:\/\/my-bucket\/in\/sales\.csv"/);
      const notable = await load('d/notable', { ...pgBase, mode: 'append', table: 'nowhere', columns: undefined });
      expect(notable.last.error).toBe('table public.nowhere does not exist and parameters.columns is not given to create it');
    });
  });

  describe('MariaDB (LOAD DATA LOCAL INFILE)', () => {
    const my = {
      db_conn_id: 'my',
      schema: 'lavatest',
      table: 'sales',
      columns: ['id int', 'name varchar(40)'],
      args: ['CSV', 'HEADER'],
    };

    it('abort, append, delete, truncate and drop', async () => {
      const a = await load('d/my-abort', { ...my, mode: 'abort' });
      expect(a.statuses.at(-1)).toBe('complete');
      expect(a.last.events).toContain(
        "LOAD DATA LOCAL INFILE 'lava-db-from-s3' INTO TABLE `lavatest`.`sales` FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' IGNORE 1 LINES",
      );
      expect(await rows('my', 'sales')).toEqual([
        { id: 1, name: 'apple' },
        { id: 2, name: 'pear, green' },
      ]);
      expect((await load('d/my-abort', { ...my, mode: 'abort' })).last.error).toBe(
        'table lavatest.sales exists (mode abort): drop it, or use another mode',
      );
      await load('d/my-append', { ...my, mode: 'append', key: 'in/more.csv' });
      expect(await rows('my', 'sales')).toHaveLength(3);
      const del = await load('d/my-delete', { ...my, mode: 'delete', key: 'in/sales.csv.gz' });
      expect(del.last.events).toContain('Deleted 3 rows from lavatest.sales');
      expect(await rows('my', 'sales')).toHaveLength(2);
      await load('d/my-truncate', { ...my, mode: 'truncate', key: 'in/more.csv' });
      expect(await rows('my', 'sales')).toEqual([{ id: 3, name: 'fig' }]);
      const drop = await load('d/my-drop', {
        ...my,
        mode: 'drop',
        columns: ['id int', 'name varchar(40)', 'extra int'],
        args: ["DELIMITER ','", "QUOTE OPTIONAL '\"'", 'HEADER 1', 'TERMINATOR UNIX'],
      });
      expect(drop.statuses.at(-1)).toBe('complete');
      expect(await rows('my', 'sales')).toEqual([
        { id: 1, name: 'apple', extra: null },
        { id: 2, name: 'pear, green', extra: null },
      ]);
    });

    it('switch', async () => {
      const s = { ...my, mode: 'switch', table: 'sw' };
      expect((await load('d/my-switch', s)).last.events).toContain('Switched to lavatest.sw_a');
      expect((await load('d/my-switch', s)).last.events).toContain('Switched to lavatest.sw_b');
      expect(await rows('my', 'sw_a')).toHaveLength(0);
      expect(await rows('my', 'sw_b')).toHaveLength(2);
    });
  });

  describe('SQLite (INSERTs)', () => {
    const lite = { db_conn_id: 'lite', schema: 'main', table: 'sales', columns: ['id integer', 'name text'], args: ['HEADER'] };

    it('append, truncate and switch', async () => {
      expect((await load('d/lite-append', { ...lite, mode: 'append' })).statuses.at(-1)).toBe('complete');
      await load('d/lite-append', { ...lite, mode: 'append', key: 'in/more.csv' });
      expect(await rows('lite', 'sales')).toEqual([
        { id: 1, name: 'apple' },
        { id: 2, name: 'pear, green' },
        { id: 3, name: 'fig' },
      ]);
      const tr = await load('d/lite-truncate', { ...lite, mode: 'truncate', key: 'in/sales.csv.gz' });
      expect(tr.last.events).toContain('Truncated main.sales');
      expect(await rows('lite', 'sales')).toHaveLength(2);
      const s = { ...lite, mode: 'switch', table: 'sw', args: ['HEADER', "DELIMITER ','"] };
      expect((await load('d/lite-switch', s)).last.events).toContain('Switched to main.sw_a');
      expect((await load('d/lite-switch', s)).last.events).toContain('Switched to main.sw_b');
      expect(await rows('lite', 'sw_a')).toHaveLength(0);
      expect(await rows('lite', 'sw_b')).toHaveLength(2);
    });

    it('needs schema main and matching column counts', async () => {
      expect((await load('d/lite-schema', { ...lite, schema: 'other', mode: 'append' })).last.error).toBe(
        'SQLite tables must be in schema "main", not "other"',
      );
      const r = await load('d/lite-cols', { ...lite, table: 'three', columns: ['a', 'b', 'c'], mode: 'drop' });
      expect(r.last.error).toBe(`row 1 of ${bucket}/in/sales.csv has 2 fields but table main.three has 3 columns`);
    });
  });

  it('no secret value appears in any event record, the worker log, or any file left behind', async () => {
    expect(await findSecretLeaks(t, lines)).toEqual([]);
  });
});
