/**
 * oracle (alias oracle-rds): `oracledb` in thin mode (no Oracle client libraries needed). CLI via
 * `lava sql --conn-id` (upstream ran sqlplus with the password on its command line; this does not).
 * Kysely has no Oracle dialect in its core, so getKysely refuses oracle connections.
 */
import { loadOptional } from '../../core/optional.js';
import { makeClient } from '../client.js';
import { oracleSchema } from '../schemas.js';
import { translatePlaceholders } from '../split.js';
import type { Connector, DbClient, ResolvedConnection, RowSink, StreamResult } from '../types.js';
import { connectTimeoutSeconds } from './postgres.js';
import { writeLavaSqlCli } from './lava-sql-cli.js';

/** The subset of oracledb used here (the package ships no type declarations). */
interface OracleResultSet {
  getRows(n: number): Promise<unknown[][]>;
  close(): Promise<void>;
}
interface OracleConnection {
  execute(
    sql: string,
    binds: unknown[],
    options: Record<string, unknown>,
  ): Promise<{ metaData?: { name: string }[]; resultSet?: OracleResultSet; rowsAffected?: number }>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  close(): Promise<void>;
}
interface OracleDb {
  OUT_FORMAT_ARRAY: number;
  getConnection(options: Record<string, unknown>): Promise<OracleConnection>;
}

export interface OracleConnectOptions {
  user: string;
  password: string;
  connectString: string;
  connectTimeout: number;
  edition?: string;
}

/** Connect options (pure: unit-tested without a server). `database` is a deprecated name for `sid`. */
export function oracleConnectOptions(c: ResolvedConnection): OracleConnectOptions {
  const s = c.spec;
  const sid = (s.sid ?? (s.service_name ? undefined : s.database)) as string | undefined;
  const host = String(s.host);
  const port = Number(s.port);
  const connectString = sid
    ? `(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=${host})(PORT=${port}))(CONNECT_DATA=(SID=${sid})))`
    : `${host}:${port}/${String(s.service_name)}`;
  return {
    user: s.user as string,
    password: c.secrets.password ?? '',
    connectString,
    connectTimeout: connectTimeoutSeconds(s),
    ...(s.edition ? { edition: String(s.edition) } : {}),
  };
}

export async function openOracle(c: ResolvedConnection): Promise<DbClient> {
  const mod = await loadOptional<{ default?: OracleDb } & OracleDb>('oracledb', 'the oracle connector');
  const oracledb = mod.default ?? mod;
  const conn = await oracledb.getConnection({ ...oracleConnectOptions(c) });
  let autoCommit = true;
  const exec = async (sql: string, params: readonly unknown[], sink: RowSink): Promise<StreamResult> => {
    const text = params.length ? translatePlaceholders(sql, 'colon').sql : sql;
    const r = await conn.execute(
      text,
      params.map((v) => (v === undefined ? null : v)),
      {
        outFormat: oracledb.OUT_FORMAT_ARRAY,
        resultSet: true,
        autoCommit,
      },
    );
    if (!r.resultSet) return { columns: null, rowCount: r.rowsAffected ?? 0 };
    const columns = (r.metaData ?? []).map((m) => m.name);
    sink.columns(columns);
    let n = 0;
    try {
      for (;;) {
        const rows = await r.resultSet.getRows(1000);
        if (!rows.length) break;
        for (const row of rows) {
          n++;
          sink.row(row);
        }
      }
    } finally {
      await r.resultSet.close();
    }
    return { columns, rowCount: n };
  };
  return makeClient(c, 'oracle', {
    raw: conn,
    exec,
    // Oracle has no BEGIN: a transaction is implicit; stop committing each statement.
    begin: async () => void (autoCommit = false),
    commit: async () => {
      await conn.commit();
      autoCommit = true;
    },
    rollback: async () => {
      await conn.rollback();
      autoCommit = true;
    },
    close: () => conn.close(),
  });
}

export const oracleConnector: Connector = {
  type: 'oracle',
  aliases: ['oracle-rds'],
  dialect: 'oracle',
  schema: oracleSchema,
  required: ['host', 'port', 'user', 'password'],
  secretFields: ['password'],
  check: (spec) =>
    spec.sid === undefined && spec.service_name === undefined && spec.database === undefined
      ? ['sid or service_name is required (database is accepted as a deprecated name for sid)']
      : [],
  open: openOracle,
  writeCli: writeLavaSqlCli,
};
