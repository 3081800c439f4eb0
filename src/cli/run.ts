/** `lava run stop`: ask the realm's workers to stop a run (not `lava stop`, which signals local workers). */
import os from 'node:os';
import type { Command } from 'commander';
import { Config } from '../core/config.js';
import { requestStop } from '../dispatch/stop.js';
import { printJson, resolveRealm, withBackend, type GlobalOptions } from './context.js';

/** A run whose record has one of these statuses has ended: there is nothing to stop. */
const ENDED = new Set(['complete', 'failed', 'skipped', 'rejected', 'action_failed', 'discarded']);

export function registerRun(program: Command, g: () => GlobalOptions): void {
  const cmd = program.command('run').description('act on one run of a job, by run id');
  cmd
    .command('stop')
    .argument('<run-id>')
    .description('ask the workers to stop a run: a running one is killed, a queued one never starts; both end failed')
    .option('--json', 'print the request as JSON')
    .action(async (runId: string, o: { json?: boolean }) => {
      await withBackend(g(), async (backend) => {
        const realm = await resolveRealm(backend, g());
        const records = await backend.events.query(realm.realm, { runId, limit: 1000 });
        // The record that began first is the run's top-level job (chain children share its run id).
        const began = (r: (typeof records)[number]) => r.log[0]?.tu_event ?? r.tu_event;
        const top = records.sort((a, b) => began(a).localeCompare(began(b)))[0];
        if (top && ENDED.has(top.status)) {
          process.stderr.write(`lava: run ${runId} of ${top.job_id} already ended (${top.status}): nothing to stop\n`);
          process.exitCode = 1;
          return;
        }
        const by = `${os.userInfo().username}@${os.hostname()}`;
        const request = await requestStop(backend, realm.realm, runId, by, top?.job_id);
        if (o.json) return printJson({ ...request, status: top?.status ?? null });
        const beat = new Config(realm.config ?? {}).raw('DIRECTORY_BEAT').value;
        const what = top ? `run ${runId} of ${top.job_id} (now ${top.status})` : `run ${runId} (no events of it yet)`;
        process.stdout.write(
          `stop requested for ${what} in realm ${realm.realm}\n` +
            `workers act on it at their next beat (DIRECTORY_BEAT, ${String(beat)}): a running run is killed and ends failed ` +
            `"Stopped on request"; one not started yet ends failed when a worker receives it; see lava events --run ${runId}\n`,
        );
      });
    });
}
