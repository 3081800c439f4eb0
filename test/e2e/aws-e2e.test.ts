/**
 * End to end on the AWS backend, with the emulators of test/support/aws.ts in this process: a realm
 * laid out as upstream Lava lays it out (items written as raw DynamoDB JSON into `lava.realms` and
 * `lava.<realm>.jobs`, payloads on S3), runs dispatched through SQS (by `dispatch()` and by a raw
 * upstream-format message), run by a Worker, with events in `lava.<realm>.events` and outputs on S3
 * exactly where upstream puts them: `<s3_temp>/<job_id>/<run_id>/stdout` (cmd) and
 * `<payload basename>.stdout` (exe, pkg).
 *
 * Then a kill -9 of a `lava worker` child process (pointed at the same emulators through the AWS_*
 * variables): its run comes back when the 3 s lease runs out and a second worker completes it once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DynamoDBClient, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAws } from '../../src/backends/aws/index.js';
import { S3BlobStore } from '../../src/backends/blob/s3.js';
import { openBackend } from '../../src/backends/index.js';
import type { Backend } from '../../src/backends/ports.js';
import { isoLocal, wholeSeconds } from '../../src/core/time.js';
import { dispatch } from '../../src/dispatch/dispatch.js';
import { Worker } from '../../src/worker/worker.js';
import { startAwsEmulators, useEnv, type AwsEmulators } from '../support/aws.js';
import { cleanEnv, ensureBuilt, killSpawned, spawnLava, waitExit, waitFor } from './cli-helpers.js';

const REALM = 'e2e';
const PAYLOADS = 's3://lava-payloads/payloads';
const TEMP = 's3://lava-temp/lava/tmp';
const S = (s: string): AttributeValue => ({ S: s });

let emu: AwsEmulators;
let restoreEnv: (() => void) | undefined;
let backend: Backend;
let ddb: DynamoDBClient;
let work: string;
const s3 = new S3BlobStore();
const jobGroups = new Set<number>();

async function putJob(item: Record<string, AttributeValue>): Promise<void> {
  await ddb.send(new PutItemCommand({ TableName: `lava.${REALM}.jobs`, Item: item }));
}

/** The raw events item of a run (as upstream's tools would read it). */
async function rawEvents(jobId: string, runId: string): Promise<Record<string, AttributeValue> | undefined> {
  const r = await ddb.send(
    new GetItemCommand({ TableName: `lava.${REALM}.events`, Key: { job_id: S(jobId), run_id: S(runId) }, ConsistentRead: true }),
  );
  return r.Item;
}

const statuses = (item: Record<string, AttributeValue> | undefined) => (item?.log?.L ?? []).map((e) => e.M?.status?.S);

beforeAll(async () => {
  emu = await startAwsEmulators();
  restoreEnv = useEnv(emu.env);
  await emu.createBuckets('lava-payloads', 'lava-temp');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-aws-e2e-'));
  await bootstrapAws('aws://', REALM);
  ddb = new DynamoDBClient({});

  // The realm record as upstream's CloudFormation and lava-realm would leave it.
  await ddb.send(
    new PutItemCommand({
      TableName: 'lava.realms',
      Item: {
        realm: S(REALM),
        s3_payloads: S(PAYLOADS),
        s3_temp: S(TEMP),
        config: { M: { tmpdir: S(path.join(work, 'scratch')), event_ttl: S('2d'), cmd_timeout: { N: '120' } } },
        on_fail: { L: [] },
      },
    }),
  );
  await putJob({
    job_id: S('demo/cmd'),
    type: S('cmd'),
    worker: S('core'),
    enabled: { BOOL: true },
    owner: S('ops'),
    description: S('a command'),
    payload: S('sh -c "echo hello from cmd $0; echo to stderr >&2"'),
    parameters: { M: { args: { L: [S('nobody')] }, timeout: { N: '60' } } },
  });
  await putJob({
    job_id: S('demo/exe'),
    type: S('exe'),
    worker: S('core'),
    enabled: { BOOL: true },
    owner: S('ops'),
    description: S('a script from S3'),
    payload: S('demo/hello.sh world'),
    parameters: { M: { env: { M: { GREETING: S('hi') } } } },
  });
  await putJob({
    job_id: S('demo/pkg'),
    type: S('pkg'),
    worker: S('core'),
    enabled: { BOOL: true },
    owner: S('ops'),
    description: S('a package from S3'),
    payload: S('demo/pkg.tar.gz'),
    parameters: { M: { command: S('bin/main.sh --n 3') } },
    iteration_limit: { N: '1' },
  });
  await putJob({
    job_id: S('demo/chain'),
    type: S('chain'),
    worker: S('core'),
    enabled: { BOOL: true },
    owner: S('ops'),
    description: S('cmd then exe'),
    payload: { L: [S('demo/cmd'), S('demo/exe')] },
  });

  // Payloads on S3: a script and a tar.gz package.
  const script = path.join(work, 'hello.sh');
  fs.writeFileSync(script, '#!/bin/sh\necho "$GREETING $1 from $LAVA_JOB_ID"\n');
  await s3.upload(script, `${PAYLOADS}/demo/hello.sh`);
  const pkgSrc = path.join(work, 'pkg');
  fs.mkdirSync(path.join(pkgSrc, 'bin'), { recursive: true });
  fs.writeFileSync(path.join(pkgSrc, 'bin', 'main.sh'), '#!/bin/sh\necho "pkg $* $(cat data.txt)"\n', { mode: 0o755 });
  fs.writeFileSync(path.join(pkgSrc, 'data.txt'), 'DATA');
  const pkgFile = path.join(work, 'pkg.tar.gz');
  await tar.c({ gzip: true, file: pkgFile, cwd: pkgSrc }, ['bin', 'data.txt']);
  await s3.upload(pkgFile, `${PAYLOADS}/demo/pkg.tar.gz`);

  backend = await openBackend('aws://');
}, 60_000);

afterAll(async () => {
  killSpawned();
  for (const pgid of jobGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  ddb?.destroy();
  await backend?.close();
  restoreEnv?.();
  await emu?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('AWS backend end to end (emulators)', () => {
  it('cmd, exe, pkg and chain jobs dispatched through SQS run on a worker; events and outputs land where upstream puts them', async () => {
    const cmdRun = await dispatch(backend, { realm: REALM, jobId: 'demo/cmd', parameters: { args: ['lava'] } });
    const pkgRun = await dispatch(backend, { realm: REALM, jobId: 'demo/pkg' });
    const chainRun = await dispatch(backend, { realm: REALM, jobId: 'demo/chain' });
    // An upstream dispatcher (lava-dispatcher, the s3trigger lambda) sends exactly this body.
    const exeRun = '0d4f6a1e-8c2b-4d5e-9f3a-1b2c3d4e5f60';
    const sqs = new SQSClient({});
    try {
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: `lava-${REALM}-core` }));
      await sqs.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: JSON.stringify({
            realm: REALM,
            worker: 'core',
            job_id: 'demo/exe',
            run_id: exeRun,
            ts_dispatch: isoLocal(wholeSeconds(new Date())),
          }),
        }),
      );
    } finally {
      sqs.destroy();
    }

    const worker = await Worker.create({ backend, realm: REALM, worker: 'core', batch: true, waitSeconds: 1 });
    await worker.run();
    expect(worker.handled).toBe(4);

    // Events: one item per (job_id, run_id) in lava.e2e.events, upstream's shape.
    const cmd = await rawEvents('demo/cmd', cmdRun);
    expect(cmd?.status, JSON.stringify(cmd?.log)).toEqual(S('complete'));
    expect(statuses(cmd)).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(cmd?.worker).toEqual(S('core'));
    expect(cmd?.ttl?.N).toMatch(/^\d+$/);
    expect(Number(cmd?.ttl?.N) - Date.now() / 1000).toBeGreaterThan(2 * 86400 - 120);
    expect(cmd?.ts_dispatch?.S).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    expect(cmd?.tu_event?.S).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$/);
    for (const [job, run] of [
      ['demo/exe', exeRun],
      ['demo/pkg', pkgRun],
      ['demo/chain', chainRun],
    ] as const) {
      // demo/exe was sent as a raw message (upstream's shape), so its record has no `queued`.
      const queued = job === 'demo/exe' ? [] : ['queued'];
      expect(statuses(await rawEvents(job, run)), `${job} ${run}`).toEqual([...queued, 'starting', 'running', 'complete']);
    }
    // Chain children write their own job_id under the parent's run id.
    expect(statuses(await rawEvents('demo/exe', chainRun))).toContain('complete');
    expect(statuses(await rawEvents('demo/cmd', chainRun))).toContain('complete');

    // Outputs: <s3_temp>/<job_id>/<run_id>/stdout for cmd, <payload basename>.stdout for exe and pkg.
    expect((await s3.read(`${TEMP}/demo/cmd/${cmdRun}/stdout`)).toString()).toBe('hello from cmd lava\n');
    expect((await s3.read(`${TEMP}/demo/cmd/${cmdRun}/stderr`)).toString()).toBe('to stderr\n');
    expect((await s3.read(`${TEMP}/demo/exe/${exeRun}/hello.sh.stdout`)).toString()).toBe('hi world from demo/exe\n');
    expect(await s3.head(`${TEMP}/demo/exe/${exeRun}/hello.sh.stderr`)).toBeUndefined(); // empty: not uploaded
    expect((await s3.read(`${TEMP}/demo/pkg/${pkgRun}/pkg.tar.gz.stdout`)).toString()).toBe('pkg --n 3 DATA\n');
    expect((await s3.read(`${TEMP}/demo/exe/${chainRun}/hello.sh.stdout`)).toString()).toBe('hi world from demo/exe\n');
    expect((await s3.listRecursive(`${TEMP}/demo/cmd/${cmdRun}/`)).map((o) => o.name)).toEqual(['stderr', 'stdout']);

    // The complete event's info points at those objects.
    const done = cmd?.log?.L?.at(-1)?.M?.info?.M;
    expect(JSON.stringify(done)).toContain(`${TEMP}/demo/cmd/${cmdRun}/stdout`);

    // Every message was deleted.
    const counts = await backend.queue(REALM, 'core').counts();
    expect(counts).toEqual({ visible: 0, inflight: 0, delayed: 0 });
  }, 60_000);

  it('kill -9 of a worker process mid-run: the run is taken over after the lease and completes once', async () => {
    ensureBuilt();
    const pids = path.join(work, 'pids');
    const mark = path.join(work, 'mark');
    await putJob({
      job_id: S('demo/slow'),
      type: S('cmd'),
      worker: S('core'),
      enabled: { BOOL: true },
      owner: S('ops'),
      description: S('slow the first time'),
      payload: S(`sh -c 'echo $$ >> "$PIDS"; test -f "$MARK" || { touch "$MARK"; sleep 60; }; echo done'`),
      parameters: { M: { env: { M: { PIDS: S(pids), MARK: S(mark) } } } },
    });
    const runId = await dispatch(backend, { realm: REALM, jobId: 'demo/slow' });
    const env = cleanEnv({
      ...emu.env,
      LAVA_BACKEND: 'aws://',
      LAVA_REALM: REALM,
      LAVA_VISIBILITY_TIMEOUT: '3s',
      LAVA_SHUTDOWN_GRACE: '1s',
    });
    // --retries=-1: local-aws-sqs counts each lease extension (ChangeMessageVisibility) as a receive,
    // so after a few seconds of extensions the redelivery's count would pass the default --retries 2
    // and the message would be discarded. Real SQS counts receives only.
    const first = spawnLava(['worker', '-w', 'core', '--retries=-1'], { env, cwd: work });
    await waitFor(() => fs.existsSync(mark), 30_000, 'the first attempt to start');
    const orphan = Number(fs.readFileSync(pids, 'utf8').trim().split(/\s+/)[0]);
    jobGroups.add(orphan);
    process.kill(first.pid, 'SIGKILL');
    expect((await waitExit(first, 5_000)).signal).toBe('SIGKILL');
    const before = statuses(await rawEvents('demo/slow', runId));
    expect(before).toEqual(['queued', 'starting', 'running']);
    // Start the next worker once the dead one's claim has lapsed too: the message can become visible a
    // moment before the claim does, and a batch worker that finds the run still claimed defers it and,
    // seeing nothing else to do, exits.
    await new Promise((resolve) => setTimeout(resolve, 3_500));

    const second = spawnLava(['worker', '-w', 'core', '--batch', '--wait', '5', '--retries=-1'], { env, cwd: work });
    const exit = await waitExit(second, 40_000);
    expect(exit.code, second.stderr()).toBe(0);

    const rec = await rawEvents('demo/slow', runId);
    const log = statuses(rec);
    expect(log).toEqual(['queued', 'starting', 'running', 'starting', 'running', 'complete']);
    expect(rec?.status).toEqual(S('complete'));
    expect(JSON.stringify(rec?.log?.L?.[3])).toMatch(/Attempt 2/);
    expect((await s3.read(`${TEMP}/demo/slow/${runId}/stdout`)).toString()).toBe('done\n');
    // Claimed once more would be "done": the run is finished in lava.e2e.runs.
    expect(await backend.runs.claim(REALM, runId, 'someone-else', 30)).toEqual({ outcome: 'done' });
    expect(await backend.queue(REALM, 'core').counts()).toEqual({ visible: 0, inflight: 0, delayed: 0 });
  }, 80_000);
});
