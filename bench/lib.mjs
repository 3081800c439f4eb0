// Shared helpers for the benchmarks: throwaway realms and servers, worker processes, statistics,
// result files. Plain .mjs importing the compiled dist/ (run `npm run build` first).
import { execFileSync, fork } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BENCH = path.join(ROOT, 'bench');

export async function lava() {
  const dist = path.join(ROOT, 'dist');
  if (!fs.existsSync(path.join(dist, 'index.js'))) throw new Error('build first: npm run build');
  return {
    ...(await import(path.join(dist, 'index.js'))),
    ...(await import(path.join(dist, 'cli/init.js'))),
    ...(await import(path.join(dist, 'dispatcher/dispatcher.js'))),
    ...(await import(path.join(dist, 'handlers/registry.js'))),
  };
}

export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Milliseconds on CLOCK_MONOTONIC: the same clock in every process on this machine (Linux). */
export function now() {
  return Number(process.hrtime.bigint()) / 1e6;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summary(values) {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return {
    n: s.length,
    min: s[0],
    mean,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s.at(-1),
  };
}

export function median(values) {
  const s = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function machine() {
  return {
    node: process.version,
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    mem_gb: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.type()} ${os.release()}`,
  };
}

export function saveResult(name, result) {
  const dir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({ when: new Date().toISOString(), machine: machine(), ...result }, null, 2) + '\n');
  return file;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Throwaway servers. PostgreSQL comes from test/support/pg-throwaway.sh (fsync, synchronous_commit
// and full_page_writes off, max_connections 200); Redis runs without persistence.

const PGBIN = process.env.PGBIN ?? '/usr/lib/postgresql/15/bin';

export function startPostgres() {
  if (process.env.BENCH_PG_URL) return { url: process.env.BENCH_PG_URL.replace(/\/[^/]*$/, ''), external: true };
  if (!fs.existsSync(path.join(PGBIN, 'initdb'))) {
    throw new Error(
      `PostgreSQL server binaries not found in ${PGBIN}: apt-get install postgresql-15 (the bench installs nothing)`,
    );
  }
  const out = execFileSync('bash', [path.join(ROOT, 'test/support/pg-throwaway.sh'), 'start'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const env = Object.fromEntries([...out.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]));
  if (!env.PG_THROWAWAY_DIR || !env.PGPORT) throw new Error(`pg-throwaway.sh printed no server:\n${out}`);
  return { url: `postgres://postgres@127.0.0.1:${env.PGPORT}`, dir: env.PG_THROWAWAY_DIR, port: Number(env.PGPORT) };
}

/**
 * Load pg_stat_statements into the throwaway server (a restart), so that the statements of each
 * drain can be counted. Returns false when it cannot be (an external server without it).
 */
export async function enableStatementStats(pgServer) {
  try {
    if (pgServer.dir) {
      await pgAdmin(pgServer, "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
      execFileSync('bash', [path.join(ROOT, 'test/support/pg-throwaway.sh'), 'restart', pgServer.dir], { stdio: 'ignore' });
    }
    await pgAdmin(pgServer, 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await pgAdmin(pgServer, 'SELECT pg_stat_statements_reset()');
    return true;
  } catch {
    return false;
  }
}

/** Forget every statement counted so far (all databases). */
export async function resetStatementStats(pgServer) {
  await pgAdmin(pgServer, 'SELECT pg_stat_statements_reset()');
}

/**
 * Statements the server executed in database `dbName` since the last reset, utility statements
 * (BEGIN, COMMIT, LISTEN) included: total calls, and the texts with the most calls.
 */
export async function statementStats(pgServer, dbName) {
  const { rows } = await pgAdmin(
    pgServer,
    `SELECT calls::int AS calls, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) AS query
     FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
     WHERE d.datname = '${dbName.replace(/[^a-z0-9_]/g, '')}' ORDER BY calls DESC`,
  );
  return { calls: rows.reduce((a, r) => a + r.calls, 0), top: rows.slice(0, 8) };
}

export function stopPostgres(pg) {
  if (pg?.dir) execFileSync('bash', [path.join(ROOT, 'test/support/pg-throwaway.sh'), 'stop', pg.dir], { stdio: 'ignore' });
}

/** Runs one statement on the server's `postgres` database. */
export async function pgAdmin(pgServer, sql) {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: `${pgServer.url}/postgres` });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

let dbSeq = 0;
/** A fresh, empty database; returns its connection string. */
export async function createDatabase(pgServer, prefix) {
  const name = `${prefix.replace(/[^a-z0-9_]/gi, '_')}_${process.pid}_${++dbSeq}`.toLowerCase();
  await pgAdmin(pgServer, `CREATE DATABASE ${name}`);
  return { name, url: `${pgServer.url}/${name}` };
}

export async function dropDatabase(pgServer, db) {
  await pgAdmin(pgServer, `DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`).catch(() => {});
}

export async function startRedis() {
  if (process.env.BENCH_REDIS_PORT) return { port: Number(process.env.BENCH_REDIS_PORT), external: true };
  const port = await freePort();
  const dir = tempDir('lava-bench-redis-');
  execFileSync(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'yes',
      '--pidfile',
      path.join(dir, 'redis.pid'),
      '--dir',
      dir,
      '--logfile',
      path.join(dir, 'redis.log'),
    ],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 100; i++) {
    try {
      if (
        execFileSync('redis-cli', ['-p', String(port), 'ping'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }).trim() === 'PONG'
      ) {
        return { port, dir };
      }
    } catch {
      // not up yet
    }
    await sleep(50);
  }
  throw new Error(`redis-server did not start on port ${port}`);
}

export function stopRedis(redis) {
  if (redis?.external) return;
  try {
    execFileSync('redis-cli', ['-p', String(redis.port), 'shutdown', 'nosave'], { stdio: 'ignore' });
  } catch {
    // already gone
  }
  fs.rmSync(redis.dir, { recursive: true, force: true });
}

export function redisCli(redis, ...args) {
  return execFileSync('redis-cli', ['-p', String(redis.port), ...args], { encoding: 'utf8' }).trim();
}

/**
 * Spawn `true` m times, one at a time, with the options Lava's process jobs use (own process
 * group, no stdin, output captured), and return each wall time (spawn → close) in ms.
 */
export async function spawnTimes(m) {
  const { spawn } = await import('node:child_process');
  const times = [];
  for (let i = 0; i < m; i++) {
    const t0 = now();
    await new Promise((resolve, reject) => {
      const p = spawn('true', [], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      p.on('error', reject);
      p.on('close', resolve);
    });
    times.push(now() - t0);
  }
  return times;
}

// ---------------------------------------------------------------------------------------------
// Worker processes. Each is a separate Node process (bench/worker-*.mjs) talking over IPC:
//   child → parent: ready | progress {done, first, last} | start {i, t} | stopped | failed
//   parent → child: go | stop
// Times are now() values (CLOCK_MONOTONIC ms), comparable between the processes.

export class WorkerGroup {
  constructor(script, cfg, count, { execArgv = [], env = {} } = {}) {
    this.children = [];
    this.state = [];
    this.listeners = new Set();
    this.failure = undefined;
    this.startHandlers = new Set();
    for (let k = 0; k < count; k++) {
      const child = fork(script, [], {
        env: { ...process.env, ...env, BENCH_CFG: JSON.stringify({ ...cfg, index: k }) },
        execArgv,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const st = { ready: false, done: 0, first: null, last: null, stopped: false, exited: false };
      this.state.push(st);
      child.on('message', (m) => {
        if (m.type === 'ready') st.ready = true;
        else if (m.type === 'progress') Object.assign(st, { done: m.done, first: m.first, last: m.last });
        else if (m.type === 'start' || m.type === 'recv') for (const h of this.startHandlers) h(m);
        else if (m.type === 'stopped') st.stopped = true;
        else if (m.type === 'reply') st.reply = m;
        else if (m.type === 'failed') this.failure ??= new Error(`${path.basename(script)}[${k}]: ${m.error}`);
        this.notify();
      });
      child.on('exit', (code, signal) => {
        st.exited = true;
        if (!st.stopped && !this.stopping)
          this.failure ??= new Error(`${path.basename(script)}[${k}] exited early (code ${code}, signal ${signal})`);
        this.notify();
      });
      this.children.push(child);
    }
  }

  notify() {
    for (const l of [...this.listeners]) l();
  }

  /** Resolves when pred() holds; rejects on a worker failure or after timeoutMs (then resolves false if soft). */
  waitFor(pred, timeoutMs = 120_000, { soft = false } = {}) {
    return new Promise((resolve, reject) => {
      let timer;
      const check = () => {
        if (this.failure) return finish(() => reject(this.failure));
        if (pred()) return finish(() => resolve(true));
      };
      const finish = (f) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        f();
      };
      timer = setTimeout(
        () => finish(() => (soft ? resolve(false) : reject(new Error(`timed out after ${timeoutMs} ms`)))),
        timeoutMs,
      );
      this.listeners.add(check);
      check();
    });
  }

  ready(timeoutMs = 60_000) {
    return this.waitFor(() => this.state.every((s) => s.ready), timeoutMs);
  }

  go() {
    const t = now();
    for (const c of this.children) c.send({ type: 'go' });
    return t;
  }

  get done() {
    return this.state.reduce((a, s) => a + s.done, 0);
  }

  get first() {
    const f = this.state.map((s) => s.first).filter((v) => v !== null);
    return f.length ? Math.min(...f) : null;
  }

  get last() {
    const l = this.state.map((s) => s.last).filter((v) => v !== null);
    return l.length ? Math.max(...l) : null;
  }

  /** Send worker k a command and wait for its reply (e.g. { type: 'spawn', m }). */
  async request(k, msg, timeoutMs = 120_000) {
    this.state[k].reply = undefined;
    this.children[k].send(msg);
    await this.waitFor(() => this.state[k].reply !== undefined, timeoutMs);
    return this.state[k].reply;
  }

  onStart(handler) {
    this.startHandlers.add(handler);
    return () => this.startHandlers.delete(handler);
  }

  /** Ask every worker to stop; kill those still there after timeoutMs. */
  async stop(timeoutMs = 15_000) {
    this.stopping = true;
    for (const [k, c] of this.children.entries()) if (!this.state[k].exited) c.send({ type: 'stop' });
    const ok = await this.waitFor(() => this.state.every((s) => s.exited), timeoutMs, { soft: true }).catch(() => false);
    if (!ok) for (const [k, c] of this.children.entries()) if (!this.state[k].exited) c.kill('SIGKILL');
    await this.waitFor(() => this.state.every((s) => s.exited), 5000, { soft: true }).catch(() => false);
  }
}

// ---------------------------------------------------------------------------------------------
// Child side: what every bench/worker-*.mjs shares.

export function childProcess() {
  const cfg = JSON.parse(process.env.BENCH_CFG ?? '{}');
  let done = 0;
  let first = null;
  let last = null;
  let timer = null;
  let goHandler = () => {};
  let stopHandler = async () => {};
  const send = (m) => {
    if (process.connected) process.send(m);
  };
  const flush = () => {
    timer = null;
    send({ type: 'progress', done, first, last });
  };
  const commands = {};
  process.on('message', (m) => {
    if (m.type === 'go') goHandler();
    if (commands[m.type]) {
      Promise.resolve(commands[m.type](m)).then(
        (value) => send({ type: 'reply', value }),
        (err) => send({ type: 'failed', error: String(err?.stack ?? err) }),
      );
    }
    if (m.type === 'stop') {
      void (async () => {
        try {
          await stopHandler();
        } catch (err) {
          process.stderr.write(`stop: ${err?.stack ?? err}\n`);
        }
        if (timer) clearTimeout(timer);
        flush();
        send({ type: 'stopped' });
        // Let the IPC messages drain, then leave even if a library keeps a handle open.
        setTimeout(() => process.exit(0), 50);
      })();
    }
  });
  process.on('disconnect', () => process.exit(0));
  const fail = (err) => {
    send({ type: 'failed', error: String(err?.stack ?? err) });
    setTimeout(() => process.exit(1), 50);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  return {
    cfg,
    ready: () => send({ type: 'ready' }),
    onGo: (f) => (goHandler = f),
    onStop: (f) => (stopHandler = f),
    /** Answer the parent's `request(k, { type })` with f(message). */
    onCommand: (type, f) => (commands[type] = f),
    fail,
    /** A job started (the first one marks the start of the drain window). */
    started() {
      if (first === null) first = now();
    },
    /** A job is finished and acknowledged. */
    finished() {
      done++;
      last = now();
      if (first === null) first = last;
      if (cfg.eager) flush();
      else timer ??= setTimeout(flush, 50);
    },
    /** Latency probe: the handler of job i was entered. */
    handlerEntered(i) {
      send({ type: 'start', i, t: now() });
    },
    /** Latency probe: the message of job i was received (Lava only: pickup vs lifecycle). */
    received(i) {
      send({ type: 'recv', i, t: now() });
    },
  };
}
