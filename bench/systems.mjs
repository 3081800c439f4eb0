// The systems under test, parent side: each makes a fresh store, enqueues jobs one at a time with
// its own idiomatic API, names its worker script, and checks afterwards what the store says.
import fs from 'node:fs';
import path from 'node:path';
import { BENCH, createDatabase, dropDatabase, lava, redisCli, tempDir } from './lib.mjs';

const REALM = 'bench';
const WORKER = 'w';
export const CHAIN_STEPS = 40;

let L;

/** Lava on the embedded (SQLite) or the PostgreSQL backend. */
function lavaSystem(name, backendKind) {
  return {
    name,
    family: 'lava',
    backend: backendKind,
    script: path.join(BENCH, 'worker-lava.mjs'),
    async fresh(ctx) {
      L ??= await lava();
      const dir = tempDir('lava-bench-');
      let db;
      let url;
      if (backendKind === 'postgres') {
        db = await createDatabase(ctx.pg, 'lava');
        url = `${db.url}?schema=lava&keyfile=${path.join(dir, 'lava.key')}`;
      }
      const { backendUrl } = await L.initEmbeddedRealm(dir, REALM, url);
      const backend = await L.openBackend(backendUrl);
      await backend.config.putRealm({
        ...(await backend.config.getRealm(REALM)),
        config: { TMPDIR: path.join(dir, 'scratch') },
        on_fail: [],
      });
      const job = (job_id, type, payload) =>
        backend.config.put(REALM, 'jobs', { job_id, type, worker: WORKER, enabled: true, payload });
      await job('noop', 'log', null);
      await job('lat', 'noop', null);
      await job('cmdtrue', 'cmd', 'true');
      const steps = Array.from({ length: CHAIN_STEPS }, (_, k) => `step${String(k + 1).padStart(2, '0')}`);
      for (const s of steps) await job(s, 'log', null);
      await job('chain40', 'chain', steps.join(', '));
      const queue = backend.queue(REALM, WORKER);
      const body = JSON.stringify({ bare: true });
      return {
        workerCfg: { backendUrl, realm: REALM, worker: WORKER },
        pgDatabase: db?.name,
        /** Embedded only: `count` finished runs of history (records and claims), as a long-lived realm has. */
        async seedHistory(count) {
          if (backendKind !== 'sqlite') throw new Error('history is seeded for the embedded backend only');
          await seedSqliteHistory(backendUrl.replace(/^sqlite:/, ''), REALM, count);
        },
        /** kind: noop | lat | cmd | chain | bare */
        enqueue(kind, i) {
          if (kind === 'bare') return queue.send(body);
          const jobId = { noop: 'noop', lat: 'lat', cmd: 'cmdtrue', chain: 'chain40' }[kind];
          return L.dispatch(backend, { realm: REALM, jobId, worker: WORKER, ...(kind === 'lat' ? { parameters: { i } } : {}) });
        },
        /** How many runs the store shows complete (or, for the bare queue, how many messages are left). */
        async verify(kind) {
          if (kind === 'bare') {
            const c = await queue.counts();
            return { left: c.visible + c.inflight + c.delayed };
          }
          const records = await backend.events.query(REALM, { status: 'complete', limit: 1_000_000 });
          return { complete: records.length, left: (await queue.counts()).visible };
        },
        async close() {
          await backend.close();
          if (db) await dropDatabase(ctx.pg, db);
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

/** Finished runs written straight into the SQLite file, with random run ids and timestamps in the past. */
async function seedSqliteHistory(file, realm, count) {
  const { default: Database } = await import('better-sqlite3');
  const { randomUUID } = await import('node:crypto');
  const db = new Database(file);
  db.pragma('busy_timeout = 10000');
  const ev = db.prepare(
    `INSERT INTO events (realm, job_id, run_id, status, ts_dispatch, ts_event, tu_event, ttl, worker, hostname, log)
     VALUES (?, 'noop', ?, 'complete', ?, ?, ?, NULL, 'w', 'bench', ?)`,
  );
  const claim = db.prepare(
    `INSERT INTO run_claims (realm, run_id, owner, lease_until, attempts, done, updated_at) VALUES (?, ?, 'bench:1:w', ?, 1, 1, ?)`,
  );
  const now = Date.now();
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const t = new Date(now - (count - i) * 1000);
      const iso = t.toISOString().replace('Z', '');
      const log = JSON.stringify(
        ['starting', 'running', 'complete'].map((status) => ({ ts_event: iso, tu_event: iso, status, info: null })),
      );
      const runId = randomUUID();
      ev.run(realm, runId, iso, iso, iso, log);
      claim.run(realm, runId, t.getTime(), now);
    }
  })();
  db.close();
}

const graphile = {
  name: 'graphile-worker',
  family: 'peer',
  script: path.join(BENCH, 'worker-graphile.mjs'),
  async fresh(ctx) {
    const { default: gw } = await import('graphile-worker');
    const db = await createDatabase(ctx.pg, 'graphile');
    const logger = new gw.Logger(() => () => {});
    const utils = await gw.makeWorkerUtils({ connectionString: db.url, logger });
    await utils.migrate();
    return {
      workerCfg: { connectionString: db.url },
      pgDatabase: db.name,
      enqueue(kind, i) {
        return utils.addJob(kind === 'lat' ? 'lat' : 'noop', { i });
      },
      async verify() {
        const { rows } = await utils.withPgClient((c) => c.query('select count(*)::int as n from graphile_worker.jobs'));
        return { left: rows[0].n };
      },
      async close() {
        await utils.release();
        await dropDatabase(ctx.pg, db);
      },
    };
  },
};

const pgboss = {
  name: 'pg-boss',
  family: 'peer',
  script: path.join(BENCH, 'worker-pgboss.mjs'),
  async fresh(ctx) {
    const { default: PgBoss } = await import('pg-boss');
    const { default: pg } = await import('pg');
    const db = await createDatabase(ctx.pg, 'pgboss');
    const boss = new PgBoss({ connectionString: db.url, supervise: false, schedule: false });
    boss.on('error', () => {});
    await boss.start();
    await boss.createQueue('noop');
    await boss.createQueue('lat');
    return {
      workerCfg: { connectionString: db.url },
      enqueue(kind, i) {
        return boss.send(kind === 'lat' ? 'lat' : 'noop', { i });
      },
      async verify() {
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        try {
          const { rows } = await c.query(
            "select count(*) filter (where state = 'completed')::int as complete, count(*) filter (where state in ('created','retry','active'))::int as left from pgboss.job where name = 'noop'",
          );
          return rows[0];
        } finally {
          await c.end();
        }
      },
      async close() {
        await boss.stop({ graceful: false, wait: true, timeout: 1000 }).catch(() => {});
        await dropDatabase(ctx.pg, db);
      },
    };
  },
};

const bullmq = {
  name: 'bullmq',
  family: 'peer',
  script: path.join(BENCH, 'worker-bullmq.mjs'),
  async fresh(ctx) {
    const { Queue } = await import('bullmq');
    redisCli(ctx.redis, 'flushall');
    const connection = { host: '127.0.0.1', port: ctx.redis.port };
    const queues = { noop: new Queue('noop', { connection }), lat: new Queue('lat', { connection }) };
    await Promise.all(Object.values(queues).map((q) => q.waitUntilReady()));
    return {
      workerCfg: { redisPort: ctx.redis.port },
      enqueue(kind, i) {
        return kind === 'lat' ? queues.lat.add('lat', { i }) : queues.noop.add('noop', { i });
      },
      async verify() {
        const c = await queues.noop.getJobCounts('completed', 'waiting', 'active', 'delayed');
        return { complete: c.completed, left: c.waiting + c.active + c.delayed };
      },
      async close() {
        await Promise.all(Object.values(queues).map((q) => q.close()));
        redisCli(ctx.redis, 'flushall');
      },
    };
  },
};

export const SYSTEMS = {
  'lava-embedded': lavaSystem('lava-embedded', 'sqlite'),
  'lava-postgres': lavaSystem('lava-postgres', 'postgres'),
  'graphile-worker': graphile,
  'pg-boss': pgboss,
  bullmq,
};
