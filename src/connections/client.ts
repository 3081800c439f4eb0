/** The DbClient wrapper every driver shares: redacted errors, transaction state, `query` built on `stream`. */
import { redact } from './errors.js';
import type { DbClient, Dialect, QueryResult, ResolvedConnection, RowSink, StreamResult } from './types.js';

/** A statement the database refused. The message is the driver's, with secret values removed. */
export class SqlError extends Error {
  /** SQLSTATE, MySQL error code name, SQLite code… when the driver gives one. */
  readonly sqlCode: string | undefined;
  constructor(message: string, sqlCode?: string) {
    super(message);
    this.name = 'SqlError';
    this.sqlCode = sqlCode;
  }
}

/** What a driver module provides; everything else is common. */
export interface DriverOps {
  exec(sql: string, params: readonly unknown[], sink: RowSink): Promise<StreamResult>;
  begin(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  close(): Promise<void>;
  raw: unknown;
}

export function secretValues(c: ResolvedConnection): string[] {
  return Object.values(c.secrets).filter((v) => v.length > 0);
}

/** A driver error as an SqlError without secrets. */
export function toSqlError(err: unknown, secrets: readonly string[]): SqlError {
  if (err instanceof SqlError) return err;
  const e = err as { message?: unknown; code?: unknown; errno?: unknown; sqlMessage?: unknown };
  const message = typeof e?.message === 'string' && e.message ? e.message : String(err);
  const code = typeof e?.code === 'string' ? e.code : typeof e?.code === 'number' ? String(e.code) : undefined;
  return new SqlError(redact(message, secrets), code);
}

export function makeClient(c: ResolvedConnection, dialect: Dialect, ops: DriverOps): DbClient {
  const secrets = secretValues(c);
  let inTransaction = false;
  let closed = false;
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (closed) throw new SqlError(`connection ${c.connId} is closed`);
    try {
      return await fn();
    } catch (err) {
      throw toSqlError(err, secrets);
    }
  };
  const client: DbClient = {
    connId: c.connId,
    dialect,
    get inTransaction() {
      return inTransaction;
    },
    raw: ops.raw,
    stream: (sql, params, sink) => guard(() => ops.exec(sql, params, sink)),
    async query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      let columns: string[] = [];
      const rows: R[] = [];
      const r = await guard(() =>
        ops.exec(sql, params, {
          columns(names) {
            columns = names;
          },
          row(values) {
            const o: Record<string, unknown> = {};
            columns.forEach((name, i) => (o[name] = values[i]));
            rows.push(o as R);
          },
        }),
      );
      return { rows, columns: r.columns ?? [], rowCount: r.rowCount };
    },
    async beginTransaction() {
      if (inTransaction) throw new SqlError('a transaction is already open: commit or roll it back first');
      await guard(() => ops.begin());
      inTransaction = true;
    },
    async commit() {
      await guard(() => ops.commit());
      inTransaction = false;
    },
    async rollback() {
      try {
        await guard(() => ops.rollback());
      } finally {
        inTransaction = false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await ops.close();
      } catch {
        // closing a broken connection is not an error worth reporting
      }
    },
  };
  return client;
}
