/**
 * A business job chunked into tasks (docs/batches.md, "Chunking a business job"): its dates (a
 * calendar `period`, optionally isolated by day, week or month) times its chunkable attributes
 * (nested in their declared order, isolated or batched per level). Pure: no I/O, no clock (the
 * caller passes `now`). Tasks come out of a generator in a fixed order, each with a key derived
 * from its dates and attribute values only, so a resubmitted job gives the same keys and a
 * 100,000-task job is produced in bounded memory.
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../core/errors.js';
import { resolvePeriod, splitDates, type CalendarOptions, type DateSplit, type Period } from './calendar.js';

export type { Period, PeriodContext, PeriodResolver, CalendarOptions } from './calendar.js';

/** An attribute value: a store id, a section name. */
export type Scalar = string | number | boolean;

/** A chunkable attribute; its position in the declared list is its nesting depth. */
export interface Dimension {
  /** Singular name, `store`. */
  readonly name: string;
  /** Plural name, `stores`: the key of flags and of the task's `attrs`. Stated, never guessed. */
  readonly plural: string;
}

/**
 * The values of one attribute at one place in the tree: a flat list, or a map from each value to
 * what lies below it (null: nothing). A map whose entries are all null or empty is a flat list of
 * its keys. Map entries come in JavaScript's key order (integer-like keys first).
 */
export type Values = readonly Scalar[] | { readonly [value: string]: Branch | null };

/** What lies below one value: the next attribute's values, flags for this subtree, extra payload. */
export interface Branch {
  /** Values of the next declared attribute (of the first one, at the job's root). */
  readonly values?: Values;
  /** `isolate.<plural>: true`: one task per value of that attribute, here and below. */
  readonly isolate?: Readonly<Record<string, boolean>>;
  /** `max_per_batch.<plural>: n`: at most n values of that attribute per task, here and below. */
  readonly max_per_batch?: Readonly<Record<string, number>>;
  /** Business fields merged into the payload of the tasks of this subtree (deeper ones win). */
  readonly payload?: Readonly<Record<string, unknown>>;
}

/** A business job: a root branch plus its calendar and its attribute schema. */
export interface BusinessJob extends Branch {
  readonly period?: Period;
  /** At most one of these: one task per day, per week (of `weekStart`) or per calendar month. */
  readonly isolate_days?: boolean;
  readonly isolate_weeks?: boolean;
  readonly isolate_months?: boolean;
  /** Chunkable attributes in nesting order; `options.dimensions` when absent. None: no attribute chunking. */
  readonly attrs?: readonly Dimension[];
}

/** A subtree that needed no chunking, handed to the task whole (sosw's shape: `{value: {plural: …}}`). */
export interface Nested {
  readonly [value: string]: { readonly [key: string]: unknown } | null;
}

/** One task: its dates, its attribute values by plural name, and the business payload. */
export interface Task {
  /** Stable id of the chunk: a hash of its dates and attribute values (not of the payload). */
  readonly key: string;
  readonly date_list?: string[];
  readonly date_from?: string;
  readonly date_to?: string;
  readonly attrs: Record<string, Scalar[] | Nested>;
  readonly payload: Record<string, unknown>;
}

export interface ChunkOptions extends CalendarOptions {
  /** The attribute schema when the job has no `attrs`. */
  readonly dimensions?: readonly Dimension[];
}

interface Flags {
  readonly isolate: Readonly<Record<string, boolean>>;
  readonly max: Readonly<Record<string, number>>;
}

interface Group {
  readonly attrs: ReadonlyArray<readonly [string, Scalar[] | Nested]>;
  readonly payload: Readonly<Record<string, unknown>>;
}

const isMap = (v: Values): v is { readonly [value: string]: Branch | null } => !Array.isArray(v);

function isLeaf(b: Branch | null | undefined): boolean {
  return !b || (b.values === undefined && (!b.payload || Object.keys(b.payload).length === 0));
}

/** The values as a flat list, or undefined when some value has something below it. */
function flatValues(values: Values): Scalar[] | undefined {
  if (!isMap(values)) return values as Scalar[];
  const entries = Object.entries(values);
  return entries.every(([, b]) => isLeaf(b)) ? entries.map(([k]) => k) : undefined;
}

function mergeFlags(flags: Flags, b: Branch): Flags {
  if (!b.isolate && !b.max_per_batch) return flags;
  return { isolate: { ...flags.isolate, ...b.isolate }, max: { ...flags.max, ...b.max_per_batch } };
}

/** Checks the whole tree once, before any task is made, so a bad job yields nothing. */
function validate(dims: readonly Dimension[], job: BusinessJob): void {
  const plurals = new Set<string>();
  for (const d of dims) {
    if (!d || typeof d.name !== 'string' || typeof d.plural !== 'string' || !d.name || !d.plural || d.name === d.plural) {
      throw new ValidationError(
        'batch: each chunkable attribute needs a name and a different plural, like {name: "store", plural: "stores"}',
      );
    }
    for (const n of [d.name, d.plural]) {
      if (plurals.has(n)) throw new ValidationError(`batch: chunkable attribute "${n}" is declared twice`);
      plurals.add(n);
    }
  }
  const known = new Set(dims.map((d) => d.plural));
  const splits = [job.isolate_days, job.isolate_weeks, job.isolate_months].filter(Boolean).length;
  if (splits > 1) throw new ValidationError('batch: set at most one of isolate_days, isolate_weeks, isolate_months');
  const walk = (b: Branch, level: number, where: string): void => {
    for (const p of Object.keys(b.isolate ?? {})) {
      if (!known.has(p))
        throw new ValidationError(`batch: isolate.${p} at ${where}: "${p}" is not the plural of a chunkable attribute`);
    }
    for (const [p, n] of Object.entries(b.max_per_batch ?? {})) {
      if (!known.has(p))
        throw new ValidationError(`batch: max_per_batch.${p} at ${where}: "${p}" is not the plural of a chunkable attribute`);
      if (!Number.isSafeInteger(n) || n < 1)
        throw new ValidationError(`batch: max_per_batch.${p} at ${where} must be a whole number ≥ 1`);
    }
    if (b.values === undefined) return;
    const dim = dims[level];
    if (!dim)
      throw new ValidationError(`batch: ${where} has values but no chunkable attribute is declared at depth ${level + 1}`);
    const seen = new Set<Scalar>();
    const entries: Array<[Scalar, Branch | null]> = isMap(b.values)
      ? Object.entries(b.values)
      : Array.isArray(b.values)
        ? b.values.map((v) => [v, null])
        : [];
    if (!isMap(b.values) && !Array.isArray(b.values))
      throw new ValidationError(`batch: ${dim.plural} at ${where} must be a list or a map`);
    for (const [v, sub] of entries) {
      if (!['string', 'number', 'boolean'].includes(typeof v))
        throw new ValidationError(`batch: ${dim.plural} at ${where} holds a value that is not a string, number or boolean`);
      if (seen.has(v)) throw new ValidationError(`batch: ${dim.plural} at ${where} lists ${JSON.stringify(v)} twice`);
      seen.add(v);
      if (sub !== null && sub !== undefined) {
        if (typeof sub !== 'object' || Array.isArray(sub))
          throw new ValidationError(`batch: ${dim.plural}.${v} at ${where} must be a branch object or null`);
        walk(sub, level + 1, `${where}.${dim.plural}.${v}`);
      }
    }
  };
  walk(job, 0, 'the job');
}

/** A subtree handed over whole, in sosw's nested shape, with control flags left out. */
function nested(dims: readonly Dimension[], level: number, values: Values): Scalar[] | Nested {
  const flat = flatValues(values);
  if (flat) return [...flat];
  const out: Record<string, { [key: string]: unknown } | null> = {};
  for (const [k, b] of Object.entries(values)) {
    if (isLeaf(b)) {
      out[k] = null;
      continue;
    }
    const inner: Record<string, unknown> = { ...b!.payload };
    const next = dims[level + 1];
    if (b!.values !== undefined && next) inner[next.plural] = nested(dims, level + 1, b!.values);
    out[k] = inner;
  }
  return out;
}

/** The job's attributes from `level` down: groups of values, each one task per date group. */
class AttributeChunker {
  constructor(private readonly dims: readonly Dimension[]) {}

  /** sosw's "needs chunking": a flag for this level in scope, or in any branch below. */
  needs(level: number, values: Values, flags: Flags): boolean {
    const dim = this.dims[level];
    if (!dim) return false;
    if (flags.isolate[dim.plural] || flags.max[dim.plural] !== undefined) return true;
    if (!isMap(values)) return false;
    for (const b of Object.values(values)) {
      if (b?.values !== undefined && this.needs(level + 1, b.values, mergeFlags(flags, b))) return true;
    }
    return false;
  }

  *groups(level: number, values: Values, flags: Flags, payload: Readonly<Record<string, unknown>>): Generator<Group> {
    const dim = this.dims[level]!;
    if (!this.needs(level, values, flags)) {
      yield { attrs: [[dim.plural, nested(this.dims, level, values)]], payload };
      return;
    }
    const flat = flatValues(values);
    if (flat) {
      const size = flags.max[dim.plural] ?? (flags.isolate[dim.plural] ? 1 : flat.length || 1);
      for (let i = 0; i < flat.length; i += size) yield { attrs: [[dim.plural, flat.slice(i, i + size)]], payload };
      return;
    }
    // A map with something below: one branch per value (isolating a deeper level splits this one).
    for (const [k, b] of Object.entries(values)) {
      const here: readonly [string, Scalar[]] = [dim.plural, [k]];
      const p = b?.payload ? { ...payload, ...b.payload } : payload;
      if (!b || b.values === undefined) {
        yield { attrs: [here], payload: p };
        continue;
      }
      for (const g of this.groups(level + 1, b.values, mergeFlags(flags, b), p)) {
        yield { attrs: [here, ...g.attrs], payload: g.payload };
      }
    }
  }
}

/** JSON with object keys sorted, so equal chunks hash equally whatever the input's key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

/** The stable key of a chunk: 32 hex digits of SHA-256 over its dates and attribute values. */
export function chunkKey(dates: readonly string[] | undefined, attrs: ReadonlyArray<readonly [string, unknown]>): string {
  return createHash('sha256')
    .update(canonical({ d: dates ?? null, a: attrs }))
    .digest('hex')
    .slice(0, 32);
}

function dateSplit(job: BusinessJob): DateSplit {
  if (job.isolate_days) return 'days';
  if (job.isolate_weeks) return 'weeks';
  if (job.isolate_months) return 'months';
  return 'none';
}

/**
 * The tasks of a business job, lazily, in a fixed order: date groups oldest first, and within each
 * the attribute chunks in declared order. The job is checked and its period resolved before the
 * first task. A job with neither period nor attributes is one task.
 */
export function* chunkTasks(job: BusinessJob, options: ChunkOptions): Generator<Task> {
  const dims = job.attrs ?? options.dimensions ?? [];
  validate(dims, job);
  const dateGroups: Array<string[] | undefined> =
    job.period === undefined
      ? [undefined]
      : splitDates(resolvePeriod(job.period, options), dateSplit(job), options.weekStart ?? 1);
  const root: Flags = { isolate: { ...job.isolate }, max: { ...job.max_per_batch } };
  const payload = { ...job.payload };
  const chunker = new AttributeChunker(dims);
  for (const dates of dateGroups) {
    const groups: Iterable<Group> =
      job.values === undefined || dims.length === 0 ? [{ attrs: [], payload }] : chunker.groups(0, job.values, root, payload);
    for (const g of groups) {
      const dated = dates ? { date_list: [...dates], date_from: dates[0]!, date_to: dates[dates.length - 1]! } : {};
      yield { key: chunkKey(dates, g.attrs), ...dated, attrs: Object.fromEntries(g.attrs), payload: { ...g.payload } };
    }
  }
}

/** sosw's control keys that never reach a task. */
const SOSW_DROPPED = new Set(['job_schema_name', 'file_name', 'lambda_name']);

/** A sosw job dict read as a BusinessJob, with the labourer it names. */
export interface SoswJob {
  readonly job: BusinessJob;
  /** `lambda_name`, cut from an ARN to the function name. */
  readonly labourer?: string;
}

function soswBranch(
  dict: Record<string, unknown>,
  dims: readonly Dimension[],
  level: number,
  root: boolean,
): Branch & Record<string, unknown> {
  const isolate: Record<string, boolean> = {};
  const max: Record<string, number> = {};
  const payload: Record<string, unknown> = {};
  let values: Values | undefined;
  const dim = dims[level];
  for (const [k, v] of Object.entries(dict)) {
    if (root && (SOSW_DROPPED.has(k) || k === 'period' || /^isolate_(days|weeks|months)$/.test(k))) continue;
    const iso = /^isolate_(.+)$/.exec(k);
    const target = iso && dims.find((d) => d.name === iso[1] || d.plural === iso[1]);
    if (target) {
      isolate[target.plural] = Boolean(v);
      continue;
    }
    const mx = /^max_(.+)_per_batch$/.exec(k);
    const capped = mx && dims.find((d) => d.name === mx[1] || d.plural === mx[1]);
    if (capped) {
      if (v !== null && v !== undefined) max[capped.plural] = Number(v);
      continue;
    }
    if (dim && (k === dim.name || k === dim.plural)) {
      if (values !== undefined) throw new ValidationError(`batch: the job gives both ${dim.name} and ${dim.plural}`);
      values = soswValues(v, dims, level);
      continue;
    }
    payload[k] = v;
  }
  return {
    ...(values !== undefined ? { values } : {}),
    ...(Object.keys(isolate).length ? { isolate } : {}),
    ...(Object.keys(max).length ? { max_per_batch: max } : {}),
    ...(Object.keys(payload).length ? { payload } : {}),
  };
}

function soswValues(v: unknown, dims: readonly Dimension[], level: number): Values {
  if (Array.isArray(v) || v instanceof Set) return [...(v as Iterable<Scalar>)];
  if (v && typeof v === 'object') {
    const out: Record<string, Branch | null> = {};
    for (const [k, sub] of Object.entries(v as Record<string, unknown>)) {
      if (sub === null || sub === undefined) out[k] = null;
      else if (typeof sub === 'object' && !Array.isArray(sub))
        out[k] = soswBranch(sub as Record<string, unknown>, dims, level + 1, false);
      else throw new ValidationError(`batch: ${dims[level]!.plural}.${k} must be a dict or null`);
    }
    return out;
  }
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return [v];
  throw new ValidationError(`batch: ${dims[level]!.plural} must be a list, a dict or a value`);
}

/**
 * Read a sosw business job: the job dict itself or `{job: …}`, either possibly a JSON string.
 * `<name>` or `<plural>` keys hold values, `isolate_<name|plural>` and `max_<plural>_per_batch` are
 * flags, every other key is payload. `job_schema_name`, `file_name` and `lambda_name` are taken out.
 */
export function fromSoswJob(input: unknown, dims: readonly Dimension[]): SoswJob {
  let v: unknown = typeof input === 'string' ? parseJson(input) : input;
  if (v && typeof v === 'object' && 'job' in v) {
    const inner = v.job;
    v = typeof inner === 'string' ? parseJson(inner) : inner;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ValidationError('batch: a sosw job must be a dict');
  const dict = v as Record<string, unknown>;
  const branch = soswBranch(dict, dims, 0, true);
  const lambda = dict.lambda_name;
  const job: BusinessJob = {
    ...branch,
    attrs: dims,
    ...(dict.period !== undefined ? { period: dict.period as Period } : {}),
    ...(dict.isolate_days ? { isolate_days: true } : {}),
    ...(dict.isolate_weeks ? { isolate_weeks: true } : {}),
    ...(dict.isolate_months ? { isolate_months: true } : {}),
  };
  if (typeof lambda !== 'string') return { job };
  // arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
  return { job, labourer: lambda.startsWith('arn:') ? (lambda.split(':')[6] ?? lambda) : lambda };
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    throw new ValidationError('batch: the sosw job is a string that is not JSON');
  }
}
