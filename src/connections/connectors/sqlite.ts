/**
 * sqlite3: `host` is the database file (a path or file:// URI; s3:// is not supported yet).
 * better-sqlite3 in-process; CLI via `sqlite3 -bail -batch "$@" <file>`. No credentials.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { makeClient } from '../client.js';
import { ConnectionError } from '../errors.js';
import { sq, shScript } from '../cli-dir.js';
import { sqliteSchema } from '../schemas.js';
import type { CliDir, Connector, DbClient, ResolvedConnection, RowSink, StreamResult } from '../types.js';

/** The database file of a sqlite3 connection. */
export function sqliteFile(c: ResolvedConnection): string {
  const host = String(c.spec.host);
  if (host.startsWith('file://')) return fileURLToPath(host);
  if (/^[a-z][\w+.-]*:\/\//i.test(host)) {
    throw new ConnectionError(
      `sqlite3 connection ${c.connId}: host ${JSON.stringify(host)} is not a local file: use a path or file:// URI (s3:// is not supported yet)`,
    );
  }
  return path.resolve(host);
}

function bindValue(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.toISOString();
  return v;
}

export async function openSqlite(c: ResolvedConnection): Promise<DbClient> {
  let db: Database.Database;
  try {
    db = new Database(sqliteFile(c));
  } catch (err) {
    throw new ConnectionError(`cannot open sqlite3 connection ${c.connId}: ${err instanceof Error ? err.message : String(err)}`);
  }
  db.pragma('busy_timeout = 10000');
  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string): Database.Statement => {
    let st = statements.get(sql);
    if (!st) {
      st = db.prepare(sql);
      if (statements.size > 200) statements.clear();
      statements.set(sql, st);
    }
    return st;
  };
  const exec = async (sql: string, params: readonly unknown[], sink: RowSink): Promise<StreamResult> => {
    let st: Database.Statement;
    try {
      st = prepare(sql);
    } catch (err) {
      // Several statements in one string (raw mode): run them all, no result set.
      if (!params.length && err instanceof RangeError && /more than one statement/.test(err.message)) {
        db.exec(sql);
        return { columns: null, rowCount: 0 };
      }
      throw err;
    }
    const args = params.map(bindValue);
    if (st.reader) {
      const columns = st.columns().map((col) => col.name);
      sink.columns(columns);
      let n = 0;
      for (const row of st.raw(true).iterate(...args) as Iterable<unknown[]>) {
        n++;
        sink.row(row);
      }
      st.raw(false);
      return { columns, rowCount: n };
    }
    return { columns: null, rowCount: st.run(...args).changes };
  };
  return makeClient(c, 'sqlite3', {
    raw: db,
    exec,
    begin: async () => void db.exec('BEGIN'),
    commit: async () => void db.exec('COMMIT'),
    rollback: async () => {
      if (db.inTransaction) db.exec('ROLLBACK');
    },
    close: async () => void db.close(),
  });
}

export async function writeSqliteCli(c: ResolvedConnection, dir: CliDir): Promise<string> {
  return dir.writeScript(
    `${c.connId.replace(/[^\w.-]/g, '_')}.sqlite3`,
    shScript([`exec sqlite3 -bail -batch "$@" ${sq(sqliteFile(c))}`]),
  );
}

export const sqliteConnector: Connector = {
  type: 'sqlite3',
  aliases: ['sqlite'],
  dialect: 'sqlite3',
  schema: sqliteSchema,
  required: ['host'],
  secretFields: [],
  open: openSqlite,
  kysely: async (c) => {
    const { SqliteDialect } = await import('kysely');
    return new SqliteDialect({ database: new Database(sqliteFile(c)) });
  },
  writeCli: (c, dir) => writeSqliteCli(c, dir),
};
