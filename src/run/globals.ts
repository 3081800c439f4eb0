/** `globals.lava`: Lava's own globals, with copies instead of upstream's shared references. */
import type { LavaGlobals, RunJob } from './handler.js';
import { parseIso } from '../core/time.js';

const TIMESTAMPS = ['master_start', 'master_ustart', 'parent_start', 'parent_ustart'] as const;

/** Set-if-absent master_* and parent_* at run start (upstream §2.9). */
export function initLavaGlobals(job: RunJob, start: Date): void {
  const lava: LavaGlobals = { ...(job.globals.lava ?? {}) };
  lava.master_job_id ??= job.job_id;
  lava.master_start ??= start;
  lava.master_ustart ??= start;
  lava.parent_job_id ??= job.job_id;
  lava.parent_start ??= start;
  lava.parent_ustart ??= start;
  job.globals = { ...job.globals, lava };
}

/** A deep copy of a job's globals with `lava.parent_*` naming that job: what its children or dispatches get. */
export function parentGlobals(job: RunJob): Record<string, unknown> {
  const globals = structuredClone(job.globals);
  const start = job.ts_start ? (parseIso(job.ts_start) ?? new Date()) : new Date();
  globals.lava = { ...(globals.lava ?? {}), parent_job_id: job.job_id, parent_start: start, parent_ustart: start };
  return globals;
}

/** Timestamps in `globals.lava` arrive as ISO strings over the queue; make them dates again. */
export function reviveLavaGlobals(globals: Record<string, unknown>): Record<string, unknown> {
  const lava = globals.lava;
  if (!lava || typeof lava !== 'object') return globals;
  const out: Record<string, unknown> = { ...(lava as Record<string, unknown>) };
  for (const key of TIMESTAMPS) {
    const v = out[key];
    if (v === undefined || v instanceof Date) continue;
    const d = typeof v === 'string' ? parseIso(v) : undefined;
    if (!d) throw new Error(`globals.lava.${key} is not an ISO-8601 timestamp: ${JSON.stringify(v)}`);
    out[key] = d;
  }
  return { ...globals, lava: out };
}
