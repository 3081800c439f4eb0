/** The contract between the run pipeline and a job type. */
import type { Backend } from '../backends/ports.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { JobSpec, RealmSpec } from '../core/schemas.js';
import type { ProcessRegistry } from './process.js';

/** The job spec as the worker augments it at pickup (upstream §1.3). */
export type RunJob = JobSpec & {
  realm: string;
  run_id: string;
  ts_dispatch: string;
  ts_start?: string;
  ts_ustart?: string;
  parameters: Record<string, unknown>;
  globals: Record<string, unknown> & { lava?: LavaGlobals };
  state: Record<string, unknown>;
};

export interface LavaGlobals {
  master_job_id?: string;
  master_start?: Date;
  master_ustart?: Date;
  parent_job_id?: string;
  parent_start?: Date;
  parent_ustart?: Date;
  iteration?: number;
  foreach_index?: number;
  [key: string]: unknown;
}

export interface JobResult {
  exit_status?: number;
  [key: string]: unknown;
}

export type RunStatus = 'complete' | 'failed' | 'skipped' | 'rejected';

export interface RunOutcome {
  status: RunStatus;
  result?: Record<string, unknown>;
}

export interface HandlerContext {
  readonly job: RunJob;
  readonly realm: RealmSpec;
  readonly config: Config;
  readonly backend: Backend;
  /** The run's private scratch directory (shared by chain/dag/foreach children). */
  readonly scratch: string;
  /** `<s3_temp>/<job_id>/<run_id>`: where outputs go. */
  readonly s3tmp: string;
  readonly dev: boolean;
  /** Aborted when the worker is forced to stop: kill what runs and return. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly processes: ProcessRegistry;
  /**
   * Template variables for this job: job, realm, globals, state, start, ustart, utils (+ vars).
   * It also carries the render limits (TEMPLATE_* config and the attempt's `parameters.timeout`
   * deadline), so render with this context or a copy of it.
   */
  templateContext(vars?: Record<string, unknown>): Record<string, unknown>;
  /**
   * Store a run output under `<s3_temp>/<job_id>/<run_id>/<name>` (with the realm's s3_key for
   * S3) from a local file or from data; returns its URI.
   */
  saveOutput(name: string, from: { file: string } | { data: string | Buffer }): Promise<string>;
  /** Run another job in-process under this run's run_id, with these globals (chain, dag, foreach). */
  runChild(jobId: string, globals: Record<string, unknown>): Promise<RunOutcome>;
}

export interface Handler {
  readonly type: string;
  /** Allowed parameter keys; a handler without this accepts any parameters (as `log` does). */
  readonly parameters?: { readonly required?: readonly string[]; readonly optional: readonly string[] };
  run(ctx: HandlerContext): Promise<JobResult>;
}

/** Job types by name (handlers/registry.ts builds the built-in one). */
export type HandlerRegistry = ReadonlyMap<string, Handler>;
