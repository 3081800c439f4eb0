/** A throwaway embedded realm per test, and small helpers to drive it. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openBackend } from '../src/backends/index.js';
import type { Backend, EventEntry, EventRecord } from '../src/backends/ports.js';
import { initEmbeddedRealm } from '../src/cli/init.js';
import { dispatch, type DispatchRequest } from '../src/dispatch/dispatch.js';
import type { RealmSpec } from '../src/core/schemas.js';
import { Worker, type WorkerOptions } from '../src/worker/worker.js';

/** One run's record, as a test reads it. */
export interface Ran {
  runId: string;
  statuses: string[];
  log: EventEntry[];
  /** The info of the first entry with this status. */
  info(status: string): unknown;
  /** The info of the last entry. */
  last: unknown;
}

export interface TestRealm {
  dir: string;
  backend: Backend;
  backendUrl: string;
  realm: RealmSpec;
  tmpRoot: string;
  putJob(spec: Record<string, unknown>): Promise<void>;
  dispatch(jobId: string, req?: Partial<DispatchRequest>): Promise<string>;
  /** Run a batch worker until the queue is empty. */
  drain(options?: Partial<WorkerOptions>): Promise<Worker>;
  /** Store a job (on worker `w`), dispatch it once, drain the queue and read the run's record. */
  runOnce(spec: Record<string, unknown>, req?: Partial<DispatchRequest>): Promise<Ran>;
  events(runId: string, jobId?: string): Promise<EventRecord[]>;
  statuses(runId: string, jobId: string): Promise<string[]>;
  writePayload(rel: string, content: string, mode?: number): void;
  close(): Promise<void>;
}

export async function makeRealm(config: Record<string, unknown> = {}): Promise<TestRealm> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-test-'));
  const tmpRoot = path.join(dir, 'scratch');
  const init = await initEmbeddedRealm(dir, 'test');
  const backend = await openBackend(init.backendUrl);
  const realm: RealmSpec = { ...init.realm, config: { TMPDIR: tmpRoot, ...config } };
  await backend.config.putRealm(realm);
  const payloadDir = path.join(dir, 'payloads');
  const t: TestRealm = {
    dir,
    backend,
    backendUrl: init.backendUrl,
    realm,
    tmpRoot,
    putJob: (spec) => backend.config.put('test', 'jobs', { worker: 'w', enabled: true, payload: null, ...spec }),
    dispatch: (jobId, req = {}) => dispatch(backend, { realm: 'test', jobId, ...req }),
    async drain(options = {}) {
      const worker = await Worker.create({ backend, realm: 'test', worker: 'w', batch: true, waitSeconds: 0, ...options });
      await worker.run();
      return worker;
    },
    async runOnce(spec, req = {}) {
      await t.putJob(spec);
      const runId = await t.dispatch(String(spec.job_id), req);
      await t.drain();
      const rec = await backend.events.get('test', String(spec.job_id), runId);
      const log = rec?.log ?? [];
      const info = (status: string) => log.find((e) => e.status === status)?.info;
      return { runId, statuses: log.map((e) => e.status), log, info, last: log.at(-1)?.info };
    },
    async events(runId, jobId) {
      return backend.events.query('test', { runId, ...(jobId ? { jobId } : {}), limit: 1000 });
    },
    async statuses(runId, jobId) {
      const rec = await backend.events.get('test', jobId, runId);
      return rec ? rec.log.map((e) => e.status) : [];
    },
    writePayload(rel, content, mode = 0o644) {
      const file = path.join(payloadDir, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content, { mode });
    },
    async close() {
      await backend.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}

/** Whether a process is alive; killed children may linger as zombies until reaped, and those count as dead. */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
