/**
 * zod schemas for every record Lava stores or sends, with every field of upstream's tables.
 * Unknown non-`x-` fields are kept (upstream warns and ignores them); `unknownFields` lists them
 * so `lava check` and the worker can warn.
 */
import { z } from 'zod';
import { eventPatternProblems } from './event-pattern.js';
import { isDuration } from './units.js';
import { jobIdProblem, runIdProblem, stateIdProblem } from './paths.js';

const duration = z.union([z.number(), z.string()]).refine(isDuration, {
  message: 'bad duration: use seconds or a string such as "30s", "10m", "2h", "1d"',
});
const nonNegInt = z.number().int().min(0, 'must be 0 or more');
const record = z.record(z.string(), z.unknown());

/** An id that becomes a path: a string the given check finds nothing wrong with (src/core/paths.ts). */
const pathId = (problem: (v: string) => string | undefined, base: z.ZodString = z.string()) =>
  base.superRefine((v, ctx) => {
    const p = problem(v);
    if (p) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v.slice(0, 200))} ${p}` });
  });

export const actionSchema = z.looseObject({
  action: z.string({ error: 'each action needs an "action" name such as "log" or "dispatch"' }).min(1),
});
const actionList = z.array(actionSchema, { error: 'actions must be a list of objects like {"action": "log", "message": "…"}' });

export const scheduleObjectSchema = z.strictObject({
  crontab: z.string().min(1),
  from: z.string().optional(),
  to: z.string().optional(),
  /** Extension: the zone this entry's cron line is read in (default: the dispatcher's). */
  tz: z.string().optional(),
});
export const scheduleSchema = z.union([z.string(), scheduleObjectSchema, z.array(z.union([z.string(), scheduleObjectSchema]))]);

export const realmSchema = z.looseObject({
  realm: z.string().min(1),
  s3_payloads: z
    .string({ error: 's3_payloads is required: a URI such as file:///srv/lava/payloads or s3://bucket/payloads' })
    .min(1),
  s3_temp: z.string({ error: 's3_temp is required: a URI such as file:///srv/lava/temp or s3://bucket/temp' }).min(1),
  s3_key: z.string().optional(),
  config: record.optional(),
  on_success: actionList.optional(),
  on_fail: actionList.optional(),
  on_retry: actionList.optional(),
  docker: z.string().optional(),
});
export type RealmSpec = z.infer<typeof realmSchema>;

const reservedGlobals = record.refine((g) => !Object.keys(g).some((k) => k.toLowerCase().startsWith('lava')), {
  message: 'global names starting with "lava" are reserved: rename the global',
});

export const jobSchema = z
  .looseObject({
    job_id: pathId(jobIdProblem, z.string({ error: 'job_id is required: a unique id such as "demo/hello"' })),
    type: z.string({ error: 'type is required: a job type such as "cmd", "exe", "pkg", "log" or "chain"' }).min(1),
    worker: z.string({ error: 'worker is required: the worker fleet that runs the job' }).min(1),
    payload: z.unknown(),
    enabled: z.unknown().optional(),
    description: z.string().optional(),
    owner: z.string().optional(),
    dispatcher: z.string().optional(),
    schedule: z.union([scheduleSchema, z.null()]).optional(),
    // null (e.g. YAML with every entry commented out) is read as {} by the worker, as upstream does.
    parameters: record.nullable().optional(),
    globals: reservedGlobals.nullable().optional(),
    state: record.nullable().optional(),
    event_log: z.unknown().optional(),
    iteration_limit: nonNegInt.optional(),
    iteration_delay: duration.optional(),
    max_tries: nonNegInt.optional(),
    max_run_delay: duration.optional(),
    cw_metrics: z.unknown().optional(),
    on_success: actionList.optional(),
    on_fail: actionList.optional(),
    on_retry: actionList.optional(),
  })
  .refine((j) => 'payload' in j, {
    message: 'payload is required (it may be null): the command, file or job list the job runs',
    path: ['payload'],
  });
export type JobSpec = z.infer<typeof jobSchema> & Record<string, unknown>;

export const connectionSchema = z.looseObject({
  conn_id: z.string().min(1),
  type: z.string({ error: 'type is required: a connector type such as "postgres" or "generic"' }).min(1),
  enabled: z.boolean().optional(),
  description: z.string().optional(),
  owner: z.string().optional(),
  secret_id: z.string().optional(),
});
export type ConnectionSpec = z.infer<typeof connectionSchema>;

const triggerFields = {
  trigger_id: z.string().min(1),
  /** An object trigger: the bucket (or `file://` area / local directory) and key prefix it watches. */
  bucket: z.string().min(1).optional(),
  prefix: z.string().optional(),
  /** An event rule instead: an EventBridge event pattern that incoming events are matched against. */
  event_pattern: record.optional(),
  job_id: z.union([z.string(), z.array(z.string())]),
  enabled: z.boolean({ error: 'enabled is required: true or false' }),
  globals: record.optional(),
  parameters: record.optional(),
  jinja: z.boolean().optional(),
  delay: duration.optional(),
  description: z.string().optional(),
  owner: z.string().optional(),
};
/**
 * Upstream rejects any trigger field other than these, `if_*`/`if_not_*` conditions and `x-*`. A trigger
 * is either an object trigger (`bucket` and `prefix`, as upstream's s3triggers) or an event rule
 * (`event_pattern`, an addition).
 */
export const triggerSchema = z.looseObject(triggerFields).superRefine((t, ctx) => {
  for (const k of Object.keys(t)) {
    if (k in triggerFields || /^x-/i.test(k) || /^if_(not_)?\w+$/.test(k)) continue;
    ctx.addIssue({ code: 'custom', path: [k], message: `unknown trigger field "${k}": remove it or prefix it with "x-"` });
  }
  const object = t.bucket !== undefined || t.prefix !== undefined;
  if (object && t.event_pattern !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['event_pattern'],
      message: 'a trigger has either bucket and prefix (an object trigger) or event_pattern (an event rule), not both',
    });
  } else if (!object && t.event_pattern === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['bucket'],
      message: 'bucket is required (with prefix), or give event_pattern for an event rule',
    });
  } else if (object && (t.bucket === undefined || t.prefix === undefined)) {
    const missing = t.bucket === undefined ? 'bucket' : 'prefix';
    ctx.addIssue({ code: 'custom', path: [missing], message: `${missing} is required for an object trigger` });
  }
  if (t.event_pattern !== undefined) {
    for (const p of eventPatternProblems(t.event_pattern)) {
      ctx.addIssue({ code: 'custom', path: ['event_pattern', ...p.path], message: p.message });
    }
  }
});
export type TriggerSpec = z.infer<typeof triggerSchema>;

export const stateItemSchema = z.looseObject({
  state_id: pathId(stateIdProblem),
  type: z.enum(['json', 'raw', 'secure']),
  value: z.unknown(),
  timestamp: z.string(),
  ttl: z.number(),
  publisher: z.string().optional(),
});
export type StateItem = z.infer<typeof stateItemSchema>;

/** The wire contract between every producer and the worker: strictly these keys. */
export const dispatchMessageSchema = z.strictObject({
  realm: z.string().min(1),
  worker: z.string().min(1),
  job_id: pathId(jobIdProblem),
  run_id: pathId(runIdProblem),
  ts_dispatch: z.string().min(1),
  parameters: record.optional(),
  globals: record.optional(),
});
export type DispatchMessage = z.infer<typeof dispatchMessageSchema>;

export const KNOWN_JOB_FIELDS = new Set([
  'job_id',
  'type',
  'worker',
  'payload',
  'enabled',
  'description',
  'owner',
  'dispatcher',
  'schedule',
  'parameters',
  'globals',
  'state',
  'event_log',
  'iteration_limit',
  'iteration_delay',
  'max_tries',
  'max_run_delay',
  'cw_metrics',
  'on_success',
  'on_fail',
  'on_retry',
]);

/** Non-`x-` fields a spec has that Lava does not know (upstream warns about them and ignores them). */
export function unknownFields(spec: Record<string, unknown>, known: ReadonlySet<string>): string[] {
  return Object.keys(spec).filter((k) => !known.has(k) && !/^x-/i.test(k));
}

export const SCHEMAS = {
  realm: realmSchema,
  job: jobSchema,
  connection: connectionSchema,
  trigger: triggerSchema,
  state: stateItemSchema,
  message: dispatchMessageSchema,
} as const;
export type SchemaKind = keyof typeof SCHEMAS;
