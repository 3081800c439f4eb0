/** Live output of a running process job: a real worker, real files, file:// s3_temp, and the HTTP server route. */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileBlobStore } from '../../src/backends/blob/file.js';
import { silentLogger } from '../../src/core/logger.js';
import { Server } from '../../src/server/server.js';
import { makeRealm, type TestRealm } from '../helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TWO_LINES = `sh -c 'echo first; sleep 3; echo second; sleep 3'`;

let t: TestRealm | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await t?.close();
  t = undefined;
});

function stdoutPath(t: TestRealm, jobId: string, runId: string): string {
  return fileURLToPath(`${t.realm.s3_temp}/${jobId}/${runId}/stdout`);
}

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/**
 * Dispatch a job and run a worker in the background; `watch` is called every 50 ms until the worker
 * is done, and returns what it saw while the run was going (before the worker ended).
 */
async function runWatching<T>(
  t: TestRealm,
  spec: Record<string, unknown>,
  watch: (runId: string) => Promise<T | undefined> | T | undefined,
) {
  await t.putJob(spec);
  const runId = await t.dispatch(String(spec.job_id));
  let done = false;
  const drained = t.drain().then(() => (done = true));
  const seen: T[] = [];
  const started = Date.now();
  while (!done) {
    const v = await watch(runId);
    if (v !== undefined && !done) seen.push(v);
    await sleep(50);
  }
  await drained;
  const rec = await t.backend.events.get('test', String(spec.job_id), runId);
  return { runId, seen, elapsed: Date.now() - started, statuses: rec?.log.map((e) => e.status) ?? [] };
}

describe('live output of a running cmd job', () => {
  it('publishes stdout while the process runs (first, not yet second), and the final upload has both', async () => {
    t = await makeRealm();
    const realm = t;
    const jobId = 'live/two-lines';
    const { runId, seen, statuses } = await runWatching(realm, { job_id: jobId, type: 'cmd', payload: TWO_LINES }, (runId) => {
      const text = readOrNull(stdoutPath(realm, jobId, runId));
      return text ? text : undefined; // a file:// write truncates, then writes: skip an empty read
    });
    expect(statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(seen[0]).toBe('first\n'); // published after one interval (2s), before `echo second` (3s)
    expect(seen).toContain('first\nsecond\n'); // and again once it grew
    expect(fs.readFileSync(stdoutPath(realm, jobId, runId), 'utf8')).toBe('first\nsecond\n');
  });

  it('publishes nothing before the end with OUTPUT_LIVE_INTERVAL=0', async () => {
    t = await makeRealm({ OUTPUT_LIVE_INTERVAL: 0 });
    const realm = t;
    const jobId = 'live/off';
    const write = vi.spyOn(FileBlobStore.prototype, 'write');
    let t0: number | undefined;
    const { runId, seen, statuses } = await runWatching(
      realm,
      { job_id: jobId, type: 'cmd', payload: `sh -c 'echo first; sleep 3'` },
      (runId) => {
        t0 ??= Date.now();
        // Within 2.5s the process (3s) is still running; the default interval would have published at 2s.
        return Date.now() - t0 < 2500 ? (readOrNull(stdoutPath(realm, jobId, runId)) ?? undefined) : undefined;
      },
    );
    expect(statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(seen).toEqual([]);
    // No live write at all: only the final upload stored the file.
    expect(write.mock.calls.filter(([uri]) => String(uri).includes(runId))).toEqual([]);
    expect(fs.readFileSync(stdoutPath(realm, jobId, runId), 'utf8')).toBe('first\n');
  });

  it('costs nothing extra for a run shorter than the interval: one upload per output, no live write', async () => {
    t = await makeRealm();
    const write = vi.spyOn(FileBlobStore.prototype, 'write');
    const upload = vi.spyOn(FileBlobStore.prototype, 'upload');
    const { runId, statuses } = await t.runOnce({
      job_id: 'live/short',
      type: 'cmd',
      payload: `sh -c 'echo out; echo err >&2; sleep 1'`,
    });
    expect(statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(write.mock.calls.filter(([uri]) => String(uri).includes(runId))).toEqual([]);
    const uploads = upload.mock.calls.map(([, uri]) => String(uri)).filter((uri) => uri.includes(runId));
    expect(uploads.map((u) => u.split('/').at(-1)).sort()).toEqual(['stderr', 'stdout']);
  });

  it('overwrites a live-published file that ended empty, so no stale partial output is left', async () => {
    t = await makeRealm({ OUTPUT_LIVE_INTERVAL: '0.5s' });
    // `: > /dev/stdout` truncates the process's own stdout file after it was published.
    const { runId, last } = await t.runOnce({
      job_id: 'live/trunc',
      type: 'cmd',
      payload: `sh -c 'echo first; sleep 1.2; : > /dev/stdout'`,
    });
    expect(fs.readFileSync(stdoutPath(t, 'live/trunc', runId), 'utf8')).toBe('');
    expect((last as { output: { stdout?: string }[] }).output[0]?.stdout).toBe(`${t.realm.s3_temp}/live/trunc/${runId}/stdout`);
  });

  it('serves the growing output through GET /api/runs/{run}/outputs/stdout while the run goes on', async () => {
    t = await makeRealm();
    const realm = t;
    const server = new Server({
      backend: t.backend,
      realm: t.realm,
      host: '127.0.0.1',
      port: 0,
      tz: 'UTC',
      logger: silentLogger,
    });
    const url = await server.start();
    try {
      const { seen } = await runWatching(realm, { job_id: 'live/served', type: 'cmd', payload: TWO_LINES }, async (runId) => {
        const res = await fetch(`${url}api/runs/${runId}/outputs/stdout?offset=0`);
        const body = await res.text();
        return res.status === 200 && body ? { body, size: res.headers.get('x-lava-size') } : undefined;
      });
      expect(seen[0]).toEqual({ body: 'first\n', size: '6' });
      expect(seen.map((s) => s.body)).toContain('first\nsecond\n');
    } finally {
      await server.stop();
    }
  });
});
