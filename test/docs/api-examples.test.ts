/**
 * docs/api.md's shell examples, run as written (sh, curl, jq) against a real `lava serve` over an
 * embedded realm, with an operator token. The first example dispatches; a worker then runs the run,
 * and the others read it.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { Server } from '../../src/server/server.js';
import { createToken } from '../../src/server/tokens.js';
import { makeRealm, type TestRealm } from '../helpers.js';
import { REPO_ROOT } from '../e2e/cli-helpers.js';

const blocks = [...fs.readFileSync(path.join(REPO_ROOT, 'docs/api.md'), 'utf8').matchAll(/```sh\n([\s\S]*?)```/g)].map(
  (m) => m[1] as string,
);

let t: TestRealm;
let server: Server;
let env: NodeJS.ProcessEnv;

function sh(script: string, extra: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('sh', ['-ec', script], { env: { ...env, ...extra }, cwd: t.dir, timeout: 30_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${script}\nfailed: ${stderr || err.message}`)) : resolve(stdout),
    );
  });
}

beforeAll(async () => {
  t = await makeRealm();
  await t.putJob({ job_id: 'demo/hello', type: 'cmd', payload: "sh -c 'echo hello, {{ vars.who }}'" });
  server = new Server({ backend: t.backend, realm: t.realm, host: '127.0.0.1', port: 0, tz: 'UTC', logger: silentLogger });
  const url = (await server.start()).replace(/\/$/, '');
  const { token } = await createToken(t.backend, 'test', 'operator');
  env = { PATH: process.env.PATH, LAVA_URL: url, TOKEN: token };
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await t?.close();
});

it('has the examples this test runs', () => {
  expect(blocks.length).toBe(4);
});

it('runs every example of docs/api.md', async () => {
  expect(await sh(blocks[0] as string)).toBe('queued\n');
  const [run] = await t.backend.events.query('test', { jobId: 'demo/hello', limit: 1 });
  await t.drain();
  expect(await sh(blocks[1] as string)).toBe('');
  expect(await sh(blocks[2] as string)).toBe('{"worker":"w","visible":0,"oldest_age_seconds":null}\n');
  expect(await sh(blocks[3] as string, { run: run?.run_id })).toBe('hello, API'); // $(…) drops the last newline
}, 60_000);
