/**
 * Worker fleets, their queues and the dispatchers, from the realm's directory (where workers and
 * dispatchers beat) and the queues' own counts.
 */
import type { Backend, DirectoryEntry } from '../backends/ports.js';
import type { JobSpec } from '../core/schemas.js';

export interface WorkerView {
  id: string;
  worker: string;
  host: string;
  pid: number;
  started: string;
  /** When it last beat. */
  seen: string;
  threads: number;
  busy: number;
  runs: { job_id: string; run_id: string; started: string }[];
}

export async function listWorkers(backend: Backend, realm: string): Promise<WorkerView[]> {
  return (await backend.directory.list(realm, 'worker')).map((e) => ({
    id: e.id,
    worker: str(e.data.worker),
    host: str(e.data.host),
    pid: Number(e.data.pid ?? 0),
    started: str(e.data.started),
    seen: e.updated.toISOString(),
    threads: Number(e.data.threads ?? 0),
    busy: Number(e.data.busy ?? 0),
    runs: Array.isArray(e.data.runs) ? (e.data.runs as WorkerView['runs']) : [],
  }));
}

export interface QueueView {
  worker: string;
  queue: string;
  visible: number;
  inflight: number;
  delayed: number;
  oldest_age_seconds: number | null;
  /** Live worker processes serving the fleet, their slots and how many are busy. */
  workers: number;
  slots: number;
  busy: number;
}

/** Every fleet a job names or a live worker serves, with its queue's counts. */
export async function listQueues(backend: Backend, realm: string): Promise<QueueView[]> {
  const [jobs, workers] = await Promise.all([
    backend.config.list(realm, 'jobs') as Promise<JobSpec[]>,
    listWorkers(backend, realm),
  ]);
  const fleets = [...new Set([...jobs.map((j) => j.worker), ...workers.map((w) => w.worker)])].sort();
  const now = Date.now();
  return Promise.all(
    fleets.map(async (fleet) => {
      const queue = backend.queue(realm, fleet);
      const counts = await queue.counts();
      const serving = workers.filter((w) => w.worker === fleet);
      return {
        worker: fleet,
        queue: queue.name,
        visible: counts.visible,
        inflight: counts.inflight,
        delayed: counts.delayed,
        oldest_age_seconds: counts.oldestSentAt ? Math.max(0, Math.round((now - counts.oldestSentAt.getTime()) / 1000)) : null,
        workers: serving.length,
        slots: serving.reduce((n, w) => n + w.threads, 0),
        busy: serving.reduce((n, w) => n + w.busy, 0),
      };
    }),
  );
}

export interface DispatcherView {
  name: string;
  /** Jobs whose `dispatcher` field names it. */
  jobs: number;
  replicas: {
    id: string;
    host: string;
    pid: number;
    started: string;
    seen: string;
    ticks: number;
    last_tick: string | null;
    lag_seconds: number | null;
    dispatched: number;
  }[];
}

export async function listDispatchers(backend: Backend, realm: string): Promise<DispatcherView[]> {
  const [jobs, beats] = await Promise.all([
    backend.config.list(realm, 'jobs') as Promise<JobSpec[]>,
    backend.directory.list(realm, 'dispatcher'),
  ]);
  const names = new Set<string>();
  for (const j of jobs) if (j.dispatcher) names.add(j.dispatcher);
  for (const b of beats) names.add(str(b.data.dispatcher));
  return [...names].sort().map((name) => ({
    name,
    jobs: jobs.filter((j) => j.dispatcher === name && j.schedule !== undefined).length,
    replicas: beats.filter((b) => b.data.dispatcher === name).map(replicaOf),
  }));
}

function replicaOf(e: DirectoryEntry): DispatcherView['replicas'][number] {
  return {
    id: e.id,
    host: str(e.data.host),
    pid: Number(e.data.pid ?? 0),
    started: str(e.data.started),
    seen: e.updated.toISOString(),
    ticks: Number(e.data.ticks ?? 0),
    last_tick: typeof e.data.last_tick === 'string' ? e.data.last_tick : null,
    lag_seconds: typeof e.data.lag_seconds === 'number' ? e.data.lag_seconds : null,
    dispatched: Number(e.data.dispatched ?? 0),
  };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}
