/**
 * A realm on each backend for tests that drive `lava serve` and `lava worker` as child processes:
 * the embedded file, a throwaway PostgreSQL (a schema of its own), or the AWS emulators (S3 for
 * outputs). `env` points child processes at it; `backend` is the same realm opened in this process.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bootstrapAws } from '../../src/backends/aws/index.js';
import { openBackend } from '../../src/backends/index.js';
import type { Backend } from '../../src/backends/ports.js';
import { initEmbeddedRealm } from '../../src/cli/init.js';
import { startAwsEmulators, useEnv, type AwsEmulators } from '../support/aws.js';
import { backendUrl as pgUrl, dropSchema, schemaName, startThrowawayPostgres, type PgServer } from '../support/pg.js';
import { cleanEnv } from '../e2e/cli-helpers.js';

export type BackendKind = 'sqlite' | 'postgres' | 'aws';

export interface Stack {
  kind: BackendKind;
  realm: string;
  dir: string;
  env: NodeJS.ProcessEnv;
  backend: Backend;
  putJob(spec: Record<string, unknown>): Promise<void>;
  cleanup(): Promise<void>;
}

export async function makeStack(kind: BackendKind, realm = 'web'): Promise<Stack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `lava-web-${kind}-`));
  const scratch = path.join(dir, 'scratch');
  let url: string;
  let extraEnv: Record<string, string> = {};
  let temp = `file://${path.join(dir, 'temp')}`;
  let stop: () => Promise<void> = async () => {};
  if (kind === 'sqlite') {
    url = (await initEmbeddedRealm(dir, realm)).backendUrl;
  } else if (kind === 'postgres') {
    const server: PgServer = await startThrowawayPostgres();
    const schema = schemaName('web');
    url = pgUrl(server, schema);
    stop = async () => {
      await dropSchema(server, schema);
      await server.stop();
    };
  } else {
    const emu: AwsEmulators = await startAwsEmulators();
    const restore = useEnv(emu.env);
    await emu.createBuckets('web-temp');
    url = 'aws://';
    await bootstrapAws(url, realm);
    extraEnv = emu.env;
    temp = 's3://web-temp/lava';
    stop = async () => {
      restore();
      await emu.stop();
    };
  }
  const backend = await openBackend(url);
  await backend.config.putRealm({
    realm,
    s3_payloads: `file://${path.join(dir, 'payloads')}`,
    s3_temp: temp,
    config: { TMPDIR: scratch },
  });
  return {
    kind,
    realm,
    dir,
    env: cleanEnv({ ...extraEnv, LAVA_BACKEND: url, LAVA_REALM: realm, LAVA_TMPDIR: scratch, LAVA_LOGLEVEL: 'info' }),
    backend,
    putJob: (spec) => backend.config.put(realm, 'jobs', { worker: 'core', enabled: true, payload: null, ...spec }),
    async cleanup() {
      await backend.close();
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
