/** The shapes shared by connectors, the connection API and the SQL job types. */
import type { Dialect as KyselyDialect } from 'kysely';
import type { z } from 'zod';

/** Which driver family a connector type uses (upstream's dialect map, §6.3). */
export type Dialect = 'postgres' | 'redshift' | 'mysql' | 'sqlite3' | 'mssql' | 'oracle' | 'generic';

/** A connection spec looked up, validated and with its secrets fetched: ready to connect. */
export interface ResolvedConnection {
  readonly connId: string;
  readonly realm: string;
  /** The spec's type, lower-cased (may be an alias such as "mariadb"). */
  readonly type: string;
  readonly connector: Connector;
  /** The validated spec after `secret_id` fill-in. Secret fields still hold secret names. */
  readonly spec: Record<string, unknown>;
  /** Secret values by field: `password`, or `attributes.<name>` for generic connections. */
  readonly secrets: Readonly<Record<string, string>>;
  /** Application name for the database session (CONN_APP_NAME). */
  readonly applicationName: string;
  /** Where this came from, so child processes (`lava sql`) can resolve it again. */
  readonly backendUrl: string;
}

export interface QueryResult<R = Record<string, unknown>> {
  /** Rows as objects keyed by column name (a later duplicate column name wins). */
  rows: R[];
  /** Column names in order; empty when the statement returns no result set. */
  columns: string[];
  /** Rows returned, or rows affected for INSERT/UPDATE/DELETE (when the driver says). */
  rowCount: number;
}

/** Receives a result set row by row (the row arrays are not reused). */
export interface RowSink {
  columns(names: string[]): void;
  row(values: unknown[]): void;
}

export interface StreamResult {
  /** null when the statement has no result set (DB-API `cursor.description is None`). */
  columns: string[] | null;
  rowCount: number;
}

/** A uniform client over pg, mysql2, better-sqlite3, tedious and oracledb. */
export interface DbClient {
  readonly connId: string;
  readonly dialect: Dialect;
  /** Run one statement; `?` placeholders are translated for the driver ($1, @p1, :1). */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Run one statement, passing rows to `sink` as they arrive. */
  stream(sql: string, params: readonly unknown[], sink: RowSink): Promise<StreamResult>;
  /** Start a transaction however the driver needs it (BEGIN, START TRANSACTION, autocommit off…). */
  beginTransaction(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  readonly inTransaction: boolean;
  close(): Promise<void>;
  /** The driver's own connection object (pg.Client, mysql2 Connection, better-sqlite3 Database, …). */
  readonly raw: unknown;
}

/** A directory for CLI connector files: 0700, its files 0600 (scripts 0700). */
export interface CliDir {
  readonly path: string;
  /** Write a private file (0600) and return its path. */
  writePrivate(name: string, content: string): Promise<string>;
  /** Write an executable script (0700) and return its path. */
  writeScript(name: string, content: string): Promise<string>;
}

export interface CliOptions {
  /** The environment the generated script may rely on (LAVA_BACKEND etc.). */
  lavaCommand: readonly string[];
}

export interface Connector {
  /** The canonical type name. */
  readonly type: string;
  readonly aliases: readonly string[];
  readonly dialect: Dialect;
  readonly schema: z.ZodType;
  /** Fields that must be present after `secret_id` fill-in. */
  readonly required: readonly string[];
  /** Fields holding secret names to fetch. */
  readonly secretFields: readonly string[];
  /**
   * Whether the value of secret field `field` names a secret (the default) or is the value itself
   * (a slack `webhook_url` may be either). Either way the value ends up in `secrets`, so it is redacted.
   */
  secretRef?(field: string, value: string): boolean;
  /** Check the resolved spec beyond the schema (e.g. oracle needs sid or service_name). */
  check?(spec: Record<string, unknown>): string[];
  open?(c: ResolvedConnection): Promise<DbClient>;
  kysely?(c: ResolvedConnection): Promise<KyselyDialect>;
  /**
   * `lava conn test` for connectors that are not databases: check the connection without side
   * effects and return the line to print after "ok: ". Never puts a secret in it.
   */
  test?(c: ResolvedConnection): Promise<string>;
  /** Write the CLI connector executable into `dir`; returns its path. */
  writeCli(c: ResolvedConnection, dir: CliDir, options: CliOptions): Promise<string>;
}
