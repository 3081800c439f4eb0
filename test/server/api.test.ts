/**
 * The HTTP API on a real server (port 0) over an embedded realm: every route of the OpenAPI
 * document, tokens and roles, bad input, secrets kept out of answers, and /metrics parsed as
 * Prometheus text.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the JSON answers are read loosely in assertions */
import http from 'node:http';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Config } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { putState } from '../../src/state/state.js';
import { ROUTES } from '../../src/server/openapi.js';
import { Server } from '../../src/server/server.js';
import { createToken } from '../../src/server/tokens.js';
import { makeRealm, type TestRealm } from '../helpers.js';

const require = createRequire(import.meta.url);
const parsePrometheus = require('parse-prometheus-text-format') as (text: string) => {
  name: string;
  type: string;
  metrics: { labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string }[];
}[];

let t: TestRealm;
let server: Server;
let base: string;

async function call(
  path: string,
  init: RequestInit & { token?: string } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  if (init.body) headers.set('content-type', 'application/json');
  const res = await fetch(base + path, { ...init, headers });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // text routes
  }
  return { status: res.status, body, headers: res.headers };
}

beforeAll(async () => {
  t = await makeRealm();
  await t.putJob({ job_id: 'api/hello', type: 'cmd', payload: "sh -c 'echo hello from {{ job.job_id }}'" });
  await t.putJob({ job_id: 'api/fails', type: 'cmd', payload: "sh -c 'echo broken >&2; exit 3'" });
  await t.putJob({ job_id: 'api/nightly', type: 'log', dispatcher: 'main', schedule: '0 2 * * *', payload: null });
  await putState(t.backend, 'test', new Config(), 'api/plain', 'visible value', { type: 'raw' });
  await putState(t.backend, 'test', new Config(), 'api/secret', 'hunter2-secret', { type: 'secure' });
  await t.backend.secrets.put('test', 'conn-password', 'p4ss-never-shown');
  server = new Server({ backend: t.backend, realm: t.realm, host: '127.0.0.1', port: 0, tz: 'UTC', logger: silentLogger });
  base = (await server.start()).replace(/\/$/, '');
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await t?.close();
});

describe('open mode (loopback, no tokens)', () => {
  it('answers as admin and refuses non-loopback Host headers', async () => {
    expect((await call('/api/whoami')).body).toEqual({ realm: 'test', role: 'admin', auth: false });
    // fetch cannot set Host: a rebinding attack's request names the attacker's host.
    const url = new URL(`${base}/api/jobs`);
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      http
        .get({ host: url.hostname, port: url.port, path: url.pathname, headers: { host: 'attacker.example:80' } }, (r) => {
          let body = '';
          r.on('data', (d: Buffer) => (body += d.toString()));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
        })
        .on('error', reject);
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatch(/localhost/);
  });

  it('refuses a cross-origin write and a form-encoded body (CSRF)', async () => {
    const cross = await call('/api/dispatch', {
      method: 'POST',
      body: JSON.stringify({ job_id: 'api/hello' }),
      headers: { origin: 'http://evil.example' },
    });
    expect(cross.status).toBe(403);
    const form = await fetch(`${base}/api/dispatch`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'job_id=api/hello',
    });
    expect(form.status).toBe(415);
  });
});

describe('routes', () => {
  let okRun: string;
  let failedRun: string;

  beforeAll(async () => {
    const d1 = await call('/api/dispatch', {
      method: 'POST',
      body: JSON.stringify({ job_id: 'api/hello', parameters: { vars: { x: 1 } } }),
    });
    expect(d1.status).toBe(201);
    expect(d1.body.warning).toMatch(/no live worker serves "w"/);
    okRun = d1.body.run_id;
    failedRun = (await call('/api/dispatch', { method: 'POST', body: JSON.stringify({ job_id: 'api/fails' }) })).body.run_id;
    await t.drain();
  }, 60_000);

  it('lists jobs with next fire times and last runs, and shows one job', async () => {
    const jobs = (await call('/api/jobs')).body.jobs as any[];
    expect(jobs.map((j) => j.job_id)).toEqual(['api/fails', 'api/hello', 'api/nightly']);
    expect(jobs.find((j) => j.job_id === 'api/hello').last_run).toMatchObject({ run_id: okRun, status: 'complete' });
    expect(jobs.find((j) => j.job_id === 'api/nightly').next_fire).toMatch(/T02:00:00.000Z$/);
    const one = (await call(`/api/jobs/${encodeURIComponent('api/nightly')}`)).body;
    expect(one.job.job_id).toBe('api/nightly');
    expect(one.next_fires).toHaveLength(5);
    expect((await call(`/api/jobs/${encodeURIComponent('no/such')}`)).status).toBe(404);
    const schedules = (await call('/api/schedules')).body.schedules as any[];
    expect(schedules.map((s) => s.job_id)).toEqual(['api/nightly']);
  });

  it('lists and filters runs, and shows one with its log, parameters and outputs', async () => {
    const runs = (await call('/api/runs')).body.runs as any[];
    expect(runs.map((r) => r.run_id)).toEqual(expect.arrayContaining([okRun, failedRun]));
    const failed = (await call('/api/runs?status=failed')).body.runs as any[];
    expect(failed.map((r) => r.run_id)).toEqual([failedRun]);
    expect((await call(`/api/runs?job=${encodeURIComponent('api/hello')}`)).body.runs[0].run_id).toBe(okRun);
    const detail = (await call(`/api/runs/${okRun}`)).body.run;
    expect(detail).toMatchObject({ run_id: okRun, job_id: 'api/hello', status: 'complete' });
    expect(detail.duration).toBeGreaterThanOrEqual(0);
    expect(detail.log.map((e: any) => e.status)).toContain('complete');
    const out = detail.outputs.find((o: any) => o.name.endsWith('stdout'));
    expect(out).toBeDefined();
    const text = await call(`/api/runs/${okRun}/outputs/${out.name}`);
    expect(text.body).toContain('hello from api/hello');
    expect(Number(text.headers.get('x-lava-size'))).toBe(out.size);
    const tail = await call(`/api/runs/${okRun}/outputs/${out.name}?offset=6`);
    expect(tail.body).toBe(String(text.body).slice(6));
  });

  it('answers bad input with a 4xx that names the field', async () => {
    const cases: [string, RequestInit, number, string | undefined][] = [
      ['/api/runs?status=nope', {}, 400, 'status'],
      ['/api/runs?limit=0', {}, 400, 'limit'],
      ['/api/runs?since=yesterday', {}, 400, 'since'],
      ['/api/runs?colour=red', {}, 400, 'colour'],
      ['/api/stats?hours=-1', {}, 400, 'hours'],
      ['/api/dispatch', { method: 'POST', body: JSON.stringify({}) }, 400, 'job_id'],
      ['/api/dispatch', { method: 'POST', body: JSON.stringify({ job_id: 'api/hello', delay: '9999d' }) }, 400, 'delay'],
      [
        '/api/dispatch',
        { method: 'POST', body: JSON.stringify({ job_id: 'api/hello', globals: { lava_x: 1 } }) },
        400,
        undefined,
      ],
      ['/api/dispatch', { method: 'POST', body: '{not json' }, 400, undefined],
      ['/api/dispatch', { method: 'POST', body: JSON.stringify({ job_id: 'no/such/job' }) }, 404, undefined],
      ['/api/dispatch', { method: 'POST', body: JSON.stringify({ job_id: '../../etc' }) }, 400, undefined],
      ['/api/runs/no-such-run', {}, 404, undefined],
      [`/api/runs/${'x'.repeat(300)}`, {}, 404, undefined],
      ['/api/nothing-here', {}, 404, undefined],
      ['/api/tokens', { method: 'POST', body: JSON.stringify({ role: 'root' }) }, 400, 'role'],
    ];
    for (const [path, init, status, field] of cases) {
      const res = await call(path, init);
      expect({ path, status: res.status }).toEqual({ path, status });
      expect(res.body.error.message, path).toBeTruthy();
      if (field) expect(res.body.error.field, path).toBe(field);
    }
  });

  it('refuses to read an output outside the run', async () => {
    for (const name of ['..%2F..%2Fsecret', '..%2Fother-run%2Fx', 'a%2F..%2F..%2Fb']) {
      const res = await call(`/api/runs/${okRun}/outputs/${name}?job=${encodeURIComponent('api/hello')}`);
      expect(res.status, name).toBe(404);
    }
  });

  it('shows queues, workers, dispatchers, stats and state without secure values', async () => {
    expect((await call('/api/queues')).body.queues).toEqual([expect.objectContaining({ worker: 'w', visible: 0, workers: 0 })]);
    expect((await call('/api/workers')).body.workers).toEqual([]);
    expect((await call('/api/dispatchers')).body.dispatchers).toEqual([expect.objectContaining({ name: 'main', jobs: 1 })]);
    const stats = (await call('/api/stats?hours=2')).body;
    expect(stats.totals).toMatchObject({ complete: 1, failed: 1 });
    const items = (await call('/api/state')).body.items as any[];
    expect(items.find((i) => i.state_id === 'api/plain').value).toBe('visible value');
    const secret = items.find((i) => i.state_id === 'api/secret');
    expect(secret).toMatchObject({ secure: true });
    expect(secret).not.toHaveProperty('value');
    expect((await call('/api/realms')).body.realms).toEqual([{ realm: 'test', served: true }]);
  });

  it('never returns a secret from any GET route', async () => {
    for (const r of ROUTES.filter((r) => r.method === 'get')) {
      const path = r.path
        .replace('{job_id}', encodeURIComponent('api/hello'))
        .replace('{run_id}', okRun)
        .replace('{name}', 'stdout');
      const res = await call(path);
      const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
      expect(text, path).not.toMatch(/hunter2-secret|p4ss-never-shown/);
    }
  });

  it('stops a queued run: the request is recorded, and an ended run cannot be stopped', async () => {
    const queued = (await call('/api/dispatch', { method: 'POST', body: JSON.stringify({ job_id: 'api/hello', delay: 60 }) }))
      .body.run_id;
    const res = await call(`/api/runs/${queued}/stop`, { method: 'POST' });
    expect(res.body).toEqual({ run_id: queued, requested: true });
    expect(await t.backend.directory.get('test', 'stop', queued)).toMatchObject({
      data: { by: 'local user', job_id: 'api/hello' },
    });
    const ended = await call(`/api/runs/${okRun}/stop`, { method: 'POST' });
    expect(ended.status).toBe(409);
  });

  it('serves the OpenAPI document describing exactly the routes the app has', async () => {
    const doc = (await call('/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths as Record<string, object>).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    const { createApp } = await import('../../src/server/app.js');
    const { Auth } = await import('../../src/server/auth.js');
    const auth = new Auth(t.backend, 'test', '127.0.0.1');
    const app = createApp({ backend: t.backend, realm: t.realm, tz: 'UTC', logger: silentLogger, auth, metrics: {} as never });
    const served = app.routes
      .filter(
        (r) => (r.method !== 'ALL' && r.path.startsWith('/api')) || ['/healthz', '/openapi.json', '/metrics'].includes(r.path),
      )
      .map(
        (r) =>
          `${r.method} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, (_m, n: string) => `{${n === 'job' ? 'job_id' : n === 'run' ? 'run_id' : n}}`)}`,
      );
    expect(new Set(served)).toEqual(new Set(documented));
  });
});

describe('tokens and roles', () => {
  let viewer: string;
  let operator: string;
  let admin: string;

  beforeAll(async () => {
    viewer = (await createToken(t.backend, 'test', 'viewer', 'ci viewer')).token;
    operator = (await createToken(t.backend, 'test', 'operator')).token;
    admin = (await createToken(t.backend, 'test', 'admin')).token;
    await new Promise((r) => setTimeout(r, 2100)); // the server remembers "no tokens" for up to 2 s
  });

  it('needs a token once one exists, and refuses a wrong one', async () => {
    expect((await call('/api/jobs')).status).toBe(401);
    expect((await call('/api/jobs')).headers.get('www-authenticate')).toMatch(/Bearer/);
    expect((await call('/api/jobs', { token: 'lava_000000000000_' + 'x'.repeat(43) })).status).toBe(401);
    expect((await call('/api/jobs', { token: viewer.slice(0, -1) + (viewer.endsWith('A') ? 'B' : 'A') })).status).toBe(401);
    expect((await call('/metrics')).status).toBe(401);
    expect((await call('/healthz')).status).toBe(200);
    expect((await call('/openapi.json')).status).toBe(200);
  });

  it('a viewer reads but cannot dispatch, stop or manage tokens', async () => {
    expect((await call('/api/whoami', { token: viewer })).body).toMatchObject({ role: 'viewer', auth: true });
    expect((await call('/api/runs', { token: viewer })).status).toBe(200);
    const d = await call('/api/dispatch', { token: viewer, method: 'POST', body: JSON.stringify({ job_id: 'api/hello' }) });
    expect(d.status).toBe(403);
    expect(d.body.error.message).toMatch(/operator/);
    expect((await call('/api/runs/x/stop', { token: viewer, method: 'POST' })).status).toBe(403);
    expect((await call('/api/tokens', { token: viewer })).status).toBe(403);
  });

  it('an operator dispatches; an admin manages tokens, which are stored hashed', async () => {
    const d = await call('/api/dispatch', { token: operator, method: 'POST', body: JSON.stringify({ job_id: 'api/hello' }) });
    expect(d.status).toBe(201);
    expect((await call('/api/tokens', { token: operator })).status).toBe(403);
    const list = (await call('/api/tokens', { token: admin })).body.tokens as any[];
    expect(list.map((x) => x.role).sort()).toEqual(['admin', 'operator', 'viewer']);
    expect(JSON.stringify(list)).not.toContain(viewer.slice('lava_123456789abc_'.length));
    const stored = await t.backend.directory.list('test', 'token');
    expect(JSON.stringify(stored)).not.toContain(viewer.slice('lava_123456789abc_'.length));
    const made = await call('/api/tokens', {
      token: admin,
      method: 'POST',
      body: JSON.stringify({ role: 'viewer', name: 'temp' }),
    });
    expect(made.status).toBe(201);
    expect((await call('/api/whoami', { token: made.body.token })).status).toBe(200);
    expect((await call(`/api/tokens/${made.body.id}`, { token: admin, method: 'DELETE' })).status).toBe(200);
    expect((await call('/api/whoami', { token: made.body.token })).status).toBe(401);
  });

  it('serves /metrics in Prometheus text format with run counts', async () => {
    await t.drain();
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const families = parsePrometheus(await res.text());
    const byName = new Map(families.map((f) => [f.name, f]));
    const started = byName.get('lava_runs_started_total');
    expect(started?.type).toBe('COUNTER');
    // api/hello ran twice since the server started (the routes' dispatch and the operator's), api/fails once.
    expect(started?.metrics.find((m) => m.labels?.job_id === 'api/hello')?.value).toBe('2');
    const ended = byName.get('lava_runs_ended_total');
    expect(ended?.metrics.find((m) => m.labels?.job_id === 'api/hello' && m.labels.status === 'complete')?.value).toBe('2');
    expect(ended?.metrics.find((m) => m.labels?.job_id === 'api/fails' && m.labels.status === 'failed')?.value).toBe('1');
    expect(byName.get('lava_run_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(byName.get('lava_queue_messages')?.metrics).toEqual(
      expect.arrayContaining([expect.objectContaining({ labels: { worker: 'w', state: 'delayed' }, value: '1' })]),
    );
    for (const name of ['lava_queue_oldest_age_seconds', 'lava_workers', 'lava_worker_slots', 'lava_dispatcher_replicas']) {
      expect(byName.has(name), name).toBe(true);
    }
  });
});

// Last: the server answers before reading the whole body and closes the connection, which a
// keep-alive client may find out only on its next request.
it('refuses a body over 1 MiB with 413', async () => {
  const res = await fetch(`${base}/api/dispatch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer x' },
    body: JSON.stringify({ job_id: 'x', pad: 'y'.repeat(2 * 1024 * 1024) }),
  }).catch((err: unknown) => err);
  // Either the 413 arrives, or the connection is cut while the body is still being sent.
  if (res && typeof res === 'object' && 'status' in res) {
    const answer = res as Response;
    expect(answer.status).toBe(413);
    expect(((await answer.json()) as any).error.code).toBe('LAVA_TOO_LARGE');
  } else expect(String((res as Error).cause ?? res)).toMatch(/closed|reset|EPIPE/i);
});
