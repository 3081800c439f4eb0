/**
 * mysql (aliases mariadb, mysql-rds, mariadb-rds, mysql-aurora): the `mysql2` driver; CLI via the
 * mysql/mariadb client with `--defaults-extra-file=<0600 option file>`.
 */
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type mysql from 'mysql2';
import { loadOptional } from '../../core/optional.js';
import { makeClient } from '../client.js';
import { programVersion, sq, shScript } from '../cli-dir.js';
import { mysqlSchema } from '../schemas.js';
import type { CliDir, Connector, DbClient, ResolvedConnection, RowSink, StreamResult } from '../types.js';
import { connectTimeoutSeconds } from './postgres.js';

/** The mysql2 connection options for a resolved connection. */
export function mysqlOptions(c: ResolvedConnection): mysql.ConnectionOptions {
  const s = c.spec;
  return {
    host: s.host as string,
    port: s.port as number,
    user: s.user as string,
    password: c.secrets.password,
    ...(s.database ? { database: s.database as string } : {}),
    charset: 'utf8mb4',
    // Values as the server prints them: no time-zone shifts or float rounding.
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: false,
    multipleStatements: false,
    connectTimeout: connectTimeoutSeconds(s) * 1000,
    connectAttributes: { program_name: c.applicationName },
    ...(s.ssl === true
      ? { ssl: s.ca_cert ? { ca: fs.readFileSync(String(s.ca_cert), 'utf8') } : { rejectUnauthorized: false } }
      : {}),
  };
}

/** A mysql2 connection with LOAD DATA LOCAL INFILE streams supplied by db_from_s3. */
export interface MysqlRaw {
  connection: mysql.Connection;
  /** Run a statement whose LOCAL INFILE reads come from `factory`. */
  queryWithInfile(sql: string, factory: (path: string) => Readable): Promise<number>;
}

/** mysql2, loaded when first needed (it is not small). */
async function driver(): Promise<typeof mysql> {
  return (await loadOptional<{ default: typeof mysql }>('mysql2', 'the mysql connector')).default;
}

export async function openMysql(c: ResolvedConnection): Promise<DbClient> {
  const conn = (await driver()).createConnection(mysqlOptions(c));
  conn.on('error', () => {
    // surfaces as the next query's error
  });
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  const plain = (sql: string) =>
    new Promise<void>((resolve, reject) => conn.query(sql, (err) => (err ? reject(err) : resolve())));
  const raw: MysqlRaw = {
    connection: conn,
    queryWithInfile: (sql, factory) =>
      new Promise((resolve, reject) =>
        conn.query({ sql, infileStreamFactory: factory }, (err, res) =>
          err ? reject(err) : resolve((res as mysql.ResultSetHeader).affectedRows ?? 0),
        ),
      ),
  };
  return makeClient(c, 'mysql', {
    raw,
    exec: (sql, params, sink) => mysqlExec(conn, sql, params, sink),
    begin: () => plain('START TRANSACTION'),
    commit: () => plain('COMMIT'),
    rollback: () => plain('ROLLBACK'),
    close: () => new Promise<void>((resolve) => conn.end(() => resolve())),
  });
}

function mysqlExec(conn: mysql.Connection, sql: string, params: readonly unknown[], sink: RowSink): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    let columns: string[] | null = null;
    let rowCount = 0;
    let failed = false;
    const q = conn.query({
      sql,
      values: params.length ? params.map((v) => (v === undefined ? null : v)) : undefined,
      rowsAsArray: true,
    });
    q.on('fields', (fields: mysql.FieldPacket[] | undefined) => {
      // mysql2 emits fields=undefined for statements without a result set.
      if (!fields || columns) return; // only the first result set
      columns = fields.map((f) => f.name);
      sink.columns(columns);
    });
    q.on('result', (row: unknown) => {
      if (Array.isArray(row)) {
        rowCount++;
        sink.row(row as unknown[]);
      } else if (row && typeof row === 'object' && 'affectedRows' in row) {
        rowCount = Number((row as mysql.ResultSetHeader).affectedRows);
      }
    });
    q.on('error', (err: Error) => {
      failed = true;
      reject(err);
    });
    q.on('end', () => {
      if (!failed) resolve({ columns, rowCount });
    });
  });
}

/** Option-file value: double-quoted with the escapes the MySQL/MariaDB option parser understands. */
function optionValue(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r')}"`;
}

/** The client program: `mysql` if installed, else `mariadb`. */
export function mysqlProgram(): string {
  return programVersion('mysql') ? 'mysql' : programVersion('mariadb') ? 'mariadb' : 'mysql';
}

export async function writeMysqlCli(c: ResolvedConnection, dir: CliDir): Promise<string> {
  const s = c.spec;
  const lines = [
    '[client]',
    `host=${optionValue(String(s.host))}`,
    `port=${String(s.port)}`,
    `user=${optionValue(String(s.user))}`,
    `password=${optionValue(c.secrets.password ?? '')}`,
  ];
  if (s.database) lines.push('[mysql]', `database=${optionValue(String(s.database))}`);
  const cnf = await dir.writePrivate('my.cnf', lines.join('\n') + '\n');
  const program = mysqlProgram();
  const mariadbClient = /mariadb/i.test(programVersion(program));
  const ssl: string[] = [];
  if (s.ssl === true) ssl.push(mariadbClient ? '--ssl' : '--ssl-mode=REQUIRED');
  if (s.ssl === true && s.ca_cert) ssl.push(`--ssl-ca=${sq(String(s.ca_cert))}`);
  return dir.writeScript(
    `${c.connId.replace(/[^\w.-]/g, '_')}.mysql`,
    shScript([
      `exec ${program} --defaults-extra-file=${sq(cnf)} --batch --connect-timeout=${connectTimeoutSeconds(s)} ` +
        `--default-character-set=utf8mb4 ${ssl.join(' ')} "$@"`.replace(/ {2,}/g, ' '),
    ]),
  );
}

export const mysqlConnector: Connector = {
  type: 'mysql',
  aliases: ['mariadb', 'mysql-rds', 'mariadb-rds', 'mysql-aurora'],
  dialect: 'mysql',
  schema: mysqlSchema,
  required: ['host', 'port', 'user', 'password'],
  secretFields: ['password'],
  open: openMysql,
  kysely: async (c) => {
    const { MysqlDialect } = await import('kysely');
    return new MysqlDialect({ pool: (await driver()).createPool({ ...mysqlOptions(c), connectionLimit: 5 }) });
  },
  writeCli: (c, dir) => writeMysqlCli(c, dir),
};
