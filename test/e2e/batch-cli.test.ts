/** `lava batch submit/run/status/ls` against an embedded realm, through the built CLI. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, killSpawned, makeCliRealm, tableRows, waitExit, type CliRealm } from './cli-helpers.js';

describe('lava batch', () => {
  let realm: CliRealm;

  beforeAll(async () => {
    ensureBuilt();
    realm = await makeCliRealm({}, 'lava-batch-cli-');
    const spec = realm.write(
      'report.json',
      JSON.stringify({
        job_id: 'report',
        type: 'cmd',
        worker: 'core',
        payload: 'echo hi',
        enabled: true,
        owner: 'o',
        description: 'd',
      }),
    );
    await realm.lavaOk(['job', 'put', spec]);
  }, 120_000);
  afterAll(() => {
    killSpawned();
    realm?.cleanup();
  });

  it('submits from flags, idempotently, and reports status and the list', async () => {
    const args = [
      'batch',
      'submit',
      'report',
      '--period',
      '2026-03-01..2026-03-03',
      '--isolate-days',
      '--attr',
      'region=north,south',
      '--attr',
      'store=s1,s2,s3',
      '--max-per-batch',
      'stores=2',
    ];
    const first = await realm.lavaOk(args);
    const [id, count] = first.stdout.trim().split('\t');
    expect(id).toMatch(/^report-[0-9a-f]{16}$/);
    // 3 days × 2 regions × 2 batches of stores.
    expect(count).toBe('12 tasks');
    const again = await realm.lavaOk(args);
    expect(again.stdout).toBe(`${id}\t12 tasks (already submitted: nothing written)\n`);

    const status = await realm.lavaOk(['batch', 'status', id!]);
    expect(tableRows(status.stdout, 'STATE')).toContainEqual(['pending', '12']);
    expect(status.stdout).toMatch(/^0\/12 done \(0%\)$/m);
    const json = JSON.parse((await realm.lavaOk(['batch', 'status', id!, '--json'])).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ batch_id: id, job_id: 'report', state: 'submitted', task_count: 12, total: 12, done: 0 });
    expect(json.counts).toMatchObject({ pending: 12, complete: 0 });

    const ls = await realm.lavaOk(['batch', 'ls']);
    expect(tableRows(ls.stdout, 'BATCH')).toContainEqual([id, 'report', 'submitted', '12', expect.any(String)]);
  });

  it('takes a business job from a JSON file, with an id', async () => {
    const file = realm.write(
      'weekly.json',
      JSON.stringify({
        job: {
          period: 'previous_week',
          isolate_months: true,
          attrs: [{ name: 'store', plural: 'stores' }],
          values: ['a', 'b'],
          payload: { r: 1 },
        },
        options: { now: '2026-03-04T09:00:00Z', timeZone: 'Europe/London' },
      }),
    );
    const r = await realm.lavaOk(['batch', 'submit', 'report', '--json', file, '--id', 'weekly']);
    expect(r.stdout).toBe('weekly\t2 tasks\n');
    const ls = JSON.parse((await realm.lavaOk(['batch', 'ls', '--json'])).stdout) as { batch_id: string }[];
    expect(ls.map((b) => b.batch_id)).toContain('weekly');
  });

  it('runs a batch under a cap with a worker, and status shows every task complete', async () => {
    await realm.lavaOk(['batch', 'submit', 'report', '--id', 'ran', '--attr', 'store=a,b,c,d,e', '--isolate', 'stores']);
    const worker = realm.spawn(['worker', '-w', 'core', '--wait', '1']);
    try {
      const run = await realm.lavaOk(['batch', 'run', 'ran', '--cap', '2', '--every', '0.1s']);
      expect(run.stdout).toBe('ran\tdone: 5 complete, 0 dead, 0 waiting to retry, 0 pending, 0 in flight\n');
    } finally {
      worker.child.kill('SIGTERM');
      await waitExit(worker, 30_000);
    }
    const status = await realm.lavaOk(['batch', 'status', 'ran']);
    expect(tableRows(status.stdout, 'STATE')).toContainEqual(['complete', '5']);
    expect(status.stdout).toMatch(/^5\/5 done \(100%\)$/m);
    const bad = await realm.lava(['batch', 'run', 'ran', '--cap', '0']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--cap 0/);
  }, 120_000);

  it('refuses an unknown job, a bad period and an unknown batch', async () => {
    const noJob = await realm.lava(['batch', 'submit', 'nope', '--period', 'today']);
    expect(noJob.code).not.toBe(0);
    expect(noJob.stderr).toMatch(/job "nope" not found/);
    const bad = await realm.lava(['batch', 'submit', 'report', '--period', 'someday']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/someday/);
    const missing = await realm.lava(['batch', 'status', 'nope']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/batch "nope" not found/);
  });
});
