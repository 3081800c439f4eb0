/**
 * Requests to stop runs: a directory entry of kind `stop` per run id. Workers read them on each
 * beat and fail a matching run (killing its processes), or one they receive before it starts.
 */
import type { Backend } from '../backends/ports.js';
import { checkRunId } from '../core/paths.js';

export const STOP_KIND = 'stop';

/** How long a request is kept: a run that has not come up by then is not waited for. */
export const STOP_TTL_SECONDS = 86400;

/** The error of a run stopped while it ran, and of one stopped before it started. */
export const STOPPED = 'Stopped on request';
export const STOPPED_BEFORE_START = 'Stopped on request before it started';

export interface StopRequest {
  run_id: string;
  by: string;
  at: string;
  job_id?: string;
}

/** Ask the workers of a realm to stop a run. `jobId`, when known, is recorded with the request. */
export async function requestStop(
  backend: Backend,
  realm: string,
  runId: string,
  by: string,
  jobId?: string,
): Promise<StopRequest> {
  checkRunId(runId, 'run id');
  const at = new Date().toISOString();
  const data = { by, at, ...(jobId ? { job_id: jobId } : {}) };
  await backend.directory.put(realm, { kind: STOP_KIND, id: runId, data, ttlSeconds: STOP_TTL_SECONDS });
  return { run_id: runId, ...data };
}

/** Pending stop requests by run id. */
export async function stopRequests(backend: Backend, realm: string): Promise<Map<string, Record<string, unknown>>> {
  return new Map((await backend.directory.list(realm, STOP_KIND)).map((e) => [e.id, e.data]));
}

/** The reason a run's abort signal carries when its stop was requested (not a worker stopping). */
export class StopRequested extends Error {
  constructor(readonly by: string) {
    super(STOPPED);
  }
}

/** Whether a run's signal was aborted by a stop request. */
export function stopRequested(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason instanceof StopRequested;
}
