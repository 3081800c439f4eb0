/**
 * Submitting a business job as an orchestrated batch (docs/batches.md, "Submitting a batch"): the
 * batch record is created first (idempotently), then the job is chunked and its tasks written in
 * chunks, so a batch of 100,000 tasks is written in bounded memory. The record keeps the instant the
 * job was chunked at, so a submission that crashed half-way is finished by submitting it again, with
 * the same tasks; a batch whose tasks were all written is left as it is.
 */
import { createHash } from 'node:crypto';
import type { Backend, BatchRecord, NewBatchTask } from '../backends/ports.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { resolvePeriod } from './calendar.js';
import { parsePolicy, type AdmissionPolicy } from './policy.js';
import { chunkTasks, type BusinessJob, type Dimension } from './chunking.js';

/** Tasks written per store call. */
export const SUBMIT_CHUNK = 500;

export interface SubmitBatchRequest {
  /** The batch's id; derived from the job, the business job and its resolved dates when absent. */
  batchId?: string;
  /** The Lava job each task runs; it must exist in the realm. */
  jobId: string;
  /** The business job to chunk. */
  job: BusinessJob;
  options?: {
    /** The instant relative periods are evaluated at (default: now). */
    now?: Date;
    timeZone?: string;
    weekStart?: number;
    dimensions?: readonly Dimension[];
  };
  /** How the batch is admitted (docs/batches.md, "Admission policy"); the defaults when absent. */
  admission?: unknown;
  /** Tasks per write (default 500). */
  chunkSize?: number;
}

export interface SubmitBatchResult {
  batch: BatchRecord;
  /** False when the batch existed already. */
  created: boolean;
  /** Tasks in the batch. */
  taskCount: number;
  /** Tasks this call wrote (0 when resubmitting a complete submission). */
  added: number;
}

/** What the batch record keeps to chunk the job again the same way. */
interface StoredOptions {
  job: BusinessJob;
  admission?: AdmissionPolicy;
  now: string;
  timeZone?: string;
  weekStart?: number;
  dimensions?: readonly Dimension[];
}

/** JSON with object keys sorted, so equal jobs give equal text whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The batch id of a submission without one: the job id and a hash of the business job, its
 * schema, its week start and the dates its period resolves to. The same job submitted again the
 * same day gives the same id (and so writes nothing); `yesterday` submitted tomorrow is a new batch.
 */
export function deriveBatchId(jobId: string, job: BusinessJob, options: Omit<StoredOptions, 'job'>): string {
  const h = createHash('sha256');
  h.update(canonical({ jobId, job, weekStart: options.weekStart ?? 1, dimensions: options.dimensions ?? null }));
  if (job.period !== undefined) {
    const calendar = {
      now: new Date(options.now),
      ...(options.timeZone !== undefined ? { timeZone: options.timeZone } : {}),
      ...(options.weekStart !== undefined ? { weekStart: options.weekStart } : {}),
    };
    for (const d of resolvePeriod(job.period, calendar)) h.update(`|${d}`);
  }
  return `${jobId}-${h.digest('hex').slice(0, 16)}`;
}

export async function submitBatch(backend: Backend, realm: string, req: SubmitBatchRequest): Promise<SubmitBatchResult> {
  if (!req.jobId) throw new ValidationError('batch: a target job id is needed');
  if (!req.job || typeof req.job !== 'object' || Array.isArray(req.job)) {
    throw new ValidationError('batch: the business job must be an object');
  }
  const size = req.chunkSize ?? SUBMIT_CHUNK;
  if (!Number.isInteger(size) || size < 1) throw new ValidationError('batch: the chunk size must be a positive integer');
  if (!(await backend.config.get(realm, 'jobs', req.jobId))) {
    throw new NotFoundError('job', req.jobId, `add it with \`lava job put FILE\` or check the realm ("${realm}")`);
  }
  const o = req.options ?? {};
  const stored: StoredOptions = {
    job: req.job,
    ...(req.admission !== undefined ? { admission: parsePolicy(req.admission) } : {}),
    now: (o.now ?? new Date()).toISOString(),
    ...(o.timeZone !== undefined ? { timeZone: o.timeZone } : {}),
    ...(o.weekStart !== undefined ? { weekStart: o.weekStart } : {}),
    ...(o.dimensions !== undefined ? { dimensions: o.dimensions } : {}),
  };
  // Chunking checks the whole job before its first task: a bad job fails here, before any write.
  const check = chunkTasks(stored.job, chunkOptions(stored));
  check.next();
  const batchId = req.batchId ?? deriveBatchId(req.jobId, req.job, stored);
  const { batch, created } = await backend.batches.create(realm, {
    batch_id: batchId,
    job_id: req.jobId,
    options: stored as unknown as Record<string, unknown>,
    submitted: new Date().toISOString(),
    state: 'submitting',
  });
  if (batch.job_id !== req.jobId) {
    throw new ValidationError(`batch: batch ${batchId} exists already, for job ${batch.job_id}: choose another id`);
  }
  if (batch.state !== 'submitting' && batch.task_count !== undefined) {
    return { batch, created, taskCount: batch.task_count, added: 0 };
  }
  // A new batch, or one whose submission stopped half-way: chunk (again) with what the record keeps.
  const kept = batch.options as unknown as StoredOptions;
  let chunk: NewBatchTask[] = [];
  let taskCount = 0;
  let added = 0;
  for (const t of chunkTasks(kept.job, chunkOptions(kept))) {
    const { key, ...task } = t;
    chunk.push({ key, task });
    taskCount++;
    if (chunk.length >= size) {
      added += await backend.batches.addTasks(realm, batchId, chunk);
      chunk = [];
    }
  }
  if (chunk.length) added += await backend.batches.addTasks(realm, batchId, chunk);
  await backend.batches.update(realm, batchId, { state: 'submitted', task_count: taskCount });
  return { batch: { ...batch, state: 'submitted', task_count: taskCount }, created, taskCount, added };
}

function chunkOptions(o: StoredOptions) {
  return {
    now: new Date(o.now),
    ...(o.timeZone !== undefined ? { timeZone: o.timeZone } : {}),
    ...(o.weekStart !== undefined ? { weekStart: o.weekStart } : {}),
    ...(o.dimensions !== undefined ? { dimensions: o.dimensions } : {}),
  };
}
