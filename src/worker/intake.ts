/**
 * Message intake (upstream §3.3): every check a message must pass before its run starts. A
 * message that fails is discarded, and unlike upstream the discard is recorded (event + log).
 */
import type { QueueMessage } from '../backends/ports.js';
import { errorMessage } from '../core/errors.js';
import { MAX_KEY } from '../core/paths.js';
import type { DispatchMessage } from '../core/schemas.js';
import { parseSpec } from '../core/validate.js';
import { decodeMessage } from '../dispatch/message.js';
import type { RunJob } from '../handlers/types.js';
import { reviveLavaGlobals } from './globals.js';
import type { RunEnvironment } from './run-job.js';

export type IntakeResult = { ok: true; job: RunJob } | { ok: false; reason: string; message?: Partial<DispatchMessage> };

export async function intake(env: RunEnvironment, msg: QueueMessage): Promise<IntakeResult> {
  let m: DispatchMessage;
  try {
    m = decodeMessage(msg.body);
  } catch (err) {
    return { ok: false, reason: errorMessage(err), message: bestEffort(msg.body) };
  }
  const fail = (reason: string): IntakeResult => ({ ok: false, reason, message: m });
  if (m.realm !== env.realm.realm) return fail(`message is for realm "${m.realm}", this worker serves "${env.realm.realm}"`);
  if (m.worker !== env.worker) return fail(`message is for worker "${m.worker}", this is worker "${env.worker}"`);
  const raw = await env.backend.config.get(env.realm.realm, 'jobs', m.job_id);
  if (!raw) return fail(`job "${m.job_id}" does not exist in realm "${m.realm}"`);
  let spec;
  try {
    spec = parseSpec('job', raw, m.job_id);
  } catch (err) {
    return fail(`Bad job record: ${errorMessage(err)}`);
  }
  if (spec.worker !== env.worker) return fail(`job "${m.job_id}" belongs to worker "${spec.worker}", not "${env.worker}"`);
  const maxTries = spec.max_tries ?? 0;
  if (maxTries > 0 && msg.receiveCount > maxTries) {
    return fail(`max_tries exceeded: received ${msg.receiveCount} times, max_tries is ${maxTries}`);
  }
  let globals: Record<string, unknown>;
  try {
    globals = reviveLavaGlobals({ ...(spec.globals ?? {}), ...(m.globals ?? {}) });
  } catch (err) {
    return fail(errorMessage(err));
  }
  const job: RunJob = {
    ...spec,
    realm: m.realm,
    run_id: m.run_id,
    ts_dispatch: m.ts_dispatch,
    parameters: { ...(spec.parameters ?? {}), ...(m.parameters ?? {}) },
    globals,
    state: { ...(spec.state ?? {}) },
  };
  return { ok: true, job };
}

/**
 * The ids of a message that failed decoding, to record its `discarded` event under. They are only
 * keys of that record, never paths; ids too long for any store's key are only logged.
 */
function bestEffort(body: string): Partial<DispatchMessage> | undefined {
  try {
    const v = JSON.parse(body) as Record<string, unknown>;
    const usable = (id: unknown): id is string => typeof id === 'string' && id.length > 0 && id.length <= MAX_KEY;
    return usable(v.job_id) && usable(v.run_id)
      ? { job_id: v.job_id, run_id: v.run_id, ...(typeof v.ts_dispatch === 'string' ? { ts_dispatch: v.ts_dispatch } : {}) }
      : undefined;
  } catch {
    return undefined;
  }
}
