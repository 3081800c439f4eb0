/**
 * End-to-end: the stop policy every long-running command shares (docs/cli/worker.md#stopping).
 * SIGINT, SIGTERM and SIGHUP stop gracefully — running jobs get SHUTDOWN_GRACE, then are killed,
 * recorded `interrupted` and handed back — and a second signal forces that at once; `lava
 * dispatcher` and `lava up` behave the same, and exit 0.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openBackend } from '../../src/backends/index.js';
import {
  ensureBuilt,
  groupAlive,
  killSpawned,
  makeCliRealm,
  runIds,
  sleep,
  waitExit,
  waitFor,
  type CliRealm,
  type LavaProcess,
} from './cli-helpers.js';

const realms: CliRealm[] = [];
const jobGroups = new Set<number>();

async function realm(grace: string): Promise<CliRealm> {
  const r = await makeCliRealm({ LAVA_VISIBILITY_TIMEOUT: '2s', LAVA_SHUTDOWN_GRACE: grace }, 'lava-e2e-sig-');
  realms.push(r);
  return r;
}

/** A 30 s job on worker `w` that writes its process group id to `marker`, dispatched once. */
async function dispatchLongJob(r: CliRealm): Promise<{ runId: string; marker: string }> {
  const marker = path.join(r.dir, 'marker');
  const file = r.write(
    'long.json',
    JSON.stringify({
      job_id: 'sig/long',
      type: 'cmd',
      worker: 'w',
      enabled: true,
      payload: `sh -c 'echo $$ > "$MARKER"; sleep 30'`,
      parameters: { env: { MARKER: marker } },
    }),
  );
  await r.lavaOk(['job', 'put', file]);
  const [runId] = runIds((await r.lavaOk(['dispatch', 'sig/long'])).stdout);
  return { runId: runId as string, marker };
}

async function jobStarted(marker: string): Promise<number> {
  await waitFor(() => fs.existsSync(marker) && fs.readFileSync(marker, 'utf8').trim(), 20_000, 'the job to start', 20);
  const pgid = Number(fs.readFileSync(marker, 'utf8').trim());
  jobGroups.add(pgid);
  expect(groupAlive(pgid)).toBe(true);
  return pgid;
}

/** Signal `p` (then `again` after `gapMs`), and return its exit with the time it took. */
async function signal(p: LavaProcess, sig: NodeJS.Signals, again?: NodeJS.Signals, gapMs = 300) {
  const t0 = Date.now();
  process.kill(p.pid, sig);
  if (again) {
    if (gapMs) await sleep(gapMs);
    process.kill(p.pid, again);
  }
  const exit = await waitExit(p, 20_000);
  return { ...exit, took: Date.now() - t0 };
}

/** After the stop: the job's group is gone, the run is `interrupted` and its message is back in the queue. */
async function expectHandedBack(r: CliRealm, runId: string, pgid: number): Promise<void> {
  await waitFor(() => !groupAlive(pgid), 5_000, `job process group ${pgid} to be gone`);
  expect(await r.statuses(runId)).toEqual(['queued', 'starting', 'running', 'interrupted']);
  const backend = await openBackend(r.backendUrl);
  try {
    expect(await backend.queue('default', 'w').counts()).toMatchObject({ visible: 1, inflight: 0, delayed: 0 });
  } finally {
    await backend.close();
  }
}

beforeAll(() => ensureBuilt(), 300_000);

afterEach(() => killSpawned());

afterAll(() => {
  killSpawned();
  for (const pgid of jobGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const r of realms) r.cleanup();
});

describe('the stop policy of long-running commands', () => {
  it.each(['SIGINT', 'SIGHUP'] as const)(
    'lava worker, %s: the running job gets SHUTDOWN_GRACE, then is killed and handed back',
    async (sig) => {
      const r = await realm('2s');
      const { runId, marker } = await dispatchLongJob(r);
      const worker = r.spawn(['worker', '-w', 'w']);
      const pgid = await jobStarted(marker);

      const exit = await signal(worker, sig);
      expect(exit.code, worker.stderr()).toBe(0);
      expect(exit.signal).toBeNull();
      expect(exit.took).toBeGreaterThanOrEqual(1_900); // the grace…
      expect(exit.took).toBeLessThan(10_000); // …not the job's 30 s
      await expectHandedBack(r, runId, pgid);
    },
    60_000,
  );

  it('lava worker, a second signal: the job is killed and handed back without waiting for the grace', async () => {
    const r = await realm('30s');
    const { runId, marker } = await dispatchLongJob(r);
    const worker = r.spawn(['worker', '-w', 'w']);
    const pgid = await jobStarted(marker);

    const exit = await signal(worker, 'SIGINT', 'SIGTERM');
    expect(exit.code, worker.stderr()).toBe(0);
    expect(exit.signal).toBeNull();
    expect(exit.took).toBeLessThan(8_000);
    await expectHandedBack(r, runId, pgid);
  }, 60_000);

  it('lava up, SIGTERM: SHUTDOWN_GRACE for running jobs, then they are handed back; SIGUSR1 only logs', async () => {
    const r = await realm('2s');
    const { runId, marker } = await dispatchLongJob(r);
    const up = r.spawn(['up', '-w', 'w', '-d', 'main', '-l', 'info']);
    const pgid = await jobStarted(marker);

    process.kill(up.pid, 'SIGUSR1');
    await waitFor(() => up.stderr().includes('worker status'), 5_000, 'the status line');
    expect(up.running()).toBe(true);

    const exit = await signal(up, 'SIGTERM');
    expect(exit.code, up.stderr()).toBe(0);
    expect(exit.signal).toBeNull();
    expect(exit.took).toBeGreaterThanOrEqual(1_900);
    expect(exit.took).toBeLessThan(10_000);
    expect(up.stderr()).toContain('dispatcher stopped');
    await expectHandedBack(r, runId, pgid);
  }, 60_000);

  it('lava up, a second signal: running jobs are handed back now', async () => {
    const r = await realm('30s');
    const { runId, marker } = await dispatchLongJob(r);
    const up = r.spawn(['up', '-w', 'w', '-d', 'main']);
    const pgid = await jobStarted(marker);

    const exit = await signal(up, 'SIGINT', 'SIGINT');
    expect(exit.code, up.stderr()).toBe(0);
    expect(exit.signal).toBeNull();
    expect(exit.took).toBeLessThan(8_000);
    await expectHandedBack(r, runId, pgid);
  }, 60_000);

  // A dispatcher stops within a tick, so its second signal is sent at once, before it can be gone.
  it.each([
    ['SIGINT', 'no other'],
    ['SIGTERM', 'no other'],
    ['SIGHUP', 'no other'],
    ['SIGTERM', 'SIGINT'],
  ] as const)(
    'lava dispatcher, %s then %s signal: stops and exits 0',
    async (sig, again) => {
      const r = await realm('30s');
      const d = r.spawn(['dispatcher', '-d', 'main', '-l', 'info']);
      await waitFor(() => d.stderr().includes('dispatcher started'), 20_000, 'the dispatcher to start');

      const exit = await signal(d, sig, again === 'no other' ? undefined : again, 0);
      expect(exit.code, d.stderr()).toBe(0);
      expect(exit.signal).toBeNull();
      expect(exit.took).toBeLessThan(5_000);
      expect(d.stderr()).toContain('dispatcher stopped');
    },
    60_000,
  );
});
