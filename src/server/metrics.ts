/**
 * Prometheus metrics for a realm at /metrics. Run counts and durations come from following the
 * events table (so they cover every worker of the realm, wherever it runs); queue, worker and
 * dispatcher figures are read when scraped.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BATCH_TASK_STATES, type Backend, type BatchRecord } from '../backends/ports.js';
import type { Logger } from '../core/logger.js';
import { sleep } from '../core/time.js';
import { listDispatchers, listQueues, listWorkers } from '../observe/fleet.js';
import { FINAL_STATUSES, entryTime } from '../observe/runs.js';

/** Most batches `lava_batch_tasks` has series for. */
export const MAX_BATCH_SERIES = 100;
const DAY_MS = 24 * 3600 * 1000;

export class Metrics {
  readonly registry = new Registry();
  private readonly started: Counter<'job_id'>;
  private readonly ended: Counter<'job_id' | 'status'>;
  private readonly durations: Histogram<'job_id' | 'status'>;
  private readonly follower: EventFollower;
  /** Batch id → when a scrape last saw the batch unfinished (to keep showing it for a day once finished). */
  private readonly seenUnfinished = new Map<string, number>();

  constructor(
    private readonly backend: Backend,
    private readonly realm: string,
    private readonly logger: Logger,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'lava_server_' });
    this.started = new Counter({
      name: 'lava_runs_started_total',
      help: 'Runs started, by job',
      labelNames: ['job_id'],
      registers,
    });
    this.ended = new Counter({
      name: 'lava_runs_ended_total',
      help: 'Runs ended, by job and final status',
      labelNames: ['job_id', 'status'],
      registers,
    });
    this.durations = new Histogram({
      name: 'lava_run_duration_seconds',
      help: 'Run durations from starting to the final status',
      labelNames: ['job_id', 'status'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600],
      registers,
    });
    this.follower = new EventFollower(backend, realm, (e) => this.count(e));
    this.fleetGauges(registers);
    this.batchGauges(registers);
  }

  private count(e: FollowedEntry): void {
    if (e.status === 'starting') this.started.inc({ job_id: e.job_id });
    else if (FINAL_STATUSES.has(e.status)) {
      this.ended.inc({ job_id: e.job_id, status: e.status });
      if (e.startedAt)
        this.durations.observe({ job_id: e.job_id, status: e.status }, (e.at.getTime() - e.startedAt.getTime()) / 1000);
    }
  }

  /** Gauges whose values are read from the queues and the directory at each scrape. */
  private fleetGauges(registers: Registry[]): void {
    const { backend, realm } = this;
    new Gauge({
      name: 'lava_queue_messages',
      help: 'Messages in a worker fleet queue, by state (visible, inflight, delayed)',
      labelNames: ['worker', 'state'],
      registers,
      async collect() {
        this.reset();
        const queues = await listQueues(backend, realm);
        for (const q of queues) {
          for (const state of ['visible', 'inflight', 'delayed'] as const) this.set({ worker: q.worker, state }, q[state]);
        }
        oldest.reset();
        for (const q of queues) if (q.oldest_age_seconds !== null) oldest.set({ worker: q.worker }, q.oldest_age_seconds);
      },
    });
    // Set by the queue gauge's collect, which runs first (metrics are collected in registration order).
    const oldest = new Gauge({
      name: 'lava_queue_oldest_age_seconds',
      help: 'Age of the oldest message in a worker fleet queue',
      labelNames: ['worker'],
      registers,
    });
    const slots = new Gauge({
      name: 'lava_worker_slots',
      help: 'Run slots of live workers, by fleet',
      labelNames: ['worker'],
      registers,
    });
    const busy = new Gauge({
      name: 'lava_worker_busy_slots',
      help: 'Busy run slots of live workers, by fleet',
      labelNames: ['worker'],
      registers,
    });
    new Gauge({
      name: 'lava_workers',
      help: 'Live worker processes, by fleet',
      labelNames: ['worker'],
      registers,
      async collect() {
        this.reset();
        slots.reset();
        busy.reset();
        for (const w of await listWorkers(backend, realm)) {
          this.inc({ worker: w.worker });
          slots.inc({ worker: w.worker }, w.threads);
          busy.inc({ worker: w.worker }, w.busy);
        }
      },
    });
    const ticks = new Gauge({
      name: 'lava_dispatcher_ticks',
      help: 'Schedule evaluations by each live dispatcher replica since it started',
      labelNames: ['dispatcher', 'replica'],
      registers,
    });
    const lag = new Gauge({
      name: 'lava_dispatcher_lag_seconds',
      help: 'How far behind now the most up-to-date live replica of a dispatcher has evaluated schedules',
      labelNames: ['dispatcher'],
      registers,
    });
    new Gauge({
      name: 'lava_dispatcher_replicas',
      help: 'Live replicas of each dispatcher',
      labelNames: ['dispatcher'],
      registers,
      async collect() {
        this.reset();
        ticks.reset();
        lag.reset();
        for (const d of await listDispatchers(backend, realm)) {
          this.set({ dispatcher: d.name }, d.replicas.length);
          for (const r of d.replicas) ticks.set({ dispatcher: d.name, replica: r.id }, r.ticks);
          const lags = d.replicas.map((r) => r.lag_seconds).filter((l): l is number => l !== null);
          if (lags.length) lag.set({ dispatcher: d.name }, Math.min(...lags));
        }
      },
    });
  }

  /**
   * Batch gauges, read at each scrape: `lava_batches` per batch state, and `lava_batch_tasks` per task
   * state for at most MAX_BATCH_SERIES batches (unfinished ones first, newest first, then those
   * finished within the last day). A batch record keeps no finishing time, so a finished batch counts
   * as recent when it was submitted within the last day or this server saw it unfinished within it.
   */
  private batchGauges(registers: Registry[]): void {
    const { backend, realm } = this;
    const seenUnfinished = this.seenUnfinished;
    // Both gauges are collected at once (a scrape starts every collect before awaiting any), so they share one read.
    let reading: Promise<{ all: BatchRecord[]; shown: { batch: BatchRecord; counts: Record<string, number> }[] }> | undefined;
    const read = () =>
      (reading ??= (async () => {
        const all = await backend.batches.list(realm);
        const now = Date.now();
        const recent = (b: BatchRecord) =>
          now - Date.parse(b.submitted) < DAY_MS || now - (seenUnfinished.get(b.batch_id) ?? 0) < DAY_MS;
        const newestFirst = [...all].reverse();
        const chosen = [
          ...newestFirst.filter((b) => b.state !== 'finished'),
          ...newestFirst.filter((b) => b.state === 'finished' && recent(b)),
        ].slice(0, MAX_BATCH_SERIES);
        const shown = [];
        for (const batch of chosen) {
          shown.push({ batch, counts: await backend.batches.counts(realm, batch.batch_id) });
          if (batch.state !== 'finished') seenUnfinished.set(batch.batch_id, now);
        }
        for (const [id, t] of seenUnfinished) if (now - t >= DAY_MS) seenUnfinished.delete(id);
        return { all, shown };
      })().finally(() => (reading = undefined)));
    new Gauge({
      name: 'lava_batches',
      help: 'Batches of the realm per state (submitting, submitted, finished)',
      labelNames: ['state'],
      registers,
      async collect() {
        const { all } = await read();
        this.reset();
        for (const b of all) this.inc({ state: b.state });
      },
    });
    new Gauge({
      name: 'lava_batch_tasks',
      help: `Tasks of a batch per state, for batches not finished and those finished in the last 24 h (at most ${MAX_BATCH_SERIES} batches)`,
      labelNames: ['batch_id', 'job_id', 'state'],
      registers,
      async collect() {
        const { shown } = await read();
        this.reset();
        for (const { batch, counts } of shown) {
          for (const state of BATCH_TASK_STATES) {
            this.set({ batch_id: batch.batch_id, job_id: batch.job_id, state }, counts[state] ?? 0);
          }
        }
      },
    });
  }

  start(): void {
    this.follower.start(this.logger);
  }

  async stop(): Promise<void> {
    await this.follower.stop();
  }

  /** Catch up with the events table now (tests, and a scrape that wants fresh counts). */
  poll(): Promise<void> {
    return this.follower.poll();
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

export interface FollowedEntry {
  job_id: string;
  run_id: string;
  status: string;
  at: Date;
  /** When the run started, for final statuses. */
  startedAt?: Date;
}

/** Entries written later than this after their own time may be missed (a write batch held back). */
const OVERLAP_MS = 30_000;
const POLL_MS = 2_000;
const MAX_RECORDS = 20_000;

/**
 * Calls `onEntry` once for each events-table log entry written since it started. It reads records
 * changed since a mark that trails the newest entry seen by OVERLAP_MS, and remembers which entries
 * of that overlap it has already passed on.
 */
export class EventFollower {
  /** Entries from before the follower started are not counted. */
  private readonly from = Date.now();
  private mark = this.from;
  private seen = new Map<string, number>();
  private stopping = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly backend: Backend,
    private readonly realm: string,
    private readonly onEntry: (e: FollowedEntry) => void,
  ) {}

  start(logger: Logger): void {
    this.loop = (async () => {
      while (!this.stopping.signal.aborted) {
        await this.poll().catch((err: unknown) => logger.warn({ err: String(err) }, 'metrics: reading events failed'));
        await sleep(POLL_MS, this.stopping.signal);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  async poll(): Promise<void> {
    const since = this.mark - OVERLAP_MS;
    const records = await this.backend.events.query(this.realm, { since: new Date(since), limit: MAX_RECORDS });
    let newest = this.mark;
    for (const r of records) {
      let startedAt: Date | undefined;
      for (const e of r.log) {
        const at = entryTime(e);
        if (e.status === 'starting') startedAt = at;
        const t = at.getTime();
        if (t < since || t < this.from) continue;
        const key = `${r.job_id}\u0000${r.run_id}\u0000${e.status}\u0000${e.tu_event}`;
        if (this.seen.has(key)) continue;
        this.seen.set(key, t);
        newest = Math.max(newest, t);
        this.onEntry({ job_id: r.job_id, run_id: r.run_id, status: e.status, at, ...(startedAt ? { startedAt } : {}) });
      }
    }
    this.mark = Math.min(newest, Date.now());
    for (const [key, t] of this.seen) if (t < this.mark - OVERLAP_MS) this.seen.delete(key);
  }
}
