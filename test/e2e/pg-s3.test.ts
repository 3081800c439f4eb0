/**
 * A PostgreSQL realm whose payload and temp areas are on S3 (s3rver, in this process, reached by
 * `lava` child processes through AWS_ENDPOINT_URL_S3): `lava payload put` uploads a script,
 * `lava dispatch` and `lava worker` run it as an `exe` job, and its output lands in the temp bucket.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../src/backends/blob/s3.js';
import { startAwsEmulators, useEnv, type AwsEmulators } from '../support/aws.js';
import { backendUrl, dropSchema, pgSkipReason, schemaName, startThrowawayPostgres, type PgServer } from '../support/pg.js';
import { cleanEnv, ensureBuilt, lavaOk, runIds } from './cli-helpers.js';

const PAYLOADS = 's3://lava-payloads/payloads';
const TEMP = 's3://lava-temp/lava/tmp';

describe.skipIf(pgSkipReason)(`PostgreSQL realm with S3 areas${pgSkipReason ? ` (skipped: ${pgSkipReason})` : ''}`, () => {
  let server: PgServer;
  let emu: AwsEmulators;
  let restoreEnv: (() => void) | undefined;
  let schema: string;
  let dir: string;

  beforeAll(async () => {
    ensureBuilt();
    [server, emu] = await Promise.all([startThrowawayPostgres(), startAwsEmulators()]);
    restoreEnv = useEnv(emu.env);
    await emu.createBuckets('lava-payloads', 'lava-temp');
    schema = schemaName('s3');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-pg-s3-'));
  }, 180_000);

  afterAll(async () => {
    restoreEnv?.();
    if (server) {
      await dropSchema(server, schema).catch(() => undefined);
      await server.stop();
    }
    await emu?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs an exe job whose payload and output are in S3 buckets', async () => {
    const env = cleanEnv({
      ...emu.env,
      LAVA_BACKEND: backendUrl(server, schema),
      LAVA_REALM: 'pgs3',
      LAVA_TMPDIR: path.join(dir, 'scratch'),
    });
    const lava = (args: string[]) => lavaOk(args, { env, cwd: dir });
    const write = (name: string, text: string) => {
      fs.writeFileSync(path.join(dir, name), text, { mode: 0o755 });
      return path.join(dir, name);
    };
    await lava(['realm', 'put', write('realm.json', JSON.stringify({ realm: 'pgs3', s3_payloads: PAYLOADS, s3_temp: TEMP }))]);
    const put = await lava(['payload', 'put', write('hello.sh', '#!/bin/sh\necho "$GREETING $1 from $LAVA_JOB_ID"\n'), 'demo/']);
    expect(put.stdout).toContain(`${PAYLOADS}/demo/hello.sh`);
    const job = {
      job_id: 'demo/exe',
      type: 'exe',
      worker: 'core',
      enabled: true,
      owner: 'ops',
      description: 'a script from S3',
      payload: 'demo/hello.sh world',
      parameters: { env: { GREETING: 'hi' } },
    };
    await lava(['job', 'put', write('job.json', JSON.stringify(job))]);

    const [runId] = runIds((await lava(['dispatch', 'demo/exe'])).stdout);
    await lava(['worker', '-w', 'core', '--batch', '--wait', '2']);

    const [record] = JSON.parse((await lava(['events', '--run', runId as string, '--json'])).stdout) as {
      status: string;
      log: { status: string; info: { output?: { stdout: string }[] } | null }[];
    }[];
    expect(record?.status).toBe('complete');
    const uri = `${TEMP}/demo/exe/${runId}/hello.sh.stdout`;
    expect(record?.log.at(-1)?.info?.output?.[0]?.stdout).toBe(uri);
    expect((await new S3BlobStore().read(uri)).toString()).toBe('hi world from demo/exe\n');
  }, 60_000);
});
