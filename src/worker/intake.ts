/**
 * Message intake (upstream §3.3): every check a message must pass before its run starts. A
 * message that fails is discarded, and unlike upstream the discard is recorded (event + log).
 */
import type { QueueMessage } from '../backends/ports.js';
import { errorMessage } from '../core/errors.js';
import { MAX_KEY } from '../core/paths.js';
import type { DispatchMessage } from '../core/schemas.js';
import { parseSpec } from '../core/validate.js';
import { notJson, validateMessage } from '../dispatch/message.js';
import type { RunJob } from '../run/handler.js';
import { reviveLavaGlobals } from '../run/globals.js';
import type { RunEnvironment } from '../run/environment.js';

export type IntakeResult = { ok: true; job: RunJob } | { ok: false; reason: string; message?: Partial<DispatchMessage> };

/** A message body, parsed once for every step that reads it (retry check, intake, discard). */
export interface MessageBody {
  readonly text: string;
  /** The parsed JSON; absent when the body is not JSON. */
  readonly json?: { value: unknown };
}

export function readBody(text: string): MessageBody {
  try {
    return { text, json: { value: JSON.parse(text) as unknown } };
  } catch {
    return { text };
  }
}

function decode(body: MessageBody): DispatchMessage {
  if (!body.json) throw notJson(body.text);
  return validateMessage(body.json.value);
}

export async function intake(env: RunEnvironment, msg: QueueMessage, body = readBody(msg.body)): Promise<IntakeResult> {
  let m: DispatchMessage;
  try {
    m = decode(body);
  } catch (err) {
    return { ok: false, reason: errorMessage(err), message: bodyIds(body) };
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
 * The ids of a message that failed decoding (or is discarded unread), to record its `discarded`
 * event under. They are only keys of that record, never paths; ids too long for any store's key
 * are only logged.
 */
export function bodyIds(body: MessageBody): Partial<DispatchMessage> | undefined {
  const v = body.json?.value;
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const usable = (id: unknown): id is string => typeof id === 'string' && id.length > 0 && id.length <= MAX_KEY;
  return usable(o.job_id) && usable(o.run_id)
    ? { job_id: o.job_id, run_id: o.run_id, ...(typeof o.ts_dispatch === 'string' ? { ts_dispatch: o.ts_dispatch } : {}) }
    : undefined;
}
