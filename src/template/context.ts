/**
 * The variables a Lava job template sees (spec §7.2): job, realm, globals, state, start, ustart,
 * utils, plus vars / result / extras depending on where the template is rendered.
 */
import { PyDatetime, TZ_TZUTC, TZ_UTC, parseIso, tzLocal } from './pytypes.js';
import type { PyTzInfo } from './pytypes.js';
import { utils } from './utils.js';

export interface TemplateContextInput {
  job: Record<string, unknown>;
  realm: Record<string, unknown>;
  /** Defaults to job.globals. */
  globals?: Record<string, unknown>;
  /** Defaults to job.state. */
  state?: Record<string, unknown>;
  /** The run's start time (the `starting` event); defaults to now, truncated to whole seconds. */
  start?: Date;
  /** Handler `vars` (omitted from the context when undefined). */
  vars?: Record<string, unknown>;
  /** The job result, for post-job actions (omitted when undefined). */
  result?: unknown;
  /** Context-specific extras, e.g. schema/relation for redshift_unload, bucket/key for db_from_s3. */
  extra?: Record<string, unknown>;
}

const LAVA_TIMESTAMPS: Record<string, 'local' | 'utc'> = {
  master_start: 'local',
  parent_start: 'local',
  master_ustart: 'utc',
  parent_ustart: 'utc',
};

const JOB_TIMESTAMPS: Record<string, 'local' | 'utc'> = { ts_start: 'local', ts_ustart: 'utc', ts_dispatch: 'local' };

/**
 * A Date becomes an aware datetime in the local zone (or UTC). An ISO string is parsed the way
 * upstream re-parses timestamps that crossed SQS: its own offset is kept, a naive one is local.
 * Anything else is left alone.
 */
function toDatetime(v: unknown, zone: 'local' | 'utc'): unknown {
  const tz: PyTzInfo = zone === 'local' ? tzLocal() : TZ_TZUTC;
  if (v instanceof Date) return PyDatetime.fromDate(v, tz);
  if (typeof v !== 'string') return v;
  const dt = parseIso(v, 'tzoffset');
  if (!dt) return v;
  return dt.tzinfo ? dt : PyDatetime.of(dt._fields(), tzLocal());
}

/** Copy `obj`, converting the listed timestamp fields (no input is mutated). */
function withDatetimes(obj: Record<string, unknown>, fields: Record<string, 'local' | 'utc'>): Record<string, unknown> {
  const out = { ...obj };
  for (const [k, zone] of Object.entries(fields)) if (k in out) out[k] = toDatetime(out[k], zone);
  return out;
}

function convertGlobals(globals: Record<string, unknown>): Record<string, unknown> {
  const lava = globals.lava;
  if (typeof lava !== 'object' || lava === null || Array.isArray(lava)) return { ...globals };
  return { ...globals, lava: withDatetimes(lava as Record<string, unknown>, LAVA_TIMESTAMPS) };
}

function nowWholeSeconds(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}

/** Build the rendering context for job handlers and actions (upstream jinja_render_vars). */
export function buildTemplateContext(input: TemplateContextInput): Record<string, unknown> {
  const startDate = input.start ?? nowWholeSeconds();
  const jobGlobals = input.job.globals;
  const globalsIn =
    input.globals ?? (typeof jobGlobals === 'object' && jobGlobals !== null ? (jobGlobals as Record<string, unknown>) : {});
  const globals = convertGlobals(globalsIn);

  const job = withDatetimes(input.job, JOB_TIMESTAMPS);
  if (typeof jobGlobals === 'object' && jobGlobals !== null && !Array.isArray(jobGlobals)) {
    // Upstream, job.globals and globals are the same dict; keep that when the caller passed it.
    job.globals = jobGlobals === globalsIn ? globals : convertGlobals(jobGlobals as Record<string, unknown>);
  }

  const jobState = input.job.state;
  const context: Record<string, unknown> = {
    job,
    realm: input.realm,
    globals,
    state: input.state ?? (typeof jobState === 'object' && jobState !== null ? jobState : {}),
    start: PyDatetime.fromDate(startDate, tzLocal()),
    ustart: PyDatetime.fromDate(startDate, TZ_UTC),
    utils,
  };
  if (input.vars !== undefined) context.vars = input.vars;
  if (input.result !== undefined) context.result = input.result;
  return { ...context, ...input.extra };
}
