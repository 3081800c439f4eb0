/**
 * A server that listens beyond loopback: it refuses to start while the realm has no token, and
 * once it has one, nothing under /api/ or /metrics answers without it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { Server } from '../../src/server/server.js';
import { createToken } from '../../src/server/tokens.js';
import { makeRealm, type TestRealm } from '../helpers.js';

let t: TestRealm;

beforeAll(async () => {
  t = await makeRealm();
});

afterAll(async () => {
  await t?.close();
});

const server = () =>
  new Server({ backend: t.backend, realm: t.realm, host: '0.0.0.0', port: 0, tz: 'UTC', logger: silentLogger });

it('refuses to listen beyond localhost without a token, then needs one for every API call', async () => {
  await expect(server().start()).rejects.toThrow(ConfigError);
  await expect(server().start()).rejects.toThrow(/lava token create --role admin/);

  const { token } = await createToken(t.backend, 'test', 'viewer');
  const s = server();
  const url = new URL(await s.start());
  try {
    const base = `http://127.0.0.1:${url.port}`;
    for (const path of ['/api/whoami', '/api/jobs', '/api/runs', '/api/queues', '/metrics']) {
      expect((await fetch(base + path)).status, path).toBe(401);
      expect((await fetch(base + path, { headers: { authorization: `Bearer ${token}` } })).status, path).toBe(200);
    }
    // Beyond localhost any Host name is fine (the token is the check), and the dashboard itself is public.
    expect((await fetch(`${base}/`)).status).toBe(200);
  } finally {
    await s.stop();
  }
});
