/**
 * Chaos on the embedded backend: several `lava worker` processes share one realm while a few
 * hundred runs are dispatched, and at seeded random moments a worker is killed with SIGKILL and a
 * new one started. Afterwards every dispatched run has exactly one `complete` event, none is lost,
 * the queue is empty, and no two executions of one run id were ever alive at the same time (the
 * jobs write heartbeats, test/support/overlap.ts).
 *
 * LAVA_CHAOS_SEED=N replays a schedule; LAVA_CHAOS_RUNS and LAVA_CHAOS_WORKERS make a longer or
 * wider one (scripts/chaos.mjs). Leases are short (2s), so a killed worker's runs come back soon;
 * some jobs run longer than a lease, so an execution that outlived its worker would be caught.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBackend } from '../../src/backends/index.js';
import type { Backend, EventRecord } from '../../src/backends/ports.js';
import { dispatch } from '../../src/dispatch/dispatch.js';
import { ensureBuilt, killSpawned, makeCliRealm, sleep, waitFor, type CliRealm, type LavaProcess } from '../e2e/cli-helpers.js';
import { HEARTBEAT_SCRIPT, overlaps, readExecutions } from '../support/overlap.js';
import { chooseSeed, seeded } from '../support/seeded.js';

const RUNS = Number(process.env.LAVA_CHAOS_RUNS ?? 200);
const WORKERS = Number(process.env.LAVA_CHAOS_WORKERS ?? 3);
/** Share of runs that outlast a lease (2s), so kills meet running jobs that would overlap. */
const LONG_SHARE = 0.15;
const JOBS = { short: 'chaos/short', long: 'chaos/long' };

describe('kill -9 chaos on the embedded backend', () => {
  let r: CliRealm;
  let backend: Backend;
  let out: string;

  beforeAll(async () => {
    ensureBuilt();
    r = await makeCliRealm({ LAVA_VISIBILITY_TIMEOUT: '2s', LAVA_SHUTDOWN_GRACE: '1s' }, 'lava-chaos-');
    const beats = r.write('beat.sh', HEARTBEAT_SCRIPT);
    out = path.join(r.dir, 'beats.txt');
    // Short runs beat 0–2 times (≤ 0.2s); long ones 60 times (6s).
    const job = (job_id: string, payload: string) => ({
      job_id,
      type: 'cmd',
      worker: 'w',
      enabled: true,
      payload,
      parameters: { env: { OUT: out } },
    });
    const specs = [job(JOBS.short, `sh ${beats} 2`), job(JOBS.long, `sh ${beats} 60`)];
    await r.lavaOk(['job', 'put', r.write('jobs.json', JSON.stringify(specs))]);
    backend = await openBackend(r.backendUrl);
  }, 120_000);

  afterAll(async () => {
    killSpawned();
    await backend?.close();
    r?.cleanup();
  });

  it(
    `${RUNS} runs, ${WORKERS} workers killed with -9 at random: every run completes once, none lost, no run twice at once`,
    async () => {
      const random = seeded(chooseSeed('LAVA_CHAOS_SEED', 'kill -9 chaos'));
      // --retries: the default (2) discards a run delivered more than three times, which a run hit by
      // several kills in a row can be; here every run must complete.
      const startWorker = () => r.spawn(['worker', '-w', 'w', '-t', '4', '--retries', '50']);
      const workers: LavaProcess[] = Array.from({ length: WORKERS }, startWorker);

      const dispatched: string[] = [];
      const dispatching = (async () => {
        // In bursts over the chaos window, so that kills meet running jobs and fresh dispatches.
        while (dispatched.length < RUNS) {
          const burst = Math.min(20, RUNS - dispatched.length);
          for (let i = 0; i < burst; i++) {
            const jobId = random() < LONG_SHARE ? JOBS.long : JOBS.short;
            dispatched.push(await dispatch(backend, { realm: 'default', jobId }));
          }
          await sleep(300 + random() * 400);
        }
      })();

      let kills = 0;
      const chaosUntil = Date.now() + Math.max(8_000, RUNS * 50);
      while (Date.now() < chaosUntil) {
        await sleep(400 + random() * 1200);
        const live = workers.filter((w) => w.running());
        const victim = live[Math.floor(random() * live.length)];
        if (!victim) continue;
        process.kill(victim.pid, 'SIGKILL');
        workers.push(startWorker());
        kills++;
      }
      await dispatching;
      console.log(`kills: ${kills}`);

      const records = async (): Promise<EventRecord[]> =>
        (
          await Promise.all(Object.values(JOBS).map((jobId) => backend.events.query('default', { jobId, limit: RUNS * 2 })))
        ).flat();
      const complete = async () => (await records()).filter((x) => x.status === 'complete').length;
      await waitFor(async () => (await complete()) >= RUNS, 60_000 + RUNS * 100, `${RUNS} complete runs`, 500).catch(
        async (err: unknown) => {
          throw new Error(`${String(err)}; ${await complete()} complete`);
        },
      );
      const queue = backend.queue('default', 'w');
      await waitFor(async () => Object.values(await queue.counts()).every((n) => n === 0), 15_000, 'the queue to empty', 200);
      for (const w of workers.filter((x) => x.running())) process.kill(w.pid, 'SIGTERM');
      await Promise.all(workers.map((w) => w.exited));

      const all = await records();
      const byRun = new Map(all.map((x) => [x.run_id, x]));
      expect(new Set(dispatched).size).toBe(RUNS);
      expect(all).toHaveLength(RUNS);
      const wrong = dispatched
        .map((id) => ({ id, statuses: byRun.get(id)?.log.map((e) => e.status) ?? ['missing'] }))
        .filter(({ statuses }) => statuses.at(-1) !== 'complete' || statuses.filter((s) => s === 'complete').length !== 1);
      expect(wrong).toEqual([]);
      for (const x of all) expect(x.log.map((e) => e.status)).not.toContain('failed');

      // The kills met runs in flight: some runs were taken over (a second `starting`).
      const takenOver = all.filter((x) => x.log.filter((e) => e.status === 'starting').length > 1).length;
      console.log(`runs taken over from a killed worker: ${takenOver}`);
      expect(kills).toBeGreaterThanOrEqual(3);
      expect(takenOver).toBeGreaterThan(0);

      // Every run's job ran to its end at least once, and never beside another execution of itself.
      const executions = readExecutions(out);
      const unfinished = dispatched.filter((id) => !(executions.get(id) ?? []).some((e) => e.ended));
      expect(unfinished).toEqual([]);
      expect(overlaps(executions)).toEqual([]);
    },
    180_000 + RUNS * 300,
  );
});
