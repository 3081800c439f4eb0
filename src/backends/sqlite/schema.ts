/** Versioned schema of the embedded backend; each step runs once, in order, in a transaction. */
import type Database from 'better-sqlite3';

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE realms (realm TEXT PRIMARY KEY, spec TEXT NOT NULL);
  CREATE TABLE items (
    realm TEXT NOT NULL, tbl TEXT NOT NULL, id TEXT NOT NULL, spec TEXT NOT NULL,
    PRIMARY KEY (realm, tbl, id)
  );
  CREATE TABLE events (
    realm TEXT NOT NULL, job_id TEXT NOT NULL, run_id TEXT NOT NULL,
    status TEXT NOT NULL, ts_dispatch TEXT, ts_event TEXT NOT NULL, tu_event TEXT NOT NULL,
    ttl INTEGER, worker TEXT, worker_id TEXT, instance_id TEXT, hostname TEXT,
    log TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (realm, job_id, run_id)
  );
  CREATE INDEX events_by_time ON events (realm, tu_event);
  CREATE INDEX events_by_run ON events (realm, run_id);
  CREATE TABLE run_claims (
    realm TEXT NOT NULL, run_id TEXT NOT NULL, owner TEXT NOT NULL,
    lease_until INTEGER NOT NULL, attempts INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (realm, run_id)
  );
  CREATE TABLE state (realm TEXT NOT NULL, state_id TEXT NOT NULL, item TEXT NOT NULL, PRIMARY KEY (realm, state_id));
  CREATE TABLE secrets (realm TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (realm, name));
  CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, body TEXT NOT NULL,
    sent_at INTEGER NOT NULL, visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0, receipt TEXT
  );
  CREATE INDEX messages_ready ON messages (queue, visible_at);
  `,
  `
  CREATE TABLE schedule_ticks (
    realm TEXT NOT NULL, dispatcher TEXT NOT NULL, job_id TEXT NOT NULL, fire_time INTEGER NOT NULL,
    run_id TEXT NOT NULL, owner TEXT NOT NULL, claimed_at INTEGER NOT NULL, dispatched INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (realm, dispatcher, job_id, fire_time)
  );
  CREATE INDEX schedule_ticks_pending ON schedule_ticks (realm, dispatcher, dispatched, claimed_at);
  CREATE TABLE schedule_marks (realm TEXT NOT NULL, dispatcher TEXT NOT NULL, mark INTEGER NOT NULL, PRIMARY KEY (realm, dispatcher));
  `,
  `
  CREATE TABLE directory (
    realm TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL,
    updated INTEGER NOT NULL, expires INTEGER,
    PRIMARY KEY (realm, kind, id)
  );
  `,
  `
  CREATE TABLE batches (
    realm TEXT NOT NULL, batch_id TEXT NOT NULL, job_id TEXT NOT NULL, options TEXT NOT NULL,
    submitted TEXT NOT NULL, state TEXT NOT NULL, task_count INTEGER,
    PRIMARY KEY (realm, batch_id)
  );
  CREATE TABLE batch_tasks (
    realm TEXT NOT NULL, batch_id TEXT NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL,
    task TEXT NOT NULL, info TEXT NOT NULL DEFAULT '{}', updated TEXT NOT NULL,
    PRIMARY KEY (realm, batch_id, key)
  );
  CREATE INDEX batch_tasks_by_state ON batch_tasks (realm, batch_id, state, key);
  `,
  // 5: `lava events JOB` (with or without a status or a time) reads the job's records newest first from an
  // index, not every record in the window. One index only: every index holding the time is rewritten by
  // each event a run records.
  `
  CREATE INDEX events_by_job ON events (realm, job_id, tu_event);
  `,
];

export function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  const apply = db.transaction(() => {
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
    const current = row ? Number(row.value) : 0;
    for (let v = current; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v] as string);
    if (current < MIGRATIONS.length) {
      db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)").run(String(MIGRATIONS.length));
    }
  });
  apply.immediate();
}
