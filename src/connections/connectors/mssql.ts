/**
 * mssql: Microsoft SQL Server through `tedious` (upstream used pyodbc + FreeTDS; `driver` and
 * `subtype` are accepted and ignored). CLI via `lava sql --conn-id`. Kysely via MssqlDialect with a
 * small built-in pool (the `tarn` package is not a dependency).
 */
import type * as TediousModule from 'tedious';
import type { ConnectionConfiguration } from 'tedious';
import type { MssqlDialect, MssqlDialectConfig } from 'kysely';
import { loadOptional } from '../../core/optional.js';
import { makeClient } from '../client.js';
import { writeLavaSqlCli } from './lava-sql-cli.js';
import { mssqlSchema } from '../schemas.js';
import { TarnLitePool } from '../tarn-lite.js';
import type { Connector, DbClient, ResolvedConnection, RowSink, StreamResult } from '../types.js';
import { translatePlaceholders } from '../split.js';
import { connectTimeoutSeconds } from './postgres.js';

/** The tedious configuration for a resolved connection (pure: unit-tested without a server). */
export function tediousConfig(c: ResolvedConnection): ConnectionConfiguration {
  const s = c.spec;
  const encrypt = s.encrypt ?? s.ssl;
  return {
    server: s.host as string,
    authentication: { type: 'default', options: { userName: s.user as string, password: c.secrets.password ?? '' } },
    options: {
      ...(s.instance_name ? { instanceName: s.instance_name as string } : { port: s.port as number }),
      database: s.database as string,
      encrypt: encrypt === undefined ? true : encrypt === true,
      trustServerCertificate: s.trust_server_certificate === true,
      appName: c.applicationName.slice(0, 128),
      connectTimeout: connectTimeoutSeconds(s) * 1000,
      rowCollectionOnRequestCompletion: false,
      useColumnNames: false,
    },
  };
}

type Tedious = typeof TediousModule;

/** The tedious data type for a JavaScript parameter value. */
export function tediousType(t: Tedious['TYPES'], v: unknown): Tedious['TYPES'][keyof Tedious['TYPES']] {
  if (typeof v === 'number') return Number.isInteger(v) ? (Math.abs(v) < 2 ** 31 ? t.Int : t.BigInt) : t.Float;
  if (typeof v === 'bigint') return t.BigInt;
  if (typeof v === 'boolean') return t.Bit;
  if (v instanceof Date) return t.DateTime2;
  if (Buffer.isBuffer(v)) return t.VarBinary;
  return t.NVarChar;
}

async function loadTedious(): Promise<Tedious> {
  return loadOptional<Tedious>('tedious', 'the mssql connector');
}

export async function openMssql(c: ResolvedConnection): Promise<DbClient> {
  const tedious = await loadTedious();
  const conn = new tedious.Connection(tediousConfig(c));
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  const cb = (fn: (done: (err: Error | null | undefined) => void) => void) =>
    new Promise<void>((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));
  const exec = (sql: string, params: readonly unknown[], sink: RowSink): Promise<StreamResult> =>
    new Promise((resolve, reject) => {
      let columns: string[] | null = null;
      let rows = 0;
      const text = params.length ? translatePlaceholders(sql, 'named-at').sql : sql;
      const req = new tedious.Request(text, (err, rowCount) => {
        if (err) reject(err);
        else resolve({ columns, rowCount: columns ? rows : (rowCount ?? 0) });
      });
      params.forEach((v, i) => req.addParameter(`p${i + 1}`, tediousType(tedious.TYPES, v), v === undefined ? null : v));
      req.on('columnMetadata', (cols: { colName: string }[] | Record<string, { colName: string }>) => {
        if (columns) return;
        columns = (Array.isArray(cols) ? cols : Object.values(cols)).map((col) => col.colName);
        sink.columns(columns);
      });
      req.on('row', (cols: { value: unknown }[]) => {
        rows++;
        sink.row(cols.map((col) => col.value));
      });
      if (params.length) conn.execSql(req);
      else conn.execSqlBatch(req);
    });
  return makeClient(c, 'mssql', {
    raw: conn,
    exec,
    begin: () => cb((done) => conn.beginTransaction(done)),
    commit: () => cb((done) => conn.commitTransaction(done)),
    rollback: () => cb((done) => conn.rollbackTransaction(done)),
    close: () =>
      new Promise<void>((resolve) => {
        conn.once('end', () => resolve());
        conn.close();
      }),
  });
}

export async function mssqlKysely(c: ResolvedConnection): Promise<MssqlDialect> {
  const tedious = await loadTedious();
  const { MssqlDialect } = await import('kysely');
  return new MssqlDialect({
    // Kysely passes promise-returning create/destroy, which tarn accepts too.
    tarn: { Pool: TarnLitePool as unknown as MssqlDialectConfig['tarn']['Pool'], options: { min: 0, max: 5 } },
    tedious: { ...tedious, connectionFactory: () => new tedious.Connection(tediousConfig(c)) },
  });
}

export const mssqlConnector: Connector = {
  type: 'mssql',
  aliases: ['sqlserver'],
  dialect: 'mssql',
  schema: mssqlSchema,
  required: ['host', 'database', 'user', 'password'],
  secretFields: ['password'],
  check: (spec) => (spec.port === undefined && spec.instance_name === undefined ? ['port is required (or instance_name)'] : []),
  open: openMssql,
  kysely: mssqlKysely,
  writeCli: writeLavaSqlCli,
};
