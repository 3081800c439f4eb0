/**
 * Batch admission in the dispatcher (docs/batches.md, "Admission by dispatchers"): every
 * BATCH_ADMIT_INTERVAL each replica runs one admission pass over every unfinished batch of the
 * realm. Replicas may run passes at once: every move of a task is a guarded transition, so none is
 * admitted twice. The caps shared between batches (BATCH_JOB_CAPS, BATCH_FLEET_CAPS) count the tasks
 * in flight of every unfinished batch of the job or fleet afresh on each check, and a task that died
 * has its batch's `on_dead` actions run here.
 */
import os from 'node:os';
import { builtinActions } from '../actions/registry.js';
import type { Backend, BatchRecord, BatchTask } from '../backends/ports.js';
import type { Config } from '../core/config.js';
import { LavaError, errorMessage } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { realmSchema, type JobSpec, type RealmSpec } from '../core/schemas.js';
import { sleep } from '../core/time.js';
import { parseSpec } from '../core/validate.js';
import { admitBatch, type AdmissionInfo, type AdmitResult, type HealthReader, type SharedLimit } from '../batch/admission.js';
import type { AdmissionPolicy } from '../batch/policy.js';
import { parseCaps } from '../batch/policy.js';
import { HealthMonitor } from '../batch/health.js';
import type { ActionRegistry } from '../run/action.js';
import type { RunJob } from '../run/handler.js';

export interface BatchAdmitterOptions {
  backend: Backend;
  realm: string;
  config: Config;
  logger?: Logger;
  health?: HealthReader;
  actions?: ActionRegistry;
  /** Admit this batch only (`lava batch run ID`). */
  only?: string;
  /** Overrides every batch's cap (`lava batch run --cap`). */
  cap?: number;
}

/** A batch and the fleet its job runs on. */
interface Entry {
  batch: BatchRecord;
  fleet: string | undefined;
}

export class BatchAdmitter {
  private readonly logger: Logger;
  private readonly actions: ActionRegistry;
  /** One monitor per realm, so batches sharing a metric fetch it once per pass. */
  private readonly health: HealthReader & { close?: () => Promise<void> };
  /** Passes made, for tests and the directory entry. */
  passes = 0;

  constructor(private readonly o: BatchAdmitterOptions) {
    this.logger = o.logger ?? silentLogger;
    this.actions = o.actions ?? builtinActions();
    this.health = o.health ?? new HealthMonitor({ backend: o.backend, realm: o.realm, logger: this.logger });
  }

  /** Closes the health monitor's database clients (when it made the monitor). */
  async close(): Promise<void> {
    if (!this.o.health) await this.health.close?.();
  }

  /** Passes every BATCH_ADMIT_INTERVAL until `signal` aborts; a pass in progress finishes first. */
  async run(signal: AbortSignal): Promise<void> {
    const everyMs = this.o.config.duration('BATCH_ADMIT_INTERVAL') * 1000;
    if (!(everyMs > 0)) return;
    try {
      await this.loop(everyMs, signal);
    } finally {
      await this.close();
    }
  }

  private async loop(everyMs: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let moved = false;
      try {
        moved = this.moved(await this.pass());
      } catch (err) {
        this.logger.error({ err: errorMessage(err) }, 'batch admission failed; trying again');
      }
      // A pass that saw tasks end may have room at once: refill without waiting.
      if (!moved) await sleep(everyMs, signal);
    }
  }

  /** Whether a pass saw some task end or return, so there may be room at once. */
  moved(results: ReadonlyMap<string, AdmitResult>): boolean {
    return [...results.values()].some((r) => r.completed + r.failed + r.retried > 0);
  }

  /** One pass over every unfinished batch (or the one of `only`): what each batch's pass did. */
  async pass(): Promise<Map<string, AdmitResult>> {
    const { backend, realm, config } = this.o;
    const results = new Map<string, AdmitResult>();
    const jobCaps = parseCaps(config.str('BATCH_JOB_CAPS'), 'BATCH_JOB_CAPS');
    const fleetCaps = parseCaps(config.str('BATCH_FLEET_CAPS'), 'BATCH_FLEET_CAPS');
    // One batch is read alone unless caps shared with other batches need them counted too.
    const alone = this.o.only !== undefined && !jobCaps.size && !fleetCaps.size;
    const batches = alone
      ? [await backend.batches.get(realm, this.o.only as string)].filter((b) => b !== undefined)
      : (await backend.batches.list(realm)).filter((b) => b.state !== 'finished' || b.batch_id === this.o.only);
    if (!batches.length) return results;
    const entries: Entry[] = [];
    for (const batch of batches) entries.push({ batch, fleet: await this.fleetOf(batch.job_id) });
    const inFlight = async (of: Entry[]) => {
      let n = 0;
      for (const e of of) {
        const c = await backend.batches.counts(realm, e.batch.batch_id);
        n += c.queued + c.running;
      }
      return n;
    };
    for (const entry of entries) {
      if (this.o.only !== undefined && entry.batch.batch_id !== this.o.only) continue;
      const limits: SharedLimit[] = [];
      const jobCap = jobCaps.get(entry.batch.job_id);
      if (jobCap !== undefined) {
        const same = entries.filter((e) => e.batch.job_id === entry.batch.job_id);
        limits.push({ name: `job ${entry.batch.job_id}`, cap: jobCap, inFlight: () => inFlight(same) });
      }
      const fleetCap = entry.fleet === undefined ? undefined : fleetCaps.get(entry.fleet);
      if (fleetCap !== undefined) {
        const same = entries.filter((e) => e.fleet === entry.fleet);
        limits.push({ name: `fleet ${entry.fleet}`, cap: fleetCap, inFlight: () => inFlight(same) });
      }
      try {
        const r = await admitBatch(backend, realm, entry.batch, {
          config,
          limits,
          logger: this.logger,
          orphanSeconds: config.duration('BATCH_ORPHAN_TIMEOUT'),
          resendSeconds: config.duration('BATCH_RESEND_AFTER'),
          onDead: (batch, task, policy) => this.onDead(batch, task, policy),
          health: this.health,
          ...(this.o.cap !== undefined ? { cap: this.o.cap } : {}),
        });
        this.report(entry.batch, r);
        results.set(entry.batch.batch_id, r);
      } catch (err) {
        this.logger.error({ batch_id: entry.batch.batch_id, err: errorMessage(err) }, 'batch admission pass failed');
      }
    }
    this.passes++;
    return results;
  }

  private report(batch: BatchRecord, r: AdmitResult): void {
    if (r.admitted || r.completed || r.failed || r.retried) {
      const { admitted, completed, failed, died, retried, inFlight, allowed, health, pending } = r;
      this.logger.info(
        { batch_id: batch.batch_id, admitted, completed, failed, died, retried, in_flight: inFlight, allowed, health, pending },
        'batch admission',
      );
    }
  }

  private async fleetOf(jobId: string): Promise<string | undefined> {
    const raw = await this.o.backend.config.get(this.o.realm, 'jobs', jobId);
    return raw ? parseSpec('job', raw, jobId).worker : undefined;
  }

  /**
   * The batch's `on_dead` actions, with the batch, the task and the last attempt's `result` in their
   * templates (`{{ batch.id }}`, `{{ task.key }}`, `{{ result.error }}`). The first failing one stops
   * the rest and fails the alarm, which is tried again later.
   */
  private async onDead(batch: BatchRecord, task: BatchTask, policy: AdmissionPolicy): Promise<void> {
    const { backend, realm, config } = this.o;
    const raw = await backend.config.get(realm, 'jobs', batch.job_id);
    const spec: JobSpec = raw
      ? parseSpec('job', raw, batch.job_id)
      : ({ job_id: batch.job_id, type: 'log', worker: '' } as JobSpec);
    const realmRaw = await backend.config.getRealm(realm);
    const realmSpec: RealmSpec = realmSchema.parse(realmRaw ?? { realm });
    const info = task.info as AdmissionInfo;
    const result = {
      status: 'dead',
      run_id: info.run_id ?? null,
      run_status: info.run_status ?? null,
      error: info.error ?? null,
      attempts: (info.attempt ?? 0) - (info.attempts_from ?? 0),
    };
    const job: RunJob = {
      ...spec,
      realm,
      run_id: info.run_id ?? '',
      ts_dispatch: info.admitted ?? '',
      parameters: {},
      globals: { batch: { id: batch.batch_id, key: task.key, ...task.task } },
      state: {},
    };
    const ctx = {
      job,
      realm: realmSpec,
      config,
      backend,
      logger: this.logger,
      templateContext: {
        job,
        realm: realmSpec,
        globals: job.globals,
        batch: { id: batch.batch_id, job_id: batch.job_id, submitted: batch.submitted },
        task: { key: task.key, ...task.task, info },
        result,
        hostname: os.hostname(),
      },
    };
    for (const spec of policy.on_dead) {
      const action = this.actions.get(spec.action);
      if (!action) {
        throw new LavaError(
          'LAVA_ACTION',
          `unknown action "${spec.action}": use one of ${[...this.actions.keys()].sort().join(', ')}`,
        );
      }
      try {
        await action.run(spec, ctx);
      } catch (err) {
        throw new LavaError('LAVA_ACTION', `on_dead action ${spec.action}: ${errorMessage(err)}`, { cause: err });
      }
    }
  }
}
