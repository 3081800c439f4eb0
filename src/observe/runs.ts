/**
 * Runs as people look at them: one summary per run (status, when it started and ended, how long it
 * took) built from the events table, one run in detail, and waiting for a run to end.
 */
import type { Backend, EventEntry, EventRecord } from '../backends/ports.js';
import { LavaError, NotFoundError } from '../core/errors.js';
import { sleep } from '../core/time.js';

/** Statuses a run's record keeps once the run has ended. */
export const FINAL_STATUSES: ReadonlySet<string> = new Set(['complete', 'failed', 'skipped', 'rejected', 'action_failed']);

/** Every status a run's record can have, in lifecycle order. */
export const STATUSES = [
  'queued',
  'starting',
  'logging',
  'running',
  'retrying',
  'complete',
  'failed',
  'skipped',
  'rejected',
  'action_failed',
] as const;

export interface RunSummary {
  run_id: string;
  job_id: string;
  status: string;
  worker: string | null;
  ts_dispatch: string | null;
  /** UTC ISO times. */
  started: string | null;
  ended: string | null;
  /** Seconds from start to end (or to now while running). */
  duration: number | null;
  ts_event: string;
}

/** `tu_event` (naive UTC) as a Date. */
export function entryTime(e: Pick<EventEntry, 'tu_event'>): Date {
  return new Date(`${e.tu_event}Z`);
}

export function summarize(record: EventRecord, now = new Date()): RunSummary {
  const start = record.log.find((e) => e.status === 'starting' || e.status === 'running');
  const final = FINAL_STATUSES.has(record.status)
    ? [...record.log].reverse().find((e) => FINAL_STATUSES.has(e.status))
    : undefined;
  const startedAt = start && entryTime(start);
  const endedAt = final && entryTime(final);
  return {
    run_id: record.run_id,
    job_id: record.job_id,
    status: record.status,
    worker: record.worker,
    ts_dispatch: record.ts_dispatch,
    started: startedAt?.toISOString() ?? null,
    ended: endedAt?.toISOString() ?? null,
    duration: startedAt ? round3(((endedAt ?? now).getTime() - startedAt.getTime()) / 1000) : null,
    ts_event: record.ts_event,
  };
}

function round3(n: number): number {
  return Math.max(0, Math.round(n * 1000) / 1000);
}

export interface RunFilter {
  job?: string;
  status?: string;
  since?: Date;
  limit?: number;
}

/**
 * Runs newest first. A chain's children share its run id: only the record the run was dispatched
 * as is listed (the children are on its page), unless the filter names a job.
 */
export async function listRuns(backend: Backend, realm: string, f: RunFilter = {}): Promise<RunSummary[]> {
  const limit = Math.min(f.limit ?? 100, 1000);
  const records = await backend.events.query(realm, {
    ...(f.job ? { jobId: f.job } : {}),
    ...(f.status ? { status: f.status } : {}),
    ...(f.since ? { since: f.since } : {}),
    limit: f.job ? limit : limit * 2,
  });
  const now = new Date();
  if (f.job) return records.map((r) => summarize(r, now));
  const byRun = new Map<string, EventRecord[]>();
  for (const r of records) byRun.set(r.run_id, [...(byRun.get(r.run_id) ?? []), r]);
  return [...byRun.values()]
    .map(rootOf)
    .slice(0, limit)
    .map((r) => summarize(r, now));
}

export interface RunDetail extends RunSummary {
  log: { ts_event: string; status: string; info: unknown }[];
  parameters: unknown;
  globals: unknown;
  /** Every other job that ran under this run id (children of a chain, dag or foreach). */
  children: RunSummary[];
}

/** The run's root record (the job it was dispatched as) with its log and the records of its children. */
export async function runDetail(backend: Backend, realm: string, runId: string, jobId?: string): Promise<RunDetail> {
  const records = await backend.events.query(realm, { runId, limit: 1000 });
  if (!records.length) throw new NotFoundError('run', runId, 'list runs with `lava runs`');
  const root = (jobId && records.find((r) => r.job_id === jobId)) || rootOf(records);
  const queued = root.log.find((e) => e.status === 'queued')?.info as Record<string, unknown> | undefined;
  const now = new Date();
  return {
    ...summarize(root, now),
    log: root.log.map((e) => ({ ts_event: e.ts_event, status: e.status, info: e.info })),
    parameters: queued?.parameters ?? null,
    globals: queued?.globals ?? null,
    children: records
      .filter((r) => r !== root)
      .map((r) => summarize(r, now))
      .sort((a, b) => (a.started ?? a.ts_event).localeCompare(b.started ?? b.ts_event)),
  };
}

/**
 * Of the records of one run id, the one it was dispatched as: the one with a `queued` entry, else
 * (a run sent as a raw message) the one whose log starts first — children start after their parent.
 */
function rootOf(records: EventRecord[]): EventRecord {
  const queued = (r: EventRecord) => (r.log.some((e) => e.status === 'queued') ? 0 : 1);
  const firstAt = (r: EventRecord) => r.log[0]?.tu_event ?? r.tu_event;
  return [...records].sort((a, b) => queued(a) - queued(b) || firstAt(a).localeCompare(firstAt(b)))[0] as EventRecord;
}

export interface WaitOptions {
  /** Give up (with a LavaError) after this many milliseconds; default: wait for ever. */
  timeoutMs?: number;
  /** How often to look; default 250 ms. */
  pollMs?: number;
  signal?: AbortSignal;
}

/** Wait until the run's record has a final status, and return it. */
export async function waitForRun(
  backend: Backend,
  realm: string,
  jobId: string,
  runId: string,
  o: WaitOptions = {},
): Promise<EventRecord> {
  const deadline = o.timeoutMs === undefined ? Infinity : Date.now() + o.timeoutMs;
  for (;;) {
    const record = await backend.events.get(realm, jobId, runId);
    if (record && FINAL_STATUSES.has(record.status)) return record;
    if (o.signal?.aborted) throw o.signal.reason instanceof Error ? o.signal.reason : new Error('aborted');
    if (Date.now() >= deadline) {
      throw new RunWaitTimeout(jobId, runId, record?.status ?? 'not yet queued', o.timeoutMs ?? 0);
    }
    await sleep(Math.min(o.pollMs ?? 250, deadline - Date.now()), o.signal);
  }
}

export class RunWaitTimeout extends LavaError {
  constructor(jobId: string, runId: string, status: string, ms: number) {
    super(
      'LAVA_RUN_WAIT_TIMEOUT',
      `run ${runId} of ${jobId} did not end within ${ms / 1000}s (status: ${status}); is a worker serving its fleet? (lava queue)`,
    );
  }
}
