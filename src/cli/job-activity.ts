/**
 * `lava job activity` (upstream lava-job-activity): seconds of running per time slice, per job and
 * per worker, as CSV, from the events table. A run's running time is each `running` event up to
 * the next `complete`, `failed` or `retrying`; a run still going is left out, as upstream does.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import type { Backend, EventRecord } from '../backends/ports.js';
import { ValidationError, errorMessage } from '../core/errors.js';
import { resolveRealm, withBackend, type GlobalOptions } from './context.js';

const END_OF_RUN = new Set(['complete', 'failed', 'retrying']);
/** The most records read for one job (or for all jobs). */
export const ACTIVITY_MAX_RECORDS = 100_000;

export interface Span {
  start: number;
  end: number;
}

export interface ActivityRun {
  job_id: string;
  run_id: string;
  status: string;
  worker: string | null;
  ts_dispatch: string | null;
  tu_event: string;
  runtimes: Span[];
}

/** The running spans of a record (epoch ms). */
export function activityOf(r: EventRecord): ActivityRun {
  const runtimes: Span[] = [];
  let start: number | undefined;
  for (const e of r.log) {
    if (e.status === 'running') start = Date.parse(e.tu_event);
    else if (END_OF_RUN.has(e.status) && start !== undefined) {
      runtimes.push({ start, end: Date.parse(e.tu_event) });
      start = undefined;
    }
  }
  const { job_id, run_id, status, worker, ts_dispatch, tu_event } = r;
  return { job_id, run_id, status, worker, ts_dispatch, tu_event, runtimes };
}

/** A time: ISO 8601; without a zone it is UTC, as upstream. */
export function parseTime(s: string, what: string): number {
  const hasZone = /(Z|[+-]\d\d:?\d\d)$/i.test(s.trim());
  const t = Date.parse(hasZone ? s : `${s.trim().replace(' ', 'T')}${/T|\s|:/.test(s) ? '' : 'T00:00:00'}Z`);
  if (Number.isNaN(t)) throw new ValidationError(`${what} ${s}: bad timestamp: use ISO 8601, e.g. 2026-11-23T06:00:00Z`);
  return t;
}

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const stamp = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, '');

/**
 * The CSV upstream prints (Python's csv module: CRLF line ends): a row of slot start times, one row
 * per job with any running (most first), a blank row, then the same per worker.
 */
export function activityCsv(runs: ActivityRun[], from: number, to: number, intervalMinutes: number): string {
  const [lo, hi] = from <= to ? [from, to] : [to, from];
  const step = intervalMinutes * 60_000;
  const slots: Span[] = [];
  for (let t = lo; t < hi; t += step) slots.push({ start: t, end: Math.min(t + step, hi) });
  const jobs = new Map<string, number[]>();
  const workers = new Map<string, number[]>();
  const jobTotal = new Map<string, number>();
  const workerTotal = new Map<string, number>();
  for (const run of runs) {
    const worker = run.worker ?? '';
    if (!jobs.has(run.job_id))
      jobs.set(
        run.job_id,
        slots.map(() => 0),
      );
    if (!workers.has(worker))
      workers.set(
        worker,
        slots.map(() => 0),
      );
    slots.forEach((slot, n) => {
      for (const rt of run.runtimes) {
        const a = Math.max(slot.start, rt.start);
        const b = Math.min(slot.end, rt.end);
        if (a >= b) continue;
        const secs = Math.round((b - a) / 1000);
        const jobRow = jobs.get(run.job_id) as number[];
        const workerRow = workers.get(worker) as number[];
        jobRow[n] = (jobRow[n] ?? 0) + secs;
        workerRow[n] = (workerRow[n] ?? 0) + secs;
        jobTotal.set(run.job_id, (jobTotal.get(run.job_id) ?? 0) + secs);
        workerTotal.set(worker, (workerTotal.get(worker) ?? 0) + secs);
      }
    });
  }
  const line = (cells: (string | number)[]) => cells.map(csvCell).join(',') + '\r\n';
  const heads = slots.map((s) => stamp(s.start));
  // Most running first; equal totals keep the order first seen (Python's sort is stable).
  const byTotal = (totals: Map<string, number>, keys: string[]) =>
    keys.map((k, i) => [k, i] as const).sort((a, b) => (totals.get(b[0]) ?? 0) - (totals.get(a[0]) ?? 0) || a[1] - b[1]);
  let out = line(['Job ID', ...heads]);
  for (const [job] of byTotal(jobTotal, [...jobs.keys()])) {
    if (jobTotal.get(job)) out += line([job, ...(jobs.get(job) as number[])]);
  }
  out += '\r\n';
  out += line(['Worker', ...heads]);
  for (const [w] of byTotal(workerTotal, [...workers.keys()])) out += line([w, ...(workers.get(w) as number[])]);
  return out;
}

/** Records of the jobs (all when none) whose latest event is in [from, to], oldest first. */
export async function activityRecords(
  backend: Backend,
  realm: string,
  jobIds: string[],
  from: number,
  to: number,
  status?: string,
): Promise<ActivityRun[]> {
  const [lo, hi] = from <= to ? [from, to] : [to, from];
  const out: EventRecord[] = [];
  for (const jobId of jobIds.length ? jobIds : [undefined]) {
    const recs = await backend.events.query(realm, {
      ...(jobId ? { jobId } : {}),
      ...(status ? { status } : {}),
      since: new Date(lo),
      limit: ACTIVITY_MAX_RECORDS,
    });
    out.push(...recs.filter((r) => Date.parse(r.tu_event) <= hi));
  }
  return out.sort((a, b) => a.tu_event.localeCompare(b.tu_event)).map(activityOf);
}

interface DumpFile {
  realm: string;
  job_ids: string[];
  start: string;
  end: string;
  events: ActivityRun[];
}

export function registerJobActivity(program: Command, g: () => GlobalOptions): void {
  const job = program.commands.find((c) => c.name() === 'job');
  if (!job) throw new Error('register the job command before job activity');
  job
    .command('activity')
    .argument('[job-id...]', 'only these jobs (default: all)')
    .description('seconds of running per time slice, per job and per worker, as CSV')
    .option('-s, --start <time>', 'start (ISO 8601; no zone = UTC); default the last UTC midnight')
    .option('-e, --end <time>', 'end (ISO 8601; no zone = UTC); default 24 hours after the start')
    .option('--status <status>', 'only runs whose current status is this')
    .option('-i, --interval <minutes>', 'minutes per slice (divisors or multiples of 60 work best)', '10')
    .option('--dump <file>', 'also write the runs read to FILE (JSON) for --load')
    .option('--load <file>', 'read the runs from FILE (from --dump) instead of the events table')
    .option('-q, --quiet', 'say nothing on stderr')
    .action(
      async (
        jobIds: string[],
        o: { start?: string; end?: string; status?: string; interval: string; dump?: string; load?: string; quiet?: boolean },
      ) => {
        const interval = Number(o.interval);
        if (!Number.isInteger(interval) || interval < 1)
          throw new ValidationError(`--interval ${o.interval}: use whole minutes, 1 or more`);
        if (o.dump && o.load && o.dump === o.load) throw new ValidationError('--dump and --load cannot be the same file');
        let runs: ActivityRun[];
        let from: number;
        let to: number;
        let realmName: string;
        if (o.load) {
          let d: DumpFile;
          try {
            d = JSON.parse(fs.readFileSync(o.load, 'utf8')) as DumpFile;
          } catch (err) {
            throw new ValidationError(`--load ${o.load}: ${errorMessage(err)}`);
          }
          realmName = d.realm;
          from = o.start ? parseTime(o.start, '--start') : Date.parse(d.start);
          to = o.end ? parseTime(o.end, '--end') : Date.parse(d.end);
          runs = d.events.filter((r) => !jobIds.length || jobIds.includes(r.job_id));
        } else {
          const midnight = new Date();
          midnight.setUTCHours(0, 0, 0, 0);
          from = o.start ? parseTime(o.start, '--start') : midnight.getTime();
          to = o.end ? parseTime(o.end, '--end') : from + 86_400_000;
          const found = await withBackend(g(), async (backend) => {
            const realm = await resolveRealm(backend, g());
            return { realm: realm.realm, runs: await activityRecords(backend, realm.realm, jobIds, from, to, o.status) };
          });
          realmName = found.realm;
          runs = found.runs;
          if (!o.quiet) process.stderr.write(`${runs.length} run(s) found\n`);
        }
        if (o.dump) {
          const d: DumpFile = {
            realm: realmName,
            job_ids: jobIds,
            start: new Date(Math.min(from, to)).toISOString(),
            end: new Date(Math.max(from, to)).toISOString(),
            events: runs,
          };
          fs.writeFileSync(o.dump, JSON.stringify(d, null, 2) + '\n', { mode: 0o600 });
          if (!o.quiet) process.stderr.write(`Raw data dumped to ${o.dump}\n`);
        }
        process.stdout.write(activityCsv(runs, from, to, interval));
      },
    );
}
