/**
 * `lava queue` and `lava runs`, end to end: the compiled command against an embedded realm, with
 * runs waiting in a queue, a live worker in the realm's directory, then runs done by `lava worker --batch`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBackend } from '../../src/backends/index.js';
import { ensureBuilt, killSpawned, makeCliRealm, runIds, tableRows, waitExit, waitFor, type CliRealm } from './cli-helpers.js';

let r: CliRealm;
let realm: string;
const ids: Record<string, string> = {};

beforeAll(async () => {
  ensureBuilt();
  r = await makeCliRealm();
  const jobs = r.write(
    'jobs.yaml',
    `- job_id: t/ok
  type: cmd
  worker: core
  owner: tests
  enabled: true
  description: a test job
  payload: sh -c 'echo hi'
- job_id: t/bad
  type: cmd
  worker: core
  owner: tests
  enabled: true
  description: a test job
  payload: sh -c 'exit 4'
- job_id: t/other
  type: log
  worker: etl
  owner: tests
  enabled: true
  description: a test job
  payload: null
`,
  );
  await r.lavaOk(['job', 'put', jobs]);
  const backend = await openBackend(r.backendUrl);
  try {
    realm = (await backend.config.listRealms())[0]!.realm;
  } finally {
    await backend.close();
  }
});

afterAll(() => {
  killSpawned();
  r.cleanup();
});

describe('lava queue', () => {
  it('counts waiting and delayed runs per fleet, with the live workers from the directory', async () => {
    ids.ok = runIds((await r.lavaOk(['dispatch', 't/ok'])).stdout)[0]!;
    ids.bad = runIds((await r.lavaOk(['dispatch', 't/bad'])).stdout)[0]!;
    await r.lavaOk(['dispatch', '--delay', '10m', 't/other']);
    const backend = await openBackend(r.backendUrl);
    try {
      await backend.directory.put(realm, {
        kind: 'worker',
        id: 'host-1:123:core',
        data: { worker: 'core', host: 'host-1', pid: 123, started: new Date().toISOString(), threads: 4, busy: 1, runs: [] },
        ttlSeconds: 60,
      });
    } finally {
      await backend.close();
    }
    await new Promise((res) => setTimeout(res, 1100)); // the oldest message is at least a second old
    const out = (await r.lavaOk(['queue'])).stdout;
    expect(out.split('\n')[0]).toMatch(/^WORKER\s+QUEUED\s+DELAYED\s+IN_FLIGHT\s+OLDEST\s+WORKERS\s+SLOTS\s+BUSY$/);
    const rows = tableRows(out, 'WORKER');
    expect(rows).toHaveLength(2);
    const [core, etl] = rows;
    expect(core).toEqual(['core', '2', '0', '0', expect.stringMatching(/^\d+s$/), '1', '4', '1']);
    expect(etl).toEqual(['etl', '0', '1', '0', expect.stringMatching(/^\d+s$/), '0', '0', '0']);

    const json = JSON.parse((await r.lavaOk(['queue', '--json'])).stdout) as Record<string, unknown>[];
    expect(json.find((q) => q.worker === 'core')).toMatchObject({ visible: 2, delayed: 0, workers: 1, slots: 4, busy: 1 });
  });
});

describe('lava runs', () => {
  beforeAll(async () => {
    // One at a time, so t/ok (dispatched first) ends first and t/bad is the newest run.
    await r.lavaOk(['worker', '-w', 'core', '--batch', '--threads', '1']);
  });

  it('lists runs newest first with status, local start time, duration and worker', async () => {
    const out = (await r.lavaOk(['runs'])).stdout;
    expect(out.split('\n')[0]).toMatch(/^RUN_ID\s+JOB_ID\s+STATUS\s+STARTED\s+DURATION\s+WORKER$/);
    const rows = tableRows(out, 'RUN_ID');
    // t/other waits in the etl queue (delayed, no etl worker): listed as queued, not started.
    expect(rows.map((row) => row.slice(0, 3))).toEqual([
      [ids.bad, 't/bad', 'failed'],
      [ids.ok, 't/ok', 'complete'],
      [expect.any(String), 't/other', 'queued'],
    ]);
    expect(rows[2]!.slice(3)).toEqual(['-', '-', 'etl']);
    for (const row of rows.slice(0, 2)) {
      expect(row[3]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      expect(row[4]).toMatch(/^\d+\.\ds$/);
      expect(row[5]).toBe('core');
    }
  });

  it('filters by job, status and period, limits, and prints JSON', async () => {
    const runIdsOf = async (args: string[]) => tableRows((await r.lavaOk(['runs', ...args])).stdout, 'RUN_ID').map((x) => x[0]);
    expect(await runIdsOf(['--job', 't/ok'])).toEqual([ids.ok]);
    expect(await runIdsOf(['--status', 'failed'])).toEqual([ids.bad]);
    expect(await runIdsOf(['-n', '1'])).toEqual([ids.bad]);
    expect((await runIdsOf(['--since', '1h'])).slice(0, 2)).toEqual([ids.bad, ids.ok]);
    const json = JSON.parse((await r.lavaOk(['runs', '--json', '--job', 't/bad'])).stdout) as Record<string, unknown>[];
    expect(json).toEqual([
      expect.objectContaining({
        run_id: ids.bad,
        job_id: 't/bad',
        status: 'failed',
        worker: 'core',
        duration: expect.any(Number),
      }),
    ]);
  });

  it('refuses a status that is not one, a bad duration and a bad limit', async () => {
    const bad = await r.lava(['runs', '--status', 'done']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--status "done" is not a run status: use one of queued, starting');
    expect((await r.lava(['runs', '--since', 'soon'])).stderr).toContain('--since: bad duration');
    expect((await r.lava(['runs', '-n', '0'])).stderr).toContain('--limit "0"');
  });

  it('--watch redraws every second until interrupted', async () => {
    const p = r.spawn(['runs', '--watch', '--job', 't/ok']);
    await waitFor(() => (p.stdout().match(/^RUN_ID/gm) ?? []).length >= 2, 10_000, 'two snapshots');
    p.child.kill('SIGINT');
    expect(await waitExit(p, 5_000)).toEqual({ code: 0, signal: null });
    expect(p.stdout()).toContain(ids.ok);
  });
});
