/** `lava batch submit/run/status/ls`: orchestrated batches (docs/batches.md). */
import fs from 'node:fs';
import type { Command } from 'commander';
import { BATCH_TASK_STATES, type BatchTaskState } from '../backends/ports.js';
import type { Branch, BusinessJob, Dimension } from '../batch/chunking.js';
import { unfinished, type AdmitResult } from '../batch/admission.js';
import { submitBatch } from '../batch/submit.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { Config } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { sleep } from '../core/time.js';
import { BatchAdmitter } from '../dispatcher/batches.js';
import { parseDuration } from '../core/units.js';
import { registerBatchDead } from './batch-dead.js';
import { watchStatus } from './batch-watch.js';
import { collect, printJson, printTable, resolveRealm, withBackend, type GlobalOptions } from './context.js';
import { localTime } from './human.js';
import { readYaml } from './yaml-reader.js';

interface SubmitOptions {
  id?: string;
  period?: string;
  isolateDays?: boolean;
  isolateWeeks?: boolean;
  isolateMonths?: boolean;
  attr?: string[];
  isolate?: string[];
  maxPerBatch?: string[];
  json?: string;
  tz?: string;
  weekStart?: string;
  cap?: string;
  maxAttempts?: string;
  backoff?: string;
  jitter?: string;
  admission?: string;
}

/** States a task no longer leaves on its own: they count as done for progress. */
const DONE: readonly BatchTaskState[] = ['complete', 'dead', 'discarded'];
const BAR_WIDTH = 40;

export function registerBatch(program: Command, g: () => GlobalOptions): void {
  const cmd = program
    .command('batch')
    .description('orchestrated batches: a business job chunked into tasks of one job (docs/batches.md)');

  cmd
    .command('submit')
    .argument('<job_id>', 'the job each task runs')
    .description('chunk a business job into tasks and store them as a batch; prints the batch id and the task count')
    .option('--id <batch_id>', 'the batch id (default: derived from the job, the business job and its dates)')
    .option('--period <period>', 'dates: today, yesterday, last_7_days, previous_week, current_month, FROM..TO …')
    .option('--isolate-days', 'one task per date')
    .option('--isolate-weeks', 'one task per week')
    .option('--isolate-months', 'one task per calendar month')
    .option(
      '--attr <name=a,b,c>',
      'a chunkable attribute and its values, in nesting order (repeatable); name:plural=… states the plural (default name + "s")',
      collect,
    )
    .option('--isolate <plural>', 'one task per value of this attribute (repeatable)', collect)
    .option('--max-per-batch <plural=N>', 'at most N values of this attribute per task (repeatable)', collect)
    .option(
      '--json <file>',
      'the business job as JSON: the job itself, or {job, options: {now, timeZone, weekStart}}; the flags add to it',
    )
    .option('--tz <zone>', 'time zone whose calendar day is "today" (default: this machine\'s)')
    .option('--week-start <day>', 'first day of a week, 0 = Sunday … 6 (default 1, Monday)')
    .option('--cap <n>', 'most tasks of the batch in flight at once (default 10)')
    .option('--max-attempts <n>', 'attempts a task gets before it is dead (default 3)')
    .option(
      '--backoff <base[,factor[,max]]>',
      'wait before the next attempt: base × factor^(failures − 1), at most max (default 30s,2,1h)',
    )
    .option('--jitter <fraction>', 'each wait moves at random by up to this fraction either way (default 0.2)')
    .option(
      '--admission <file>',
      'the admission policy as YAML or JSON: cap, max_attempts, backoff, health, on_dead; the flags override it',
    )
    .addHelpText(
      'after',
      `
Examples:
  lava batch submit sales-report --period previous_week --isolate-days --attr store=s1,s2,s3 --max-per-batch stores=2
  lava batch submit sales-report --json weekly.json --id weekly-2026-10
  lava batch submit sales-report --period yesterday --attr store=s1,s2 --isolate stores --cap 3 --admission policy.yaml`,
    )
    .action((jobId: string, o: SubmitOptions) => submit(g(), jobId, o));

  cmd
    .command('run')
    .argument('<batch_id>')
    .description(
      "admit the batch's pending tasks, at most --cap in flight, until none is pending, queued or running (replicas may run it at once)",
    )
    .option('--cap <n>', "most tasks queued or running at once (default: the batch's cap)")
    .option('--every <duration>', 'time between admission passes', '1s')
    .action((batchId: string, o: { cap?: string; every: string }) => run(g(), batchId, o));

  cmd
    .command('status')
    .argument('<batch_id>')
    .description('tasks per state, with a progress bar on a terminal')
    .option('--json', 'print the batch and its counts as JSON')
    .option('--watch', 'show it again every --every until the batch is finished (one line per change when not a terminal)')
    .option('--every <duration>', 'time between refreshes with --watch', '2s')
    .action((batchId: string, o: { json?: boolean; watch?: boolean; every: string }) =>
      o.watch ? watchStatus(g(), batchId, o) : status(g(), batchId, o),
    );

  cmd
    .command('ls')
    .description('list the batches of the realm, oldest first')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => list(g(), o));

  registerBatchDead(cmd, g);
}

function pairs(list: string[] | undefined, what: string): [string, string][] {
  return (list ?? []).map((p) => {
    const i = p.indexOf('=');
    if (i <= 0) throw new ValidationError(`${what} wants NAME=VALUE, got "${p}"`);
    return [p.slice(0, i), p.slice(i + 1)];
  });
}

/** The --json file and the flags, as one business job and its options. */
export function businessJobFrom(o: SubmitOptions): {
  job: BusinessJob;
  admission?: unknown;
  now?: Date;
  timeZone?: string;
  weekStart?: number;
} {
  let job: Record<string, unknown> = {};
  let admission: unknown;
  let opts: Record<string, unknown> = {};
  if (o.json) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(o.json, 'utf8'));
    } catch (err) {
      throw new ValidationError(`--json ${o.json}: ${(err as Error).message}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new ValidationError(`--json ${o.json}: not a JSON object`);
    const p = parsed as Record<string, unknown>;
    if (p.admission !== undefined) admission = p.admission;
    if (p.job && typeof p.job === 'object') {
      job = { ...(p.job as Record<string, unknown>) };
      opts = (p.options as Record<string, unknown> | undefined) ?? {};
    } else job = { ...p };
  }
  if (o.period !== undefined) {
    const range = /^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$/.exec(o.period);
    job.period = range ? { from: range[1], to: range[2] } : o.period;
  }
  if (o.isolateDays) job.isolate_days = true;
  if (o.isolateWeeks) job.isolate_weeks = true;
  if (o.isolateMonths) job.isolate_months = true;
  const attrs = pairs(o.attr, '--attr');
  if (attrs.length) {
    const dims: Dimension[] = [];
    const levels: string[][] = [];
    for (const [name, values] of attrs) {
      const [singular, plural] = name.includes(':') ? name.split(':', 2) : [name, `${name}s`];
      dims.push({ name: singular as string, plural: plural as string });
      levels.push(values.split(',').filter((v) => v !== ''));
    }
    // Each value of a level gets every value of the next level below it.
    let values: Branch['values'] | undefined;
    for (let i = levels.length - 1; i >= 0; i--) {
      const below = values;
      const here = levels[i] as string[];
      values = below === undefined ? here : Object.fromEntries(here.map((v) => [v, { values: below }]));
    }
    job.attrs = dims;
    job.values = values;
  }
  for (const plural of o.isolate ?? []) job.isolate = { ...(job.isolate as object), [plural]: true };
  for (const [plural, n] of pairs(o.maxPerBatch, '--max-per-batch')) {
    const v = Number(n);
    if (!Number.isInteger(v) || v < 1) throw new ValidationError(`--max-per-batch ${plural}=${n}: N must be a positive integer`);
    job.max_per_batch = { ...(job.max_per_batch as object), [plural]: v };
  }
  const now = typeof opts.now === 'string' ? new Date(opts.now) : undefined;
  if (now && Number.isNaN(now.getTime())) throw new ValidationError(`--json ${o.json}: options.now is not a date`);
  const timeZone = o.tz ?? (typeof opts.timeZone === 'string' ? opts.timeZone : undefined);
  const ws = o.weekStart !== undefined ? Number(o.weekStart) : typeof opts.weekStart === 'number' ? opts.weekStart : undefined;
  if (ws !== undefined && !(Number.isInteger(ws) && ws >= 0 && ws <= 6)) throw new ValidationError('--week-start: a day 0 … 6');
  admission = admissionFrom(o, admission);
  return {
    job: job,
    ...(admission !== undefined ? { admission } : {}),
    ...(now ? { now } : {}),
    ...(timeZone !== undefined ? { timeZone } : {}),
    ...(ws !== undefined ? { weekStart: ws } : {}),
  };
}

/** The admission policy from --admission (YAML or JSON), the --json file's `admission`, and the flags over them. */
function admissionFrom(o: SubmitOptions, fromJson: unknown): unknown {
  let policy = fromJson;
  if (o.admission) {
    let text: string;
    try {
      text = fs.readFileSync(o.admission, 'utf8');
    } catch (err) {
      throw new ValidationError(`--admission ${o.admission}: ${(err as Error).message}`);
    }
    const docs = readYaml(text, o.admission);
    if (docs.length !== 1) throw new ValidationError(`--admission ${o.admission}: one YAML or JSON document, the policy`);
    policy = docs[0];
  }
  const flags: Record<string, unknown> = {};
  const whole = (v: string, flag: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new ValidationError(`${flag} ${v}: a positive whole number`);
    return n;
  };
  if (o.cap !== undefined) flags.cap = whole(o.cap, '--cap');
  if (o.maxAttempts !== undefined) flags.max_attempts = whole(o.maxAttempts, '--max-attempts');
  const backoff: Record<string, unknown> = {};
  if (o.backoff !== undefined) {
    const [base, factor, max] = o.backoff.split(',').map((x) => x.trim());
    if (base) backoff.base = base;
    if (factor) backoff.factor = Number(factor);
    if (max) backoff.max = max;
  }
  if (o.jitter !== undefined) backoff.jitter = Number(o.jitter);
  if (Object.keys(backoff).length) flags.backoff = backoff;
  if (!Object.keys(flags).length) return policy;
  const base = policy && typeof policy === 'object' && !Array.isArray(policy) ? (policy as Record<string, unknown>) : {};
  const mergedBackoff = flags.backoff ? { ...(base.backoff as object | undefined), ...backoff } : base.backoff;
  return { ...base, ...flags, ...(mergedBackoff !== undefined ? { backoff: mergedBackoff } : {}) };
}

async function submit(g: GlobalOptions, jobId: string, o: SubmitOptions): Promise<void> {
  const { job, admission, ...options } = businessJobFrom(o);
  await withBackend(g, async (backend) => {
    const realm = (await resolveRealm(backend, g)).realm;
    const r = await submitBatch(backend, realm, {
      jobId,
      job,
      options,
      ...(admission !== undefined ? { admission } : {}),
      ...(o.id ? { batchId: o.id } : {}),
    });
    const note = r.created ? '' : r.added ? ` (resumed: ${r.added} written)` : ' (already submitted: nothing written)';
    process.stdout.write(`${r.batch.batch_id}\t${r.taskCount} tasks${note}\n`);
  });
}

async function run(g: GlobalOptions, batchId: string, o: { cap?: string; every: string }): Promise<void> {
  const cap = o.cap === undefined ? undefined : Number(o.cap);
  if (cap !== undefined && !(Number.isInteger(cap) && cap >= 1)) throw new ValidationError(`--cap ${o.cap}: a positive integer`);
  const everyMs = Math.round(parseDuration(o.every, '--every') * 1000);
  const logger = createLogger();
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, onSignal);
  try {
    await withBackend(g, async (backend) => {
      const realm = await resolveRealm(backend, g);
      if (!(await backend.batches.get(realm.realm, batchId))) {
        throw new NotFoundError('batch', batchId, 'list batches with `lava batch ls`');
      }
      const admitter = new BatchAdmitter({
        backend,
        realm: realm.realm,
        config: new Config(realm.config ?? {}),
        logger,
        only: batchId,
        ...(cap !== undefined ? { cap } : {}),
      });
      let last: AdmitResult | undefined;
      try {
        while (!stop.signal.aborted) {
          const results = await admitter.pass();
          last = results.get(batchId) ?? last;
          if (!last || !unfinished(last.counts)) break;
          if (!admitter.moved(results)) await sleep(everyMs, stop.signal);
        }
      } finally {
        await admitter.close();
      }
      const c = last?.counts;
      const end = stop.signal.aborted ? 'stopped' : 'done';
      process.stdout.write(
        c
          ? `${batchId}\t${end}: ${c.complete} complete, ${c.dead} dead, ${c.failed} waiting to retry, ${c.pending} pending, ${c.queued + c.running} in flight\n`
          : `${batchId}\t${end}\n`,
      );
    });
  } finally {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.off(sig, onSignal);
  }
}

async function status(g: GlobalOptions, batchId: string, o: { json?: boolean }): Promise<void> {
  await withBackend(g, async (backend) => {
    const realm = (await resolveRealm(backend, g)).realm;
    const batch = await backend.batches.get(realm, batchId);
    if (!batch) throw new NotFoundError('batch', batchId, 'list batches with `lava batch ls`');
    const counts = await backend.batches.counts(realm, batchId);
    const total = BATCH_TASK_STATES.reduce((n, s) => n + counts[s], 0);
    const done = DONE.reduce((n, s) => n + counts[s], 0);
    if (o.json) {
      printJson({ ...batch, total, done, counts });
      return;
    }
    process.stdout.write(
      `batch ${batch.batch_id}  job ${batch.job_id}  state ${batch.state}  submitted ${localTime(batch.submitted)}\n`,
    );
    printTable(
      ['STATE', 'TASKS'],
      BATCH_TASK_STATES.map((s) => [s, String(counts[s])]),
    );
    const pct = total ? Math.floor((done / total) * 100) : 0;
    if (process.stdout.isTTY) {
      const filled = total ? Math.round((done / total) * BAR_WIDTH) : 0;
      process.stdout.write(`[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${done}/${total} done (${pct}%)\n`);
    } else process.stdout.write(`${done}/${total} done (${pct}%)\n`);
  });
}

async function list(g: GlobalOptions, o: { json?: boolean }): Promise<void> {
  await withBackend(g, async (backend) => {
    const realm = (await resolveRealm(backend, g)).realm;
    const batches = await backend.batches.list(realm);
    if (o.json) {
      printJson(batches);
      return;
    }
    printTable(
      ['BATCH', 'JOB', 'STATE', 'TASKS', 'SUBMITTED'],
      batches.map((b) => [
        b.batch_id,
        b.job_id,
        b.state,
        b.task_count === undefined ? '-' : String(b.task_count),
        localTime(b.submitted),
      ]),
    );
  });
}
