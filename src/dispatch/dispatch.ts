/** Send a run of a job to its worker's queue. The run id is made here, so redeliveries keep it. */
import type { Backend } from '../backends/ports.js';
import { LavaError, NotFoundError, ValidationError } from '../core/errors.js';
import { newRunId } from '../core/ids.js';
import { checkJobId, checkRunId } from '../core/paths.js';
import { parseSpec } from '../core/validate.js';
import { isoLocal, systemClock, wholeSeconds, type Clock } from '../core/time.js';
import { parseDuration } from '../core/units.js';
import { encodeMessage } from './message.js';

export interface DispatchRequest {
  realm: string;
  jobId: string;
  /** When given, the job spec is not looked up (as upstream's `--worker`). */
  worker?: string;
  parameters?: Record<string, unknown>;
  globals?: Record<string, unknown>;
  /** Seconds, or a duration string such as "5m". */
  delay?: number | string;
  /** Reuse a run id made earlier (the scheduler claims ticks with one, so a retried dispatch stays one run). */
  runId?: string;
}

export interface DispatchOptions {
  clock?: Clock;
  /** SQS_MAX_DELAY_MINS. */
  maxDelayMinutes?: number;
}

export async function dispatch(backend: Backend, req: DispatchRequest, options: DispatchOptions = {}): Promise<string> {
  // Both become paths on the worker (`<s3_temp>/<job_id>/<run_id>`): refuse unsafe ones here, not there.
  checkJobId(req.jobId, 'job id');
  if (req.runId !== undefined) checkRunId(req.runId, 'run id');
  const delaySeconds = checkDelay(req.delay ?? 0, options.maxDelayMinutes ?? 15);
  let worker = req.worker;
  if (!worker) {
    const raw = await backend.config.get(req.realm, 'jobs', req.jobId);
    if (!raw) {
      throw new NotFoundError('job', req.jobId, `add it with \`lava job put FILE\` or check the realm ("${req.realm}")`);
    }
    worker = parseSpec('job', raw, req.jobId).worker;
  }
  const runId = req.runId ?? newRunId();
  const now = wholeSeconds((options.clock ?? systemClock).now());
  const body = encodeMessage({
    realm: req.realm,
    worker,
    job_id: req.jobId,
    run_id: runId,
    ts_dispatch: isoLocal(now),
    ...(req.parameters && Object.keys(req.parameters).length ? { parameters: req.parameters } : {}),
    ...(req.globals && Object.keys(req.globals).length ? { globals: req.globals } : {}),
  });
  try {
    await backend.queue(req.realm, worker).send(body, { delaySeconds });
  } catch (cause) {
    throw new LavaError('LAVA_DISPATCH', `could not queue job ${req.jobId} for worker ${worker}: ${String(cause)}`, {
      cause,
      retryable: true,
    });
  }
  return runId;
}

/** Delays are 0..SQS_MAX_DELAY_MINS minutes; out of range is an error, not clamped. */
export function checkDelay(delay: number | string, maxMinutes: number): number {
  const seconds = parseDuration(delay, 'delay');
  if (seconds < 0 || seconds > maxMinutes * 60) {
    throw new ValidationError(`delay ${JSON.stringify(delay)} is out of range: use 0 to ${maxMinutes}m`);
  }
  return Math.round(seconds);
}
