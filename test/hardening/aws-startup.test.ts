/**
 * An AWS realm made by upstream Lava has no `lava.<realm>.runs` or `.schedules` table. A worker (or
 * dispatcher) on it must refuse to start, naming the table and the fix, instead of dying on its first
 * message; with `?autocreate=true` it creates the table. Against the AWS emulators (test/support/aws.ts).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable, tableName, type TableKind } from '../../src/backends/aws/index.js';
import { AwsClients } from '../../src/backends/aws/clients.js';
import { parseAwsUrl } from '../../src/backends/aws/url.js';
import { openBackend } from '../../src/backends/index.js';
import type { Backend } from '../../src/backends/ports.js';
import { ConfigError } from '../../src/core/errors.js';
import { checkDelay, delayOptions, dispatch, maxDelay } from '../../src/dispatch/dispatch.js';
import { Dispatcher } from '../../src/dispatcher/dispatcher.js';
import { Config } from '../../src/core/config.js';
import { Worker } from '../../src/worker/worker.js';
import { startAwsEmulators, useEnv, type AwsEmulators } from '../support/aws.js';
import { cleanEnv, ensureBuilt, lava } from '../e2e/cli-helpers.js';

/** Upstream's five per-realm tables, without the two this lava adds. */
const UPSTREAM: TableKind[] = ['jobs', 'connections', 'events', 's3triggers', 'state'];

let emu: AwsEmulators;
let restoreEnv: (() => void) | undefined;
let work: string;
let backend: Backend;
let realm: string;

beforeAll(async () => {
  ensureBuilt();
  emu = await startAwsEmulators();
  restoreEnv = useEnv(emu.env);
  await emu.createBuckets('lava-startup');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-aws-startup-'));
  realm = `up${randomBytes(3).toString('hex')}`;
  const clients = new AwsClients(parseAwsUrl('aws://'));
  try {
    await ensureTable(clients, '', 'realms');
    for (const kind of UPSTREAM) await ensureTable(clients, realm, kind);
  } finally {
    clients.destroy();
  }
  backend = await openBackend('aws://');
  await backend.config.putRealm({
    realm,
    s3_payloads: 's3://lava-startup/payloads',
    s3_temp: 's3://lava-startup/temp',
    config: { TMPDIR: path.join(work, 'scratch') },
  });
  await backend.config.put(realm, 'jobs', {
    job_id: 'up/echo',
    type: 'cmd',
    worker: 'w',
    enabled: true,
    owner: 'o',
    description: 'd',
    payload: 'echo hi',
  });
  await backend.config.put(realm, 'jobs', {
    job_id: 'up/sched',
    type: 'cmd',
    worker: 'w',
    enabled: true,
    owner: 'o',
    description: 'd',
    payload: 'true',
    dispatcher: 'main',
    schedule: '* * * * *',
  });
}, 90_000);

afterAll(async () => {
  await backend?.close();
  restoreEnv?.();
  await emu?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('an upstream AWS realm without the claims tables', () => {
  it('Worker.create refuses, naming lava.<realm>.runs and lava aws bootstrap --realm', async () => {
    const err = await Worker.create({ backend, realm, worker: 'w', batch: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String((err as Error).message)).toContain(
      `DynamoDB table ${tableName(realm, 'runs')} does not exist, and a worker needs it to claim runs: ` +
        `create it with \`lava aws bootstrap --realm ${realm}\``,
    );
    // Nothing was left behind for a worker that never started.
    expect(fs.existsSync(path.join(work, 'scratch', realm))).toBe(false);
  });

  it('lava worker exits 1 with that message and no stack trace, leaving the queued run alone', async () => {
    const runId = await dispatch(backend, { realm, jobId: 'up/echo' });
    expect(runId).toBeTruthy();
    const env = cleanEnv({ ...emu.env, LAVA_BACKEND: 'aws://', LAVA_REALM: realm });
    const res = await lava(['worker', '-w', 'w', '--batch'], { env, cwd: work, timeout: 60_000 });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`DynamoDB table ${tableName(realm, 'runs')} does not exist`);
    expect(res.stderr).toContain(`lava aws bootstrap --realm ${realm}`);
    expect(res.stderr).not.toMatch(/^\s+at /m);
    // Only dispatch's `queued`: the worker recorded nothing.
    expect((await backend.events.query(realm, { jobId: 'up/echo' })).map((r) => r.log.map((e) => e.status))).toEqual([
      ['queued'],
    ]);
    const counts = await backend.queue(realm, 'w').counts();
    expect(counts.visible + counts.inflight).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it('Dispatcher.create refuses, naming lava.<realm>.schedules', async () => {
    await expect(Dispatcher.create({ backend, realm, name: 'main' })).rejects.toThrow(
      `DynamoDB table ${tableName(realm, 'schedules')} does not exist, and a dispatcher needs it to claim schedule ticks`,
    );
  });

  it('with ?autocreate=true the worker creates the runs table and runs the queued job', async () => {
    const auto = await openBackend('aws://?autocreate=true');
    try {
      const worker = await Worker.create({ backend: auto, realm, worker: 'w', batch: true, waitSeconds: 0 });
      await worker.run();
      const [rec] = await auto.events.query(realm, { jobId: 'up/echo' });
      expect(rec?.status).toBe('complete');
      await expect(Dispatcher.create({ backend: auto, realm, name: 'main' })).resolves.toBeInstanceOf(Dispatcher);
    } finally {
      await auto.close();
    }
  }, 90_000);

  it('SQS queues keep the 15-minute delay limit (SQS_MAX_DELAY_MINS)', async () => {
    const queue = backend.queue(realm, 'w');
    expect(queue.maxDelaySeconds).toBe(900);
    expect(() => checkDelay('16m', maxDelay(queue, delayOptions(new Config({}))))).toThrow(
      'use 0 to 15m (the limit is SQS_MAX_DELAY_MINS)',
    );
    await expect(dispatch(backend, { realm, jobId: 'up/echo', delay: '16m' }, delayOptions(new Config({})))).rejects.toThrow(
      /the limit is SQS_MAX_DELAY_MINS/,
    );
  });
});
