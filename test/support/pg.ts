/**
 * PostgreSQL for tests: a throwaway server per test file (test/support/pg-throwaway.sh, PostgreSQL 15
 * from Debian packages), or the server in LAVA_TEST_PG_URL when set. Each test works in a schema of its
 * own (`t_<random>`), dropped afterwards, so test files and runs can share one server.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createPostgresBackend, type PostgresBackendOptions } from '../../src/backends/postgres/index.js';
import type { Backend } from '../../src/backends/ports.js';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pg-throwaway.sh');
const PGBIN = process.env.PGBIN ?? '/usr/lib/postgresql/15/bin';

export interface PgServer {
  /** `postgres://user@host:port/db` without Lava parameters. */
  url: string;
  /** Restart the server (`pg_ctl restart -m fast`); undefined when the server is not ours. */
  restart?: () => Promise<void>;
  /** Why `restart` is undefined. */
  restartSkipReason?: string;
  /** A secret key file for the backends of this test file (removed by `stop`). */
  keyFile: string;
  stop(): Promise<void>;
}

/** Why PostgreSQL tests cannot run on this machine, or undefined when they can. */
export const pgSkipReason: string | undefined = (() => {
  if (process.env.LAVA_TEST_PG_URL) return undefined;
  if (fs.existsSync(path.join(PGBIN, 'initdb'))) return undefined;
  // As root the script installs postgresql-15 itself (and fails loudly if it cannot).
  if (process.getuid?.() === 0) return undefined;
  return (
    `PostgreSQL 15 server binaries are not in ${PGBIN} and we are not root to install them: ` +
    'apt-get install postgresql-15, or set LAVA_TEST_PG_URL=postgres://user@host:port/db'
  );
})();

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [SCRIPT, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`pg-throwaway.sh ${args[0]} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** A server for one test file: start it in beforeAll, stop it in afterAll. */
export async function startThrowawayPostgres(): Promise<PgServer> {
  const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-pg-key-'));
  const keyFile = path.join(keyDir, 'lava.key');
  const removeKey = () => fs.rmSync(keyDir, { recursive: true, force: true });
  const external = process.env.LAVA_TEST_PG_URL;
  if (external) {
    return {
      url: external,
      restartSkipReason: 'LAVA_TEST_PG_URL names a server these tests do not own, so they do not restart it',
      keyFile,
      stop: async () => removeKey(),
    };
  }
  let out: string;
  try {
    out = await run(['start']);
  } catch (err) {
    removeKey();
    throw err;
  }
  const vars = Object.fromEntries([...out.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]));
  const dir = vars.PG_THROWAWAY_DIR;
  const url = vars.DATABASE_URL;
  if (!dir || !url) throw new Error(`pg-throwaway.sh start printed no DATABASE_URL:\n${out}`);
  // If the test process is killed (a timeout, Ctrl-C, a crashed worker), a watcher stops the server.
  const watcher = spawn(
    'bash',
    [
      '-c',
      'while kill -0 "$1" 2>/dev/null; do sleep 1; done; rm -rf "$4"; bash "$2" stop "$3"',
      'pg-watch',
      String(process.pid),
      SCRIPT,
      dir,
      keyDir,
    ],
    { detached: true, stdio: 'ignore' },
  );
  watcher.unref();
  // If it exits without afterAll, do not leave a server behind either.
  const onExit = () => {
    removeKey();
    try {
      execFileSync('bash', [SCRIPT, 'stop', dir], { stdio: 'ignore', timeout: 10_000 });
    } catch {
      // best effort
    }
  };
  process.once('exit', onExit);
  return {
    url,
    restart: async () => {
      await run(['restart', dir]);
    },
    keyFile,
    stop: async () => {
      process.off('exit', onExit);
      removeKey();
      await run(['stop', dir]);
      try {
        if (watcher.pid) process.kill(watcher.pid);
      } catch {
        // already gone
      }
    },
  };
}

/** A fresh schema name. */
export function schemaName(label = 't'): string {
  return `${label}_${randomBytes(5).toString('hex')}`;
}

/** The backend URL for `schema` on `server`, with a test key file and any extra parameters. */
export function backendUrl(server: PgServer, schema: string, params: Record<string, string> = {}): string {
  const q = new URLSearchParams({ schema, keyfile: server.keyFile, ...params });
  return `${server.url}${server.url.includes('?') ? '&' : '?'}${q.toString()}`;
}

/** Run SQL on the server outside any backend (checks, cleanup). */
export async function adminQuery<R extends pg.QueryResultRow = Record<string, unknown>>(
  server: PgServer,
  sql: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: server.url });
  // Used while the server restarts: a dying connection must fail the query, not crash the test process.
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

export async function dropSchema(server: PgServer, schema: string): Promise<void> {
  await adminQuery(server, `DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
}

/** A backend in a schema of its own; cleanup closes it and drops the schema. */
export async function makeBackend(
  server: PgServer,
  params: Record<string, string> = {},
  options: PostgresBackendOptions = {},
): Promise<{ backend: Backend; schema: string; url: string; cleanup: () => Promise<void> }> {
  const schema = schemaName();
  const url = backendUrl(server, schema, params);
  const backend = await createPostgresBackend(url, options);
  return {
    backend,
    schema,
    url,
    cleanup: async () => {
      await backend.close();
      await dropSchema(server, schema);
    },
  };
}

/** A TCP proxy in front of the server whose connections can all be cut at once: a network drop. */
export interface TcpProxy {
  /** `url` with host and port replaced by the proxy's. */
  via(url: string): string;
  /** Destroy every open connection (both sides); new connections are still accepted. */
  cut(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(server: PgServer): Promise<TcpProxy> {
  const target = new URL(server.url);
  const sockets = new Set<net.Socket>();
  const proxy = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as net.AddressInfo).port;
  const cut = () => {
    const n = sockets.size;
    for (const s of sockets) s.destroy();
    return n;
  };
  return {
    via: (url) => {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut,
    close: async () => {
      cut();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
