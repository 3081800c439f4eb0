/**
 * Versioned schema of the PostgreSQL backend. Every table lives in the URL's schema (default
 * `lava`); `<schema>.meta` has one row per applied migration. Migrations run in one transaction
 * under a transaction-level advisory lock, so starters racing on an empty schema apply each step
 * exactly once. Steps only ever add: a worker one release behind keeps working while others migrate.
 *
 * Times that drive leases (message visibility, run claims, schedule claims) are `timestamptz` set
 * from the database clock; the event store keeps upstream Lava's ISO strings and epoch-second ttl.
 * Keys that are sorted or prefix-matched use the "C" collation, as SQLite compares bytes.
 */
import pg from 'pg';
import type { Queryable } from './db.js';

/** Each step is SQL with `{s}` standing for the quoted schema name. */
const MIGRATIONS: readonly { name: string; sql: string }[] = [
  {
    name: 'initial tables',
    sql: `
  CREATE TABLE {s}.realms (realm text COLLATE "C" PRIMARY KEY, spec json NOT NULL);
  CREATE TABLE {s}.items (
    realm text COLLATE "C" NOT NULL, tbl text NOT NULL, id text COLLATE "C" NOT NULL, spec json NOT NULL,
    PRIMARY KEY (realm, tbl, id)
  );
  CREATE TABLE {s}.events (
    realm text COLLATE "C" NOT NULL, job_id text COLLATE "C" NOT NULL, run_id text COLLATE "C" NOT NULL,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    status text NOT NULL, ts_dispatch text, ts_event text NOT NULL, tu_event text COLLATE "C" NOT NULL,
    ttl bigint, worker text, worker_id text, instance_id text, hostname text,
    log jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (realm, job_id, run_id)
  );
  CREATE INDEX events_by_time ON {s}.events (realm, tu_event DESC, seq DESC);
  CREATE INDEX events_by_run ON {s}.events (realm, run_id);
  CREATE INDEX events_by_ttl ON {s}.events (realm, ttl) WHERE ttl IS NOT NULL;
  CREATE TABLE {s}.run_claims (
    realm text NOT NULL, run_id text NOT NULL, owner text NOT NULL,
    lease_until timestamptz NOT NULL, attempts integer NOT NULL, done boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (realm, run_id)
  );
  CREATE TABLE {s}.state (
    realm text COLLATE "C" NOT NULL, state_id text COLLATE "C" NOT NULL, item json NOT NULL,
    PRIMARY KEY (realm, state_id)
  );
  CREATE TABLE {s}.secrets (
    realm text COLLATE "C" NOT NULL, name text COLLATE "C" NOT NULL, value text NOT NULL,
    PRIMARY KEY (realm, name)
  );
  CREATE TABLE {s}.messages (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, queue text NOT NULL, body text NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT now(), visible_at timestamptz NOT NULL,
    receive_count integer NOT NULL DEFAULT 0, receipt text
  );
  CREATE INDEX messages_ready ON {s}.messages (queue, visible_at, id);
  CREATE TABLE {s}.schedule_ticks (
    realm text NOT NULL, dispatcher text NOT NULL, job_id text NOT NULL, fire_time timestamptz NOT NULL,
    run_id text NOT NULL, owner text NOT NULL, claimed_at timestamptz NOT NULL DEFAULT now(),
    dispatched boolean NOT NULL DEFAULT false,
    PRIMARY KEY (realm, dispatcher, job_id, fire_time)
  );
  CREATE INDEX schedule_ticks_pending ON {s}.schedule_ticks (realm, dispatcher, claimed_at) WHERE NOT dispatched;
  CREATE TABLE {s}.schedule_marks (
    realm text NOT NULL, dispatcher text NOT NULL, mark timestamptz NOT NULL, PRIMARY KEY (realm, dispatcher)
  );
  `,
  },
  {
    // The key of the latest append: a statement retried after its commit went unacknowledged appends once.
    name: 'event append keys',
    sql: `ALTER TABLE {s}.events ADD COLUMN last_append uuid;`,
  },
  {
    // Live processes, API tokens and stop requests of each realm (the Directory port).
    name: 'directory',
    sql: `
  CREATE TABLE {s}.directory (
    realm text COLLATE "C" NOT NULL, kind text COLLATE "C" NOT NULL, id text COLLATE "C" NOT NULL,
    data json NOT NULL, updated timestamptz NOT NULL DEFAULT now(), expires timestamptz,
    PRIMARY KEY (realm, kind, id)
  );
  `,
  },
  {
    // Orchestrated batches and their tasks (the BatchStore port).
    name: 'batches',
    sql: `
  CREATE TABLE {s}.batches (
    realm text COLLATE "C" NOT NULL, batch_id text COLLATE "C" NOT NULL, job_id text NOT NULL,
    options json NOT NULL, submitted text COLLATE "C" NOT NULL, state text NOT NULL, task_count integer,
    PRIMARY KEY (realm, batch_id)
  );
  CREATE TABLE {s}.batch_tasks (
    realm text COLLATE "C" NOT NULL, batch_id text COLLATE "C" NOT NULL, key text COLLATE "C" NOT NULL,
    state text NOT NULL, task json NOT NULL, info jsonb NOT NULL DEFAULT '{}',
    updated timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (realm, batch_id, key)
  );
  CREATE INDEX batch_tasks_by_state ON {s}.batch_tasks (realm, batch_id, state, key);
  `,
  },
];

export const LATEST_VERSION = MIGRATIONS.length;

/** Advisory lock namespace for migrations ("Lava" in ASCII); the second key is the schema's hash. */
const LOCK_SPACE = 0x4c617661;

export interface SchemaStatus {
  schema: string;
  /** 0 when the schema or its meta table does not exist yet. */
  current: number;
  latest: number;
  applied: { version: number; name: string; appliedAt: Date }[];
}

export async function schemaStatus(db: Queryable, schema: string): Promise<SchemaStatus> {
  const exists = await db.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${pg.escapeIdentifier(schema)}.meta`]);
  if (!exists.rows[0]?.t) return { schema, current: 0, latest: LATEST_VERSION, applied: [] };
  const rows = await db.query<{ version: number; name: string; applied_at: Date }>(
    `SELECT version, name, applied_at FROM ${pg.escapeIdentifier(schema)}.meta ORDER BY version`,
  );
  const applied = rows.rows.map((r) => ({ version: r.version, name: r.name, appliedAt: r.applied_at }));
  return { schema, current: applied.at(-1)?.version ?? 0, latest: LATEST_VERSION, applied };
}

/**
 * Bring the schema up to the latest version; returns the versions applied (none when it was current).
 * Runs in a transaction on `client`, which must not be in one already.
 */
export async function migrate(client: Queryable, schema: string): Promise<number[]> {
  const s = pg.escapeIdentifier(schema);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_SPACE, schema]);
    // Creating the schema needs CREATE on the database; a schema made by an administrator is fine without it.
    const has = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (!has.rowCount) await client.query(`CREATE SCHEMA ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.meta (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const cur = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${s}.meta`);
    const current = cur.rows[0]?.v ?? 0;
    const applied: number[] = [];
    for (let v = current; v < MIGRATIONS.length; v++) {
      const step = MIGRATIONS[v] as { name: string; sql: string };
      await client.query(step.sql.replaceAll('{s}', s));
      await client.query(`INSERT INTO ${s}.meta (version, name) VALUES ($1, $2)`, [v + 1, step.name]);
      applied.push(v + 1);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
