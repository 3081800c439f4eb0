/** `lava events` and `lava output`: what happened to runs. */
import type { Command } from 'commander';
import { blobStoreFor, joinUri } from '../backends/blob/index.js';
import type { Backend, EventRecord } from '../backends/ports.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import type { RealmSpec } from '../core/schemas.js';
import { sleep } from '../core/time.js';
import { parseDuration } from '../core/units.js';
import { printJson, printTable, resolveRealm, withBackend, type GlobalOptions } from './context.js';

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
    if (typeof o.error === 'string') return oneLine(`error: ${o.error}`);
    if ('exit_status' in o) return `exit_status ${String(o.exit_status)}`;
  }
  return oneLine(JSON.stringify(info));
}

function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > 100 ? flat.slice(0, 99) + '…' : flat;
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
    .action(async (jobId: string | undefined, o: Opts) => {
      const since = parseDuration(o.since, '--since');
      await withBackend(g(), async (backend) => {
        const realm = await resolveRealm(backend, g());
        const query = () =>
          backend.events.query(realm.realm, {
            ...(jobId ? { jobId } : {}),
            ...(o.run ? { runId: o.run } : {}),
            ...(o.status ? { status: o.status } : {}),
            since: new Date(Date.now() - since * 1000),
            limit: Number(o.limit),
          });
        const records = (await query()).reverse();
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
    });

  program
    .command('output')
    .argument('<run-id>')
    .argument('[stream]', 'stdout or stderr', 'stdout')
    .description("print a run's captured output (of every job in the run, for chains)")
    .action(async (runId: string, stream: string) => {
      if (stream !== 'stdout' && stream !== 'stderr') throw new ValidationError('stream must be stdout or stderr');
      await withBackend(g(), async (backend) => {
        const realm = await resolveRealm(backend, g());
        const files = await outputFiles(backend, realm, runId, stream);
        for (const f of files) {
          if (files.length > 1) process.stdout.write(`==> ${f.label} <==\n`);
          process.stdout.write(await blobStoreFor(f.uri).read(f.uri));
        }
      });
    });
}

export async function outputFiles(
  backend: Backend,
  realm: RealmSpec,
  runId: string,
  stream: 'stdout' | 'stderr',
): Promise<{ label: string; uri: string }[]> {
  const records = await backend.events.query(realm.realm, { runId, limit: 1000 });
  if (!records.length) throw new NotFoundError('run', runId, 'find run ids with `lava events`');
  const out: { label: string; uri: string }[] = [];
  for (const r of records.reverse()) {
    const prefix = joinUri(realm.s3_temp, r.job_id, r.run_id) + '/';
    for (const obj of await blobStoreFor(prefix).list(prefix)) {
      if (obj.name === stream || obj.name.endsWith(`.${stream}`)) out.push({ label: `${r.job_id}/${obj.name}`, uri: obj.uri });
    }
  }
  return out;
}
