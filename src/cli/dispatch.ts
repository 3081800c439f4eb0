/** `lava dispatch`: send runs of jobs to their workers (what cron lines call). */
import fs from 'node:fs';
import type { Command } from 'commander';
import { Config } from '../core/config.js';
import { errorMessage } from '../core/errors.js';
import type { Backend } from '../backends/ports.js';
import { dispatch } from '../dispatch/dispatch.js';
import { liveWorkers } from '../dispatch/directory.js';
import { expandPairs } from '../dispatch/params.js';
import { collect, printJson, resolveRealm, withBackend, type GlobalOptions } from './context.js';

interface Opts {
  param: string[];
  global: string[];
  delay: string;
  worker?: string;
  checkDispatch?: boolean;
  json?: boolean;
}

export function registerDispatch(program: Command, g: () => GlobalOptions): void {
  program
    .command('dispatch')
    .argument('<job-id...>')
    .description('dispatch jobs; prints one run id per job')
    .option('-p, --param <name=value>', 'a parameter (repeatable; dotted names nest: vars.day=mon)', collect, [])
    .option('-g, --global <name=value>', 'a global (repeatable; dotted names nest)', collect, [])
    .option(
      '-d, --delay <duration>',
      'delay before the run may start: up to 15m on SQS (SQS_MAX_DELAY_MINS), 7d elsewhere (DISPATCH_MAX_DELAY)',
      '0',
    )
    .option('-w, --worker <worker>', 'send to this worker without looking the job up')
    .option('--check-dispatch', 'do nothing if the dispatch suppression file (NO_DISPATCH) exists')
    .option('--json', 'print JSON')
    // lava-dispatcher's logging flags, so crontab lines written for upstream keep working.
    .option('-l, --level <level>', 'accepted for lava-dispatcher compatibility (dispatch prints only run ids and errors)')
    .option('--log-json', 'accepted for lava-dispatcher compatibility')
    .action(async (jobIds: string[], o: Opts) => {
      const parameters = expandPairs(o.param, '-p');
      const globals = expandPairs(o.global, '-g');
      await withBackend(g(), async (backend) => {
        const realm = await resolveRealm(backend, g());
        const config = new Config(realm.config ?? {});
        if (o.checkDispatch && fs.existsSync(config.str('NO_DISPATCH'))) {
          process.stderr.write(`dispatch suppressed: ${config.str('NO_DISPATCH')} exists (remove it to resume)\n`);
          return;
        }
        const out: { job_id: string; run_id?: string; error?: string }[] = [];
        const warned = new Set<string>();
        for (const jobId of jobIds) {
          try {
            const runId = await dispatch(
              backend,
              { realm: realm.realm, jobId, parameters, globals, delay: o.delay, ...(o.worker ? { worker: o.worker } : {}) },
              { config },
            );
            out.push({ job_id: jobId, run_id: runId });
            if (!o.json) process.stdout.write(`${runId}\n`);
            await warnIfNoWorker(backend, realm.realm, o.worker ?? (await jobWorker(backend, realm.realm, jobId)), warned);
          } catch (err) {
            out.push({ job_id: jobId, error: errorMessage(err) });
            process.stderr.write(`lava: cannot dispatch ${jobId}: ${errorMessage(err)}\n`);
          }
        }
        if (o.json) printJson(out);
        if (out.some((r) => r.error)) process.exitCode = 1;
      });
    });
}

async function jobWorker(backend: Backend, realm: string, jobId: string): Promise<string | undefined> {
  const job = await backend.config.get(realm, 'jobs', jobId);
  return typeof job?.worker === 'string' ? job.worker : undefined;
}

/** Once per fleet: a run sent to a fleet with no live worker waits; say so (a reading failure says nothing). */
async function warnIfNoWorker(backend: Backend, realm: string, worker: string | undefined, warned: Set<string>): Promise<void> {
  if (worker === undefined || warned.has(worker)) return;
  warned.add(worker);
  const live = await liveWorkers(backend, realm, worker).catch(() => undefined);
  if (live?.length !== 0) return;
  process.stderr.write(
    `warning: no live worker serves "${worker}" in realm ${realm}; the run waits in the queue until one starts (lava worker -w ${worker})\n`,
  );
}
