/**
 * Shared setup for tests against real databases: a throwaway PostgreSQL and MariaDB (one each per
 * test file), users with real passwords kept in the realm's secret store, a captured worker log,
 * and a scan of everything a run leaves behind for secret values.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import type { EventRecord } from '../../src/backends/ports.js';
import { setLavaCommand } from '../../src/connections/cli-dir.js';
import { createLogger, type Logger } from '../../src/core/logger.js';
import { buildProgram } from '../../src/cli/index.js';
import { build, distIsStale } from '../e2e/cli-helpers.js';
import type { TestRealm } from '../helpers.js';
import { startThrowawayMariadb, type MariadbServer } from '../support/mariadb.js';
import { adminQuery, startThrowawayPostgres, type PgServer } from '../support/pg.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Distinctive secret values: none of them may appear in events, logs or outputs. */
export const SECRETS = {
  pg: 'Pg-Secret-1f3c9a',
  my: `My"Sec'#ret\\7b2e`,
  gen: 'Gen-Token-5d8e2b',
  wrong: 'Wrong-Secret-9a7c',
};

export interface Databases {
  pg: PgServer;
  my: MariadbServer;
  /** PostgreSQL checks passwords for lava_pw (pg_hba edited); false on a server we do not own. */
  pgPasswordsChecked: boolean;
  pgPort: number;
  stop(): Promise<void>;
}

export async function startDatabases(): Promise<Databases> {
  const [pg, my] = await Promise.all([startThrowawayPostgres(), startThrowawayMariadb()]);
  // PostgreSQL: a role with a password, a database it owns, and (when we can) password checks for it.
  await adminQuery(pg, 'DROP DATABASE IF EXISTS lavatest');
  await adminQuery(pg, 'DROP ROLE IF EXISTS lava_pw');
  await adminQuery(pg, `CREATE ROLE lava_pw LOGIN PASSWORD '${SECRETS.pg}'`);
  await adminQuery(pg, 'CREATE DATABASE lavatest OWNER lava_pw');
  let pgPasswordsChecked = false;
  try {
    const [row] = await adminQuery<{ hba_file: string }>(pg, 'SHOW hba_file');
    const file = row?.hba_file as string;
    fs.writeFileSync(file, `host lavatest lava_pw 127.0.0.1/32 scram-sha-256\n${fs.readFileSync(file, 'utf8')}`);
    await adminQuery(pg, 'SELECT pg_reload_conf()');
    pgPasswordsChecked = true;
  } catch {
    // Not our server (LAVA_TEST_PG_URL) or not writable: passwords are then not checked.
  }
  // MariaDB: a user whose password has quotes, # and a backslash (option-file escaping).
  const admin = await mysql.createConnection({ host: my.host, port: my.port, user: my.user, password: my.password });
  await admin.query('DROP DATABASE IF EXISTS lavatest');
  await admin.query('CREATE DATABASE lavatest');
  await admin.query("DROP USER IF EXISTS 'lava_my'@'%'");
  await admin.query("CREATE USER 'lava_my'@'%' IDENTIFIED BY ?", [SECRETS.my]);
  await admin.query("GRANT ALL PRIVILEGES ON lavatest.* TO 'lava_my'@'%'");
  await admin.query('SET GLOBAL local_infile = 1');
  await admin.end();
  return {
    pg,
    my,
    pgPasswordsChecked,
    pgPort: Number(new URL(pg.url).port),
    stop: async () => {
      await Promise.allSettled([pg.stop(), my.stop()]);
    },
  };
}

/** Store the secrets and the connections every database test uses. */
export async function addConnections(t: TestRealm, db: Databases): Promise<void> {
  const s = t.backend.secrets;
  await s.put('test', '/lava/test/pg/password', SECRETS.pg);
  await s.put('test', '/lava/test/my/password', SECRETS.my);
  await s.put('test', '/lava/test/gen/token', SECRETS.gen);
  await s.put('test', '/lava/test/wrong', SECRETS.wrong);
  const put = (spec: Record<string, unknown>) => t.backend.config.put('test', 'connections', { enabled: true, ...spec });
  const pg = {
    type: 'postgres',
    host: '127.0.0.1',
    port: db.pgPort,
    database: 'lavatest',
    user: 'lava_pw',
    password: '/lava/test/pg/password',
  };
  const my = {
    type: 'mariadb',
    host: db.my.host,
    port: db.my.port,
    database: 'lavatest',
    user: 'lava_my',
    password: '/lava/test/my/password',
  };
  await put({ conn_id: 'pg', ...pg });
  await put({ conn_id: 'pg-bad', ...pg, password: '/lava/test/wrong' });
  await put({ conn_id: 'pg-off', ...pg, enabled: false });
  await put({ conn_id: 'my', ...my });
  await put({ conn_id: 'my-bad', ...my, password: '/lava/test/wrong' });
  await put({ conn_id: 'lite', type: 'sqlite3', host: path.join(t.dir, 'lite.db') });
  await put({
    conn_id: 'gen',
    type: 'generic',
    attributes: { url: 'https://api.example.com', password: { type: 'ssm', parameter: '/lava/test/gen/token' } },
  });
}

/** A pino logger whose JSON lines are kept in `lines`. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    json: true,
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    }),
  });
  return { logger, lines };
}

export interface Ran {
  runId: string;
  rec: EventRecord;
  statuses: string[];
  /** The info of the last event (the result). */
  last: Record<string, unknown>;
}

export async function runJob(t: TestRealm, logger: Logger, spec: Record<string, unknown>): Promise<Ran> {
  await t.putJob(spec);
  const runId = await t.dispatch(String(spec.job_id));
  await t.drain({ logger, worker: String(spec.worker ?? 'w') });
  const rec = (await t.backend.events.get('test', String(spec.job_id), runId)) as EventRecord;
  return { runId, rec, statuses: rec.log.map((e) => e.status), last: rec.log.at(-1)?.info as Record<string, unknown> };
}

export const readUri = (uri: unknown): string => fs.readFileSync(fileURLToPath(String(uri)), 'utf8');

function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.isFile() ? [p] : [];
  });
}

/** Every place a secret could leak to: event records, worker log, files under temp and scratch. */
export async function findSecretLeaks(t: TestRealm, logLines: readonly string[]): Promise<string[]> {
  const leaks: string[] = [];
  const values = Object.values(SECRETS);
  const check = (where: string, text: string) => {
    for (const v of values) if (text.includes(v)) leaks.push(`${where} contains ${JSON.stringify(v)}`);
  };
  const events = await t.backend.events.query('test', { limit: 10_000 });
  check('event records', JSON.stringify(events));
  check('worker log', logLines.join('\n'));
  for (const file of [...walk(fileURLToPath(t.realm.s3_temp)), ...walk(t.tmpRoot)]) {
    check(file, fs.readFileSync(file, 'latin1') + fs.readFileSync(file, 'utf8'));
  }
  return leaks;
}

/** Files left under the worker scratch root (connector directories must be gone). */
export function scratchFiles(t: TestRealm): string[] {
  return walk(t.tmpRoot).filter((f) => !f.endsWith('.heartbeat'));
}

/**
 * sqlv runs `node bin/lava.js sql`. Until `lava sql` is registered in src/cli/index.ts, run the
 * compiled CLI through a shim that registers it; afterwards the real entry point is used as is.
 */
export function useLavaSqlCli(dir: string): { shimmed: boolean } {
  if (distIsStale()) build();
  if (buildProgram().commands.some((c) => c.name() === 'sql')) {
    setLavaCommand(undefined);
    return { shimmed: false };
  }
  const shim = path.join(dir, 'lava-with-sql.mjs');
  fs.writeFileSync(
    shim,
    [
      `import { buildProgram } from ${JSON.stringify(path.join(REPO, 'dist/cli/index.js'))};`,
      `import { registerConnections } from ${JSON.stringify(path.join(REPO, 'dist/cli/connections.js'))};`,
      'const program = buildProgram().exitOverride();',
      'registerConnections(program, () => program.opts());',
      'try { await program.parseAsync(process.argv); } catch (err) {',
      "  if (err && err.code && String(err.code).startsWith('commander.')) { process.exitCode = err.exitCode ?? 1; }",
      '  else { process.stderr.write(`lava: ${err instanceof Error ? err.message : String(err)}\\n`); process.exitCode = 1; }',
      '}',
    ].join('\n'),
  );
  setLavaCommand([process.execPath, shim]);
  return { shimmed: true };
}
