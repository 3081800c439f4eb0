/**
 * redshift_unload. No Redshift can run here, so the job type is tested at its protocol boundary:
 *
 * - the statement text, against statements written out by hand from upstream Lava's code (the
 *   f-string of rs_unload_relation, redshift_authorization, rs_unload_option);
 * - whole runs on a worker, with a `redshift` connection to a throwaway PostgreSQL (the same wire
 *   protocol). A recording DbClient keeps every statement sent; it answers UNLOAD itself, as Redshift
 *   would with no rows (PostgreSQL has no UNLOAD), and passes everything else to PostgreSQL
 *   (the column list from an `svv_columns` view made here like Redshift's, the partition metadata);
 * - one run with the plain handler, whose UNLOAD reaches PostgreSQL and fails with its syntax error,
 *   which shows the statement went over the wire.
 */
import fs from 'node:fs';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRecord } from '../../src/backends/ports.js';
import { openResolved } from '../../src/connections/api.js';
import type { DbClient } from '../../src/connections/types.js';
import { builtinHandlers } from '../../src/handlers/registry.js';
import {
  authorizationClause,
  badKeywords,
  loggable,
  makeRedshiftUnloadHandler,
  partitionByColumns,
  partitionSource,
  selector,
  unloadTemplate,
  withAuthorization,
} from '../../src/handlers/redshift-unload/index.js';
import { checkJobType } from '../../src/handlers/registry.js';
import { makeRealm, type TestRealm } from '../helpers.js';
import { captureLogger } from '../connections/helpers.js';
import { adminQuery, pgSkipReason, startThrowawayPostgres, type PgServer } from '../support/pg.js';

const PAD = ' '.repeat(16);

describe('the UNLOAD text (upstream rs_unload_relation)', () => {
  const base = { selector: '*', schema: 'sales', relation: 'orders', bucket: 'bkt', prefix: 'out/orders/', options: [] };
  const table: Array<[string, Parameters<typeof unloadTemplate>[0], string]> = [
    [
      'no WHERE leaves a space before the closing quote',
      { ...base, options: ['FORMAT PARQUET', 'ALLOWOVERWRITE'] },
      `UNLOAD ('SELECT * FROM "sales"."orders" ')\n${PAD}TO 's3://bkt/out/orders/'\n${PAD}{authorization}\n${PAD}FORMAT PARQUET ALLOWOVERWRITE;`,
    ],
    [
      "quotes in WHERE become \\'",
      { ...base, where: "placed >= '2024-01-01' AND note <> 'x'", options: ['CSV', 'HEADER', "DELIMITER ','"] },
      `UNLOAD ('SELECT * FROM "sales"."orders" WHERE placed >= \\'2024-01-01\\' AND note <> \\'x\\'')\n${PAD}TO 's3://bkt/out/orders/'\n${PAD}{authorization}\n${PAD}CSV HEADER DELIMITER ',';`,
    ],
    [
      'no options leave an empty line before the semicolon',
      base,
      `UNLOAD ('SELECT * FROM "sales"."orders" ')\n${PAD}TO 's3://bkt/out/orders/'\n${PAD}{authorization}\n${PAD};`,
    ],
    [
      'a date format names every column',
      {
        ...base,
        selector: selector(
          [
            ['id', 'integer'],
            ['placed', 'date'],
          ],
          'YYYY-MM-DD',
        ),
        options: ['MANIFEST', 'PARALLEL OFF', 'GZIP', 'MAXFILESIZE 100 MB'],
      },
      `UNLOAD ('SELECT "id", to_char("placed", \\'YYYY-MM-DD\\') AS "placed" FROM "sales"."orders" ')\n${PAD}TO 's3://bkt/out/orders/'\n${PAD}{authorization}\n${PAD}MANIFEST PARALLEL OFF GZIP MAXFILESIZE 100 MB;`,
    ],
  ];
  for (const [name, u, expected] of table) {
    it(name, () => {
      const t = unloadTemplate(u);
      expect(t.startsWith(`\n${PAD}UNLOAD`)).toBe(true);
      expect(t.endsWith(';\n' + ' '.repeat(12))).toBe(true);
      expect(loggable(t)).toBe(expected);
    });
  }

  it('the SELECT list is * without a date format or without DATE columns', () => {
    expect(selector([['placed', 'date']], undefined)).toBe('*');
    expect(selector([['id', 'integer']], 'YYYY-MM-DD')).toBe('*');
    expect(selector(undefined, 'YYYY')).toBe('*');
  });

  it('authorization: the role wins, else keys (and token); no quotes; one of them needed', () => {
    expect(authorizationClause({ iamRole: 'arn:aws:iam::1:role/r', accessKeyId: 'K', secretAccessKey: 'S' })).toBe(
      "IAM_ROLE 'arn:aws:iam::1:role/r'",
    );
    expect(authorizationClause({ accessKeyId: 'AKIA1', secretAccessKey: 'sec' })).toBe(
      "ACCESS_KEY_ID 'AKIA1' SECRET_ACCESS_KEY 'sec'",
    );
    expect(authorizationClause({ accessKeyId: 'AKIA1', secretAccessKey: 'sec', sessionToken: 'tok' })).toBe(
      "ACCESS_KEY_ID 'AKIA1' SECRET_ACCESS_KEY 'sec' SESSION_TOKEN 'tok'",
    );
    expect(() => authorizationClause({ accessKeyId: 'AKIA1', secretAccessKey: "s'ec" })).toThrow(
      'Bad Redshift authorization component: must not contain quotes',
    );
    expect(() => authorizationClause({ accessKeyId: 'AKIA1' })).toThrow('Either IAM role or access keys required');
    const t = unloadTemplate({ ...base, options: ['CSV'] });
    expect(withAuthorization(t, "IAM_ROLE 'r'")).toBe(t.replace('{authorization}', "IAM_ROLE 'r'"));
  });

  it('options: only UNLOAD keywords, any case; PARTITION BY @schema.relation is indirect', () => {
    expect(badKeywords(['csv', 'Parquet', "kms_key_id 'k'", 'CREDENTIALS x', 'iam_role y', 'credentials z'])).toEqual([
      'CREDENTIALS',
      'IAM_ROLE',
    ]);
    expect(partitionSource('PARTITION BY @meta.parts')).toEqual({ schema: 'meta', relation: 'parts' });
    expect(partitionSource('partition by @ meta.parts  ')).toEqual({ schema: 'meta', relation: 'parts' });
    expect(partitionSource('PARTITION BY (region) INCLUDE')).toBeUndefined();
    expect(partitionSource('CSV')).toBeUndefined();
    expect(() => partitionSource('PARTITION')).toThrow('PARTITION option requires argument(s)');
    expect(partitionByColumns(' region, day ,x')).toBe('PARTITION BY ("region","day","x")');
  });

  it('lava check knows the type and its parameters', () => {
    const spec = { job_id: 'u', type: 'redshift_unload', worker: 'w', payload: null };
    expect(
      checkJobType({ ...spec, parameters: { conn_id: 'rs', bucket: 'b', schema: 's', relation: 'r', args: [], prefix: 'p' } })
        .errors,
    ).toEqual([]);
    expect(checkJobType({ ...spec, parameters: { conn_id: 'rs', table: 'x' } }).errors[0]).toMatch(
      /redshift_unload jobs do not take table/,
    );
  });
});

const SECRET = 'Unload-Secret-77aa0f';
const PG_PASSWORD = 'Rs-Pw-5c1e9b';

describe.skipIf(pgSkipReason !== undefined)(
  `redshift_unload runs over a redshift connection to PostgreSQL${pgSkipReason ? ` (skipped: ${pgSkipReason})` : ''}`,
  () => {
    let server: PgServer;
    let t: TestRealm;
    const { logger, lines } = captureLogger();
    const sent: string[] = [];

    /** Records each statement; answers UNLOAD as Redshift would (no rows), passes the rest on. */
    function recording(db: DbClient): DbClient {
      return new Proxy(db, {
        get(target, prop) {
          if (prop === 'query') {
            return async (sql: string, params?: readonly unknown[]) => {
              sent.push(sql);
              if (/^\s*UNLOAD \(/.test(sql)) return { rows: [], columns: [], rowCount: 0 };
              return target.query(sql, params);
            };
          }
          const v: unknown = Reflect.get(target, prop);
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    }
    const handlers = new Map([
      ...builtinHandlers(),
      ['redshift_unload', makeRedshiftUnloadHandler(async (c) => recording(await openResolved(c)))],
    ]);

    async function run(
      jobId: string,
      parameters: Record<string, unknown>,
      plain = false,
    ): Promise<{ statuses: string[]; last: Record<string, unknown> }> {
      await t.putJob({ job_id: jobId, type: 'redshift_unload', parameters });
      const runId = await t.dispatch(jobId);
      await t.drain({ logger, ...(plain ? {} : { handlers }) });
      const rec = (await t.backend.events.get('test', jobId, runId)) as EventRecord;
      return { statuses: rec.log.map((e) => e.status), last: rec.log.at(-1)?.info as Record<string, unknown> };
    }

    const common = { conn_id: 'rs', bucket: 'bkt', schema: 'sales', insecure: true };

    beforeAll(async () => {
      [server, t] = await Promise.all([startThrowawayPostgres(), makeRealm()]);
      await adminQuery(server, 'DROP DATABASE IF EXISTS lava_rsu');
      await adminQuery(server, 'DROP ROLE IF EXISTS lava_rsu');
      await adminQuery(server, `CREATE ROLE lava_rsu LOGIN PASSWORD '${PG_PASSWORD}'`);
      await adminQuery(server, 'CREATE DATABASE lava_rsu OWNER lava_rsu');
      const url = new URL(server.url);
      url.pathname = '/lava_rsu';
      // Redshift's svv_columns, as far as upstream reads it; the partition metadata relation.
      for (const sql of [
        'CREATE SCHEMA sales',
        'CREATE TABLE sales.orders (id integer, placed date, note text)',
        'CREATE TABLE sales.items (id integer, name text)',
        `CREATE VIEW public.svv_columns AS SELECT table_catalog::text, table_schema::text, table_name::text,
           column_name::text, data_type::text, ordinal_position FROM information_schema.columns`,
        'GRANT SELECT ON public.svv_columns TO lava_rsu',
        'CREATE SCHEMA meta',
        'CREATE TABLE meta.parts (schema_name text, rel_name text, partitions text)',
        "INSERT INTO meta.parts VALUES ('sales', 'orders', 'placed, id')",
        'ALTER SCHEMA sales OWNER TO lava_rsu',
        'ALTER SCHEMA meta OWNER TO lava_rsu',
        'ALTER TABLE sales.orders OWNER TO lava_rsu',
        'ALTER TABLE sales.items OWNER TO lava_rsu',
        'ALTER TABLE meta.parts OWNER TO lava_rsu',
      ]) {
        await adminQuery({ ...server, url: url.toString() }, sql);
      }
      await t.backend.secrets.put('test', '/lava/test/rs/password', PG_PASSWORD);
      await t.backend.secrets.put('test', '/lava/test/aws/keys', `AKIAUNLOADTEST,${SECRET}`);
      const put = (spec: Record<string, unknown>) => t.backend.config.put('test', 'connections', { enabled: true, ...spec });
      const db = {
        host: url.hostname,
        port: Number(url.port),
        database: 'lava_rsu',
        user: 'lava_rsu',
        password: '/lava/test/rs/password',
      };
      await put({ conn_id: 'rs', type: 'redshift', ...db });
      await put({ conn_id: 'pg', type: 'postgres', ...db });
      await put({ conn_id: 'aws', type: 'aws', access_keys: '/lava/test/aws/keys' });
    }, 180_000);

    afterAll(async () => {
      await t?.close();
      await server?.stop();
    });

    it('unloads each relation with the role, and reports the statements without credentials', async () => {
      sent.length = 0;
      const r = await run('u/role', {
        ...common,
        relation: ['orders', 'items'],
        prefix: 'unload/{{ schema }}/{{ relation }}/{{ vars.day }}/',
        vars: { day: '2024-05-01' },
        s3_iam_role: 'arn:aws:iam::123456789012:role/unload',
        where: "note <> '{{ relation }}'",
        args: ['FORMAT PARQUET', 'PARTITION BY (id)', 'ALLOWOVERWRITE'],
      });
      expect(r.statuses.at(-1)).toBe('complete');
      const expected = (rel: string) =>
        `\n${PAD}UNLOAD ('SELECT * FROM "sales"."${rel}" WHERE note <> \\'${rel}\\'')\n${PAD}TO 's3://bkt/unload/sales/${rel}/2024-05-01/'\n${PAD}IAM_ROLE 'arn:aws:iam::123456789012:role/unload'\n${PAD}FORMAT PARQUET PARTITION BY (id) ALLOWOVERWRITE;\n${' '.repeat(12)}`;
      expect(sent).toEqual([expected('orders'), expected('items')]);
      const unloads = r.last.unloads as Array<Record<string, unknown>>;
      expect(unloads.map((u) => [u.relation, u.prefix, u.status])).toEqual([
        ['orders', 'unload/sales/orders/2024-05-01/', 'complete'],
        ['items', 'unload/sales/items/2024-05-01/', 'complete'],
      ]);
      expect(unloads[0]?.sql).toBe(loggable(expected('orders').replace(/IAM_ROLE '[^']*'/, '{authorization}')));
      expect(Object.keys(unloads[0] ?? {}).sort()).toEqual(
        ['bucket', 'duration', 'prefix', 'relation', 'schema', 'sql', 'status', 'ts_finish', 'ts_start'].sort(),
      );
      expect(lines.join('\n')).toContain('Possible insecure redshift_unload');
    });

    it('with s3_conn_id the keys go to the server only; dateformat and PARTITION BY @meta come from the database', async () => {
      sent.length = 0;
      lines.length = 0;
      const r = await run('u/keys', {
        ...common,
        relation: 'orders',
        key: 'k/{{ relation }}',
        s3_conn_id: 'aws',
        dateformat: 'YYYY-MM-DD',
        args: ['csv', 'PARTITION BY @meta.parts'],
      });
      expect(r.statuses.at(-1)).toBe('complete');
      const unload = sent.find((s) => s.includes('UNLOAD'));
      expect(unload).toBe(
        `\n${PAD}UNLOAD ('SELECT "id", to_char("placed", \\'YYYY-MM-DD\\') AS "placed", "note" FROM "sales"."orders" ')\n${PAD}TO 's3://bkt/k/orders'\n${PAD}ACCESS_KEY_ID 'AKIAUNLOADTEST' SECRET_ACCESS_KEY '${SECRET}'\n${PAD}csv PARTITION BY ("placed","id");\n${' '.repeat(12)}`,
      );
      expect(lines.join('\n')).toContain('Deprecation warning: key parameter should be replaced by prefix');
      const events = JSON.stringify(await t.backend.events.query('test', { limit: 1000 }));
      expect(events).not.toContain(SECRET);
      expect(events).not.toContain(PG_PASSWORD);
      expect(lines.join('\n')).not.toContain(SECRET);
    });

    it('the plain handler sends UNLOAD to the server: PostgreSQL answers with its syntax error', async () => {
      const r = await run('u/wire', { ...common, relation: 'items', prefix: 'p/', s3_conn_id: 'aws', args: ['CSV'] }, true);
      expect(r.statuses.at(-1)).toBe('failed');
      const text = JSON.stringify(r.last);
      expect(text).toContain('Unload failed: syntax error at or near \\"UNLOAD\\"');
      expect(text).not.toContain(SECRET);
    });

    it('stop_on_fail false carries on and fails at the end; start skips relations', async () => {
      sent.length = 0;
      const r = await run('u/partial', {
        ...common,
        relation: ['skipped', 'missing', 'items'],
        start: 'missing',
        stop_on_fail: false,
        prefix: 'p/{{ relation }}',
        s3_iam_role: 'arn:r',
        dateformat: 'YYYY',
        args: ['CSV'],
      });
      expect(r.statuses.at(-1)).toBe('failed');
      expect(JSON.stringify(r.last)).toContain('1 unloads failed');
      expect(JSON.stringify(r.last)).toContain('Cannot get column info for sales.missing');
      expect(sent.filter((s) => s.includes('UNLOAD')).map((s) => /"sales"\."(\w+)"/.exec(s)?.[1])).toEqual(['items']);
    });

    it('refuses what upstream refuses, before any UNLOAD', async () => {
      sent.length = 0;
      const cases: Array<[Record<string, unknown>, string]> = [
        [
          { relation: 'items', prefix: 'p', s3_iam_role: 'r', args: ['CREDENTIALS x', 'csv'] },
          'Invalid UNLOAD arguments: CREDENTIALS',
        ],
        [{ relation: 'items', prefix: 'p', args: ['CSV'] }, 'At least one of s3_iam_role and s3_conn_id is required'],
        [{ relation: 'items', s3_iam_role: 'r', args: ['CSV'] }, 'Bad job parameters: prefix is required'],
        [
          { relation: 'items', prefix: "it's", s3_iam_role: 'r', args: ['CSV'] },
          'Unload failed: Bad prefix parameter: Single quote not allowed in S3 prefix',
        ],
        [
          { relation: 'items', prefix: 'p', s3_iam_role: "arn:aws:iam::1:role/it's", args: ['CSV'] },
          'Unload failed: Bad Redshift authorization component: must not contain quotes',
        ],
        [{ relation: 'nothere', start: 'zzz', prefix: 'p', s3_iam_role: 'r', args: ['CSV'] }, 'No unloads were attempted'],
        [
          { relation: 'items', prefix: 'p', s3_iam_role: 'r', args: ['CSV'], conn_id: 'pg' },
          'redshift_unload needs a redshift or redshift-serverless one',
        ],
      ];
      for (const [i, [params, message]] of cases.entries()) {
        const r = await run(`u/bad${i}`, { ...common, ...params });
        expect(r.statuses.at(-1)).toBe('failed');
        expect(JSON.stringify(r.last)).toContain(message);
      }
      expect(sent.filter((s) => s.includes('UNLOAD'))).toEqual([]);
    });

    it('without insecure the bucket checks run first (here S3 cannot be reached, so the job stops)', async () => {
      sent.length = 0;
      const saved = { ...process.env };
      Object.assign(process.env, {
        AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'y',
        AWS_REGION: 'us-east-1',
        AWS_MAX_ATTEMPTS: '1',
      });
      try {
        const r = await run('u/secure', {
          ...common,
          insecure: false,
          relation: 'items',
          prefix: 'p',
          s3_iam_role: 'r',
          args: ['CSV'],
        });
        expect(r.statuses.at(-1)).toBe('failed');
        expect(JSON.stringify(r.last)).toContain('Bucket bkt is insecure: ');
        // Parameter errors come first, as upstream: before credentials, bucket checks and connecting.
        const early = await run('u/secure-args', {
          ...common,
          insecure: false,
          relation: 'items',
          prefix: 'p',
          args: ['IAM_ROLE x'],
        });
        expect(JSON.stringify(early.last)).toContain('Invalid UNLOAD arguments: IAM_ROLE');
      } finally {
        for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
        Object.assign(process.env, saved);
      }
      expect(sent).toEqual([]);
    });

    it('the examples of docs/job-types/redshift_unload.md (examples/docs/redshift_unload.yaml) send the statements the page shows', async () => {
      const specs = YAML.parse(fs.readFileSync('examples/docs/redshift_unload.yaml', 'utf8')) as Array<Record<string, unknown>>;
      const page = fs.readFileSync('docs/job-types/redshift_unload.md', 'utf8');
      for (const spec of specs) {
        sent.length = 0;
        const params = { ...(spec.parameters as Record<string, unknown>), conn_id: 'rs', insecure: true };
        const r = await run(String(spec.job_id), params);
        expect(r.statuses.at(-1), String(spec.job_id)).toBe('complete');
        // The page shows the first statement of each example.
        const [first] = r.last.unloads as Array<{ sql: string }>;
        expect(page).toContain(first?.sql);
      }
    });
  },
);
