/**
 * A batch under kill -9, on the embedded backend and on a throwaway PostgreSQL: two `lava
 * dispatcher` replicas admit a batch's tasks (cap 6) to three `lava worker`s while, at seeded random
 * moments, a worker or a dispatcher is killed with SIGKILL and replaced. Afterwards the batch is
 * finished with every task `complete`, every task has exactly one complete run, no run was ever
 * executed twice at once (the jobs write heartbeats, test/support/overlap.ts), and the cap held in
 * the run records.
 *
 * Short timings make a kill's effects come back within the test: leases of 2s, an admitted task
 * without a run record is tried again after 3s (BATCH_ORPHAN_TIMEOUT), a run left `queued` is sent
 * again after 5s (BATCH_RESEND_AFTER). LAVA_CHAOS_SEED replays a schedule; LAVA_BATCH_CHAOS_TASKS
 * makes a longer run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openBackend } from '../../src/backends/index.js';
import type { Backend, EventRecord } from '../../src/backends/ports.js';
import { submitBatch } from '../../src/batch/submit.js';
import { cleanEnv, ensureBuilt, killSpawned, lavaOk, sleep, spawnLava, waitFor, type LavaProcess } from '../e2e/cli-helpers.js';
import { HEARTBEAT_SCRIPT, overlaps, readExecutions } from '../support/overlap.js';
import { backendUrl, dropSchema, pgSkipReason, schemaName, startThrowawayPostgres, type PgServer } from '../support/pg.js';
import { chooseSeed, seeded } from '../support/seeded.js';

const TASKS = Number(process.env.LAVA_BATCH_CHAOS_TASKS ?? 100);
const CAP = 6;
const REALM = 'chaos';
const JOB = 'chaos/task';
const FINAL = new Set(['complete', 'failed', 'skipped', 'rejected', 'action_failed', 'discarded']);

interface Setup {
  url: string;
  dir: string;
  cleanup(): Promise<void>;
}

let server: PgServer | undefined;
const setups: Array<[string, () => Promise<Setup>]> = [
  [
    'embedded',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-batch-chaos-'));
      return {
        url: `sqlite:${path.join(dir, 'lava.db')}`,
        dir,
        cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
      };
    },
  ],
];
if (!pgSkipReason) {
  setups.push([
    'PostgreSQL',
    async () => {
      server ??= await startThrowawayPostgres();
      const schema = schemaName('bchaos');
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-batch-chaos-pg-'));
      return {
        url: backendUrl(server, schema),
        dir,
        cleanup: async () => {
          if (server) await dropSchema(server, schema);
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  ]);
}

afterAll(async () => {
  killSpawned();
  await server?.stop();
});

describe.each(setups)('a batch under kill -9 on the %s backend', (name, make) => {
  it(
    `${TASKS} tasks, cap ${CAP}: workers and dispatcher replicas killed at random; every task completes once`,
    async () => {
      ensureBuilt();
      const setup = await make();
      const env = cleanEnv({
        LAVA_BACKEND: setup.url,
        LAVA_REALM: REALM,
        LAVA_TMPDIR: path.join(setup.dir, 'scratch'),
        LAVA_NO_DISPATCH: path.join(setup.dir, 'nodispatch'),
        LAVA_VISIBILITY_TIMEOUT: '2s',
        LAVA_SHUTDOWN_GRACE: '1s',
        LAVA_BATCH_ADMIT_INTERVAL: '0.2s',
        LAVA_BATCH_ORPHAN_TIMEOUT: '3s',
        LAVA_BATCH_RESEND_AFTER: '5s',
      });
      const opts = { env, cwd: setup.dir };
      await lavaOk(['init', '--backend', setup.url, '--dir', setup.dir, '--realm', REALM], opts);
      const beats = path.join(setup.dir, 'beat.sh');
      fs.writeFileSync(beats, HEARTBEAT_SCRIPT);
      const out = path.join(setup.dir, 'beats.txt');
      const spec = path.join(setup.dir, 'job.json');
      // 0–27 beats of 0.1s (from the store's last digit): some tasks outlast a kill's lease, so a killed execution would meet its successor.
      fs.writeFileSync(
        spec,
        JSON.stringify({
          job_id: JOB,
          type: 'cmd',
          worker: 'w',
          enabled: true,
          payload: `sh -c "sh ${beats} \\$BEATS"`,
          parameters: {
            env: { OUT: out, BEATS: "{{ (globals.batch.attrs.stores[0] | replace('s', '') | int) % 10 * 3 }}" },
          },
        }),
      );
      await lavaOk(['job', 'put', spec], opts);
      const backend: Backend = await openBackend(setup.url);
      try {
        const { batch } = await submitBatch(backend, REALM, {
          jobId: JOB,
          batchId: 'chaos',
          job: {
            attrs: [{ name: 'store', plural: 'stores' }],
            values: Array.from({ length: TASKS }, (_, i) => `s${String(i).padStart(4, '0')}`),
            isolate: { stores: true },
          },
          admission: { cap: CAP, max_attempts: 20, backoff: { base: 0.2, factor: 1.5, max: 2, jitter: 0.2 } },
        });
        expect(batch.task_count).toBe(TASKS);

        const random = seeded(chooseSeed('LAVA_CHAOS_SEED', `batch kill -9 chaos (${name})`));
        const worker = () => spawnLava(['worker', '-w', 'w', '-t', '4', '--retries', '50'], opts);
        const dispatcher = () => spawnLava(['dispatcher', '-d', 'main'], opts);
        const workers: LavaProcess[] = [worker(), worker(), worker()];
        const dispatchers: LavaProcess[] = [dispatcher(), dispatcher()];

        const counts = () => backend.batches.counts(REALM, 'chaos');
        const finished = async () => (await backend.batches.get(REALM, 'chaos'))?.state === 'finished';
        let kills = { worker: 0, dispatcher: 0 };
        // Kills go on while the batch runs: until most tasks are done (or a time limit).
        const chaosUntil = Date.now() + Math.max(20_000, TASKS * 150);
        while (Date.now() < chaosUntil && (await counts()).complete < TASKS * 0.7) {
          await sleep(600 + random() * 1200);
          const pool = random() < 0.6 ? workers : dispatchers;
          const live = pool.filter((p) => p.running());
          const victim = live[Math.floor(random() * live.length)];
          if (!victim) continue;
          process.kill(victim.pid, 'SIGKILL');
          if (pool === workers) {
            workers.push(worker());
            kills.worker++;
          } else {
            dispatchers.push(dispatcher());
            kills.dispatcher++;
          }
        }
        console.log(`${name}: kills ${JSON.stringify(kills)}; counts at the end of chaos ${JSON.stringify(await counts())}`);
        // The kills met the batch while it ran.
        expect((await counts()).complete).toBeGreaterThan(0);
        await waitFor(finished, 120_000 + TASKS * 200, 'the batch to finish', 300).catch(async (err: unknown) => {
          throw new Error(`${String(err)}; ${JSON.stringify(await counts())}`);
        });
        for (const p of [...workers, ...dispatchers].filter((x) => x.running())) process.kill(p.pid, 'SIGTERM');
        await Promise.all([...workers, ...dispatchers].map((p) => p.exited));

        const c = await counts();
        expect(c.complete).toBe(TASKS);
        expect(c.dead + c.failed + c.pending + c.queued + c.running).toBe(0);
        expect(kills.worker + kills.dispatcher).toBeGreaterThanOrEqual(4);

        // Exactly one complete run per task; any other attempt never completed.
        const runs: EventRecord[] = await backend.events.query(REALM, { jobId: JOB, limit: TASKS * 10 });
        const completePerKey = new Map<string, number>();
        for (const r of runs) {
          if (r.status !== 'complete') continue;
          const info = r.log.find((e) => e.status === 'queued')?.info as { globals?: { batch?: { key?: string } } };
          const key = info?.globals?.batch?.key ?? '?';
          completePerKey.set(key, (completePerKey.get(key) ?? 0) + 1);
        }
        expect(completePerKey.size).toBe(TASKS);
        expect([...completePerKey.values()].every((n) => n === 1)).toBe(true);
        for (const r of runs) expect(r.log.filter((e) => e.status === 'complete').length).toBeLessThanOrEqual(1);

        // No run's job ever ran beside another execution of itself.
        expect(overlaps(readExecutions(out))).toEqual([]);

        // The cap held: never more than CAP runs between their dispatch and their end.
        const points: Array<[number, number]> = [];
        for (const r of runs) {
          const start = r.log.find((e) => e.status === 'queued');
          const end = [...r.log].reverse().find((e) => FINAL.has(e.status));
          if (!start) continue;
          points.push([Date.parse(start.ts_event), 1], [end ? Date.parse(end.ts_event) : Infinity, -1]);
        }
        points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        let now = 0;
        let most = 0;
        for (const [, d] of points) most = Math.max(most, (now += d));
        expect(most).toBeLessThanOrEqual(CAP);
        kills = { worker: 0, dispatcher: 0 };
      } finally {
        await backend.close();
        await setup.cleanup();
      }
    },
    300_000 + TASKS * 1000,
  );
});
