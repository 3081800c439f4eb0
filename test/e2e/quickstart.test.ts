/** End-to-end: `lava quickstart` builds a demo realm from examples/, runs every demo job, shows events. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UUID_RE, cleanEnv, ensureBuilt, lava, tableRows, type LavaResult } from './cli-helpers.js';

describe('lava quickstart', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let qs: LavaResult;
  /** job id → its statuses in table order; job id → run id. */
  const statuses = new Map<string, string[]>();
  const runOf = new Map<string, string>();

  beforeAll(async () => {
    ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-e2e-qs-'));
    env = cleanEnv({ LAVA_TMPDIR: path.join(dir, 'scratch') });
    qs = await lava(['quickstart', '--dir', dir], { env, cwd: dir, timeout: 60_000 });
    for (const row of tableRows(qs.stdout, 'TS_EVENT')) {
      const [, jobId, runId, status] = row;
      if (!jobId || !runId || !status) continue;
      statuses.set(jobId, [...(statuses.get(jobId) ?? []), status]);
      runOf.set(jobId, runId);
    }
  }, 120_000);

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 and says where the realm is', () => {
    expect(qs.code, qs.stderr).toBe(0);
    expect(qs.stdout).toMatch(new RegExp(`^realm "quickstart" in ${escape(dir)}, with 6 example jobs`, 'm'));
    expect(qs.stdout).toMatch(/^dispatched 6 runs/m);
    expect(qs.stdout).toContain(`export LAVA_BACKEND=sqlite:${path.join(dir, 'lava.db')}`);
  });

  it('shows every demo job with one run id and the expected statuses', () => {
    expect([...statuses.keys()].sort()).toEqual([
      'demo/flaky',
      'demo/hello',
      'demo/log',
      'demo/off',
      'demo/package',
      'demo/report',
    ]);
    for (const runId of runOf.values()) expect(runId).toMatch(UUID_RE);
    expect(new Set(runOf.values()).size).toBe(6);

    expect(statuses.get('demo/hello')).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(statuses.get('demo/flaky')).toEqual(['queued', 'starting', 'running', 'retrying', 'running', 'failed']);
    expect(statuses.get('demo/off')).toEqual(['queued', 'skipped']);
    expect(statuses.get('demo/report')).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(statuses.get('demo/package')).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(statuses.get('demo/log')).toEqual(['queued', 'starting', 'running', 'complete']);

    // The flaky job's failure reason is in the INFO column.
    const flakyRows = tableRows(qs.stdout, 'TS_EVENT').filter((r) => r[1] === 'demo/flaky' && r[3] === 'failed');
    expect(flakyRows[0]?.[4]).toMatch(/error: Failed with exit status 3/);
    // The hint names demo/hello's run.
    expect(qs.stdout).toContain(`lava output ${runOf.get('demo/hello')}`);
  });

  it('lava output shows what demo/report, demo/package and demo/hello printed', async () => {
    const backendLine = /export LAVA_BACKEND=(\S+)/.exec(qs.stdout);
    expect(backendLine).not.toBeNull();
    const withEnv = { ...env, LAVA_BACKEND: backendLine?.[1] };
    const reportRun = runOf.get('demo/report') as string;
    const report = await lava(['output', reportRun], { env: withEnv, cwd: dir });
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(
      new RegExp(`^report --title Daily \\d{4}-\\d{2}-\\d{2} for job demo/report run ${reportRun}$`, 'm'),
    );
    expect(report.stdout).toMatch(/^owner: demo@example\.com; scratch: /m);

    // --backend works as well as LAVA_BACKEND.
    const pkg = await lava(['--backend', `sqlite:${path.join(dir, 'lava.db')}`, 'output', runOf.get('demo/package') as string], {
      env,
      cwd: dir,
    });
    expect(pkg.code, pkg.stderr).toBe(0);
    expect(pkg.stdout).toMatch(/^hello world from .+ with files: data\.txt$/m);

    const hello = await lava(['output', runOf.get('demo/hello') as string], { env: withEnv, cwd: dir });
    expect(hello.stdout).toBe('hello from demo/hello in realm quickstart\n');

    const flakyErr = await lava(['output', runOf.get('demo/flaky') as string, 'stderr'], { env: withEnv, cwd: dir });
    // It prints what the failed run wrote, then says on stderr that it failed (exit status 1).
    expect(flakyErr.code).toBe(1);
    expect(flakyErr.stdout).toContain('disk full (not really)');
    expect(flakyErr.stderr).toMatch(/of demo\/flaky ended failed: Failed with exit status 3: disk full \(not really\)/);
  });

  it('events --json of the realm agree with the table', async () => {
    const withEnv = { ...env, LAVA_BACKEND: `sqlite:${path.join(dir, 'lava.db')}` };
    const res = await lava(['events', 'demo/flaky', '--json'], { env: withEnv, cwd: dir });
    expect(res.code, res.stderr).toBe(0);
    const records = JSON.parse(res.stdout) as { run_id: string; status: string; log: { status: string; info: unknown }[] }[];
    expect(records).toHaveLength(1);
    expect(records[0]?.run_id).toBe(runOf.get('demo/flaky'));
    expect(records[0]?.status).toBe('failed');
    expect(records[0]?.log.map((e) => e.status)).toEqual(statuses.get('demo/flaky'));
    const failed = records[0]?.log.at(-1)?.info as { error?: string; error_data?: { exit_status?: number; error?: string } };
    expect(failed.error_data?.exit_status).toBe(3);
    expect(failed.error).toBe('Failed with exit status 3');
    expect(failed.error_data?.error).toContain('disk full (not really)');
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
