import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, LavaError } from '../../core/errors.js';
import { keyFromEnv, readOrCreateKeyFile } from '../crypto.js';
import { queueName, type Backend, type Queue } from '../ports.js';
import { PostgresBatchStore } from './batch-store.js';
import { PostgresConfigStore } from './config-store.js';
import { Db, parsePostgresUrl, redactUrl, type PostgresUrl } from './db.js';
import { PostgresDirectory } from './directory.js';
import { PostgresEventStore } from './event-store.js';
import { QueueNotifier } from './notifier.js';
import { PostgresQueue } from './queue.js';
import { PostgresRunClaims } from './run-claims.js';
import { PostgresScheduleClaims } from './schedule-claims.js';
import { LATEST_VERSION, migrate, schemaStatus, type SchemaStatus } from './schema.js';
import { PostgresSecretStore } from './secret-store.js';
import { PostgresStateStore } from './state-store.js';

export { isPostgresUrl, parsePostgresUrl, redactUrl } from './db.js';
export { LATEST_VERSION, type SchemaStatus } from './schema.js';

export interface PostgresBackendOptions {
  /** Apply pending migrations when opening (default: the URL's `migrate`, which defaults to true). */
  migrate?: boolean;
  /** Key file for secrets when LAVA_SECRET_KEY is not set (default: the URL's `keyfile`). */
  keyFile?: string;
}

/** Opening gives up on an unreachable server sooner than a running backend does. */
const OPEN_RETRY_MS = 5_000;

/**
 * The fleet backend: every table in one schema of a PostgreSQL database, shared by any number of
 * workers and dispatchers on any number of hosts.
 * URL: `postgres://user:password@host:port/db?schema=lava&pool=10&statement_timeout=30000&migrate=true&keyfile=PATH`.
 */
export async function createPostgresBackend(url: string, options: PostgresBackendOptions = {}): Promise<Backend> {
  const opts = parsePostgresUrl(url);
  // Read when a secret is first used: commands that read no secret (events, dispatch) need no key.
  let key: Buffer | undefined;
  const secretKey = () => (key ??= loadKey(options.keyFile ?? opts.keyFile));
  const db = new Db(opts);
  try {
    await prepareSchema(db, options.migrate ?? opts.migrate);
  } catch (err) {
    await db.close().catch(() => {});
    throw openError(opts, err);
  }
  const notifier = new QueueNotifier(opts.connectionString, opts.schema);
  const closer = new AbortController();
  const queues = new Map<string, Queue>();
  let closing: Promise<void> | undefined;
  return {
    url: opts.url,
    config: new PostgresConfigStore(db, notifier),
    events: new PostgresEventStore(db),
    runs: new PostgresRunClaims(db),
    schedules: new PostgresScheduleClaims(db),
    state: new PostgresStateStore(db),
    secrets: new PostgresSecretStore(db, secretKey),
    directory: new PostgresDirectory(db),
    batches: new PostgresBatchStore(db),
    queue(realm: string, worker: string): Queue {
      const name = queueName(realm, worker);
      let q = queues.get(name);
      if (!q) queues.set(name, (q = new PostgresQueue(db, name, notifier, closer.signal)));
      return q;
    },
    close() {
      // Wake waiting receives (they return []), then drop the LISTEN connection and the pool.
      return (closing ??= (async () => {
        closer.abort();
        await notifier.close();
        await db.close();
      })());
    },
  };
}

/** Current and latest schema versions (no secret key needed). */
export async function postgresSchemaStatus(url: string): Promise<SchemaStatus> {
  const opts = parsePostgresUrl(url);
  const db = new Db({ ...opts, poolSize: 1 });
  try {
    return await db.retrying(() => schemaStatus(db.pool, opts.schema), OPEN_RETRY_MS);
  } catch (err) {
    throw openError(opts, err);
  } finally {
    await db.close();
  }
}

/** Apply pending migrations (no secret key needed); returns the status before and the versions applied. */
export async function migratePostgres(url: string): Promise<{ before: SchemaStatus; applied: number[] }> {
  const opts = parsePostgresUrl(url);
  const db = new Db({ ...opts, poolSize: 1 });
  try {
    const before = await db.retrying(() => schemaStatus(db.pool, opts.schema), OPEN_RETRY_MS);
    const applied = await runMigrations(db);
    return { before, applied };
  } catch (err) {
    throw openError(opts, err);
  } finally {
    await db.close();
  }
}

async function prepareSchema(db: Db, autoMigrate: boolean): Promise<void> {
  const { schema } = db.opts;
  const status = await db.retrying(() => schemaStatus(db.pool, schema), OPEN_RETRY_MS);
  if (status.current >= LATEST_VERSION) return;
  if (!autoMigrate) {
    throw new ConfigError(
      `the PostgreSQL schema "${schema}" at ${redactUrl(db.opts.url)} is at version ${status.current} but this lava needs ` +
        `version ${LATEST_VERSION}, and automatic migration is off (migrate=false): run \`lava db migrate\` with this backend URL`,
    );
  }
  await runMigrations(db);
}

/** Migrate on a connection of its own: the migration is one transaction under an advisory lock. */
function runMigrations(db: Db): Promise<number[]> {
  return db.withClient((client) => migrate(client, db.opts.schema), OPEN_RETRY_MS);
}

function openError(opts: PostgresUrl, err: unknown): unknown {
  if (err instanceof LavaError) return err;
  const msg = err instanceof Error ? err.message || (err as { code?: string }).code || String(err) : String(err);
  return new ConfigError(
    `cannot open the PostgreSQL backend ${redactUrl(opts.url)}: ${msg} ` +
      "(check the URL, that the server is running and reachable, and the user's rights on the database)",
  );
}

/** LAVA_SECRET_KEY, else the key file; a fleet shares one key, so there is no per-host default. */
function loadKey(keyFile: string | undefined): Buffer {
  const fromEnv = keyFromEnv();
  if (fromEnv) return fromEnv;
  if (!keyFile) {
    throw new ConfigError(
      'the PostgreSQL backend needs a secret key shared by every host: set LAVA_SECRET_KEY to 32 random bytes, ' +
        'base64-encoded (openssl rand -base64 32), or add ?keyfile=/path/to/lava.key to the backend URL ' +
        '(created with mode 0600 if missing; copy the same file to every host)',
    );
  }
  if (!fs.existsSync(keyFile) && !fs.existsSync(path.dirname(keyFile))) {
    throw new ConfigError(`no directory for the key file ${keyFile}: create it, or point ?keyfile= elsewhere`);
  }
  const key = readOrCreateKeyFile(keyFile);
  if (key.length !== 32)
    throw new ConfigError(`the key file ${keyFile} must hold 32 bytes, base64-encoded (openssl rand -base64 32)`);
  return key;
}
