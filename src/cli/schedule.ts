/** `lava schedule next|ls`, `lava dispatcher` and `lava up`. */
import type { Command } from 'commander';
import { backendUrl, openBackend } from '../backends/index.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import type { JobSpec } from '../core/schemas.js';
import { isoLocal } from '../core/time.js';
import { zoneOffsetMinutes } from '../core/zones.js';
import { Dispatcher } from '../dispatcher/dispatcher.js';
import { nextFires, scheduleEntries } from '../dispatch/schedule.js';
import { TriggerDaemon } from '../triggers/daemon.js';
import { Worker } from '../worker/worker.js';
import { collect, dispatcherZone, printJson, printTable, resolveRealm, withBackend, type GlobalOptions } from './context.js';
import { allOf, dispatcherDaemon, runDaemon, triggerDaemon, workerDaemon } from './daemon.js';
import { makeServer, serverDaemon, type ServeFlags } from './serve.js';

/** `2026-11-24 09:00:00 +11:00` in a zone. */
export function formatInZone(d: Date, tz: string): string {
  const off = zoneOffsetMinutes(d, tz);
  const shifted = new Date(d.getTime() + off * 60000);
  const sign = off >= 0 ? '+' : '-';
  const hh = String(Math.floor(Math.abs(off) / 60)).padStart(2, '0');
  const mm = String(Math.abs(off) % 60).padStart(2, '0');
  return `${shifted.toISOString().slice(0, 19).replace('T', ' ')} ${sign}${hh}:${mm}`;
}

export function registerSchedule(program: Command, g: () => GlobalOptions): void {
  const cmd = program.command('schedule').description('inspect job schedules');
  cmd
    .command('next')
    .argument('<job-id>')
    .option('-n, --count <n>', 'how many fire times', '10')
    .option('--tz <zone>', 'zone the cron lines are read in (default: LAVA_DISPATCHER_TZ or this machine)')
    .option('--json', 'print JSON')
    .description('show the next fire times of a job')
    .action((jobId: string, o: { count: string; tz?: string; json?: boolean }) => showNextFireTimes(g(), jobId, o));
  cmd
    .command('ls')
    .option('--dispatcher <name>', 'only jobs of this dispatcher')
    .option('--tz <zone>', 'zone the cron lines are read in')
    .option('--json', 'print JSON')
    .description('list scheduled jobs with their next fire time')
    .action((o: { dispatcher?: string; tz?: string; json?: boolean }) => listSchedules(g(), o));

  program
    .command('dispatcher')
    .description(
      'dispatch scheduled jobs of one dispatcher name; run several for high availability (SIGINT/SIGTERM/SIGHUP: stop)',
    )
    .requiredOption('-d, --dispatcher <name>', 'dispatcher name (jobs whose `dispatcher` field is this)')
    .option('--tz <zone>', 'zone cron lines are read in (default: LAVA_DISPATCHER_TZ or this machine)')
    .option('-l, --level <level>', 'log level')
    .action((o: { dispatcher: string; tz?: string; level?: string }) => runDispatcher(g(), o));

  program
    .command('up')
    .description(
      'run workers, dispatchers, object triggers and the HTTP server together in one process (a single-machine deployment)',
    )
    .option('-w, --worker <name>', 'a worker to run (repeatable)', collect, [])
    .option('-d, --dispatcher <name>', 'a dispatcher to run (repeatable)', collect, [])
    .option('-t, --threads <n>', 'threads per worker', '5')
    .option('--tz <zone>', 'dispatcher zone')
    .option('-l, --level <level>', 'log level')
    .option('--no-serve', 'do not start the HTTP server (API, dashboard, metrics)')
    .option('--no-triggers', 'do not fire object triggers (watched directories, S3TRIGGER_QUEUE)')
    .option('--host <host>', 'server address (default LAVA_SERVER_HOST, else 127.0.0.1)')
    .option('--port <n>', 'server port (default LAVA_SERVER_PORT, else 8470)')
    .action((o: UpOptions) => runUp(g(), o));
}

/** `lava schedule next`: a job's next fire times. */
async function showNextFireTimes(
  opts: GlobalOptions,
  jobId: string,
  o: { count: string; tz?: string; json?: boolean },
): Promise<void> {
  const tz = dispatcherZone(o.tz);
  await withBackend(opts, async (backend) => {
    const realm = await resolveRealm(backend, opts);
    const job = (await backend.config.get(realm.realm, 'jobs', jobId)) as JobSpec | undefined;
    if (!job) throw new NotFoundError('job', jobId, 'list jobs with `lava job ls`');
    if (!scheduleEntries(job.schedule).length) throw new ValidationError(`job ${jobId} has no schedule`);
    const fires = nextFires(job.schedule, new Date(), Number(o.count), tz);
    if (o.json)
      return printJson(fires.map((f) => ({ time: isoLocal(f.time), utc: f.time.toISOString(), crontab: f.entry.crontab })));
    printTable(
      ['FIRE_TIME', 'UTC', 'CRONTAB'],
      fires.map((f) => [formatInZone(f.time, f.entry.tz ?? tz), f.time.toISOString().slice(0, 19) + 'Z', f.entry.crontab]),
    );
  });
}

/** `lava schedule ls`: every scheduled job with its next fire time. */
async function listSchedules(opts: GlobalOptions, o: { dispatcher?: string; tz?: string; json?: boolean }): Promise<void> {
  const tz = dispatcherZone(o.tz);
  await withBackend(opts, async (backend) => {
    const realm = await resolveRealm(backend, opts);
    const jobs = (await backend.config.list(realm.realm, 'jobs', o.dispatcher ? { dispatcher: o.dispatcher } : {})) as JobSpec[];
    const rows = jobs
      .filter((j) => scheduleEntries(j.schedule).length)
      .map((j) => {
        const next = nextFires(j.schedule, new Date(), 1, tz)[0];
        return {
          job_id: j.job_id,
          dispatcher: j.dispatcher ?? '',
          worker: j.worker,
          schedule: j.schedule,
          next: next ? formatInZone(next.time, next.entry.tz ?? tz) : '',
        };
      });
    if (o.json) return printJson(rows);
    printTable(
      ['JOB_ID', 'DISPATCHER', 'WORKER', 'NEXT', 'SCHEDULE'],
      rows.map((r) => [r.job_id, r.dispatcher, r.worker, r.next, JSON.stringify(r.schedule)]),
    );
  });
}

/** `lava dispatcher`: dispatch the jobs of one dispatcher on their schedules until stopped. */
async function runDispatcher(opts: GlobalOptions, o: { dispatcher: string; tz?: string; level?: string }): Promise<void> {
  const logger = createLogger(o.level ? { level: o.level } : {});
  const backend = await openBackend(backendUrl(opts.backend));
  try {
    const realm = await resolveRealm(backend, opts);
    const d = await Dispatcher.create({ backend, realm: realm.realm, name: o.dispatcher, tz: dispatcherZone(o.tz), logger });
    await runDaemon(dispatcherDaemon(d, o.dispatcher, logger), logger);
  } finally {
    await backend.close();
  }
}

interface UpOptions extends ServeFlags {
  worker: string[];
  dispatcher: string[];
  threads: string;
  tz?: string;
  level?: string;
  serve: boolean;
  triggers: boolean;
}

/** `lava up`: workers, dispatchers, object triggers and the server in one process, under one stop policy. */
async function runUp(opts: GlobalOptions, o: UpOptions): Promise<void> {
  if (!o.worker.length && !o.dispatcher.length && !o.serve && !o.triggers) {
    throw new ValidationError('name at least one -w WORKER or -d DISPATCHER, or leave the server or triggers on');
  }
  const logger = createLogger(o.level ? { level: o.level } : {});
  const backend = await openBackend(backendUrl(opts.backend));
  try {
    const realm = await resolveRealm(backend, opts);
    const workers = await Promise.all(
      o.worker.map((w) => Worker.create({ backend, realm: realm.realm, worker: w, threads: Number(o.threads), logger })),
    );
    const dispatchers = await Promise.all(
      // One dispatcher per process admits batches: more would only repeat its passes.
      o.dispatcher.map((d, i) =>
        Dispatcher.create({ backend, realm: realm.realm, name: d, tz: dispatcherZone(o.tz), logger, batches: i === 0 }),
      ),
    );
    const daemons = [
      ...workers.map(workerDaemon),
      ...dispatchers.map((d, i) => dispatcherDaemon(d, o.dispatcher[i] as string, logger)),
    ];
    // Idle while the realm has no object triggers; it rereads the triggers table, so triggers put later fire too.
    if (o.triggers) daemons.push(triggerDaemon(await TriggerDaemon.create({ backend, realm: realm.realm, logger }), logger));
    if (o.serve) {
      const server = makeServer(backend, realm, o, logger, o.tz);
      process.stdout.write(`serving realm ${realm.realm} at ${await server.start()}\n`);
      daemons.push(serverDaemon(server));
    }
    await runDaemon(allOf(daemons), logger);
  } finally {
    await backend.close();
  }
}
