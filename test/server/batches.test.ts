/**
 * The batches routes and batch metrics on a real server (port 0) over an embedded realm: listing
 * with progress, tasks by state in pages, retrying and discarding dead tasks (by key and all), bad
 * input naming the field, roles (a viewer reads, an operator acts), the Prometheus gauges, and the
 * batch examples of docs/api.md run as written (sh, curl, jq).
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the JSON answers are read loosely in assertions */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitBatch } from '../../src/batch/submit.js';
import { silentLogger } from '../../src/core/logger.js';
import { Server } from '../../src/server/server.js';
import { createToken } from '../../src/server/tokens.js';
import { REPO_ROOT } from '../e2e/cli-helpers.js';
import { makeRealm, type TestRealm } from '../helpers.js';

const require = createRequire(import.meta.url);
const parsePrometheus = require('parse-prometheus-text-format') as (text: string) => {
  name: string;
  metrics: { labels?: Record<string, string>; value?: string }[];
}[];

let t: TestRealm;
let server: Server;
let base: string;

async function call(path: string, init: RequestInit & { token?: string; json?: unknown } = {}) {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  const body = init.json === undefined ? init.body : JSON.stringify(init.json);
  if (init.json !== undefined) headers.set('content-type', 'application/json');
  const res = await fetch(base + path, { ...init, body, headers });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // text routes
  }
  return { status: res.status, body: parsed };
}

const keysOf = async (id: string, state: 'pending' | 'dead') =>
  (await t.backend.batches.listTasks('test', id, state, { limit: 1000 })).tasks.map((x) => x.key);

/** Drive tasks to dead as admission leaves them after their last attempt. */
async function kill(id: string, keys: string[]): Promise<void> {
  for (const key of keys) {
    expect(
      await t.backend.batches.transition('test', id, key, ['pending'], 'dead', {
        attempt: 3,
        run_id: `run-${key}`,
        run_status: 'failed',
        error: `exit 3 on ${key}`,
        died_at: new Date().toISOString(),
      }),
    ).toBe(true);
  }
}

const storeJob = (n: number) => ({
  attrs: [{ name: 'store', plural: 'stores' }],
  values: Array.from({ length: n }, (_, i) => `s${i}`),
  isolate: { stores: true },
});

beforeAll(async () => {
  t = await makeRealm();
  await t.putJob({ job_id: 'rep/fails', type: 'cmd', payload: "sh -c 'exit 3'" });
  await submitBatch(t.backend, 'test', { batchId: 'older', jobId: 'rep/fails', job: storeJob(4) });
  await new Promise((r) => setTimeout(r, 5)); // a later submission time, for the newest-first order
  await submitBatch(t.backend, 'test', { batchId: 'b1', jobId: 'rep/fails', job: storeJob(6) });
  await kill('b1', (await keysOf('b1', 'pending')).slice(0, 4));
  const [first] = await keysOf('older', 'pending');
  await t.backend.batches.transition('test', 'older', first!, ['pending'], 'complete', { run_status: 'complete' });
  server = new Server({ backend: t.backend, realm: t.realm, host: '127.0.0.1', port: 0, tz: 'UTC', logger: silentLogger });
  base = (await server.start()).replace(/\/$/, '');
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await t?.close();
});

describe('batches routes', () => {
  it('lists batches newest first with counts and progress, and shows one', async () => {
    const list = await call('/api/batches');
    expect(list.status).toBe(200);
    expect(list.body.batches.map((b: any) => b.batch_id)).toEqual(['b1', 'older']);
    expect(list.body.batches[1]).toMatchObject({
      job_id: 'rep/fails',
      state: 'submitted',
      total: 4,
      done: 1,
      fraction: 0.25,
      counts: { pending: 3, complete: 1, dead: 0 },
    });
    expect((await call('/api/batches?limit=1')).body).toMatchObject({ batches: [{ batch_id: 'b1' }], more: 1 });
    expect((await call('/api/batches?state=finished')).body.batches).toEqual([]);
    const one = await call('/api/batches/b1');
    expect(one.body.batch).toMatchObject({ batch_id: 'b1', total: 6, done: 4, counts: { dead: 4, pending: 2 } });
    const missing = await call('/api/batches/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toMatch(/batch "nope" not found/);
  });

  it('lists tasks by state in pages; closed tasks by default', async () => {
    const closed = await call('/api/batches/b1/tasks');
    expect(closed.body.tasks).toHaveLength(4);
    expect(closed.body.tasks[0]).toMatchObject({ state: 'dead', info: { error: expect.stringMatching(/^exit 3 on /) } });
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await call(`/api/batches/b1/tasks?state=pending,dead&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.tasks.map((x: any) => x.key));
      cursor = page.body.cursor;
      if (!cursor) break;
    }
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
    const bad = await call('/api/batches/b1/tasks?state=done');
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('state');
    expect((await call('/api/batches/b1/tasks?limit=0')).body.error.field).toBe('limit');
    expect((await call('/api/batches/b1/tasks?cursor=xyz')).body.error.message).toMatch(/cursor/);
    expect((await call('/api/batches/nope/tasks')).status).toBe(404);
  });

  it('retries and discards dead tasks; bad bodies name the field', async () => {
    const dead = await keysOf('b1', 'dead');
    const noBody = await call('/api/batches/b1/dead/retry', { method: 'POST', json: {} });
    expect(noBody.status).toBe(400);
    expect(noBody.body.error.field).toBe('keys');
    const both = await call('/api/batches/b1/dead/retry', { method: 'POST', json: { keys: [dead[0]], all: true } });
    expect(both.status).toBe(400);
    expect(both.body.error.message).toMatch(/either "keys".*or "all": true/);
    const wrongAll = await call('/api/batches/b1/dead/discard', { method: 'POST', json: { all: 'yes' } });
    expect(wrongAll.body.error.field).toBe('all');
    const extra = await call('/api/batches/b1/dead/discard', { method: 'POST', json: { all: true, force: 1 } });
    expect(extra.body.error.field).toBe('force');
    const notJson = await call('/api/batches/b1/dead/retry', { method: 'POST', body: 'all' });
    expect(notJson.status).toBe(415);

    const r = await call('/api/batches/b1/dead/retry', { method: 'POST', json: { keys: [dead[0], 'nope'] } });
    expect(r).toEqual({ status: 200, body: { batch_id: 'b1', moved: 1, unknown: ['nope'], skipped: [] } });
    expect((await t.backend.batches.getTask('test', 'b1', dead[0]!))?.info).toMatchObject({ attempts_from: 3, error: null });
    const d = await call('/api/batches/b1/dead/discard', { method: 'POST', json: { all: true } });
    expect(d.body).toEqual({ batch_id: 'b1', moved: 3, unknown: [], skipped: [] });
    const again = await call('/api/batches/b1/dead/retry', { method: 'POST', json: { all: true } });
    expect(again.body.moved).toBe(0);
    expect((await call('/api/batches/nope/dead/retry', { method: 'POST', json: { all: true } })).status).toBe(404);
    expect((await call('/api/batches/b1')).body.batch.counts).toMatchObject({ pending: 3, dead: 0, discarded: 3 });
  });
});

describe('batch metrics and roles', () => {
  let viewer: string;
  let operator: string;

  beforeAll(async () => {
    viewer = (await createToken(t.backend, 'test', 'viewer')).token;
    operator = (await createToken(t.backend, 'test', 'operator')).token;
    await new Promise((r) => setTimeout(r, 2100)); // the server remembers "no tokens" for up to 2 s
  });

  it('a viewer reads batches but cannot retry or discard; an operator can', async () => {
    expect((await call('/api/batches', { token: viewer })).status).toBe(200);
    expect((await call('/api/batches/b1/tasks', { token: viewer })).status).toBe(200);
    for (const action of ['retry', 'discard']) {
      const res = await call(`/api/batches/b1/dead/${action}`, { token: viewer, method: 'POST', json: { all: true } });
      expect(res.status).toBe(403);
      expect(res.body.error.message).toMatch(/operator/);
    }
    expect((await call('/api/batches')).status).toBe(401);
    await submitBatch(t.backend, 'test', { batchId: 'b2', jobId: 'rep/fails', job: storeJob(2) });
    await kill('b2', await keysOf('b2', 'pending'));
    await t.backend.batches.update('test', 'b2', { state: 'finished', task_count: 2 });
    const res = await call('/api/batches/b2/dead/retry', { token: operator, method: 'POST', json: { all: true } });
    expect(res.body.moved).toBe(2);
    expect((await call('/api/batches/b2', { token: operator })).body.batch.state).toBe('submitted');
  });

  it('exports tasks per state of each batch and batches per state', async () => {
    await t.backend.batches.update('test', 'older', { state: 'finished', task_count: 4 });
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${viewer}` } });
    const families = new Map(parsePrometheus(await res.text()).map((f) => [f.name, f]));
    const tasks = families.get('lava_batch_tasks')?.metrics ?? [];
    const value = (batch: string, state: string) =>
      tasks.find((m) => m.labels?.batch_id === batch && m.labels.state === state)?.value;
    expect(value('b1', 'discarded')).toBe('3');
    expect(value('b1', 'pending')).toBe('3');
    expect(value('b2', 'pending')).toBe('2');
    // Finished, but submitted within the last day: still shown.
    expect(value('older', 'complete')).toBe('1');
    expect(tasks.find((m) => m.labels?.batch_id === 'b1')?.labels?.job_id).toBe('rep/fails');
    expect(tasks.filter((m) => m.labels?.batch_id === 'b1')).toHaveLength(7);
    const batches = families.get('lava_batches')?.metrics ?? [];
    expect(batches.find((m) => m.labels?.state === 'submitted')?.value).toBe('2');
    expect(batches.find((m) => m.labels?.state === 'finished')?.value).toBe('1');
  });
});

describe('lava_batch_tasks bounds', () => {
  const scrape = async () => {
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
    const family = parsePrometheus(await res.text()).find((f) => f.name === 'lava_batch_tasks');
    return new Set((family?.metrics ?? []).map((m) => m.labels?.batch_id));
  };
  let metricsToken: string;
  const old = new Date(Date.now() - 3 * 24 * 3600 * 1000).toISOString();
  const record = (batch_id: string, state: string, submitted = old) => ({
    batch_id,
    job_id: 'rep/fails',
    options: {},
    submitted,
    state,
    task_count: 0,
  });

  beforeAll(async () => {
    metricsToken = (await createToken(t.backend, 'test', 'viewer', 'metrics')).token;
  });

  it('leaves out batches finished more than a day ago, but keeps one it saw unfinished today', async () => {
    await t.backend.batches.create('test', record('ancient', 'finished'));
    await t.backend.batches.create('test', record('long-running', 'submitted'));
    let shown = await scrape();
    expect(shown.has('ancient')).toBe(false);
    expect(shown.has('long-running')).toBe(true);
    await t.backend.batches.update('test', 'long-running', { state: 'finished', task_count: 0 });
    shown = await scrape();
    expect(shown.has('long-running')).toBe(true);
    expect(shown.has('ancient')).toBe(false);
  });

  it('has series for at most 100 batches, unfinished first', async () => {
    for (let i = 0; i < 105; i++) {
      await t.backend.batches.create('test', record(`many-${String(i).padStart(3, '0')}`, 'submitted', new Date().toISOString()));
    }
    const shown = await scrape();
    expect(shown.size).toBe(100);
    expect([...shown].every((id) => id?.startsWith('many-'))).toBe(true);
  });
});

describe('docs/api.md batch examples', () => {
  const blocks = [...fs.readFileSync(path.join(REPO_ROOT, 'docs/api.md'), 'utf8').matchAll(/```bash\n([\s\S]*?)```/g)].map(
    (m) => m[1] as string,
  );

  it('run as written', async () => {
    expect(blocks).toHaveLength(3);
    const token = (await createToken(t.backend, 'test', 'operator', 'docs')).token;
    await t.backend.batches.create('test', {
      batch_id: 'docs-batch',
      job_id: 'rep/fails',
      options: {},
      submitted: new Date().toISOString(),
      state: 'finished',
      task_count: 3,
    });
    await t.backend.batches.addTasks(
      'test',
      'docs-batch',
      ['k1', 'k2', 'k3'].map((key) => ({ key, task: {} })),
    );
    await kill('docs-batch', ['k1', 'k2']);
    await t.backend.batches.transition('test', 'docs-batch', 'k3', ['pending'], 'complete');
    const env = { PATH: process.env.PATH, LAVA_URL: base, TOKEN: token, batch: 'docs-batch' };
    const sh = (script: string) =>
      new Promise<string>((resolve, reject) =>
        execFile('sh', ['-ec', script], { env, timeout: 30_000 }, (err, stdout, stderr) =>
          err ? reject(new Error(`${script}\nfailed: ${stderr || err.message}`)) : resolve(stdout),
        ),
      );
    expect((await sh(blocks[0]!)).split('\n')).toContain('{"batch_id":"docs-batch","state":"finished","done":3,"total":3}');
    expect(await sh(blocks[1]!)).toBe('k1 exit 3 on k1\nk2 exit 3 on k2\n');
    expect(await sh(blocks[2]!)).toBe('{"batch_id":"docs-batch","moved":2,"unknown":[],"skipped":[]}\n');
    expect(await t.backend.batches.get('test', 'docs-batch')).toMatchObject({ state: 'submitted' });
  });
});
