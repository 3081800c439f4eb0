/**
 * End-to-end: `lava dispatch` warns when no live worker serves the job's fleet, `lava run stop`
 * stops a running `sleep 30` in a real `lava worker` process, and the worker logs each run's start
 * and end.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, killSpawned, makeCliRealm, runIds, waitExit, waitFor, type CliRealm } from './cli-helpers.js';

const realms: CliRealm[] = [];

async function realm(): Promise<CliRealm> {
  const r = await makeCliRealm({ LAVA_DIRECTORY_BEAT: '1s', LAVA_SHUTDOWN_GRACE: '1s' }, 'lava-e2e-dir-');
  realms.push(r);
  return r;
}

beforeAll(() => ensureBuilt());
afterEach(() => killSpawned());
afterAll(() => {
  for (const r of realms) r.cleanup();
});

const JOB = `job_id: sleeper
type: cmd
worker: core
enabled: true
payload: sleep 30
`;

describe('the directory from the command line', () => {
  it('lava dispatch warns when no live worker serves the fleet, and not once one beats', async () => {
    const r = await realm();
    await r.lavaOk(['job', 'put', r.write('sleeper.yaml', JOB)]);
    const alone = await r.lavaOk(['dispatch', 'sleeper']);
    expect(alone.stderr).toBe(
      'warning: no live worker serves "core" in realm default; the run waits in the queue until one starts (lava worker -w core)\n',
    );
    expect(runIds(alone.stdout)).toHaveLength(1);
    const other = await r.lavaOk(['dispatch', '-w', 'elsewhere', 'sleeper']);
    expect(other.stderr).toContain('no live worker serves "elsewhere"');

    const worker = r.spawn(['worker', '-w', 'core'], { LAVA_LOGLEVEL: 'info' });
    await waitFor(() => worker.stderr().includes('worker started'), 10_000, 'the worker to start');
    const served = await r.lavaOk(['dispatch', 'sleeper']);
    expect(served.stderr).toBe('');
    worker.child.kill('SIGTERM');
    await waitExit(worker, 15_000);
  });

  it('lava run stop stops a running sleep 30 within seconds; the worker logs run started and run ended', async () => {
    const r = await realm();
    await r.lavaOk(['job', 'put', r.write('sleeper.yaml', JOB)]);
    const worker = r.spawn(['worker', '-w', 'core'], { LAVA_LOGLEVEL: 'info' });
    const [runId] = runIds((await r.lavaOk(['dispatch', 'sleeper'])).stdout);
    await waitFor(async () => (await r.statuses(runId!)).includes('running'), 15_000, 'the run to start');
    const asked = Date.now();
    const stop = await r.lavaOk(['run', 'stop', runId!]);
    expect(stop.stdout).toContain(`stop requested for run ${runId} of sleeper (now running) in realm default`);
    const statuses = await waitFor(
      async () => {
        const s = await r.statuses(runId!);
        return s.at(-1) === 'failed' ? s : undefined;
      },
      10_000,
      'the run to fail',
    );
    expect(Date.now() - asked).toBeLessThan(6000);
    expect(statuses).toEqual(['queued', 'starting', 'running', 'failed']);
    const [rec] = await r.events(runId!);
    expect((rec!.log.at(-1)!.info as { error: string }).error).toBe('Stopped on request');

    // Stopping an ended run records nothing and says so.
    const again = await r.lava(['run', 'stop', runId!]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already ended (failed): nothing to stop');

    await waitFor(() => worker.stderr().includes('"msg":"run ended"'), 5000, 'the run ended line');
    const lines = worker
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.msg === 'run started')).toMatchObject({ job_id: 'sleeper', run_id: runId, type: 'cmd' });
    expect(lines.find((l) => l.msg === 'run ended')).toMatchObject({ job_id: 'sleeper', run_id: runId, status: 'failed' });
    worker.child.kill('SIGTERM');
    await waitExit(worker, 15_000);
  });

  it('lava run stop before the run starts: a delayed run never runs', async () => {
    const r = await realm();
    await r.lavaOk(['job', 'put', r.write('sleeper.yaml', JOB)]);
    const [runId] = runIds((await r.lavaOk(['dispatch', '-d', '2s', 'sleeper'])).stdout);
    const stop = await r.lavaOk(['run', 'stop', runId!]);
    expect(stop.stdout).toContain('(now queued)');
    const worker = r.spawn(['worker', '-w', 'core']);
    const statuses = await waitFor(
      async () => {
        const s = await r.statuses(runId!);
        return s.at(-1) === 'failed' ? s : undefined;
      },
      15_000,
      'the run to fail',
    );
    expect(statuses).toEqual(['queued', 'failed']);
    const [rec] = await r.events(runId!);
    expect(rec!.log.at(-1)!.info).toEqual({ error: 'Stopped on request before it started', error_data: null });
    worker.child.kill('SIGTERM');
    await waitExit(worker, 15_000);
  });
});
