/**
 * End-to-end: the landing example of docs/triggers.md (examples/triggers/) with the compiled CLI.
 * `lava up` fires the trigger when a CSV file lands in the watched directory, the job counts its
 * lines, and `lava events` shows the trigger in the queued event; a file the conditions keep out
 * does not fire. `lava triggers` alone stops gracefully on SIGTERM.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { EXAMPLES, ensureBuilt, killSpawned, makeCliRealm, waitExit, waitFor, type CliRealm } from './cli-helpers.js';

let r: CliRealm;
let landing: string;

beforeAll(async () => {
  ensureBuilt();
  r = await makeCliRealm({ LAVA_TRIGGER_SETTLE: '0.3s', LAVA_TRIGGER_SCAN_INTERVAL: '1s' });
  landing = path.join(r.dir, 'landing');
  fs.mkdirSync(path.join(landing, 'in'), { recursive: true });
  // The example as documented, with its directory moved into this test's realm.
  const trigger = fs
    .readFileSync(path.join(EXAMPLES, 'triggers/landing-trigger.yaml'), 'utf8')
    .replaceAll('/tmp/lava-landing', landing);
  await r.lavaOk(['trigger', 'put', r.write('landing-trigger.yaml', trigger)]);
  await r.lavaOk(['job', 'put', path.join(EXAMPLES, 'triggers/landing-job.yaml')]);
}, 300_000);

afterEach(() => killSpawned());
afterAll(() => r?.cleanup());

interface Rec {
  job_id: string;
  run_id: string;
  status: string;
  log: { status: string; info: Record<string, unknown> }[];
}

async function records(): Promise<Rec[]> {
  const res = await r.lavaOk(['events', '--json', '-n', '100']);
  return JSON.parse(res.stdout) as Rec[];
}

it('lava up fires the landing trigger; the job runs; lava events shows the trigger', async () => {
  const up = r.spawn(['up', '-w', 'core', '--no-serve', '-l', 'info']);
  await waitFor(() => /watching directory/.test(up.stderr() + up.stdout()), 30_000, 'the watcher');
  fs.writeFileSync(path.join(landing, 'in', 'notes.txt'), 'not a csv\n');
  fs.writeFileSync(path.join(landing, 'in', 'sales 2026.csv'), 'id,amount\n1,10\n2,20\n');
  const done = await waitFor(
    async () => (await records()).find((x) => x.status === 'complete'),
    30_000,
    'the triggered run to complete',
  );
  expect(done.job_id).toBe('demo/count-lines');
  const queued = done.log.find((e) => e.status === 'queued')?.info;
  expect(queued?.trigger).toEqual({
    trigger_id: 'demo/landing-csv',
    bucket: landing,
    key: 'in/sales 2026.csv',
    event_type: 'ObjectCreated:Put',
  });
  expect(queued?.globals).toMatchObject({ file: path.join(landing, 'in', 'sales 2026.csv') });
  const out = await r.lavaOk(['output', done.run_id]);
  expect(out.stdout).toContain(`3 ${path.join(landing, 'in', 'sales 2026.csv')}`);
  // The table shows it too.
  const table = await r.lavaOk(['events', '--run', done.run_id]);
  expect(table.stdout).toContain('demo/landing-csv');
  expect((await records()).length).toBe(1);
  up.child.kill('SIGTERM');
  expect((await waitExit(up, 30_000)).code).toBe(0);
}, 90_000);

it('lava triggers runs alone and stops on SIGTERM', async () => {
  const p = r.spawn(['triggers', '-l', 'info']);
  await waitFor(() => /watching directory/.test(p.stderr() + p.stdout()), 30_000, 'the watcher');
  p.child.kill('SIGTERM');
  expect((await waitExit(p, 15_000)).code).toBe(0);
}, 60_000);
