/**
 * Object triggers (upstream's s3triggers, spec §1.6 and §2.5): for an object event, find the
 * triggers of its bucket at the most specific prefix level, check `enabled` and the `if_*` /
 * `if_not_*` conditions, render job ids, parameters and globals, and dispatch each job once across
 * every replica (a claim in the realm's directory per trigger, job and object event). Where the events
 * come from (an SQS queue of S3 notifications, a watched directory) is src/triggers/.
 */
import { createHash } from 'node:crypto';
import type { Backend, ConfigStore, Item } from '../backends/ports.js';
import type { Config } from '../core/config.js';
import { LavaError, ValidationError, errorMessage } from '../core/errors.js';
import { fnmatchAny } from '../core/fnmatch.js';
import type { Logger } from '../core/logger.js';
import type { TriggerSpec } from '../core/schemas.js';
import { parseSize } from '../core/units.js';
import { parseSpec } from '../core/validate.js';
import { dispatch } from '../dispatch/dispatch.js';
import {
  PyDatetime,
  TEMPLATE_LIMIT_KEYS,
  TZ_UTC,
  renderStructure,
  renderTemplate,
  utils,
  withTemplateLimits,
  type TemplateLimits,
} from '../template/index.js';
import type { ObjectEvent, ObjectInfo } from './s3-notification.js';

/** A trigger with bucket and prefix (not an event rule). */
export type ObjectTrigger = TriggerSpec & { bucket: string; prefix: string };

/** Directory entries that remember firings (one per trigger, job and object event). */
export const FIRED_KIND = 'trigger-fired';

/** A trigger's bucket that is a local directory (a `file://` URI or an absolute path), or undefined for an S3 bucket. */
export function bucketDirectory(bucket: string): string | undefined {
  if (bucket.startsWith('file://')) return decodeURIComponent(new URL(bucket).pathname);
  return bucket.startsWith('/') ? bucket : undefined;
}

/** The prefixes looked up for a key, most specific first: `a/b/c` → `a/b/c`, `a/b`, `a`, `*`. */
export function prefixLevels(key: string): string[] {
  const parts = key.split('/');
  const levels: string[] = [];
  for (let n = parts.length; n > 0; n--) {
    const level = parts.slice(0, n).join('/');
    if (level && !levels.includes(level)) levels.push(level);
  }
  return [...levels, '*'];
}

/** A prefix as stored, compared without trailing slashes (upstream writes them without). */
const normalPrefix = (prefix: unknown) => (typeof prefix === 'string' && prefix !== '*' ? prefix.replace(/\/+$/, '') : prefix);

/** The rows of the most specific level that has any (no accumulation across levels), sorted by trigger id. */
export function selectTriggers<T extends Item>(rows: readonly T[], key: string): { prefix: string; rows: T[] } | undefined {
  for (const prefix of prefixLevels(key)) {
    const at = rows.filter((r) => r.event_pattern === undefined && normalPrefix(r.prefix) === prefix);
    if (at.length) return { prefix, rows: at };
  }
  return undefined;
}

/**
 * The triggers that apply to an object: those of its bucket at the most specific prefix level. A bad
 * spec at that level fails the whole lookup (as upstream: "Bad trigger spec").
 */
export async function lookupTriggers(config: ConfigStore, realm: string, bucket: string, key: string): Promise<ObjectTrigger[]> {
  const rows = await config.list(realm, 'triggers', { bucket });
  const level = selectTriggers(rows, key);
  if (!level) return [];
  return level.rows.map((r) => parseSpec('trigger', r, String(r.trigger_id)) as ObjectTrigger);
}

const CONDITION_NAMES = ['fnmatch', 'size_gt', 'event_type'] as const;

function globs(name: string, value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  throw new ValidationError(`${name}: give a glob or a list of globs, not ${JSON.stringify(value)}`);
}

const CONDITIONS: Record<(typeof CONDITION_NAMES)[number], (name: string, value: unknown, info: ObjectInfo) => boolean> = {
  /** The decoded key matches any of the globs (Python fnmatch: `*` crosses `/`). */
  fnmatch: (name, value, info) => fnmatchAny(info.key, globs(name, value)),
  /** The object is strictly larger than the size; an event without a size (a delete) is not. */
  size_gt: (name, value, info) => info.size !== null && info.size > parseSize(value, name),
  /** The canonical event type matches any of the globs (`ObjectCreated:*`). */
  event_type: (name, value, info) => fnmatchAny(info.event_type, globs(name, value)),
};

/**
 * Whether every `if_*` / `if_not_*` condition of the trigger holds (AND). An unknown condition is an
 * error, as upstream.
 */
export function conditionsPass(trigger: Record<string, unknown>, info: ObjectInfo): boolean {
  for (const [field, value] of Object.entries(trigger)) {
    const m = /^if_(not_)?(\w+)$/.exec(field);
    if (!m) continue;
    const name = m[2] as string;
    const test = (CONDITIONS as Record<string, (n: string, v: unknown, i: ObjectInfo) => boolean>)[name];
    if (!test) {
      throw new ValidationError(`unknown trigger condition ${field}: use if_ or if_not_ with ${CONDITION_NAMES.join(', ')}`);
    }
    if (test(field, value, info) === Boolean(m[1])) return false;
  }
  return true;
}

/** The variables trigger templates see: bucket, key, event (the raw record), info (event_time a datetime), utils. */
export function triggerContext(event: ObjectEvent, limits: Partial<TemplateLimits> = {}): Record<string, unknown> {
  const when = new Date(event.info.event_time);
  const info = {
    ...event.info,
    event_time: Number.isNaN(when.getTime()) ? event.info.event_time : PyDatetime.fromDate(when, TZ_UTC),
  };
  return withTemplateLimits({ bucket: event.info.bucket, key: event.info.key, event: event.record, info, utils }, limits);
}

export interface RenderedTrigger {
  jobIds: string[];
  parameters?: Record<string, unknown>;
  globals?: Record<string, unknown>;
}

function asMap(what: string, v: unknown): Record<string, unknown> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ValidationError(`trigger ${what} must be a map`);
  return v as Record<string, unknown>;
}

/** Job ids, parameters and globals, rendered unless `jinja` is false (structures with the JSON trick). */
export function renderTrigger(trigger: ObjectTrigger, context: Record<string, unknown>): RenderedTrigger {
  const jobIds = typeof trigger.job_id === 'string' ? [trigger.job_id] : [...trigger.job_id];
  if (trigger.jinja === false) return { jobIds, parameters: trigger.parameters, globals: trigger.globals };
  return {
    jobIds: jobIds.map((j) => renderTemplate(j, context).trim()),
    parameters: asMap('parameters', trigger.parameters === undefined ? undefined : renderStructure(trigger.parameters, context)),
    globals: asMap('globals', trigger.globals === undefined ? undefined : renderStructure(trigger.globals, context)),
  };
}

/** What happened to one trigger (and one of its jobs) for an object event. */
export interface Firing {
  trigger_id?: string;
  job_id?: string;
  /**
   * dispatched; duplicate (another replica or an earlier delivery fired it); skipped (trigger or job
   * disabled, a condition false); failed (bad spec, template, unknown job, bad delay: retrying will not
   * help); retry (the dispatch could not be made now: the event should be tried again); none (no trigger
   * for the object).
   */
  outcome: 'dispatched' | 'duplicate' | 'skipped' | 'failed' | 'retry' | 'none';
  run_id?: string;
  reason?: string;
}

export interface FireOptions {
  config: Config;
  logger: Logger;
}

function templateLimits(config: Config): Partial<TemplateLimits> {
  const k = TEMPLATE_LIMIT_KEYS;
  return {
    maxRange: config.int(k.maxRange),
    maxIterations: config.int(k.maxIterations),
    maxOutput: config.size(k.maxOutput),
    timeout: config.duration(k.timeout),
    maxMemory: config.size(k.maxMemory),
  };
}

/** Python truthiness of a job's `enabled` (upstream: a string, even "false", is true). */
function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object' && v !== null) return Object.keys(v).length > 0;
  return Boolean(v);
}

/** A failure that may pass: the store or queue could not be reached. Spec problems are not. */
function retryable(err: unknown): boolean {
  return err instanceof LavaError ? err.retryable : true;
}

export function firingId(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 40);
}

/**
 * Fire the triggers of an object event: each matching trigger's jobs are dispatched at most once per
 * event across replicas and redeliveries. Every outcome is logged (dispatched at info, skipped and
 * failed at warn with the trigger id and object); the dispatch's `queued` event records the trigger.
 */
export async function fireObjectEvent(
  backend: Backend,
  realm: string,
  event: ObjectEvent,
  options: FireOptions,
): Promise<Firing[]> {
  const { info } = event;
  const object = { bucket: info.bucket, key: info.key, event_type: info.event_type };
  const log = options.logger;
  let triggers: ObjectTrigger[];
  try {
    triggers = await lookupTriggers(backend.config, realm, info.bucket, info.key);
  } catch (err) {
    if (retryable(err)) return [{ outcome: 'retry', reason: errorMessage(err) }];
    log.warn({ ...object, error: errorMessage(err) }, 'object triggers: lookup failed');
    return [{ outcome: 'failed', reason: errorMessage(err) }];
  }
  if (!triggers.length) return [{ outcome: 'none' }];
  const ttlSeconds = options.config.duration('TRIGGER_FIRED_TTL');
  const firings: Firing[] = [];
  for (const trigger of triggers) {
    const trigger_id = trigger.trigger_id;
    const at = { trigger_id, ...object };
    if (!trigger.enabled) {
      log.warn(at, 'object trigger is disabled: skipped');
      firings.push({ trigger_id, outcome: 'skipped', reason: 'trigger disabled' });
      continue;
    }
    let rendered: RenderedTrigger;
    try {
      if (!conditionsPass(trigger, info)) {
        log.debug(at, 'object trigger: a condition is false');
        firings.push({ trigger_id, outcome: 'skipped', reason: 'condition' });
        continue;
      }
      rendered = renderTrigger(trigger, triggerContext(event, templateLimits(options.config)));
    } catch (err) {
      log.warn({ ...at, error: errorMessage(err) }, 'object trigger failed');
      firings.push({ trigger_id, outcome: 'failed', reason: errorMessage(err) });
      continue;
    }
    for (const [index, jobId] of rendered.jobIds.entries()) {
      firings.push(await fireJob(backend, realm, event, trigger, index, jobId, rendered, ttlSeconds, options));
    }
  }
  return firings;
}

async function fireJob(
  backend: Backend,
  realm: string,
  event: ObjectEvent,
  trigger: ObjectTrigger,
  index: number,
  jobId: string,
  rendered: RenderedTrigger,
  ttlSeconds: number,
  options: FireOptions,
): Promise<Firing> {
  const { info } = event;
  const trigger_id = trigger.trigger_id;
  const record = { trigger_id, bucket: info.bucket, key: info.key, event_type: info.event_type };
  const at = { ...record, job_id: jobId };
  const log = options.logger;
  const id = firingId([trigger_id, index, info.bucket, info.key, info.event_type, event.version]);
  const claimed = event.version
    ? await backend.directory.claim(realm, { kind: FIRED_KIND, id, data: { ...at, at: new Date().toISOString() }, ttlSeconds })
    : true;
  if (!claimed) {
    log.debug(at, 'object trigger: already fired for this event');
    return { trigger_id, job_id: jobId, outcome: 'duplicate' };
  }
  const remember = (data: Record<string, unknown>) =>
    event.version
      ? backend.directory.put(realm, { kind: FIRED_KIND, id, data: { ...at, ...data, at: new Date().toISOString() }, ttlSeconds })
      : Promise.resolve();
  try {
    const job = await backend.config.get(realm, 'jobs', jobId);
    if (!job) throw new ValidationError(`job "${jobId}" not found: add it with \`lava job put\`, or fix the trigger's job_id`);
    if (!truthy(job.enabled)) {
      log.warn(at, 'object trigger: the job is disabled: skipped');
      await remember({ skipped: 'job disabled' });
      return { trigger_id, job_id: jobId, outcome: 'skipped', reason: 'job disabled' };
    }
    const runId = await dispatch(
      backend,
      {
        realm,
        jobId,
        worker: parseSpec('job', job, jobId).worker,
        ...(rendered.parameters ? { parameters: rendered.parameters } : {}),
        ...(rendered.globals ? { globals: rendered.globals } : {}),
        ...(trigger.delay !== undefined ? { delay: trigger.delay } : {}),
        trigger: record,
      },
      { config: options.config },
    );
    log.info({ ...at, run_id: runId }, 'object trigger dispatched');
    await remember({ run_id: runId }).catch(() => undefined);
    return { trigger_id, job_id: jobId, outcome: 'dispatched', run_id: runId };
  } catch (err) {
    const reason = errorMessage(err);
    if (retryable(err)) {
      // Let the event be tried again: by this source's retry, a redelivery or a replica.
      await backend.directory.delete(realm, FIRED_KIND, id).catch(() => undefined);
      log.warn({ ...at, error: reason }, 'object trigger: could not dispatch now; the event will be tried again');
      return { trigger_id, job_id: jobId, outcome: 'retry', reason };
    }
    log.warn({ ...at, error: reason }, 'object trigger failed');
    await remember({ error: reason }).catch(() => undefined);
    return { trigger_id, job_id: jobId, outcome: 'failed', reason };
  }
}
