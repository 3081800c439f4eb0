/**
 * The connection side of the PostgreSQL backend: the backend URL and its options, the pool, and
 * the one place that retries transient connection errors (server restart, dropped connection).
 */
import path from 'node:path';
import pg from 'pg';
import { ConfigError } from '../../core/errors.js';
import { sleep } from '../../core/time.js';

/** What the backend URL says, with Lava's own query parameters taken out of the connection string. */
export interface PostgresUrl {
  /** The URL as given, with `keyfile` made absolute (child processes may run elsewhere). */
  url: string;
  /** What `pg` connects with: the URL without Lava's parameters. */
  connectionString: string;
  /** Every table lives in this schema. */
  schema: string;
  poolSize: number;
  statementTimeoutMs: number;
  migrate: boolean;
  keyFile?: string;
}

const LAVA_PARAMS = ['schema', 'pool', 'statement_timeout', 'migrate', 'keyfile'] as const;
export const DEFAULT_SCHEMA = 'lava';
const SCHEMA_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** The URL with any password replaced by `***`, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/?#@]*:)[^@/?#]*@/i, '$1***@').replace(/([?&]password=)[^&]*/i, '$1***');
}

export function parsePostgresUrl(url: string): PostgresUrl {
  if (!isPostgresUrl(url)) throw new ConfigError(`not a PostgreSQL URL: ${redactUrl(url)} (use postgres://user@host:port/db)`);
  const q = url.indexOf('?');
  const base = q < 0 ? url : url.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const bad = (what: string) => new ConfigError(`bad ${what} in backend URL ${redactUrl(url)}`);

  const schema = params.get('schema') || DEFAULT_SCHEMA;
  if (!SCHEMA_RE.test(schema)) throw bad(`schema "${schema}": use letters, digits and _ (at most 63)`);
  const int = (name: string, dflt: number, min: number): number => {
    const raw = params.get(name);
    if (raw === null || raw === '') return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw bad(`${name}=${raw}: use a whole number of at least ${min}`);
    return n;
  };
  const poolSize = int('pool', 10, 1);
  const statementTimeoutMs = int('statement_timeout', 30_000, 0);
  const migrateRaw = (params.get('migrate') ?? 'true').toLowerCase();
  if (!['true', 'false', '1', '0', 'yes', 'no'].includes(migrateRaw)) throw bad(`migrate=${migrateRaw}: use true or false`);
  const keyFileRaw = params.get('keyfile');
  const keyFile = keyFileRaw ? path.resolve(keyFileRaw) : undefined;

  if (keyFile) params.set('keyfile', keyFile);
  const query = params.toString();
  const pgParams = new URLSearchParams(params);
  for (const p of LAVA_PARAMS) pgParams.delete(p);
  const pgQuery = pgParams.toString();
  return {
    url: keyFile && keyFile !== keyFileRaw ? `${base}?${query}` : url,
    connectionString: pgQuery ? `${base}?${pgQuery}` : base,
    schema,
    poolSize,
    statementTimeoutMs,
    migrate: ['true', '1', 'yes'].includes(migrateRaw),
    ...(keyFile ? { keyFile } : {}),
  };
}

/** Errors after which the same statement may succeed on a fresh connection. */
const TRANSIENT_CODES = new Set([
  '57P01', // admin_shutdown: the server is restarting or the connection was terminated
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: the server is starting up
  '08000', // connection_exception
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '08003', // connection_does_not_exist
  '08004', // sqlserver_rejected_establishment_of_sqlconnection
  '08006', // connection_failure
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
const TRANSIENT_MESSAGES =
  /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Client was closed and is not queryable/i;

export function isTransient(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  return TRANSIENT_MESSAGES.test(err.message);
}

/** How long one call keeps retrying transient errors before giving up (a restart takes a second or two). */
export const RETRY_BUDGET_MS = 20_000;
const FIRST_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1_000;

export type Queryable = Pick<pg.ClientBase, 'query'>;

/** At most this many distinct statement texts are prepared per pool; any beyond go out unnamed. */
const MAX_PREPARED = 500;

/**
 * The pool plus retries: every statement of the backend goes through `query` or `withClient`.
 * `query` sends each statement as a named prepared statement: a connection parses and plans a text
 * once and then only binds values (node-postgres keeps the prepared names per connection, and a
 * fresh connection prepares again on first use). The backend's statements are fixed texts with
 * numbered parameters, so the names stay few.
 */
export class Db {
  readonly pool: pg.Pool;
  private closed = false;
  private readonly names = new Map<string, string>();

  constructor(
    readonly opts: PostgresUrl,
    private readonly retryBudgetMs = RETRY_BUDGET_MS,
  ) {
    this.pool = new pg.Pool({
      connectionString: opts.connectionString,
      max: opts.poolSize,
      statement_timeout: opts.statementTimeoutMs || false,
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      // Shows which installation a connection belongs to in pg_stat_activity (unless the URL sets application_name).
      fallback_application_name: `lava:${opts.schema}`,
    });
    // An idle connection that breaks (server restart, network drop) is dropped from the pool; without
    // this listener the 'error' event would crash the process.
    this.pool.on('error', () => {});
  }

  /** Schema-qualified, quoted table name. */
  t(table: string): string {
    return `${pg.escapeIdentifier(this.opts.schema)}.${pg.escapeIdentifier(table)}`;
  }

  get schemaIdent(): string {
    return pg.escapeIdentifier(this.opts.schema);
  }

  async query<R extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    values: unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    const name = this.nameOf(text);
    return this.retrying(() => this.pool.query<R>(name ? { name, text, values } : { text, values }));
  }

  /** The prepared statement name of `text` (the same text always gets the same name in this pool). */
  private nameOf(text: string): string | undefined {
    let name = this.names.get(text);
    if (name === undefined && this.names.size < MAX_PREPARED) this.names.set(text, (name = `lava_${this.names.size + 1}`));
    return name;
  }

  /** Run `fn` on one pooled connection (e.g. a transaction); retried as a whole on a transient error. */
  async withClient<T>(fn: (client: pg.PoolClient) => Promise<T>, budgetMs = this.retryBudgetMs): Promise<T> {
    return this.retrying(async () => {
      const client = await this.pool.connect();
      // A checked-out connection that dies between statements emits 'error': unheard, it would crash the process.
      const onError = () => {};
      client.on('error', onError);
      let failed: Error | undefined;
      try {
        return await fn(client);
      } catch (err) {
        failed = err instanceof Error ? err : new Error(String(err));
        throw err;
      } finally {
        client.off('error', onError);
        // A connection that failed is destroyed rather than returned to the pool.
        client.release(failed);
      }
    }, budgetMs);
  }

  /** Call `fn`, retrying transient connection errors with a short exponential backoff. */
  async retrying<T>(fn: () => Promise<T>, budgetMs = this.retryBudgetMs): Promise<T> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (this.closed || !isTransient(err) || Date.now() - started > budgetMs) throw err;
        const backoff = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** attempt);
        await sleep(backoff / 2 + Math.random() * (backoff / 2));
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
