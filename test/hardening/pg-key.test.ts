/**
 * The PostgreSQL backend reads its secret key only when a secret is used: `lava events`, dispatch and
 * a worker running jobs without secrets need none, and a command that does need one says how to set it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendUrl, dropSchema, pgSkipReason, schemaName, startThrowawayPostgres, type PgServer } from '../support/pg.js';
import { cleanEnv, ensureBuilt, lava, lavaOk, runIds } from '../e2e/cli-helpers.js';

describe.skipIf(pgSkipReason)(`PostgreSQL secret key${pgSkipReason ? ` (skipped: ${pgSkipReason})` : ''}`, () => {
  let server: PgServer;
  let schema: string;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const run = (args: string[], more: NodeJS.ProcessEnv = {}) => lava(args, { env: { ...env, ...more }, cwd: dir });

  beforeAll(async () => {
    ensureBuilt();
    server = await startThrowawayPostgres();
    schema = schemaName('key');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-pg-key-'));
    // No keyfile in the URL and no LAVA_SECRET_KEY: this realm has no key at all.
    const url = `${server.url}${server.url.includes('?') ? '&' : '?'}schema=${schema}`;
    env = cleanEnv({ LAVA_BACKEND: url, LAVA_REALM: 'keyless', LAVA_TMPDIR: path.join(dir, 'scratch') });
    await lavaOk(['init', '--backend', url, '--realm', 'keyless', '--dir', dir], { env, cwd: dir });
    fs.writeFileSync(
      path.join(dir, 'job.json'),
      JSON.stringify({
        job_id: 'k/echo',
        type: 'cmd',
        worker: 'w',
        enabled: true,
        payload: 'echo hi',
        owner: 'o',
        description: 'd',
      }),
    );
    await lavaOk(['job', 'put', path.join(dir, 'job.json')], { env, cwd: dir });
  }, 180_000);

  afterAll(async () => {
    if (server) {
      await dropSchema(server, schema).catch(() => undefined);
      await server.stop();
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('dispatch, a worker and lava events work without a key', async () => {
    const [runId] = runIds((await run(['dispatch', 'k/echo'])).stdout);
    expect(runId).toBeTruthy();
    const worker = await run(['worker', '-w', 'w', '--batch']);
    expect(worker.stderr).not.toMatch(/secret key/);
    expect(worker.code).toBe(0);
    const events = await run(['events', 'k/echo']);
    expect(events.stderr).toBe('');
    expect(events.code).toBe(0);
    expect(events.stdout).toMatch(new RegExp(`k/echo\\s+${runId}\\s+complete`));
    expect((await run(['output', runId!])).stdout).toBe('hi\n');
  });

  it('a command that uses a secret says how to set the key, without a stack trace', async () => {
    const res = await run(['secret', 'put', '/lava/keyless/pw', 'x']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/the PostgreSQL backend needs a secret key shared by every host: set LAVA_SECRET_KEY/);
    expect(res.stderr).toMatch(/\?keyfile=/);
    expect(res.stderr).not.toMatch(/^\s+at /m);
    // With the key it works.
    const withKey = { LAVA_BACKEND: backendUrl(server, schema) };
    await lavaOk(['secret', 'put', '/lava/keyless/pw', 'x'], { env: { ...env, ...withKey }, cwd: dir });
    expect((await run(['secret', 'ls'])).stdout.trim()).toBe('/lava/keyless/pw');
  });
});
