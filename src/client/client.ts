/**
 * The TypeScript client: dispatch runs, wait for their results, list and follow runs.
 *
 *   const lava = await connect({ realm: 'dev' });
 *   const run = await lava.dispatch('demo/hello');
 *   const r = await run.result({ timeoutMs: 60_000 });
 *   await lava.close();
 */
import { backendUrl, openBackend } from '../backends/index.js';
import type { Backend, EventEntry, EventRecord } from '../backends/ports.js';
import { resolveRealm } from '../backends/realm.js';
import type { RealmSpec } from '../core/schemas.js';
import { sleep } from '../core/time.js';
import { parseDuration } from '../core/units.js';
import { dispatch } from '../dispatch/dispatch.js';
import { listOutputs, readOutput } from '../observe/outputs.js';
import { FINAL_STATUSES, listRuns, waitForRun, type RunSummary } from '../observe/runs.js';

export interface ConnectOptions {
  /** A backend URL (default `LAVA_BACKEND`, else `sqlite:./.lava/lava.db`), or an open Backend, which `close()` leaves open. */
  backend?: string | Backend;
  /** Default `LAVA_REALM`, else the only realm in the backend. */
  realm?: string;
}

export async function connect(o: ConnectOptions = {}): Promise<LavaClient> {
  const owned = typeof o.backend !== 'object';
  const backend = typeof o.backend === 'object' ? o.backend : await openBackend(backendUrl(o.backend));
  try {
    const realm = await resolveRealm(backend, { realm: o.realm, howToName: 'pass { realm } or set LAVA_REALM' });
    return new LavaClient(backend, realm, owned);
  } catch (err) {
    if (owned) await backend.close();
    throw err;
  }
}

export interface DispatchOptions {
  parameters?: Record<string, unknown>;
  globals?: Record<string, unknown>;
  /** Seconds, or a duration such as "5m". */
  delay?: number | string;
}

export interface RunsQuery {
  job?: string;
  /** Only runs whose latest status is this. */
  status?: string;
  /** Only runs with an event since this time, or in this period ("1h", or seconds). */
  since?: Date | string | number;
  /** @default 20 */
  limit?: number;
}

export interface FollowOptions {
  job?: string;
  /** Stop following: the iteration ends. */
  signal?: AbortSignal;
  /** @default 500 */
  pollMs?: number;
}

export class LavaClient {
  constructor(
    readonly backend: Backend,
    readonly realm: RealmSpec,
    private readonly ownsBackend: boolean,
  ) {}

  /** Queue a run of a job; the handle's run id is known at once. */
  async dispatch(jobId: string, o: DispatchOptions = {}): Promise<RunHandle> {
    const runId = await dispatch(this.backend, { realm: this.realm.realm, jobId, ...o });
    return new RunHandle(this, jobId, runId);
  }

  /** A handle on a run dispatched elsewhere (`lava dispatch`, a schedule). */
  run(jobId: string, runId: string): RunHandle {
    return new RunHandle(this, jobId, runId);
  }

  /** Runs, newest first. */
  runs(q: RunsQuery = {}): Promise<RunSummary[]> {
    return listRuns(this.backend, this.realm.realm, {
      ...(q.job ? { job: q.job } : {}),
      ...(q.status ? { status: q.status } : {}),
      ...(q.since !== undefined ? { since: sinceDate(q.since) } : {}),
      limit: q.limit ?? 20,
    });
  }

  /**
   * Each run (of `job`, if given) as its status changes from the moment follow() is called: polled,
   * so a run that passes through several statuses between two looks yields only the latest. Ends
   * when the signal aborts.
   */
  follow(o: FollowOptions = {}): AsyncGenerator<RunSummary> {
    return this.changes(new Date(), o);
  }

  private async *changes(since: Date, o: FollowOptions): AsyncGenerator<RunSummary> {
    const seen = new Map<string, string>();
    while (!o.signal?.aborted) {
      // Only runs with an event since then: the query stays small however long it follows.
      for (const r of (await this.runs({ ...(o.job ? { job: o.job } : {}), since, limit: 1000 })).reverse()) {
        if (seen.get(r.run_id) === r.status) continue;
        seen.set(r.run_id, r.status);
        yield r;
      }
      await sleep(o.pollMs ?? 500, o.signal);
    }
  }

  /** Close the backend, unless it was handed to connect() open. */
  async close(): Promise<void> {
    if (this.ownsBackend) await this.backend.close();
  }
}

export interface OutputFile {
  name: string;
  size: number;
  modified: string;
}

export interface RunResult {
  status: string;
  ok: boolean;
  /** The job's exit status (of its result, or of its failure's `error_data`), when it has one. */
  exitStatus: number | null;
  /** The info of the final event: the result map of a `complete` run, the failure of a `failed` one. */
  result: unknown;
  error: string | null;
  /** Files the run stored under `<s3_temp>/<job_id>/<run_id>/`: `stdout`, `stderr`, … */
  outputs: OutputFile[];
  record: EventRecord;
}

export interface ResultOptions {
  /** Throw RunWaitTimeout after this long; default: wait for ever. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** @default 250 */
  pollMs?: number;
}

export class RunHandle {
  constructor(
    private readonly client: LavaClient,
    readonly jobId: string,
    readonly runId: string,
  ) {}

  private record(): Promise<EventRecord | undefined> {
    return this.client.backend.events.get(this.client.realm.realm, this.jobId, this.runId);
  }

  /** The run's latest status; `queued` until a worker has recorded anything. */
  async status(): Promise<string> {
    return (await this.record())?.status ?? 'queued';
  }

  /** The run's log entries, oldest first. */
  async events(): Promise<EventEntry[]> {
    return (await this.record())?.log ?? [];
  }

  /** Wait for the run to end and describe how it ended. */
  async result(o: ResultOptions = {}): Promise<RunResult> {
    const { backend, realm } = this.client;
    const record = await waitForRun(backend, realm.realm, this.jobId, this.runId, o);
    const final = [...record.log].reverse().find((e) => FINAL_STATUSES.has(e.status));
    const info = final?.info;
    const outputs = await listOutputs(realm, this.jobId, this.runId);
    return {
      status: record.status,
      ok: record.status === 'complete',
      exitStatus: exitStatusOf(record),
      result: info ?? null,
      error: errorOf(record.status, info),
      outputs: outputs.map(({ name, size, modified }) => ({ name, size, modified })),
      record,
    };
  }

  /** The text of one of the run's outputs (a name from `result().outputs`, e.g. `stdout`). */
  async output(name: string): Promise<string> {
    const chunks: Buffer[] = [];
    for (let offset = 0; ;) {
      const { data, size } = await readOutput(this.client.realm, this.jobId, this.runId, name, offset);
      chunks.push(data);
      offset += data.length;
      if (offset >= size || !data.length) break;
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}

function sinceDate(v: Date | string | number): Date {
  return v instanceof Date ? v : new Date(Date.now() - parseDuration(v, 'since') * 1000);
}

function asMap(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** The exit status of the latest entry that has one: a result's, or a failure's `error_data`. */
function exitStatusOf(record: EventRecord): number | null {
  for (const e of [...record.log].reverse()) {
    const info = asMap(e.info);
    const n = info?.exit_status ?? asMap(info?.error_data)?.exit_status;
    if (typeof n === 'number') return n;
  }
  return null;
}

/** A failure's message: `error` of its info, or the info itself when it is text. */
function errorOf(status: string, info: unknown): string | null {
  const error = asMap(info)?.error;
  if (typeof error === 'string') return error;
  if (status !== 'complete' && status !== 'skipped' && typeof info === 'string') return info;
  return null;
}
