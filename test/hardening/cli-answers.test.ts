/**
 * Answers a user can act on, through the real `lava` command: a failed run's output says where the
 * error is, `lava events` refuses a bad status or job id, a closed pipe ends quietly, `lava ps` shows
 * this backend's workers only, `lava worker --batch --exit-code` fails a CI step, and a state TTL
 * over the limit is refused.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openState } from '../../src/state/api.js';
import {
  LAVA_BIN,
  cleanEnv,
  killSpawned,
  makeCliRealm,
  runIds,
  waitFor,
  type CliRealm,
  type LavaProcess,
} from '../e2e/cli-helpers.js';

const NO_STACK = /^\s+at /m;

function spec(jobId: string, payload: string): string {
  return JSON.stringify({ job_id: jobId, type: 'cmd', worker: 'w', enabled: true, owner: 'o', description: 'd', payload });
}

describe('one realm', () => {
  let r: CliRealm;
  beforeAll(async () => {
    r = await makeCliRealm({}, 'lava-answers-');
    r.write('jobs/ok.json', spec('a/ok', 'echo fine'));
    r.write('jobs/partial.json', spec('a/partial', "sh -c 'echo partial; echo broken >&2; exit 3'"));
    r.write('jobs/silent.json', spec('a/silent', 'false'));
    r.write('jobs/gone.json', spec('a/gone', 'echo bye'));
    for (const f of ['ok', 'partial', 'silent', 'gone']) await r.lavaOk(['job', 'put', path.join(r.dir, `jobs/${f}.json`)]);
  });
  afterAll(() => r.cleanup());

  describe('lava worker --batch --exit-code', () => {
    it('exits 0 when every run succeeded, and 1 naming the count when one failed (0 without the option)', async () => {
      await r.lavaOk(['dispatch', 'a/ok']);
      const clean = await r.lava(['worker', '-w', 'w', '--batch', '--exit-code']);
      expect(clean.code).toBe(0);

      await r.lavaOk(['dispatch', 'a/silent', 'a/ok']);
      const failing = await r.lava(['worker', '-w', 'w', '--batch', '--exit-code']);
      expect(failing.code).toBe(1);
      expect(failing.stderr).toContain('lava: runs that did not succeed: 1 failed');

      await r.lavaOk(['dispatch', 'a/silent']);
      expect((await r.lava(['worker', '-w', 'w', '--batch'])).code).toBe(0);
    });

    it('counts a discarded message (a job of another worker)', async () => {
      await r.lavaOk(['dispatch', 'a/ok', '-w', 'other']);
      const res = await r.lava(['worker', '-w', 'other', '--batch', '--exit-code']);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain('1 discarded');
    });
  });

  describe('lava output', () => {
    it('prints what a failed run wrote, then says on stderr that it failed and why, and exits 1', async () => {
      const [runId] = runIds((await r.lavaOk(['dispatch', 'a/partial'])).stdout);
      await r.lavaOk(['worker', '-w', 'w', '--batch']);
      const res = await r.lava(['output', runId!]);
      expect(res.code).toBe(1);
      expect(res.stdout).toBe('partial\n');
      expect(res.stderr).toMatch(new RegExp(`run ${runId} of a/partial ended failed: Failed with exit status 3: broken`));
      expect(res.stderr).toContain(`lava events --run ${runId} --json`);
      expect(res.stderr).not.toMatch(NO_STACK);
    });

    it('a failed run that printed nothing is not silent', async () => {
      const [runId] = runIds((await r.lavaOk(['dispatch', 'a/silent'])).stdout);
      await r.lavaOk(['worker', '-w', 'w', '--batch']);
      const res = await r.lava(['output', runId!]);
      expect(res.code).toBe(1);
      expect(res.stdout).toBe('');
      expect(res.stderr).toMatch(/ended failed: Failed with exit status 1$/m);
    });

    it('a complete run prints its output and exits 0 with nothing on stderr', async () => {
      const [runId] = runIds((await r.lavaOk(['dispatch', 'a/ok'])).stdout);
      await r.lavaOk(['worker', '-w', 'w', '--batch']);
      const res = await r.lava(['output', runId!]);
      expect(res).toEqual({ code: 0, stdout: 'fine\n', stderr: '' });
    });
  });

  describe('lava events', () => {
    it('refuses an unknown --status, listing the valid ones', async () => {
      const res = await r.lava(['events', '--status', 'bogus']);
      expect(res.code).toBe(1);
      expect(res.stdout).toBe('');
      expect(res.stderr).toContain('--status "bogus" is not a run status: use one of queued, skipped, starting, rejected');
      expect(res.stderr).toContain('complete, action_failed, discarded, interrupted');
      expect((await r.lava(['events', '--status', 'failed'])).code).toBe(0);
    });

    it('says a job with no events and no spec does not exist; a deleted job still shows its events', async () => {
      const missing = await r.lava(['events', 'no/such/job']);
      expect(missing.code).toBe(1);
      expect(missing.stdout).toBe('');
      expect(missing.stderr).toMatch(/job "no\/such\/job" not found: there is no such job in realm "default"/);

      // A job that exists but has not run: an empty table, as before.
      const quiet = await r.lava(['events', 'a/gone']);
      expect(quiet.code).toBe(0);
      expect(quiet.stdout.trim()).toMatch(/^TS_EVENT\s+JOB_ID/);

      const [runId] = runIds((await r.lavaOk(['dispatch', 'a/gone'])).stdout);
      await r.lavaOk(['worker', '-w', 'w', '--batch']);
      await r.lavaOk(['job', 'rm', 'a/gone']);
      const gone = await r.lava(['events', 'a/gone']);
      expect(gone.code).toBe(0);
      expect(gone.stdout).toMatch(new RegExp(`a/gone\\s+${runId}\\s+complete`));
    });
  });

  describe('state TTL over STATE_MAX_TTL', () => {
    it('lava state put refuses it, naming the limit and the key', async () => {
      const res = await r.lava(['state', 'put', 'long/ttl', '-v', '1', '--ttl', '400d']);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain('ttl "400d" is longer than STATE_MAX_TTL (366d)');
      expect(res.stderr).toContain("raise STATE_MAX_TTL in the realm's config");
      expect((await r.lava(['state', 'get', 'long/ttl'])).code).not.toBe(0);
      // A realm that allows more takes it.
      await r.lavaOk(['state', 'put', 'long/ttl', '-v', '1', '--ttl', '400d'], { LAVA_STATE_MAX_TTL: '500d' });
    });

    it('so does the state API', async () => {
      const state = await openState({ env: r.env });
      try {
        await expect(state.put('api/ttl', 1, { ttl: '367d' })).rejects.toThrow(/longer than STATE_MAX_TTL \(366d\)/);
        await expect(state.put('api/ttl', 1, { ttl: '366d' })).resolves.toBeTruthy();
      } finally {
        await state.close();
      }
    });
  });
});

describe('a reader that closes the pipe early', () => {
  it.each([['schema'], ['--help'], ['events', '--help']])(
    'lava %s ends quietly with status 0, not an EPIPE trace',
    async (...args) => {
      for (let i = 0; i < 3; i++) {
        const child = spawn(process.execPath, [LAVA_BIN, ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
        // Close our end before it writes: every write of the child meets a closed pipe.
        child.stdout.destroy();
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
        const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
        expect(stderr).not.toMatch(/EPIPE/);
        expect(stderr).not.toMatch(NO_STACK);
        expect(code).toBe(0);
      }
    },
  );
});

describe('lava ps', () => {
  const realms: CliRealm[] = [];
  afterEach(() => {
    killSpawned();
    for (const x of realms.splice(0)) x.cleanup();
  });

  it('--workers lists only the workers of this backend (and --realm), though they share TMPDIR and realm name', async () => {
    const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-ps-shared-'));
    const a = await makeCliRealm({ LAVA_TMPDIR: shared }, 'lava-ps-a-');
    const b = await makeCliRealm({ LAVA_TMPDIR: shared }, 'lava-ps-b-');
    realms.push(a, b);
    const workers: LavaProcess[] = [a.spawn(['worker', '-w', 'w', '--wait', '1']), b.spawn(['worker', '-w', 'w', '--wait', '1'])];
    const pids = workers.map((w) => w.pid);
    const psJson = async (x: CliRealm, more: string[] = [], env: NodeJS.ProcessEnv = {}) =>
      (JSON.parse((await x.lavaOk(['ps', '--workers', '--json', ...more], env)).stdout) as { pid: number }[]).map((w) => w.pid);
    // Both are up (the unfiltered view shows both).
    await waitFor(async () => (await psJson(a, ['--all'])).filter((p) => pids.includes(p)).length === 2, 20_000, 'two workers');
    expect(await psJson(a)).toEqual([pids[0]]);
    expect(await psJson(b)).toEqual([pids[1]]);
    expect(await psJson(a, [], { LAVA_REALM: 'other' })).toEqual([]);
    expect(await psJson(a, [], { LAVA_REALM: 'default' })).toEqual([pids[0]]);
    const table = (await a.lavaOk(['ps', '--workers'])).stdout;
    expect(table).toContain(String(pids[0]));
    expect(table).not.toContain(String(pids[1]));
    fs.rmSync(shared, { recursive: true, force: true });
  }, 60_000);
});
