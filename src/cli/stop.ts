/** `lava stop`: suppress dispatch on this host and/or signal its workers. */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { Config } from '../core/config.js';
import { ValidationError } from '../core/errors.js';
import { sleep } from '../core/time.js';
import { parseDuration } from '../core/units.js';
import { listRuns } from './ps.js';

interface Opts {
  noDispatch?: boolean;
  allowDispatch?: boolean;
  signal?: string;
  worker?: string;
  wait?: string;
}

export function registerStop(program: Command): void {
  program
    .command('stop')
    .description('suppress dispatch on this host (--no-dispatch) and/or signal local workers to stop')
    .option(
      '-D, --no-dispatch',
      'create the suppression file (NO_DISPATCH): `lava dispatch --check-dispatch` and dispatchers then do nothing',
    )
    .option('--allow-dispatch', 'remove the suppression file')
    .option('-s, --signal <signal>', 'signal local workers: SIGHUP/SIGINT/SIGTERM stop them gracefully')
    .option('-w, --worker <name>', 'only workers with this name')
    .option('--wait <duration>', 'after signalling, wait this long for them to exit')
    .action(async (o: Opts) => {
      const config = new Config();
      const flag = config.str('NO_DISPATCH');
      // commander turns --no-dispatch into dispatch: false
      if ((o as { dispatch?: boolean }).dispatch === false) {
        fs.mkdirSync(path.dirname(flag), { recursive: true });
        fs.writeFileSync(flag, `dispatch suppressed by lava stop at ${new Date().toISOString()}\n`);
        process.stdout.write(`dispatch suppressed: ${flag}\n`);
      }
      if (o.allowDispatch) {
        fs.rmSync(flag, { force: true });
        process.stdout.write(`dispatch allowed: removed ${flag}\n`);
      }
      const workers = listRuns(config.str('TMPDIR')).workers.filter((w) => !o.worker || w.worker === o.worker);
      if (!o.signal) {
        for (const w of workers)
          process.stdout.write(`worker ${String(w.worker)} (realm ${String(w.realm)}) pid ${String(w.pid)}\n`);
        return;
      }
      const signal = o.signal.toUpperCase().startsWith('SIG') ? o.signal.toUpperCase() : `SIG${o.signal.toUpperCase()}`;
      if (!['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGKILL', 'SIGUSR1'].includes(signal)) {
        throw new ValidationError(`--signal ${o.signal}: use SIGHUP, SIGINT, SIGTERM, SIGKILL or SIGUSR1`);
      }
      const pids = workers.map((w) => Number(w.pid));
      for (const pid of pids) {
        process.kill(pid, signal);
        process.stdout.write(`sent ${signal} to worker pid ${pid}\n`);
      }
      if (!o.wait) return;
      const deadline = Date.now() + parseDuration(o.wait, '--wait') * 1000;
      let left = pids;
      while (left.length && Date.now() < deadline) {
        await sleep(500);
        left = left.filter((pid) => {
          try {
            process.kill(pid, 0);
            return true;
          } catch {
            return false;
          }
        });
      }
      if (left.length) {
        process.stderr.write(`still running after ${o.wait}: ${left.join(', ')}\n`);
        process.exitCode = 1;
      }
    });
}
