/**
 * `lava up` starts the HTTP server beside its worker: the API sees the live worker, a run
 * dispatched over the API is run by that worker, and SIGTERM stops both; `--no-serve` starts none.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { killSpawned, makeCliRealm, waitExit, waitFor, type CliRealm } from './cli-helpers.js';

let realm: CliRealm;

beforeAll(async () => {
  realm = await makeCliRealm({ LAVA_DIRECTORY_BEAT: '1s' });
  realm.write(
    'jobs.yaml',
    '- {job_id: up/hello, type: cmd, worker: core, enabled: true, payload: "sh -c \'echo up and serving\'"}\n',
  );
  await realm.lavaOk(['job', 'put', 'jobs.yaml']);
}, 60_000);

afterAll(() => {
  killSpawned();
  realm?.cleanup();
});

it('serves the API beside its worker, and stops both on SIGTERM', async () => {
  const up = realm.spawn(['up', '-w', 'core', '--port', '0']);
  const base = await waitFor(() => /serving realm \S+ at (\S+)/.exec(up.stdout())?.[1], 30_000, 'lava up to serve');
  const workers = await waitFor(
    async () => {
      const body = (await (await fetch(`${base}api/workers`)).json()) as { workers: { worker: string }[] };
      return body.workers.length ? body.workers : undefined;
    },
    15_000,
    'the worker in /api/workers',
  );
  expect(workers.map((w) => w.worker)).toEqual(['core']);
  const res = await fetch(`${base}api/dispatch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ job_id: 'up/hello' }),
  });
  const { run_id: runId, warning } = (await res.json()) as { run_id: string; warning?: string };
  expect(warning).toBeUndefined();
  await waitFor(
    async () =>
      ((await (await fetch(`${base}api/runs/${runId}`)).json()) as { run: { status: string } }).run.status === 'complete',
    30_000,
    'the run to complete',
  );
  up.child.kill('SIGTERM');
  expect((await waitExit(up, 30_000)).code).toBe(0);
  await expect(fetch(`${base}healthz`)).rejects.toThrow();
}, 90_000);

it('starts no server with --no-serve', async () => {
  const up = realm.spawn(['up', '-w', 'core', '--no-serve', '-l', 'info']);
  await waitFor(() => /worker started/.test(up.stderr()) || /worker started/.test(up.stdout()), 30_000, 'the worker to start');
  expect(up.stdout()).not.toMatch(/serving realm/);
  up.child.kill('SIGTERM');
  expect((await waitExit(up, 30_000)).code).toBe(0);
}, 60_000);
