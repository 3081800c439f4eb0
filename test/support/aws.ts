/**
 * AWS for tests: dynalite (DynamoDB), s3rver (S3) and local-aws-sqs (SQS) in this process on
 * 127.0.0.1 with random ports, plus the SSM stand-in (test/support/ssm-standin.ts; there is no SSM
 * emulator here). `env` points the AWS SDK at them through its standard variables
 * (AWS_ENDPOINT_URL_<SERVICE>), so the same values work for `lava` child processes.
 *
 * Known emulator gaps (shared/recipes/env-feasibility.md §4): dynalite has no TransactWriteItems and
 * no TTL API (the backend uses neither for correctness); s3rver needs path-style URLs, stores stream
 * uploads corrupted unless checksums are off (the S3 store sets requestChecksumCalculation
 * WHEN_REQUIRED), and fails truncated listings without --openssl-legacy-provider; local-aws-sqs counts
 * a ChangeMessageVisibility as a receive.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { s3ClientConfig } from '../../src/backends/blob/s3.js';
import { startSsmStandin, type SsmStandin } from './ssm-standin.js';

const require = createRequire(import.meta.url);

// The three emulators are CommonJS without type declarations: typed here as far as we use them.
const dynalite = require('dynalite') as (opts: {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}) => Server;
const S3rver = require('s3rver') as new (opts: { address: string; port: number; silent: boolean; directory: string }) => {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
};
const { createSqsServer } = require('local-aws-sqs') as {
  createSqsServer(opts: { port: number; hostname: string; emulateQueueCreationLifecycle?: boolean }): Promise<Server>;
};

export interface AwsEmulators {
  /** AWS_* variables for this process (see useEnv) and for child processes. */
  env: Record<string, string>;
  endpoints: { dynamodb: string; s3: string; sqs: string; ssm: string };
  ssm: SsmStandin;
  /** Where s3rver keeps its objects. */
  s3Dir: string;
  /** Make buckets (idempotent). */
  createBuckets(...names: string[]): Promise<void>;
  stop(): Promise<void>;
}

/** True when this process can page truncated s3rver listings (its tokens use DES). */
export const opensslLegacy =
  process.execArgv.includes('--openssl-legacy-provider') || /--openssl-legacy-provider/.test(process.env.NODE_OPTIONS ?? '');

function listen(srv: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve((srv.address() as AddressInfo).port));
  });
}

function closeServer(srv: Server): Promise<void> {
  return new Promise((resolve) => {
    srv.closeAllConnections?.();
    srv.close(() => resolve());
    // Never hold a test run up on a socket that will not close.
    setTimeout(resolve, 2_000).unref();
  });
}

export async function startAwsEmulators(): Promise<AwsEmulators> {
  const ddb = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const ddbPort = await listen(ddb);

  const s3Dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-s3rver-'));
  const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3Dir });
  const { port: s3Port } = await s3.run();

  const sqs = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  const sqsPort = (sqs.address() as AddressInfo).port;

  const ssm = await startSsmStandin();

  const endpoints = {
    dynamodb: `http://127.0.0.1:${ddbPort}`,
    s3: `http://127.0.0.1:${s3Port}`,
    sqs: `http://127.0.0.1:${sqsPort}`,
    ssm: ssm.endpoint,
  };
  const env: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_SSM: endpoints.ssm,
    AWS_S3_FORCE_PATH_STYLE: 'true',
    // No shared config or profile of the machine may leak in.
    AWS_CONFIG_FILE: path.join(s3Dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(s3Dir, 'no-aws-credentials'),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };

  return {
    env,
    endpoints,
    ssm,
    s3Dir,
    async createBuckets(...names) {
      const client = new S3Client({
        ...s3ClientConfig(env),
        region: env.AWS_REGION,
        endpoint: endpoints.s3,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      });
      try {
        for (const Bucket of names) {
          try {
            await client.send(new CreateBucketCommand({ Bucket }));
          } catch (err) {
            if (!/BucketAlreadyOwnedByYou|BucketAlreadyExists/.test(String((err as Error).name))) throw err;
          }
        }
      } finally {
        client.destroy();
      }
    },
    async stop() {
      await Promise.all([
        closeServer(ddb),
        closeServer(sqs),
        ssm.stop(),
        Promise.race([s3.close(), new Promise((r) => setTimeout(r, 2_000).unref())]),
      ]);
      fs.rmSync(s3Dir, { recursive: true, force: true });
    },
  };
}

/** Put `env` into process.env; returns a function that puts the old values back. */
export function useEnv(env: Record<string, string>): () => void {
  const saved = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(env)) {
    saved.set(k, process.env[k]);
    process.env[k] = v;
  }
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/**
 * s3rver in a child process started with --openssl-legacy-provider, for tests of truncated listings
 * (s3rver's continuation tokens use DES, which OpenSSL 3 only has in its legacy provider) when this
 * process runs without the flag.
 */
export async function startLegacyS3rver(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-s3rver-legacy-'));
  const script = `
    const S3rver = require(${JSON.stringify(require.resolve('s3rver'))});
    new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: ${JSON.stringify(dir)} })
      .run().then((a) => process.stdout.write(String(a.port) + '\\n'));
    process.stdin.on('end', () => process.exit(0)).resume();`;
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`s3rver child exited with ${code}`)));
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      child.stdin.end();
      await new Promise((r) => {
        child.once('exit', r);
        setTimeout(() => {
          child.kill('SIGKILL');
          r(undefined);
        }, 2_000).unref();
      });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
