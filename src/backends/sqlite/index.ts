import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError } from '../../core/errors.js';
import { fileModes } from '../../core/paths.js';
import { keyFromEnv, readOrCreateKeyFile } from '../crypto.js';
import { queueName, type Backend, type Queue } from '../ports.js';
import { WriteBatcher } from './batch.js';
import { SqliteBatchStore } from './batch-store.js';
import { SqliteConfigStore } from './config-store.js';
import { SqliteDirectory } from './directory.js';
import { SqliteEventStore } from './event-store.js';
import { ANY_WRITE, SqliteQueue } from './queue.js';
import { SqliteRunClaims } from './run-claims.js';
import { SqliteScheduleClaims } from './schedule-claims.js';
import { migrate } from './schema.js';
import { SqliteSecretStore } from './secret-store.js';
import { SqliteStateStore } from './state-store.js';

/** The embedded backend: one SQLite file shared safely by several processes (WAL, busy timeout). */
export function createSqliteBackend(file: string): Backend {
  const abs = path.resolve(file);
  if (!fs.existsSync(path.dirname(abs))) {
    throw new ConfigError(
      `no directory for the realm database ${abs}: run \`lava init\` first, or pass --backend sqlite:PATH to an existing one`,
    );
  }
  createPrivate(abs);
  const db = new Database(abs);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('synchronous = NORMAL');
  // 32 MiB of page cache (SQLite's default is 2 MiB): with a long history, the indexes keyed by random
  // run ids no longer fit the default, and every run's writes would read their pages from the file.
  db.pragma('cache_size = -32768');
  migrate(db);
  const wakeups = new EventEmitter().setMaxListeners(0);
  const watcher = watchWrites(abs, () => wakeups.emit(ANY_WRITE));
  const batch = new WriteBatcher(db);
  const queues = new Map<string, Queue>();
  let key: Buffer | undefined;
  const secretKey = () => (key ??= loadKey(`${abs}.key`));
  const events = new SqliteEventStore(db, batch);
  return {
    url: `sqlite:${abs}`,
    config: new SqliteConfigStore(db),
    events,
    runs: new SqliteRunClaims(db, batch, events),
    schedules: new SqliteScheduleClaims(db),
    state: new SqliteStateStore(db),
    secrets: new SqliteSecretStore(db, secretKey),
    directory: new SqliteDirectory(db),
    batches: new SqliteBatchStore(db),
    queue(realm: string, worker: string): Queue {
      const name = queueName(realm, worker);
      let q = queues.get(name);
      if (!q) queues.set(name, (q = new SqliteQueue(db, name, wakeups, batch)));
      return q;
    },
    async close() {
      watcher?.close();
      db.close();
    },
  };
}

/**
 * A new database file gets the realm file mode (owner only unless LAVA_FILE_MODE says otherwise);
 * SQLite gives its -wal and -shm files the mode of the database. An existing file keeps its mode.
 */
function createPrivate(file: string): void {
  const mode = fileModes().file;
  try {
    fs.closeSync(fs.openSync(file, 'wx', mode));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  fs.chmodSync(file, mode);
}

function loadKey(file: string): Buffer {
  return keyFromEnv() ?? readOrCreateKeyFile(file);
}

/**
 * Wake idle receivers when another process writes the database (its WAL file changes), so a
 * dispatch from another process starts within milliseconds instead of at the next poll.
 * Best effort: without inotify the poll still finds the message.
 */
function watchWrites(dbFile: string, onWrite: () => void): fs.FSWatcher | undefined {
  const wal = `${path.basename(dbFile)}-wal`;
  try {
    const w = fs.watch(path.dirname(dbFile), { persistent: false }, (_event, name) => {
      if (name === wal) onWrite();
    });
    w.on('error', () => w.close());
    return w;
  } catch {
    return undefined;
  }
}
