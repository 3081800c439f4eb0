/**
 * A job's processes die with their worker. After `kill -9` of a `lava worker`, no process of its
 * job may live on (the next worker would run the same run id beside it), and the dead worker's
 * scratch dir is removed by the next worker to start.
 *
 * Job processes are found by an environment variable only they carry (/proc/PID/environ).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DIST_CLI,
  ensureBuilt,
  killSpawned,
  makeCliRealm,
  runIds,
  waitExit,
  waitFor,
  type CliRealm,
} from '../e2e/cli-helpers.js';
import { HEARTBEAT_SCRIPT, overlaps, readExecutions } from '../support/overlap.js';

const realms: CliRealm[] = [];
/** Pids found carrying a test's marker: killed at the end, whatever the outcome. */
const seen = new Set<number>();

/** Pids of live processes whose environment holds `NAME=value`. */
function withEnv(name: string, value: string): number[] {
  const want = `${name}=${value}`;
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${entry}/stat`, 'utf8'))) continue; // zombies are dead
      if (fs.readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(want)) pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours
    }
  }
  for (const p of pids) seen.add(p);
  return pids;
}

beforeAll(() => ensureBuilt(), 300_000);
afterEach(() => killSpawned());
afterAll(() => {
  for (const pid of seen) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const r of realms) r.cleanup();
});

describe.skipIf(!fs.existsSync('/proc/self/environ'))('job processes when their worker dies (needs /proc)', () => {
  it('kill -9 of a worker kills its job and the job’s children at once; the next worker runs the run again alone and removes the dead worker’s scratch dir', async () => {
    const r = await makeCliRealm({ LAVA_VISIBILITY_TIMEOUT: '2s', LAVA_SHUTDOWN_GRACE: '1s' }, 'lava-orphans-');
    realms.push(r);
    const mark = path.join(r.dir, 'first-attempt');
    const beats = r.write('beat.sh', HEARTBEAT_SCRIPT);
    const out = path.join(r.dir, 'beats.txt');
    // The first attempt starts a stray child and beats for a minute; the second is short.
    const spec = {
      job_id: 'orphans/long',
      type: 'cmd',
      worker: 'w',
      enabled: true,
      payload: `sh -c 'test -f "$MARK" && exec sh "$BEATS" 3; touch "$MARK"; sleep 300 & sh "$BEATS" 600'`,
      parameters: { env: { MARK: mark, BEATS: beats, OUT: out } },
    };
    await r.lavaOk(['job', 'put', r.write('job.json', JSON.stringify(spec))]);
    const [runId] = runIds((await r.lavaOk(['dispatch', 'orphans/long'])).stdout);

    const first = r.spawn(['worker', '-w', 'w']);
    await waitFor(
      () => (readExecutions(out).get(runId as string)?.[0]?.last ?? 0) > 0 && withEnv('MARK', mark).length >= 3,
      20_000,
      'the job and its children to run',
    );
    const firstDir = path.join(r.scratch, 'default', `w.${first.pid}`);
    expect(fs.existsSync(firstDir)).toBe(true);

    process.kill(first.pid, 'SIGKILL');
    expect((await waitExit(first, 5_000)).signal).toBe('SIGKILL');
    const killedAt = Date.now();
    await waitFor(() => withEnv('MARK', mark).length === 0, 2_000, 'no process of the job to be left').catch(() => {
      throw new Error(`processes of the job outlived their worker: ${withEnv('MARK', mark).join(' ')}`);
    });
    expect(Date.now() - killedAt).toBeLessThan(2_000);
    // Nobody removed the dead worker's scratch dir yet.
    expect(fs.existsSync(firstDir)).toBe(true);

    // The lease (2s) lapses; the next worker takes the run over and completes it.
    const second = r.spawn(['worker', '-w', 'w', '--batch', '--wait', '3']);
    expect((await waitExit(second, 30_000)).code, second.stderr()).toBe(0);
    expect(fs.existsSync(firstDir)).toBe(false);
    expect(await r.statuses(runId as string)).toEqual(['queued', 'starting', 'running', 'starting', 'running', 'complete']);

    const executions = readExecutions(out).get(runId as string) ?? [];
    expect(executions).toHaveLength(2);
    expect(executions.map((e) => e.ended)).toEqual([false, true]);
    expect(overlaps(readExecutions(out))).toEqual([]);
  }, 60_000);

  it('a guardian killed by someone is replaced, and the replacement still kills the jobs when their worker dies', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-guardian-'));
    const mark = `guardian-${process.pid}-${Date.now()}`;
    // A process that runs one job the way a worker does and reports its guardian's pid as it changes.
    const script = `
      import { runProcess } from ${JSON.stringify(path.resolve(path.dirname(DIST_CLI), '../run/process.js'))};
      import { guardian } from ${JSON.stringify(path.resolve(path.dirname(DIST_CLI), '../run/guardian.js'))};
      void runProcess({ command: 'sh', args: ['-c', 'sleep 300 & sleep 300'], cwd: ${JSON.stringify(dir)},
        env: { ...process.env, MARK: process.env.JOB_MARK },
        stdoutFile: ${JSON.stringify(path.join(dir, 'out'))}, stderrFile: ${JSON.stringify(path.join(dir, 'err'))}, timeout: 600 });
      let last;
      setInterval(() => { if (guardian.pid !== last) console.log('guardian', last = guardian.pid); }, 20);
    `;
    const host = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, JOB_MARK: mark },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    host.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    const guardians = () => [...stdout.matchAll(/^guardian (\d+)$/gm)].map((m) => Number(m[1]));
    try {
      await waitFor(() => guardians().length === 1 && withEnv('MARK', mark).length >= 3, 10_000, 'the job and a guardian');
      const [original] = guardians();
      process.kill(original as number, 'SIGKILL');
      await waitFor(() => guardians().length >= 2 && guardians().at(-1), 5_000, 'a new guardian');
      const replacement = guardians().at(-1) as number;
      expect(replacement).not.toBe(original);
      await new Promise((resolve) => setTimeout(resolve, 100)); // let it read the groups it guards

      host.kill('SIGKILL');
      await waitFor(() => withEnv('MARK', mark).length === 0, 2_000, 'no process of the job to be left').catch(() => {
        throw new Error(`job processes outlived their worker: ${withEnv('MARK', mark).join(' ')}`);
      });
    } finally {
      host.kill('SIGKILL');
      for (const pid of withEnv('MARK', mark)) process.kill(pid, 'SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
