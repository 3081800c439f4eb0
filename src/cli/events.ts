/** `lava events` and `lava output`: what happened to runs. */
import type { Command } from 'commander';
import { blobStoreFor, joinUri } from '../backends/blob/index.js';
import type { Backend, EventRecord } from '../backends/ports.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import type { RealmSpec } from '../core/schemas.js';
import { sleep } from '../core/time.js';
import { parseDuration } from '../core/units.js';
import { printJson, printTable, resolveRealm, withBackend, type GlobalOptions } from './context.js';

/** Every status a run's record can have (its latest event's). */
export const RUN_STATUSES = [
  'queued',
  'skipped',
  'starting',
  'rejected',
  'logging',
  'running',
  'retrying',
  'failed',
  'complete',
  'action_failed',
  'discarded',
  'interrupted',
] as const;

/** Statuses that mean the run (or its actions) did not succeed: `lava output` says so. */
const UNSUCCESSFUL = new Set(['failed', 'rejected', 'discarded', 'action_failed']);

interface Opts {
  run?: string;
  status?: string;
  since: string;
  limit: string;
  json?: boolean;
  follow?: boolean;
}

/** One row per logged event, oldest first. */
export function eventRows(records: EventRecord[]): string[][] {
  const rows = records.flatMap((r) =>
    r.log.map((e) => [e.ts_event, r.job_id, r.run_id, e.status, summarise(e.info)] as [string, string, string, string, string]),
  );
  return rows.sort((a, b) => a[0].localeCompare(b[0]));
}

function summarise(info: unknown): string {
  if (info === null || info === undefined) return '';
  if (typeof info === 'string') return oneLine(info);
  if (typeof info === 'object') {
    const o = info as Record<string, unknown>;
    if (typeof o.error === 'string') return oneLine(`error: ${errorWithStderr(o)}`);
    if ('exit_status' in o) return `exit_status ${String(o.exit_status)}`;
  }
  return oneLine(JSON.stringify(info));
}

/** A result's error (upstream's "Failed with exit status 3") and the first line of its stderr excerpt. */
function errorWithStderr(result: Record<string, unknown>): string {
  const data = result.error_data as Record<string, unknown> | null | undefined;
  const stderr = typeof data?.error === 'string' ? (data.error.split('\n')[0] ?? '') : '';
  return `${String(result.error)}${stderr ? `: ${stderr}` : ''}`;
}

function oneLine(s: string, max = 100): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}

export function registerEvents(program: Command, g: () => GlobalOptions): void {
  program
    .command('events')
    .argument('[job-id]')
    .description('show run events (newest runs, printed oldest first)')
    .option('--run <run-id>', 'only this run')
    .option('--status <status>', 'only runs whose latest status is this')
    .option('--since <duration>', 'only runs with events in this period', '1d')
    .option('-n, --limit <n>', 'at most this many runs', '50')
    .option('--json', 'print the event records as JSON')
    .option('-f, --follow', 'keep printing new events')
    .action((jobId: string | undefined, o: Opts) => showEvents(g(), jobId, o));

  program
    .command('output')
    .argument('<run-id>')
    .argument('[stream]', 'stdout or stderr', 'stdout')
    .description("print a run's captured output (of every job in the run, for chains)")
    .action((runId: string, stream: string) => printOutput(g(), runId, stream));
}

/** `lava events`: the newest runs' events, oldest first; `--follow` keeps printing new ones. */
async function showEvents(opts: GlobalOptions, jobId: string | undefined, o: Opts): Promise<void> {
  const since = parseDuration(o.since, '--since');
  if (o.status !== undefined && !(RUN_STATUSES as readonly string[]).includes(o.status)) {
    throw new ValidationError(`--status ${JSON.stringify(o.status)} is not a run status: use one of ${RUN_STATUSES.join(', ')}`);
  }
  const limit = Number(o.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new ValidationError(`--limit ${JSON.stringify(o.limit)}: use an integer ≥ 1`);
  await withBackend(opts, async (backend) => {
    const realm = await resolveRealm(backend, opts);
    const query = () =>
      backend.events.query(realm.realm, {
        ...(jobId ? { jobId } : {}),
        ...(o.run ? { runId: o.run } : {}),
        ...(o.status ? { status: o.status } : {}),
        since: new Date(Date.now() - since * 1000),
        limit,
      });
    const records = (await query()).reverse();
    // A deleted job's events are still shown; no events and no spec is most likely a wrong id.
    if (jobId && !records.length && !(await backend.config.get(realm.realm, 'jobs', jobId))) {
      throw new NotFoundError(
        'job',
        jobId,
        `there is no such job in realm "${realm.realm}" and no events of it in the last ${o.since}: check the id with \`lava job ls\``,
      );
    }
    if (o.json && !o.follow) return printJson(records);
    const headers = ['TS_EVENT', 'JOB_ID', 'RUN_ID', 'STATUS', 'INFO'];
    const rows = eventRows(records);
    printTable(headers, rows);
    if (!o.follow) return;
    const seen = new Set(rows.map((r) => r.slice(0, 4).join('\u0000')));
    let stop = false;
    process.once('SIGINT', () => (stop = true));
    while (!stop) {
      await sleep(1000);
      for (const row of eventRows(await query())) {
        const key = row.slice(0, 4).join('\u0000');
        if (seen.has(key)) continue;
        seen.add(key);
        process.stdout.write(row.join('  ') + '\n');
      }
    }
  });
}

/** `lava output`: a run's captured output; a run that did not succeed says so on stderr and exits 1. */
async function printOutput(opts: GlobalOptions, runId: string, stream: string): Promise<void> {
  if (stream !== 'stdout' && stream !== 'stderr') throw new ValidationError('stream must be stdout or stderr');
  await withBackend(opts, async (backend) => {
    const realm = await resolveRealm(backend, opts);
    const records = await runRecords(backend, realm, runId);
    const files = await outputFiles(backend, realm, runId, stream, records);
    for (const f of files) {
      if (files.length > 1) process.stdout.write(`==> ${f.label} <==\n`);
      process.stdout.write(await blobStoreFor(f.uri).read(f.uri));
    }
    // Empty output of a failed run is no answer: say where the error is.
    const failures = records.filter((r) => UNSUCCESSFUL.has(r.status));
    for (const r of failures) {
      process.stderr.write(`lava: run ${r.run_id} of ${r.job_id} ended ${r.status}: ${failureText(r)}\n`);
    }
    if (failures.length) {
      process.stderr.write(`lava: the whole record: lava events --run ${runId} --json\n`);
      process.exitCode = 1;
    }
  });
}

/** A run's records (one per job that ran under the run id), oldest first. */
async function runRecords(backend: Backend, realm: RealmSpec, runId: string): Promise<EventRecord[]> {
  const records = await backend.events.query(realm.realm, { runId, limit: 1000 });
  if (!records.length) throw new NotFoundError('run', runId, 'find run ids with `lava events`');
  return records.reverse();
}

/** The error of a record's latest event, on one line. */
function failureText(r: EventRecord): string {
  const last = [...r.log].reverse().find((e) => e.status === r.status) ?? r.log.at(-1);
  const info = last?.info;
  if (info && typeof info === 'object' && typeof (info as Record<string, unknown>).error === 'string') {
    return oneLine(errorWithStderr(info as Record<string, unknown>), 500);
  }
  return info === undefined || info === null
    ? '(no error recorded)'
    : oneLine(typeof info === 'string' ? info : JSON.stringify(info), 500);
}

export async function outputFiles(
  backend: Backend,
  realm: RealmSpec,
  runId: string,
  stream: 'stdout' | 'stderr',
  records?: EventRecord[],
): Promise<{ label: string; uri: string }[]> {
  const out: { label: string; uri: string }[] = [];
  for (const r of records ?? (await runRecords(backend, realm, runId))) {
    const prefix = joinUri(realm.s3_temp, r.job_id, r.run_id) + '/';
    for (const obj of await blobStoreFor(prefix).list(prefix)) {
      // A docker job's `logs` holds its stdout and stderr together: shown as its stdout.
      const docker = stream === 'stdout' && obj.name === 'logs';
      if (docker || obj.name === stream || obj.name.endsWith(`.${stream}`))
        out.push({ label: `${r.job_id}/${obj.name}`, uri: obj.uri });
    }
  }
  return out;
}
