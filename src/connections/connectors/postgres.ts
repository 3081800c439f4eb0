/**
 * postgres (aliases psql, postgresql, postgres-rds, postgres-aurora): the `pg` driver; CLI via psql
 * with a 0600 .pgpass (PGPASSFILE), `--no-psqlrc --set ON_ERROR_STOP=on`.
 */
import pg from 'pg';
import type { PostgresDialect } from 'kysely';
import { parseDuration } from '../../core/units.js';
import { makeClient } from '../client.js';
import { sq, shScript } from '../cli-dir.js';
import { postgresSchema } from '../schemas.js';
import { translatePlaceholders } from '../split.js';
import type { CliDir, Connector, DbClient, ResolvedConnection, RowSink, StreamResult } from '../types.js';

/** Dates and times stay as the server's text (as psql prints them), not JS Dates in the worker's zone. */
const TEXT_TYPES = new Set([1082 /* date */, 1083 /* time */, 1114 /* timestamp */, 1184 /* timestamptz */, 1266 /* timetz */]);
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    TEXT_TYPES.has(oid) && format !== 'binary'
      ? (v: string) => v
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export function connectTimeoutSeconds(spec: Record<string, unknown>): number {
  return spec.timeout === undefined ? 10 : parseDuration(spec.timeout, 'timeout');
}

/** The node-postgres client configuration for a resolved connection. */
export function pgClientConfig(c: ResolvedConnection): pg.ClientConfig {
  const s = c.spec;
  return {
    host: s.host as string,
    port: s.port as number,
    database: s.database as string,
    user: s.user as string,
    password: c.secrets.password,
    // ssl: true → encrypted, certificate not verified (psql's sslmode=require).
    ssl: s.ssl === true ? { rejectUnauthorized: false } : false,
    application_name: c.applicationName.slice(0, 63),
    connectionTimeoutMillis: connectTimeoutSeconds(s) * 1000,
    types,
  };
}

export async function openPg(c: ResolvedConnection, dialect: 'postgres' | 'redshift'): Promise<DbClient> {
  const client = new pg.Client(pgClientConfig(c));
  client.on('error', () => {
    // A dropped connection surfaces as the next query's error.
  });
  await client.connect();
  return makeClient(c, dialect, {
    raw: client,
    exec: (sql, params, sink) => pgExec(client, sql, params, sink),
    begin: async () => void (await client.query('BEGIN')),
    commit: async () => void (await client.query('COMMIT')),
    rollback: async () => void (await client.query('ROLLBACK')),
    close: () => client.end(),
  });
}

function pgExec(client: pg.Client, sql: string, params: readonly unknown[], sink: RowSink): Promise<StreamResult> {
  const text = params.length ? translatePlaceholders(sql, 'numeric').sql : sql;
  return new Promise((resolve, reject) => {
    const config = { text, values: params.length ? params.map(toPgValue) : undefined, rowMode: 'array' } as pg.QueryConfig;
    const q = new pg.Query(config);
    let announced: pg.QueryResult | undefined;
    let count = 0;
    q.on('row', (row: unknown[], r?: pg.ResultBuilder) => {
      const result = r as pg.QueryResult;
      if (!announced) {
        announced = result;
        sink.columns(result.fields.map((f) => f.name));
      }
      if (result !== announced) return; // a later result set of a multi-statement string
      count++;
      sink.row(row);
    });
    q.on('error', reject);
    q.on('end', (res: pg.QueryResult | pg.QueryResult[]) => {
      const results = Array.isArray(res) ? res : [res];
      const withRows = announced ?? results.find((r) => r.fields?.length);
      if (withRows) {
        if (!announced) sink.columns(withRows.fields.map((f) => f.name));
        resolve({ columns: withRows.fields.map((f) => f.name), rowCount: count });
      } else {
        resolve({ columns: null, rowCount: results.at(-1)?.rowCount ?? 0 });
      }
    });
    void client.query(q);
  });
}

function toPgValue(v: unknown): unknown {
  return v === undefined ? null : v;
}

/** The psql connector script (§6.3). */
export async function writePsqlCli(c: ResolvedConnection, dir: CliDir): Promise<string> {
  const s = c.spec;
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
  const pgpass = await dir.writePrivate(
    'pgpass',
    `${esc(String(s.host))}:${String(s.port)}:*:${esc(String(s.user))}:${esc(c.secrets.password ?? '')}\n`,
  );
  return dir.writeScript(
    `${c.connId.replace(/[^\w.-]/g, '_')}.psql`,
    shScript([
      `PGPASSFILE=${sq(pgpass)}; export PGPASSFILE`,
      `PGSSLMODE=${s.ssl === true ? 'require' : 'prefer'}; export PGSSLMODE`,
      `PGCONNECT_TIMEOUT=${connectTimeoutSeconds(s)}; export PGCONNECT_TIMEOUT`,
      `[ -n "$PGAPPNAME" ] || { PGAPPNAME=${sq(c.applicationName)}; export PGAPPNAME; }`,
      `exec psql -h ${sq(String(s.host))} -p ${String(s.port)} -d ${sq(String(s.database))} -U ${sq(String(s.user))} ` +
        `--no-psqlrc --quiet --set ON_ERROR_STOP=on --pset footer=off "$@"`,
    ]),
  );
}

export async function pgKysely(c: ResolvedConnection): Promise<PostgresDialect> {
  const { PostgresDialect } = await import('kysely');
  return new PostgresDialect({ pool: new pg.Pool({ ...pgClientConfig(c), max: 5 }) });
}

export const postgresConnector: Connector = {
  type: 'postgres',
  aliases: ['psql', 'postgresql', 'postgres-rds', 'postgres-aurora'],
  dialect: 'postgres',
  schema: postgresSchema,
  required: ['host', 'port', 'database', 'user', 'password'],
  secretFields: ['password'],
  open: (c) => openPg(c, 'postgres'),
  kysely: pgKysely,
  writeCli: (c, dir) => writePsqlCli(c, dir),
};
