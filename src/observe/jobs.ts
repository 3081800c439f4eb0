/** Jobs as people look at them: the spec, its next fire times and its recent runs. */
import type { Backend } from '../backends/ports.js';
import { NotFoundError } from '../core/errors.js';
import type { JobSpec } from '../core/schemas.js';
import { nextFires, scheduleEntries } from '../dispatch/schedule.js';
import { summarize, type RunSummary } from './runs.js';

export interface JobSummary {
  job_id: string;
  type: string;
  worker: string;
  dispatcher: string | null;
  enabled: unknown;
  description: string | null;
  schedule: unknown;
  next_fire: string | null;
  last_run: { run_id: string; status: string; ts_event: string } | null;
}

/** How many recent runs are read to find each job's last run (jobs idle longer show none). */
const RECENT_RUNS = 2000;

export async function listJobs(backend: Backend, realm: string, tz: string): Promise<JobSummary[]> {
  const [jobs, recent] = await Promise.all([
    backend.config.list(realm, 'jobs') as Promise<JobSpec[]>,
    backend.events.query(realm, { limit: RECENT_RUNS }),
  ]);
  const last = new Map<string, (typeof recent)[number]>();
  for (const r of recent) if (!last.has(r.job_id)) last.set(r.job_id, r);
  const now = new Date();
  return jobs.map((j) => {
    const run = last.get(j.job_id);
    return {
      job_id: j.job_id,
      type: j.type,
      worker: j.worker,
      dispatcher: j.dispatcher ?? null,
      enabled: j.enabled ?? true,
      description: typeof j.description === 'string' ? j.description : null,
      schedule: j.schedule ?? null,
      next_fire: nextFireOf(j, now, 1, tz)[0] ?? null,
      last_run: run ? { run_id: run.run_id, status: run.status, ts_event: run.ts_event } : null,
    };
  });
}

export interface JobDetail {
  job: JobSpec;
  next_fires: string[];
  runs: RunSummary[];
}

export async function jobDetail(backend: Backend, realm: string, jobId: string, tz: string): Promise<JobDetail> {
  const job = (await backend.config.get(realm, 'jobs', jobId)) as JobSpec | undefined;
  if (!job) throw new NotFoundError('job', jobId, 'list jobs with `lava job ls`');
  const now = new Date();
  const runs = await backend.events.query(realm, { jobId, limit: 20 });
  return { job, next_fires: nextFireOf(job, now, 5, tz), runs: runs.map((r) => summarize(r, now)) };
}

/** Scheduled jobs whose schedule cannot be evaluated show no fire times rather than failing the page. */
function nextFireOf(job: JobSpec, now: Date, n: number, tz: string): string[] {
  if (!scheduleEntries(job.schedule).length) return [];
  try {
    return nextFires(job.schedule, now, n, tz).map((f) => f.time.toISOString());
  } catch {
    return [];
  }
}
