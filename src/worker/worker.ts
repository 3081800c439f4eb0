/**
 * The worker: receives dispatch messages only when a slot is free, keeps each message's lease
 * (and the run's claim) alive while its run goes on, and deletes the message when the run ends.
 * Stopping is graceful first (stop receiving, let runs finish), then forced (kill process groups
 * and hand unfinished runs back to the queue).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ActionRegistry } from '../actions/registry.js';
import { builtinActions } from '../actions/registry.js';
import type { Backend, NewEvent, Queue, QueueMessage } from '../backends/ports.js';
import { Config } from '../core/config.js';
import { IllegalStateError, NotFoundError, errorMessage } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { realmSchema } from '../core/schemas.js';
import { sleep, systemClock, type Clock } from '../core/time.js';
import { VERSION } from '../core/version.js';
import { dispatch } from '../dispatch/dispatch.js';
import { Beat, WORKER_KIND, instanceId } from '../dispatch/directory.js';
import { STOPPED_BEFORE_START, StopRequested, stopRequests } from '../dispatch/stop.js';
import { builtinHandlers, type HandlerRegistry } from '../handlers/registry.js';
import type { RunEnvironment } from '../run/environment.js';
import type { RunJob } from '../run/handler.js';
import { ProcessRegistry } from '../run/process.js';
import { OutcomeNotRecorded, RunLost, newEvent, recordEvent, type EventIds } from '../run/recorder.js';
import { runJob, startEvent } from '../run/run-job.js';
import { Scratch } from '../run/scratch.js';
import { bodyIds, intake, readBody } from './intake.js';
import { processMarker, removeDeadWorkerDirs } from './stale-scratch.js';

export interface WorkerOptions {
  backend: Backend;
  realm: string;
  worker: string;
  /** Runs at once. @default 5 */
  threads?: number;
  /** Job output goes to this terminal as well. */
  dev?: boolean;
  /** Exit at the first empty receive with nothing running. */
  batch?: boolean;
  /** Exit after one message. */
  once?: boolean;
  /** Seconds between heartbeat log lines; 0 = off. */
  heartbeatSeconds?: number;
  /** Long-poll wait in seconds. @default 10 (1 in batch mode) */
  waitSeconds?: number;
  /** Discard a message received more than retries+1 times; negative disables. @default 2 */
  retries?: number;
  /** At start, dispatch this worker's enabled lavasched jobs (after JUMPSTART_DELAY). */
  jumpStart?: boolean;
  logger?: Logger;
  clock?: Clock;
  handlers?: HandlerRegistry;
  actions?: ActionRegistry;
}

export type WorkerState = 'created' | 'running' | 'draining' | 'stopped';

export class Worker {
  state: WorkerState = 'created';
  private readonly active = new Set<Promise<void>>();
  /** Runs in this process by run id (a redelivery of one must wait, not run twice); `lava ps` reads them. */
  private readonly running = new Map<string, { job_id: string; run_id: string; type: string; started: string }>();
  /** Aborts a running run when a stop request for it is seen (beat). */
  private readonly stoppers = new Map<string, AbortController>();
  /** Run ids with a stop request, as of the latest beat. */
  private stops = new Map<string, Record<string, unknown>>();
  private beat?: Beat;
  /** This worker's id in the realm's directory. */
  readonly directoryId: string;
  private statusDirty = true;
  private readonly receiveAbort = new AbortController();
  private readonly runAbort = new AbortController();
  private readonly queue: Queue;
  private readonly owner: string;
  private readonly lease: number;
  private stopping?: Promise<void>;
  private finished?: Promise<void>;
  handled = 0;
  /** How many runs this worker ended with each outcome status (`lava worker --exit-code` reads it). */
  readonly outcomes: Record<string, number> = {};
  private started = '';
  /** Tells this worker from a later process with the same pid (stale-scratch.ts). */
  private readonly pidStart = processMarker(process.pid);

  private constructor(
    private readonly o: Required<Pick<WorkerOptions, 'threads' | 'retries' | 'waitSeconds'>> & WorkerOptions,
    readonly env: RunEnvironment,
  ) {
    this.queue = o.backend.queue(o.realm, o.worker);
    this.owner = `${env.hostname}:${process.pid}:${o.worker}`;
    this.lease = env.config.duration('VISIBILITY_TIMEOUT');
    this.directoryId = instanceId(WORKER_KIND, o.worker);
  }

  /** Load the realm and prepare the scratch dir; a half-built worker never exists. */
  static async create(o: WorkerOptions): Promise<Worker> {
    const raw = await o.backend.config.getRealm(o.realm);
    if (!raw) throw new NotFoundError('realm', o.realm, 'create it with `lava init --realm NAME` or pass the right --realm');
    const realm = realmSchema.parse(raw);
    // A missing claims table (an upstream realm not bootstrapped for this lava) refuses here, with the fix.
    await o.backend.runs.ready?.(o.realm);
    const config = new Config(realm.config ?? {});
    const workerDir = path.join(config.str('TMPDIR'), o.realm, `${o.worker.replace(/\//g, '-')}.${process.pid}`);
    // Dead workers' scratch dirs can hold connection files with secrets: they go first.
    const stale = await removeDeadWorkerDirs(path.dirname(workerDir), os.hostname(), workerDir);
    await fsp.mkdir(workerDir, { recursive: true });
    const logger = (o.logger ?? silentLogger).child({ realm: o.realm, worker: o.worker });
    if (stale.length) logger.info({ dirs: stale }, 'removed the scratch dirs of dead workers');
    const self = new Worker(
      { threads: 5, retries: 2, waitSeconds: o.batch ? 1 : 10, ...o },
      {
        backend: o.backend,
        realm,
        config,
        worker: o.worker,
        hostname: os.hostname(),
        dev: o.dev ?? false,
        logger,
        handlers: o.handlers ?? builtinHandlers(),
        actions: o.actions ?? builtinActions(),
        processes: new ProcessRegistry(),
        clock: o.clock ?? systemClock,
        workerDir,
        signal: new AbortController().signal,
      },
    );
    (self.env as { signal: AbortSignal }).signal = self.runAbort.signal;
    self.started = new Date().toISOString();
    await fsp.writeFile(
      path.join(workerDir, 'worker.json'),
      JSON.stringify({
        realm: o.realm,
        worker: o.worker,
        pid: process.pid,
        started: self.started,
        backend: o.backend.url,
        host: self.env.hostname,
        pid_start: self.pidStart,
      }),
    );
    return self;
  }

  /** Receive and run until stopped (or, with batch/once, until done). */
  run(): Promise<void> {
    if (this.state !== 'created') throw new IllegalStateError(`worker is ${this.state}: a worker runs once; create another`);
    this.state = 'running';
    this.env.logger.info({ threads: this.o.threads, lease: this.lease }, 'worker started');
    this.finished = this.loop();
    return this.finished;
  }

  private async loop(): Promise<void> {
    this.beat = new Beat({
      backend: this.o.backend,
      realm: this.o.realm,
      kind: WORKER_KIND,
      id: this.directoryId,
      everySeconds: this.env.config.duration('DIRECTORY_BEAT'),
      data: () => this.directoryData(),
      logger: this.env.logger,
      after: () => this.readStops(),
    });
    await this.beat.start();
    const heartbeat = this.startHeartbeat();
    // Housekeeping at start and hourly after.
    const expiry = setInterval(() => void this.expire(), 3600_000);
    // The status file is rewritten at most once a second, not per run: file writes are slow.
    const status = setInterval(() => this.statusDirty && this.writeStatus(), 1000);
    try {
      await this.expire();
      if (this.o.jumpStart) await this.jumpStart();
      while (this.state === 'running') {
        const free = this.o.threads - this.active.size;
        if (free <= 0) {
          await Promise.race(this.active);
          continue;
        }
        let messages: QueueMessage[];
        try {
          messages = await this.queue.receive({
            max: this.o.once ? 1 : free,
            visibilitySeconds: this.lease,
            waitSeconds: this.o.waitSeconds,
            signal: this.receiveAbort.signal,
          });
        } catch (err) {
          this.env.logger.error({ err: errorMessage(err) }, 'receive failed; retrying in 1s');
          await sleep(1000, this.receiveAbort.signal);
          continue;
        }
        if (!messages.length) {
          if (this.o.batch && this.active.size === 0) break;
          if (this.o.batch) await Promise.race(this.active);
          continue;
        }
        for (const m of messages) {
          if (this.state !== 'running') {
            await this.queue.extendVisibility(m.receipt, 0); // not started: give it straight back
            continue;
          }
          const p: Promise<void> = this.handle(m).finally(() => this.active.delete(p));
          this.active.add(p);
        }
        if (this.o.once) break;
      }
      await Promise.allSettled([...this.active]);
    } finally {
      if (heartbeat) clearInterval(heartbeat);
      clearInterval(status);
      clearInterval(expiry);
      this.env.processes.killAll();
      await this.beat.stop();
      await Scratch.settle();
      await fsp.rm(this.env.workerDir, { recursive: true, force: true });
      this.state = 'stopped';
      this.env.logger.info({ handled: this.handled }, 'worker stopped');
    }
  }

  /**
   * Stop receiving and let running jobs finish for up to `graceSeconds`; then kill them and hand
   * their messages back. Idempotent: concurrent callers share one stop.
   */
  stop(graceSeconds = this.env.config.duration('SHUTDOWN_GRACE')): Promise<void> {
    this.stopping ??= (async () => {
      if (this.state === 'running') this.state = 'draining';
      this.receiveAbort.abort();
      if (this.active.size) {
        this.env.logger.info({ running: this.active.size, grace: graceSeconds }, 'stopping: waiting for running jobs');
        const timer = new AbortController();
        const drained = Promise.allSettled([...this.active]).then(() => true);
        // An infinite grace waits for the jobs however long they take.
        const graceOver = Number.isFinite(graceSeconds)
          ? sleep(graceSeconds * 1000, timer.signal).then(() => false)
          : new Promise<boolean>(() => undefined);
        const finishedInTime = await Promise.race([drained, graceOver]);
        timer.abort(); // a pending grace timer would keep the process alive
        if (!finishedInTime) this.kill();
      }
      await this.finished;
    })();
    return this.stopping;
  }

  /** Forced stop: kill every job process now; their runs are handed back to the queue. */
  kill(): void {
    this.receiveAbort.abort();
    if (this.state === 'running') this.state = 'draining';
    this.env.logger.warn({ running: this.active.size }, 'killing running jobs; their runs go back to the queue');
    this.runAbort.abort();
    this.env.processes.killAll();
  }

  /** Delete expired event records, and run claims no redelivery can need any more. */
  private async expire(): Promise<void> {
    const now = this.env.clock.now();
    await Promise.all([
      this.env.backend.events.expire(this.o.realm, now),
      this.env.backend.runs.expire(this.o.realm, new Date(now.getTime() - CLAIM_KEEP_MS)),
    ]).catch((err: unknown) => this.env.logger.warn({ err: errorMessage(err) }, 'housekeeping failed'));
  }

  /** Upstream matches only a boolean `enabled: true` here, not a template string. */
  private async jumpStart(): Promise<void> {
    const jobs = await this.env.backend.config.list(this.o.realm, 'jobs', { type: 'lavasched', worker: this.o.worker });
    const delay = this.env.config.duration('JUMPSTART_DELAY');
    for (const job of jobs.filter((j) => j.enabled === true)) {
      const runId = await dispatch(
        this.env.backend,
        {
          realm: this.o.realm,
          jobId: String(job.job_id),
          worker: this.o.worker,
          delay,
        },
        { config: this.env.config },
      );
      this.env.logger.info({ job_id: job.job_id, run_id: runId, delay }, 'jump-start dispatch');
    }
  }

  private async discard(m: QueueMessage, reason: string, ids?: Partial<EventIds>) {
    this.env.logger.warn({ message_id: m.id, job_id: ids?.job_id, run_id: ids?.run_id, reason }, 'message discarded');
    this.tally('discarded');
    if (ids?.job_id && ids.run_id) {
      await recordEvent(
        this.env,
        { job_id: ids.job_id, run_id: ids.run_id, ts_dispatch: ids.ts_dispatch ?? '' },
        'discarded',
        reason,
      );
    }
    await this.queue.delete(m.receipt);
  }

  /** One delivery: retry check, intake, the claim, then the run under a kept lease. */
  private async handle(m: QueueMessage): Promise<void> {
    const body = readBody(m.body); // parsed once, for every step below
    if (this.o.retries >= 0 && m.receiveCount > this.o.retries + 1) {
      const reason = `received ${m.receiveCount} times, over the worker's --retries ${this.o.retries}`;
      return this.discard(m, reason, bodyIds(body));
    }
    const got = await intake(this.env, m, body);
    if (!got.ok) return this.discard(m, got.reason, got.message);
    const job = got.job;
    if (this.running.has(job.run_id)) {
      await this.queue.extendVisibility(m.receipt, this.lease);
      return;
    }
    const claimedAt = Date.now();
    // A run that goes straight to running records its first events with its claim: one write fewer.
    const startAt = this.env.clock.now();
    const start = this.stops.has(job.run_id) ? undefined : startEvent(this.env, job, startAt);
    const claim = await this.claim(m, job, start);
    if (claim === undefined) return;
    if (!claim.started && this.stops.has(job.run_id)) return this.endStopped(m, job);
    await this.runClaimed(m, job, claim.attempt, claimedAt, claim.started ? startAt : undefined);
  }

  /** A run whose stop was requested before it started: it ends failed without running. */
  private async endStopped(m: QueueMessage, job: RunJob): Promise<void> {
    const outcome = newEvent(this.env, job, 'failed', { error: STOPPED_BEFORE_START, error_data: null });
    const ended = await this.env.backend.runs.finish(this.o.realm, job.run_id, this.owner, {
      outcome,
      delivery: this.delivery(m),
    });
    this.handled++;
    if (ended) this.tally('failed');
    this.env.logger.info({ job_id: job.job_id, run_id: job.run_id }, 'run stopped on request before it started');
  }

  /** On each beat: the realm's stop requests; running runs they name are stopped. */
  private async readStops(): Promise<void> {
    this.stops = await stopRequests(this.o.backend, this.o.realm);
    for (const [runId, stopper] of this.stoppers) {
      if (!this.stops.has(runId) || stopper.signal.aborted) continue;
      const by = String(this.stops.get(runId)?.by ?? '');
      this.env.logger.info({ run_id: runId, by }, 'stopping run on request');
      stopper.abort(new StopRequested(by));
    }
  }

  /** This worker's directory entry. */
  private directoryData(): Record<string, unknown> {
    return {
      worker: this.o.worker,
      realm: this.o.realm,
      host: this.env.hostname,
      pid: process.pid,
      started: this.started,
      threads: this.o.threads,
      busy: this.running.size,
      runs: [...this.running.values()].map(({ job_id, run_id, started }) => ({ job_id, run_id, started })),
      version: VERSION,
    };
  }

  /**
   * Claim the run for this worker: the claim's attempt number, or undefined when the delivery was
   * settled here instead (the run finished already, or another live worker runs it).
   */
  private async claim(
    m: QueueMessage,
    job: RunJob,
    start: NewEvent | undefined,
  ): Promise<{ attempt: number; started: boolean } | undefined> {
    const claim = await this.env.backend.runs.claim(this.o.realm, job.run_id, this.owner, this.lease, start);
    if (claim.outcome === 'done') {
      this.env.logger.info({ job_id: job.job_id, run_id: job.run_id }, 'run already finished; dropping duplicate delivery');
      await this.queue.delete(m.receipt);
      return undefined;
    }
    if (claim.outcome === 'busy') {
      // Another live worker runs it: look again when its lease would have run out.
      this.env.logger.info({ job_id: job.job_id, run_id: job.run_id, owner: claim.owner }, 'run is running elsewhere');
      await this.queue.extendVisibility(m.receipt, Math.max(1, claim.leaseSeconds));
      return undefined;
    }
    if (claim.attempt > 1 && (await this.endedEarlier(job))) {
      await this.env.backend.runs.finish(this.o.realm, job.run_id, this.owner, { delivery: this.delivery(m) });
      return undefined;
    }
    return { attempt: claim.attempt, started: claim.started === true };
  }

  private delivery(m: QueueMessage) {
    return { queue: this.queue, receipt: m.receipt };
  }

  /**
   * Keep the message's lease and the run's claim alive while the run goes on. A claim that cannot be
   * renewed in time (the backend is unreachable) or that another worker now holds ends the run here:
   * `lost` is aborted, which kills its processes, a sixth of the lease before the claim could lapse, so
   * the worker that takes the run over never runs it beside this one.
   */
  private keepLease(m: QueueMessage, runId: string, claimedAt: number): { stop(): void; lost: AbortSignal } {
    const leaseMs = this.lease * 1000;
    const lost = new AbortController();
    let renewedAt = claimedAt; // when the latest successful renewal was sent: the claim lasts at least leaseMs from then
    let deadline: NodeJS.Timeout | undefined;
    const lose = (why: string) => {
      if (lost.signal.aborted) return;
      this.env.logger.warn({ run_id: runId }, `run stopped: ${why}; another worker takes it over`);
      lost.abort();
    };
    const arm = () => {
      clearTimeout(deadline);
      const left = renewedAt + leaseMs - leaseMs / 6 - Date.now();
      deadline = setTimeout(() => lose('its claim could not be renewed in time'), Math.max(0, left));
    };
    arm();
    const renew = () => {
      const sentAt = Date.now();
      void Promise.all([
        this.queue.extendVisibility(m.receipt, this.lease),
        this.env.backend.runs.renew(this.o.realm, runId, this.owner, this.lease),
      ]).then(
        ([, held]) => {
          if (!held) return lose('its claim passed to another worker');
          renewedAt = Math.max(renewedAt, sentAt);
          if (!lost.signal.aborted) arm();
        },
        (err: unknown) => this.env.logger.error({ run_id: runId, err: errorMessage(err) }, 'lease renewal failed'),
      );
    };
    const timer = setInterval(renew, Math.max(200, leaseMs / 3));
    return {
      stop: () => {
        clearInterval(timer);
        clearTimeout(deadline);
      },
      lost: lost.signal,
    };
  }

  /** Run a claimed job, then end its delivery: outcome, claim and message in one step. */
  private async runClaimed(
    m: QueueMessage,
    job: RunJob,
    attempt: number,
    claimedAt: number,
    startedAt: Date | undefined,
  ): Promise<void> {
    const lease = this.keepLease(m, job.run_id, claimedAt);
    const stopper = new AbortController();
    // The run stops when the worker is forced to stop, when its claim is lost, or on request.
    const env = { ...this.env, signal: AbortSignal.any([this.env.signal, lease.lost, stopper.signal]) };
    // The outcome, the claim's end and the message's delete, in one step; actions run after it.
    let ended = false;
    let status: string | undefined;
    const end = async (outcome?: NewEvent) => {
      const options = { ...(outcome ? { outcome } : {}), delivery: this.delivery(m) };
      ended = await this.env.backend.runs.finish(this.o.realm, job.run_id, this.owner, options);
      if (ended) lease.stop();
      if (ended && outcome) this.tally(outcome.status);
      if (ended && outcome) status = outcome.status;
      return ended;
    };
    const started = new Date();
    this.running.set(job.run_id, { job_id: job.job_id, run_id: job.run_id, type: job.type, started: started.toISOString() });
    this.stoppers.set(job.run_id, stopper);
    // A stop request seen between the claim and here (the run's first events went out with the claim).
    const stop = this.stops.get(job.run_id);
    if (stop) stopper.abort(new StopRequested(String(stop.by ?? '')));
    this.statusDirty = true;
    const ids = { job_id: job.job_id, run_id: job.run_id };
    this.env.logger.info({ ...ids, ...(job.type ? { type: job.type } : {}) }, 'run started');
    try {
      await runJob(env, job, { attempt, end, ...(startedAt ? { started: startedAt } : {}) });
    } catch (err) {
      if (await this.settledAfterThrow(err, m, job, ended, lease)) return;
      status = 'failed'; // crashed: recorded failed above
    } finally {
      lease.stop();
      this.running.delete(job.run_id);
      this.stoppers.delete(job.run_id);
      this.statusDirty = true;
      status ??= lease.lost.aborted ? 'lost' : this.runAbort.signal.aborted ? 'interrupted' : 'unfinished';
      const duration = Math.round((Date.now() - started.getTime()) / 100) / 10;
      this.env.logger.info({ ...ids, status, duration }, 'run ended');
    }
    this.handled++;
    if (!ended) await end(); // a run that crashed ends without an outcome of its own
  }

  /**
   * Error triage after a run threw: true when its delivery needs nothing more (lost, not recorded,
   * already ended, or handed back because the worker stops); false for a crash, recorded as failed,
   * whose run must still be ended.
   */
  private async settledAfterThrow(
    err: unknown,
    m: QueueMessage,
    job: RunJob,
    ended: boolean,
    lease: { stop(): void; lost: AbortSignal },
  ): Promise<boolean> {
    if (err instanceof RunLost) {
      // The other worker records the run's outcome and deletes its message.
      this.env.logger.warn({ job_id: job.job_id, run_id: job.run_id }, err.message);
      return true;
    }
    if (err instanceof OutcomeNotRecorded) return true; // logged where it failed; the lease lapses and it runs again
    if (ended) return true; // stopped during actions: the run itself is over
    if (lease.lost.aborted) return true; // logged when lost; the claim's new owner runs it
    if (this.runAbort.signal.aborted) {
      lease.stop();
      await recordEvent(this.env, job, 'interrupted', 'worker stopped: run handed back to the queue');
      await this.env.backend.runs.release(this.o.realm, job.run_id, this.owner);
      await this.queue.extendVisibility(m.receipt, 0);
      return true;
    }
    this.env.logger.error({ job_id: job.job_id, run_id: job.run_id, err: errorMessage(err) }, 'run crashed');
    await recordEvent(this.env, job, 'failed', { error: errorMessage(err), error_data: null });
    this.tally('failed');
    return false;
  }

  private tally(status: string): void {
    this.outcomes[status] = (this.outcomes[status] ?? 0) + 1;
  }

  /**
   * A taken-over run whose previous worker recorded its outcome but died before marking the claim
   * finished: running it again would record a second outcome.
   */
  private async endedEarlier(job: { job_id: string; run_id: string }): Promise<boolean> {
    const record = await this.env.backend.events.get(this.o.realm, job.job_id, job.run_id);
    if (!record || !FINAL_STATUSES.has(record.status)) return false;
    this.env.logger.info(
      { job_id: job.job_id, run_id: job.run_id, status: record.status },
      'run already ended before its worker stopped; dropping the redelivery',
    );
    return true;
  }

  /** `<workerDir>/worker.json`: who this worker is and what it runs, for `lava ps` and `lava stop`. */
  private writeStatus(): void {
    this.statusDirty = false;
    const status = {
      realm: this.o.realm,
      worker: this.o.worker,
      pid: process.pid,
      started: this.started,
      backend: this.o.backend.url,
      host: this.env.hostname,
      pid_start: this.pidStart,
      runs: [...this.running.values()],
    };
    try {
      fs.writeFileSync(path.join(this.env.workerDir, 'worker.json.tmp'), JSON.stringify(status));
      fs.renameSync(path.join(this.env.workerDir, 'worker.json.tmp'), path.join(this.env.workerDir, 'worker.json'));
    } catch (err) {
      this.env.logger.warn({ err: errorMessage(err) }, 'cannot write worker status file');
    }
  }

  private startHeartbeat(): NodeJS.Timeout | undefined {
    const every = this.o.heartbeatSeconds ?? 0;
    if (every <= 0) return undefined;
    const file = path.join(this.env.workerDir, this.env.config.str('HEARTBEAT_FILE'));
    return setInterval(() => {
      void (async () => {
        const now = new Date();
        try {
          fs.writeFileSync(file, now.toISOString());
        } catch {
          // The scratch dir was removed under us; the missing heartbeat shows it.
        }
        const counts = await this.queue.counts().catch(() => ({ visible: -1, inflight: -1, delayed: -1 }));
        this.env.logger.info(
          { event_type: 'heartbeat', queue: counts, running: this.active.size },
          `heartbeat realm=${this.o.realm} worker=${this.o.worker}`,
        );
      })();
    }, every * 1000);
  }
}

/** Run claims are kept a week after their last change (as the AWS backend's TTL does). */
const CLAIM_KEEP_MS = 7 * 86400_000;

/** Statuses a run's record has once its outcome is recorded. */
const FINAL_STATUSES = new Set(['complete', 'failed', 'skipped', 'rejected', 'action_failed']);
