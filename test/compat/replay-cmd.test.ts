/**
 * Replays of the upstream user guide's `cmd` examples (test/fixtures/upstream-guide/cmd.yaml) on the
 * embedded backend: each spec is stored unchanged and run by a worker with the spec's own worker
 * name. What the guide says each one does is in test/fixtures/upstream-guide/behaviour.md.
 *
 * Programs the examples call that cannot run here are replaced by stand-ins placed first on the
 * worker's PATH (the worker passes its environment to jobs), from
 * test/fixtures/upstream-guide/payloads/stand-ins/:
 * - `aws`: AWS cannot be reached from this machine; the stand-in prints its argv (one per line),
 *   and `aws s3 cp s3://B/K -` prints a local file standing in for the object.
 * - `lava-backup`, `lava-sql`: not built here (and they need DynamoDB or a database); they print
 *   their argv (lava-sql also its stdin).
 * - `lava-state`: upstream's program name for our `lava state` (docs/cli/state.md); the shim runs
 *   `node bin/lava.js state …`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureBuilt, LAVA_BIN } from '../e2e/cli-helpers.js';
import { makeRealm, type TestRealm } from '../helpers.js';
import { GUIDE, example } from './guide.js';

const STAND_INS = path.join(GUIDE, 'payloads', 'stand-ins');

let t: TestRealm;
let binDir: string;
let fakeS3: string;
const savedEnv = { ...process.env };

beforeAll(() => {
  ensureBuilt(); // the lava-state shim runs the compiled CLI
  binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-replay-bin-'));
  for (const name of ['aws', 'lava-backup', 'lava-sql']) {
    fs.copyFileSync(path.join(STAND_INS, name), path.join(binDir, name));
    fs.chmodSync(path.join(binDir, name), 0o755);
  }
  fs.writeFileSync(
    path.join(binDir, 'lava-state'),
    `#!/bin/sh\n# upstream's lava-state is our \`lava state\`\nexec '${process.execPath}' '${LAVA_BIN}' state "$@"\n`,
    { mode: 0o755 },
  );
  fakeS3 = path.join(binDir, 's3');
  process.env.PATH = `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`;
  process.env.REPLAY_FAKE_S3 = fakeS3;
});
afterAll(() => {
  process.env = savedEnv;
  fs.rmSync(binDir, { recursive: true, force: true });
});
beforeEach(async () => {
  t = await makeRealm();
});
afterEach(async () => {
  delete process.env.REPLAY_TRACE;
  await t.close();
});

interface Replay {
  runId: string;
  statuses: string[];
  info: Record<string, unknown>;
  stdout: string;
}

/** Store the spec, dispatch it, drain a worker with the spec's own worker name. */
async function replay(spec: Record<string, unknown>, req: Record<string, unknown> = {}): Promise<Replay> {
  await t.putJob(spec);
  const jobId = String(spec.job_id);
  const runId = await t.dispatch(jobId, req);
  await t.drain({ worker: String(spec.worker) });
  const rec = await t.backend.events.get('test', jobId, runId);
  const statuses = rec?.log.map((e) => e.status) ?? [];
  const info = (rec?.log.at(-1)?.info ?? {}) as Record<string, unknown>;
  const out = (info.output as { stdout?: string }[] | undefined)?.[0]?.stdout;
  return { runId, statuses, info, stdout: out ? fs.readFileSync(fileURLToPath(out), 'utf8') : '' };
}

function lines(text: string): string[] {
  return text.replace(/\n$/, '').split('\n');
}

describe('cmd.yaml replays (upstream guide, JT/cmd.md and others)', () => {
  it('#1 demo/list_s3 runs `aws s3 ls <realm.s3_payloads>/ --recursive` with the realm rendered, stdin /dev/null, the LAVA_* env and stdout under <s3_temp>/<job_id>/<run_id>/stdout', async () => {
    const spec = example('cmd', 1);
    const trace = path.join(t.dir, 'aws-trace');
    process.env.REPLAY_TRACE = trace;
    const r = await replay(spec);
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    // `aws` is a stand-in (AWS cannot be reached here): it prints the argv Lava gave it.
    expect(lines(r.stdout)).toEqual(['s3', 'ls', `${t.realm.s3_payloads}/`, '--recursive']);
    expect((r.info.output as { stdout: string }[])[0]?.stdout).toBe(`${t.realm.s3_temp}/demo/list_s3/${r.runId}/stdout`);
    const seen = lines(fs.readFileSync(trace, 'utf8'));
    expect(seen).toEqual(
      expect.arrayContaining([
        'LAVA_JOB_ID=demo/list_s3',
        'LAVA_OWNER=demo@somewhere.com',
        'LAVA_REALM=test',
        `LAVA_RUN_ID=${r.runId}`,
        `LAVA_S3_KEY=${t.realm.s3_key ?? ''}`,
        `LAVA_S3_TMP=${t.realm.s3_temp}/demo/list_s3/${r.runId}`,
        'LAVA_WORKER=default',
        'stdin=/dev/null',
      ]),
    );
    // The cwd is the run's own scratch directory under the worker's TMPDIR.
    const cwd = seen.find((l) => l.startsWith('cwd='))!.slice(4);
    expect(cwd).toBe(path.join(fs.realpathSync(t.tmpRoot), 'test', `default.${process.pid}`, r.runId));
  });

  it('#2 demo/list_s3 "does the same thing": args ["--recursive"] is appended, so the argv is the same as #1', async () => {
    const one = await replay(example('cmd', 1));
    const two = await replay(example('cmd', 2));
    expect(two.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(two.stdout).toBe(one.stdout);
    expect(lines(two.stdout)).toEqual(['s3', 'ls', `${t.realm.s3_payloads}/`, '--recursive']);
  });

  it('#3 demo/line-counter counts the lines of s3://{{globals.bucket}}/{{globals.key}} and stores them with `lava-state put sid -p lines=<n>`', async () => {
    // The s3trigger that provides bucket and key is stood in for by the dispatch's globals, and
    // the S3 object by a local file the `aws` stand-in prints (AWS cannot be reached here).
    fs.mkdirSync(path.join(fakeS3, 'my-bucket', 'in'), { recursive: true });
    fs.writeFileSync(
      path.join(fakeS3, 'my-bucket', 'in', 'data.csv'),
      Array.from({ length: 45 }, (_, i) => `row ${i}\n`).join(''),
    );
    const r = await replay(example('cmd', 3), { globals: { bucket: 'my-bucket', key: 'in/data.csv' } });
    expect(r.statuses, JSON.stringify(r.info)).toEqual(['queued', 'starting', 'running', 'complete']);
    // The guide's resulting item (09-State-Mgr/04-example.md lines 31-41). Its value text is Python's
    // json.dumps form, {"lines": "45"}; ours is the same JSON without the spaces, so compare parsed.
    const item = await t.backend.state.get('test', 'sid');
    expect(item).toMatchObject({ state_id: 'sid', type: 'json', publisher: 'demo/line-counter' });
    expect(JSON.parse(String(item?.value))).toEqual({ lines: '45' });
  });

  it('#4 demo/line-reporter prints "The file contained {{state.sid}} lines" from the state table, or the declared default', async () => {
    const spec = example('cmd', 4);
    // MISMATCH: upstream never validates `schedule` when dispatching or running (only lavasched reads it), so this job runs; our dispatch (and worker intake) refuse it: schedule "..." is not a cron line.
    const noState = await replay(spec);
    expect(noState.statuses, JSON.stringify(noState.info)).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(noState.stdout).toBe('The file contained -- default value to be replaced at run-time -- lines\n');

    await t.backend.state.put('test', {
      state_id: 'sid',
      type: 'json',
      value: '{"lines": "45"}',
      timestamp: new Date().toISOString(),
      ttl: Math.floor(Date.now() / 1000) + 3600,
      publisher: 'demo/line-counter',
    });
    const withState = await replay(spec);
    // A json value renders as Python Jinja renders a dict.
    expect(withState.stdout).toBe("The file contained {'lines': '45'} lines\n");
  });

  it('#5 lava/admin/secupdate/<REALM> renders the 11-element `aws ssm send-command` argv, with {{(vars.wait_mins+15)*60}} → 4500', async () => {
    const r = await replay(example('cmd', 5));
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    // `aws` is a stand-in (AWS cannot be reached here): it prints the argv Lava gave it.
    expect(lines(r.stdout)).toEqual([
      'ssm',
      'send-command',
      '--document-name',
      'lava-SecurityUpdate',
      '--targets',
      '[{"Key":"tag:LavaRealm","Values":["dev"]}]',
      '--parameters',
      '{"Wait":["60m"],"MinUpDays":["7"],"ExecutionTimeout":["4500"]}',
      '--cloud-watch-output-config',
      '{"CloudWatchOutputEnabled":true,"CloudWatchLogGroupName":"lava"}',
    ]);
  });

  it("#6 lava/dynamo-backup runs `lava-backup <realm> <s3_temp>/lava/dynamo-backup/<UTC start date>.zip` (ustart.strftime('%Y-%m-%d'))", async () => {
    const r = await replay(example('cmd', 6));
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    const rec = await t.backend.events.get('test', 'lava/dynamo-backup', r.runId);
    const utcDate = rec!.log.find((e) => e.status === 'starting')!.tu_event.slice(0, 10);
    expect(utcDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // `lava-backup` is a stand-in (not built here; it backs up DynamoDB): it prints its argv.
    expect(lines(r.stdout)).toEqual(['test', `${t.realm.s3_temp}/lava/dynamo-backup/${utcDate}.zip`]);
  });

  it('#7 ersatz-db-to-s3 folds into `/bin/sh -c "…"`: lava-sql reads the query from stdin and writes <s3_temp>/<job_id>/output.csv; event_log records the path; <{ … }> is left alone', async () => {
    const spec = example('cmd', 7);
    const r = await replay(spec);
    expect(r.statuses).toEqual(['queued', 'starting', 'logging', 'running', 'complete']);
    const output = `${t.realm.s3_temp}/<{ prefix.job }>/ersatz-db-to-s3/output.csv`;
    const rec = await t.backend.events.get('test', String(spec.job_id), r.runId);
    expect(rec?.log.find((e) => e.status === 'logging')?.info).toBe(`Output file is ${output}`);
    // `lava-sql` is a stand-in (not built here; it needs a database): argv, then its stdin.
    expect(lines(r.stdout)).toEqual([
      '--format',
      'csv',
      '--header',
      '--conn-id',
      '<{ db.conn_id }>',
      '--output',
      output,
      '-',
      '--- stdin ---',
      'SELECT a, b, c FROM my_schema.my_table',
    ]);
  });

  it('#8 ersatz-db-to-s3 passes the query file <s3_payloads>/<{ prefix.payload }>/xyz.rsc/query.sql instead', async () => {
    const spec = example('cmd', 8);
    const r = await replay(spec);
    expect(r.statuses).toEqual(['queued', 'starting', 'logging', 'running', 'complete']);
    const output = `${t.realm.s3_temp}/<{ prefix.job }>/ersatz-db-to-s3/output.csv`;
    const rec = await t.backend.events.get('test', String(spec.job_id), r.runId);
    expect(rec?.log.find((e) => e.status === 'logging')?.info).toBe(`Output file is ${output}`);
    expect(lines(r.stdout)).toEqual([
      '--format',
      'csv',
      '--header',
      '--conn-id',
      '<{ db.conn_id }>',
      '--output',
      output,
      `${t.realm.s3_payloads}/<{ prefix.payload }>/xyz.rsc/query.sql`,
      '--- stdin ---',
    ]);
  });

  it.skip('#9 (18-Samples "cmd") is a template with payload "???": skipped because the guide describes no behaviour to replay', () => {});
});
