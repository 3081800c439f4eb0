/**
 * End-to-end: real `lava worker` processes on one embedded realm — crash (kill -9) and takeover,
 * two workers sharing a queue, graceful and forced SIGTERM, and `lava ps`.
 *
 * Leases are short (LAVA_VISIBILITY_TIMEOUT=2s) so a dead worker's run comes back quickly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openBackend } from '../../src/backends/index.js';
import {
  UUID_RE,
  ensureBuilt,
  groupAlive,
  killSpawned,
  makeCliRealm,
  runIds,
  tableRows,
  waitExit,
  waitFor,
  type CliRealm,
} from './cli-helpers.js';

interface PsRow {
  pid: number;
  realm: string;
  worker: string;
  job_id: string;
  run_id: string;
  type: string;
  started: string;
}

const realms: CliRealm[] = [];
/** Process groups of job processes (their leaders wrote their pid), killed at the end if alive. */
const jobGroups = new Set<number>();

async function realm(extraEnv: NodeJS.ProcessEnv = {}): Promise<CliRealm> {
  const r = await makeCliRealm({ LAVA_VISIBILITY_TIMEOUT: '2s', LAVA_SHUTDOWN_GRACE: '1s', ...extraEnv }, 'lava-e2e-wp-');
  realms.push(r);
  return r;
}

/** Store one job on worker `w` from a spec object (written as JSON). */
async function putJob(r: CliRealm, spec: Record<string, unknown>): Promise<void> {
  const file = r.write(
    `job-${String(spec.job_id).replace(/\//g, '_')}.json`,
    JSON.stringify({ type: 'cmd', worker: 'w', enabled: true, ...spec }),
  );
  await r.lavaOk(['job', 'put', file]);
}

async function ps(r: CliRealm, extraEnv: NodeJS.ProcessEnv = {}): Promise<PsRow[]> {
  return JSON.parse((await r.lavaOk(['ps', '--json'], extraEnv)).stdout) as PsRow[];
}

async function waitForRun(r: CliRealm, runId: string, timeoutMs = 15_000): Promise<PsRow> {
  return waitFor(async () => (await ps(r)).find((row) => row.run_id === runId), timeoutMs, `lava ps to show run ${runId}`, 50);
}

async function queueCounts(r: CliRealm, worker: string) {
  const backend = await openBackend(r.backendUrl);
  try {
    return await backend.queue('default', worker).counts();
  } finally {
    await backend.close();
  }
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Remember the job process groups whose leaders wrote their pids into `file`, one a line. */
function trackGroups(file: string): number[] {
  if (!fs.existsSync(file)) return [];
  const pids = fs
    .readFileSync(file, 'utf8')
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 1);
  for (const p of pids) jobGroups.add(p);
  return pids;
}

const count = (list: string[], status: string) => list.filter((s) => s === status).length;

beforeAll(() => ensureBuilt(), 300_000);

afterEach(() => killSpawned());

afterAll(() => {
  killSpawned();
  for (const pgid of jobGroups) killGroup(pgid);
  for (const r of realms) r.cleanup();
});

describe('worker processes', () => {
  it('kill -9 of a worker mid-run: a second worker takes the run over and completes it once', async () => {
    const r = await realm();
    const pids = path.join(r.dir, 'pids');
    const mark = path.join(r.dir, 'mark');
    // The first attempt sleeps (and is killed with its worker); the second one is quick.
    await putJob(r, {
      job_id: 'e2e/slow',
      payload: `sh -c 'echo $$ >> "$PIDS"; test -f "$MARK" || { touch "$MARK"; sleep 60; }; echo done'`,
      parameters: { env: { PIDS: pids, MARK: mark } },
    });
    const [runId] = runIds((await r.lavaOk(['dispatch', 'e2e/slow'])).stdout);
    expect(runId).toMatch(UUID_RE);

    const first = r.spawn(['worker', '-w', 'w']);
    await waitFor(() => fs.existsSync(mark), 20_000, 'the job process to start');
    const [orphan] = trackGroups(pids);
    // The worker's status file is refreshed at most once a second.
    const row = await waitForRun(r, runId as string);
    expect(row.pid).toBe(first.pid);

    process.kill(first.pid, 'SIGKILL');
    const killed = await waitExit(first, 5_000);
    expect(killed.signal).toBe('SIGKILL');
    const before = await r.statuses(runId as string);
    expect(before.slice(0, 2)).toEqual(['queued', 'starting']);
    expect(before).not.toContain('complete');
    // The dead worker no longer shows in ps, although its scratch dir is left behind.
    expect((await ps(r)).find((x) => x.run_id === runId)).toBeUndefined();

    // The message and the run claim come back when the 2s lease runs out.
    const second = r.spawn(['worker', '-w', 'w', '--batch', '--wait', '3']);
    const secondExit = await waitExit(second, 25_000);
    expect(secondExit.code, second.stderr()).toBe(0);
    // The first attempt died with its worker: its process group is gone.
    expect(groupAlive(orphan as number)).toBe(false);

    const records = await r.events(runId as string);
    expect(records).toHaveLength(1);
    const log = records[0]?.log ?? [];
    const statuses = log.map((e) => e.status);
    expect(count(statuses, 'starting')).toBe(2);
    expect(count(statuses, 'complete')).toBe(1);
    expect(statuses).toEqual(['queued', 'starting', 'running', 'starting', 'running', 'complete']);
    const starts = log.filter((e) => e.status === 'starting');
    expect(String(starts[1]?.info)).toMatch(/Attempt 2/);
    expect((await r.lavaOk(['output', runId as string])).stdout).toBe('done\n');

    // Nothing is left: a third batch worker runs nothing new, and the queue is empty.
    const third = r.spawn(['worker', '-w', 'w', '--batch', '--wait', '0']);
    expect((await waitExit(third, 15_000)).code, third.stderr()).toBe(0);
    expect(await r.statuses(runId as string)).toEqual(statuses);
    expect(await queueCounts(r, 'w')).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    killGroup(orphan as number);
  }, 60_000);

  it('two workers sharing one realm run each of 40 runs exactly once', async () => {
    const r = await realm();
    const out = path.join(r.dir, 'shared', 'runs.txt');
    fs.mkdirSync(path.dirname(out));
    await putJob(r, {
      job_id: 'e2e/append',
      payload: `sh -c 'echo "$LAVA_RUN_ID" >> "$OUT"'`,
      parameters: { env: { OUT: out } },
    });
    const ids = runIds((await r.lavaOk(['dispatch', ...Array.from({ length: 40 }, () => 'e2e/append')])).stdout);
    expect(ids).toHaveLength(40);
    expect(new Set(ids).size).toBe(40);

    const args = ['worker', '-w', 'w', '--batch', '-t', '4', '-l', 'info', '--log-json'];
    const workers = [r.spawn(args), r.spawn(args)];
    const exits = await Promise.all(workers.map((w) => waitExit(w, 60_000)));
    for (const [i, e] of exits.entries()) expect(e.code, workers[i]?.stderr()).toBe(0);

    const lines = fs.readFileSync(out, 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(40);
    expect([...lines].sort()).toEqual([...ids].sort());

    const res = await r.lavaOk(['events', 'e2e/append', '--json', '-n', '1000']);
    const records = JSON.parse(res.stdout) as { run_id: string; log: { status: string }[] }[];
    expect(records.map((x) => x.run_id).sort()).toEqual([...ids].sort());
    for (const rec of records) {
      const statuses = rec.log.map((e) => e.status);
      expect(statuses, rec.run_id).toEqual(['queued', 'starting', 'running', 'complete']);
    }

    // Between them the workers handled every run once.
    const handled = workers.map((w) => {
      const stopped = w
        .stderr()
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          try {
            return JSON.parse(l) as { msg?: string; handled?: number };
          } catch {
            return {};
          }
        })
        .find((l) => l.msg === 'worker stopped');
      return stopped?.handled ?? NaN;
    });
    expect(handled[0]! + handled[1]!).toBe(40);
    expect(await queueCounts(r, 'w')).toEqual({ visible: 0, inflight: 0, delayed: 0 });
  }, 90_000);

  it('SIGTERM while a short job runs: the job completes, then the worker exits 0', async () => {
    const r = await realm({ LAVA_SHUTDOWN_GRACE: '10s' });
    const started = path.join(r.dir, 'started');
    await putJob(r, {
      job_id: 'e2e/nap',
      payload: `sh -c 'touch "$STARTED"; sleep 2; echo slept'`,
      parameters: { env: { STARTED: started } },
    });
    const [runId] = runIds((await r.lavaOk(['dispatch', 'e2e/nap'])).stdout);
    const worker = r.spawn(['worker', '-w', 'w']);
    await waitFor(() => fs.existsSync(started), 20_000, 'the job to start', 20);

    const t0 = Date.now();
    process.kill(worker.pid, 'SIGTERM');
    const exit = await waitExit(worker, 20_000);
    const took = Date.now() - t0;
    expect(exit.code, worker.stderr()).toBe(0);
    expect(exit.signal).toBeNull();
    // It waited for the 2 s job, not for the whole 10 s grace (nor for a 10 s long poll).
    // BUG: src/worker/worker.ts Worker.stop() races the drained jobs against
    // `sleep(graceSeconds * 1000)` and never cancels that timer, so once the jobs have finished
    // ("worker stopped" is logged at once) the process still lives until SHUTDOWN_GRACE is over:
    // here `took` is ~10 s instead of ~2 s.
    expect(took).toBeLessThan(7_000);

    expect(await r.statuses(runId as string)).toEqual(['queued', 'starting', 'running', 'complete']);
    expect((await r.lavaOk(['output', runId as string])).stdout).toBe('slept\n');
    expect(await queueCounts(r, 'w')).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    // The worker removed its scratch dir and is no longer listed.
    expect(JSON.parse((await r.lavaOk(['ps', '--workers', '--json'])).stdout)).toEqual([]);
    expect(fs.readdirSync(path.join(r.scratch, 'default'))).toEqual([]);
  }, 45_000);

  it('SIGTERM with a job longer than SHUTDOWN_GRACE: killed, recorded interrupted, picked up again later', async () => {
    const r = await realm({ LAVA_SHUTDOWN_GRACE: '1s' });
    const marker = path.join(r.dir, 'marker');
    await putJob(r, {
      job_id: 'e2e/long',
      payload: `sh -c 'test -f "$MARKER" && exit 0; echo $$ > "$MARKER"; sleep 30'`,
      parameters: { env: { MARKER: marker } },
    });
    const [runId] = runIds((await r.lavaOk(['dispatch', 'e2e/long'])).stdout);
    const worker = r.spawn(['worker', '-w', 'w']);
    await waitFor(() => fs.existsSync(marker) && fs.readFileSync(marker, 'utf8').trim(), 20_000, 'the job to start', 20);
    const [pgid] = trackGroups(marker);
    expect(pgid).toBeGreaterThan(1);
    expect(groupAlive(pgid as number)).toBe(true);

    const t0 = Date.now();
    process.kill(worker.pid, 'SIGTERM');
    const exit = await waitExit(worker, 15_000);
    const took = Date.now() - t0;
    expect(exit.signal, worker.stderr()).toBeNull();
    expect([0, 143]).toContain(exit.code);
    expect(took).toBeGreaterThanOrEqual(900); // it gave the job its grace…
    expect(took).toBeLessThan(8_000); // …but not the job's 30 s
    // The job's whole process group (sh and its sleep) was killed.
    await waitFor(() => !groupAlive(pgid as number), 5_000, `job process group ${pgid} to be gone`);

    const afterStop = await r.statuses(runId as string);
    expect(afterStop).toEqual(['queued', 'starting', 'running', 'interrupted']);

    // The run went back to the queue: a later batch worker runs it again, and this time it succeeds.
    const again = r.spawn(['worker', '-w', 'w', '--batch']);
    expect((await waitExit(again, 20_000)).code, again.stderr()).toBe(0);
    const records = await r.events(runId as string);
    const log = records[0]?.log ?? [];
    expect(log.map((e) => e.status)).toEqual(['queued', 'starting', 'running', 'interrupted', 'starting', 'running', 'complete']);
    expect(String(log[4]?.info)).toMatch(/Attempt 2/);
    expect(await queueCounts(r, 'w')).toEqual({ visible: 0, inflight: 0, delayed: 0 });
  }, 60_000);

  it('lava ps --json lists a running run with job_id, run_id and the worker pid', async () => {
    const r = await realm();
    const started = path.join(r.dir, 'started');
    await putJob(r, {
      job_id: 'e2e/ps',
      payload: `sh -c 'echo $$ > "$STARTED"; sleep 20'`,
      parameters: { env: { STARTED: started } },
    });
    const [runId] = runIds((await r.lavaOk(['dispatch', 'e2e/ps'])).stdout);
    expect(await ps(r)).toEqual([]);
    const worker = r.spawn(['worker', '-w', 'w']);
    await waitFor(() => fs.existsSync(started) && fs.readFileSync(started, 'utf8').trim(), 20_000, 'the job to start', 20);
    const [pgid] = trackGroups(started);

    const row = await waitForRun(r, runId as string, 5_000);
    expect(row).toMatchObject({ job_id: 'e2e/ps', run_id: runId, pid: worker.pid, realm: 'default', worker: 'w', type: 'cmd' });
    expect(Number.isNaN(Date.parse(row.started))).toBe(false);

    const table = await r.lavaOk(['ps']);
    const rows = tableRows(table.stdout, 'PID');
    expect(rows).toEqual([[String(worker.pid), 'default', 'w', 'e2e/ps', runId, 'cmd', row.started]]);

    const workers = JSON.parse((await r.lavaOk(['ps', '--workers', '--json'])).stdout) as {
      pid: number;
      worker: string;
      realm: string;
    }[];
    expect(workers).toEqual([expect.objectContaining({ pid: worker.pid, worker: 'w', realm: 'default' })]);

    // ps reads the scratch root of LAVA_TMPDIR: another root shows nothing.
    expect(await ps(r, { LAVA_TMPDIR: path.join(r.dir, 'elsewhere') })).toEqual([]);

    // A dead worker's runs are not listed, although its scratch dir is still there.
    process.kill(worker.pid, 'SIGKILL');
    await waitExit(worker, 5_000);
    killGroup(pgid as number);
    expect(fs.readdirSync(path.join(r.scratch, 'default'))).toEqual([`w.${worker.pid}`]);
    expect(await ps(r)).toEqual([]);
  }, 45_000);
});
