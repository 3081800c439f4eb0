/**
 * The built-in dispatcher: dispatches the scheduled jobs whose `dispatcher` is its name, without a
 * cron daemon. Any number of replicas of one name may run: each (job, fire time) is claimed once
 * in the backend with the run id it is dispatched under, and a claim whose replica died before
 * dispatching is finished by another replica with that same run id.
 */
import fs from 'node:fs';
import os from 'node:os';
import type { Backend } from '../backends/ports.js';
import { Config } from '../core/config.js';
import { IllegalStateError, NotFoundError, errorMessage } from '../core/errors.js';
import { newRunId } from '../core/ids.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { realmSchema, type JobSpec } from '../core/schemas.js';
import { processSetting } from '../core/settings.js';
import { isoLocal, sleep, systemClock, type Clock } from '../core/time.js';
import { checkZone, localZone } from '../core/zones.js';
import { dispatch } from '../dispatch/dispatch.js';
import { Beat, DISPATCHER_KIND, instanceId } from '../dispatch/directory.js';
import { firesBetween, type Fire } from '../dispatch/schedule.js';
import { BatchAdmitter } from './batches.js';

export type CatchupPolicy = 'skip' | 'once' | 'all';

export interface DispatcherOptions {
  backend: Backend;
  realm: string;
  name: string;
  /** Zone cron lines are read in. @default the process's zone */
  tz?: string;
  clock?: Clock;
  logger?: Logger;
  /** Milliseconds between evaluations. @default 1000 */
  tickMs?: number;
  /** Seconds between reloads of the job specs (changes are picked up without restart). @default 10 */
  reloadSeconds?: number;
  /** A claim left undispatched this long (real time) is taken to be from a dead replica. @default 10 */
  staleSeconds?: number;
  /** Admit the tasks of the realm's batches (every BATCH_ADMIT_INTERVAL). @default true */
  batches?: boolean;
}

export class Dispatcher {
  state: 'created' | 'running' | 'stopped' = 'created';
  private readonly stopper = new AbortController();
  private readonly owner = `${os.hostname()}:${process.pid}`;
  private jobs: JobSpec[] = [];
  private loadedAt = 0;
  private finished?: Promise<void>;
  /** Dispatches made, for tests and the status line. */
  dispatched = 0;
  /** Evaluations made. */
  ticks = 0;
  private lastTick?: Date;
  /** How far this dispatcher's replicas had evaluated schedules at the latest evaluation. */
  private mark?: Date;
  private started = '';
  /** This dispatcher's id in the realm's directory. */
  readonly directoryId: string;
  private admitter?: BatchAdmitter;

  private constructor(
    private readonly o: DispatcherOptions & { tz: string; clock: Clock; logger: Logger },
    private readonly config: Config,
  ) {
    this.directoryId = instanceId(DISPATCHER_KIND, o.name);
  }

  static async create(o: DispatcherOptions): Promise<Dispatcher> {
    const raw = await o.backend.config.getRealm(o.realm);
    if (!raw) throw new NotFoundError('realm', o.realm, 'create it with `lava init` or pass the right --realm');
    await o.backend.schedules.ready?.(o.realm);
    const tz = processSetting('DISPATCHER_TZ', { flag: o.tz }) ?? localZone();
    checkZone(tz);
    const config = new Config(realmSchema.parse(raw).config ?? {});
    const logger = (o.logger ?? silentLogger).child({ realm: o.realm, dispatcher: o.name });
    return new Dispatcher({ ...o, tz, clock: o.clock ?? systemClock, logger }, config);
  }

  run(): Promise<void> {
    if (this.state !== 'created') throw new IllegalStateError('a dispatcher runs once: create another');
    this.state = 'running';
    this.o.logger.info({ tz: this.o.tz }, 'dispatcher started');
    this.started = new Date().toISOString();
    const beat = new Beat({
      backend: this.o.backend,
      realm: this.o.realm,
      kind: DISPATCHER_KIND,
      id: this.directoryId,
      everySeconds: this.config.duration('DIRECTORY_BEAT'),
      data: () => this.directoryData(),
      logger: this.o.logger,
    });
    const admitter = new BatchAdmitter({
      backend: this.o.backend,
      realm: this.o.realm,
      config: this.config,
      logger: this.o.logger,
    });
    this.admitter = admitter;
    this.finished = (async () => {
      await beat.start();
      const admitting = this.o.batches === false ? Promise.resolve() : admitter.run(this.stopper.signal);
      try {
        while (!this.stopper.signal.aborted) {
          try {
            await this.tick();
          } catch (err) {
            this.o.logger.error({ err: errorMessage(err) }, 'dispatcher tick failed; trying again');
          }
          const tickMs = this.o.tickMs ?? 1000;
          await sleep(tickMs - (Date.now() % tickMs) + 5, this.stopper.signal);
        }
      } finally {
        await admitting;
        await beat.stop();
        this.state = 'stopped';
        this.o.logger.info({ dispatched: this.dispatched }, 'dispatcher stopped');
      }
    })();
    return this.finished;
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    await this.finished;
  }

  /** This dispatcher's directory entry. */
  private directoryData(): Record<string, unknown> {
    const now = this.o.clock.now().getTime();
    return {
      dispatcher: this.o.name,
      realm: this.o.realm,
      host: os.hostname(),
      pid: process.pid,
      started: this.started,
      ticks: this.ticks,
      last_tick: this.lastTick?.toISOString() ?? null,
      lag_seconds: this.mark ? Math.round((now - this.mark.getTime()) / 100) / 10 : null,
      dispatched: this.dispatched,
      batch_passes: this.admitter?.passes ?? 0,
    };
  }

  /** One evaluation: dispatch every fire time between the shared mark and now. */
  async tick(): Promise<void> {
    const { backend, realm, name } = this.o;
    const now = this.o.clock.now();
    await this.reloadJobs();
    const grace = this.config.duration('DISPATCHER_GRACE') * 1000;
    const mark = (await backend.schedules.getMark(realm, name)) ?? new Date(now.getTime() - 1000);
    const suppressed = fs.existsSync(this.config.str('NO_DISPATCH'));
    if (suppressed) {
      this.o.logger.warn({ file: this.config.str('NO_DISPATCH') }, 'dispatch suppressed: remove the file to resume');
    } else {
      const windowStart = new Date(Math.max(mark.getTime(), now.getTime() - this.catchupWindow()));
      for (const job of this.jobs) {
        let fires: Fire[];
        try {
          fires = firesBetween(job.schedule, windowStart, now, this.o.tz);
        } catch (err) {
          this.o.logger.error({ job_id: job.job_id, err: errorMessage(err) }, 'bad schedule: job not dispatched');
          continue;
        }
        const late = fires.filter((f) => now.getTime() - f.time.getTime() > grace);
        const onTime = fires.filter((f) => now.getTime() - f.time.getTime() <= grace);
        const policy = this.policy(job);
        const catchup = policy === 'all' ? late : policy === 'once' ? late.slice(-1) : [];
        for (const fire of [...catchup, ...onTime]) await this.fire(job, fire.time, late.includes(fire));
        if (late.length) await this.recordCatchup(job, late, catchup, policy);
      }
    }
    await this.finishStale();
    await backend.schedules.setMark(realm, name, now);
    this.ticks++;
    this.lastTick = now;
    this.mark = now;
  }

  private catchupWindow(): number {
    return this.config.duration('DISPATCHER_CATCHUP_WINDOW') * 1000;
  }

  /** Job field `x-lava-catchup` overrides the realm's DISPATCHER_CATCHUP. */
  private policy(job: JobSpec): CatchupPolicy {
    const p = String(job['x-lava-catchup'] ?? this.config.str('DISPATCHER_CATCHUP'));
    return p === 'once' || p === 'all' ? p : 'skip';
  }

  private async reloadJobs(): Promise<void> {
    const every = (this.o.reloadSeconds ?? 10) * 1000;
    if (this.loadedAt && Date.now() - this.loadedAt < every) return;
    const items = await this.o.backend.config.list(this.o.realm, 'jobs', { dispatcher: this.o.name });
    this.jobs = (items as JobSpec[]).filter((j) => j.schedule !== undefined && j.schedule !== null && j.schedule !== '');
    this.loadedAt = Date.now();
  }

  private async fire(job: JobSpec, fireTime: Date, late: boolean): Promise<void> {
    const { backend, realm, name } = this.o;
    const runId = newRunId();
    if (!(await backend.schedules.claim(realm, name, { jobId: job.job_id, fireTime, runId }, this.owner))) return;
    await this.send(job.job_id, job.worker, fireTime, runId, late);
  }

  private async send(jobId: string, worker: string, fireTime: Date, runId: string, late: boolean): Promise<void> {
    const { backend, realm, name } = this.o;
    try {
      await dispatch(backend, { realm, jobId, worker, runId }, { clock: this.o.clock, config: this.config });
      await backend.schedules.markDispatched(realm, name, jobId, fireTime);
      this.dispatched++;
      this.o.logger.info({ job_id: jobId, run_id: runId, fire_time: isoLocal(fireTime), late }, 'dispatched');
    } catch (err) {
      // Left claimed but not dispatched: finishStale retries it with the same run id.
      this.o.logger.error({ job_id: jobId, run_id: runId, err: errorMessage(err) }, 'dispatch failed; will retry');
    }
  }

  /** Claims another replica (or an earlier try) made but never dispatched. */
  private async finishStale(): Promise<void> {
    const age = (this.o.staleSeconds ?? 10) * 1000;
    const stale = await this.o.backend.schedules.stale(this.o.realm, this.o.name, new Date(Date.now() - age));
    for (const tick of stale) {
      const job = this.jobs.find((j) => j.job_id === tick.jobId);
      if (job) await this.send(tick.jobId, job.worker, tick.fireTime, tick.runId, true);
    }
  }

  private async recordCatchup(job: JobSpec, missed: Fire[], dispatched: Fire[], policy: CatchupPolicy): Promise<void> {
    await this.o.backend.events.record(this.o.realm, {
      job_id: job.job_id,
      run_id: newRunId(),
      status: 'catchup',
      info: {
        dispatcher: this.o.name,
        policy,
        missed: missed.map((f) => isoLocal(f.time)),
        dispatched: dispatched.map((f) => isoLocal(f.time)),
      },
      at: this.o.clock.now(),
      worker: job.worker,
      hostname: os.hostname(),
      ttlSeconds: this.config.optDuration('EVENT_TTL'),
    });
    this.o.logger.warn({ job_id: job.job_id, missed: missed.length, dispatched: dispatched.length, policy }, 'missed fire times');
  }
}
