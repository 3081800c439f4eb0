/** `lava runs`: runs newest first, one line each, with their status and how long they took. */
import type { Command } from 'commander';
import { ValidationError } from '../core/errors.js';
import { sleep } from '../core/time.js';
import { parseDuration } from '../core/units.js';
import { listRuns, STATUSES, type RunFilter, type RunSummary } from '../observe/runs.js';
import { printJson, printTable, resolveRealm, withBackend, type GlobalOptions } from './context.js';
import { humanDuration, localTime } from './human.js';

interface Opts {
  job?: string;
  status?: string;
  since?: string;
  limit: string;
  json?: boolean;
  watch?: boolean;
}

export const RUNS_HEADERS = ['RUN_ID', 'JOB_ID', 'STATUS', 'STARTED', 'DURATION', 'WORKER'];

export function runRows(runs: RunSummary[]): string[][] {
  return runs.map((r) => [r.run_id, r.job_id, r.status, localTime(r.started), humanDuration(r.duration), r.worker ?? '-']);
}

/** The options as a filter, checked: a bad status, duration or limit is an error before anything is read. */
export function runFilter(o: Opts): RunFilter {
  if (o.status !== undefined && !(STATUSES as readonly string[]).includes(o.status)) {
    throw new ValidationError(`--status ${JSON.stringify(o.status)} is not a run status: use one of ${STATUSES.join(', ')}`);
  }
  const limit = Number(o.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new ValidationError(`--limit ${JSON.stringify(o.limit)}: use an integer ≥ 1`);
  const since = o.since === undefined ? undefined : parseDuration(o.since, '--since');
  return {
    ...(o.job ? { job: o.job } : {}),
    ...(o.status ? { status: o.status } : {}),
    ...(since !== undefined ? { since: new Date(Date.now() - since * 1000) } : {}),
    limit,
  };
}

export function registerRuns(program: Command, g: () => GlobalOptions): void {
  program
    .command('runs')
    .description('list runs, newest first, with their status and duration')
    .option('--job <job-id>', 'only runs of this job')
    .option('--status <status>', `only runs whose latest status is this (${STATUSES.join(', ')})`)
    .option('--since <duration>', 'only runs with an event in this period (30m, 2h, 7d, …)')
    .option('-n, --limit <n>', 'at most this many runs', '20')
    .option('--json', 'print JSON')
    .option('--watch', 'redraw every second until Ctrl-C')
    .action((o: Opts) => showRuns(g(), o));
}

async function showRuns(opts: GlobalOptions, o: Opts): Promise<void> {
  runFilter(o); // check the options before opening the backend
  await withBackend(opts, async (backend) => {
    const realm = await resolveRealm(backend, opts);
    // --since is relative to each redraw.
    const read = () => listRuns(backend, realm.realm, runFilter(o));
    if (!o.watch) {
      const runs = await read();
      return o.json ? printJson(runs) : printTable(RUNS_HEADERS, runRows(runs));
    }
    const stop = new AbortController();
    const onInt = () => stop.abort();
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onInt);
    try {
      while (!stop.signal.aborted) {
        const runs = await read();
        // On a terminal, redraw in place; into a pipe or file, one snapshot after another.
        if (process.stdout.isTTY) process.stdout.write('\x1b[H\x1b[2J');
        else process.stdout.write('\n');
        process.stdout.write(`${localTime(new Date().toISOString())}  lava runs (every 1s, Ctrl-C to stop)\n`);
        if (o.json) printJson(runs);
        else printTable(RUNS_HEADERS, runRows(runs));
        await sleep(1000, stop.signal);
      }
    } finally {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onInt);
    }
  });
}
