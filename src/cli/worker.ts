/** `lava worker`: the worker daemon. Its signal handling is the shared stop policy (./daemon.ts). */
import type { Command } from 'commander';
import { openBackend, backendUrl } from '../backends/index.js';
import { ValidationError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { Worker } from '../worker/worker.js';
import { resolveRealm, type GlobalOptions } from './context.js';
import { runDaemon, workerDaemon } from './daemon.js';

interface Opts {
  worker: string;
  threads: string;
  dev?: boolean;
  batch?: boolean;
  once?: boolean;
  heartbeat: string;
  wait?: string;
  retries: string;
  level?: string;
  logJson?: boolean;
  jumpStart?: boolean;
  exitCode?: boolean;
}

/** Outcomes that make `--exit-code` exit 1. */
const UNSUCCESSFUL = ['failed', 'rejected', 'discarded'] as const;

function int(value: string, flag: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new ValidationError(`${flag} ${JSON.stringify(value)}: use an integer ≥ ${min}`);
  return n;
}

export function registerWorker(program: Command, g: () => GlobalOptions): void {
  program
    .command('worker')
    .description(
      'run jobs dispatched to a worker (SIGINT/SIGTERM/SIGHUP: running jobs get SHUTDOWN_GRACE, then are handed back; twice: now)',
    )
    .requiredOption('-w, --worker <name>', 'worker (fleet) name')
    .option('-t, --threads <n>', 'jobs run at once', '5')
    .option('--dev', 'dev mode: job output goes to this terminal too')
    .option('--batch', 'exit when the queue is empty and nothing runs')
    .option('--once', 'exit after one message')
    .option('-b, --heartbeat <seconds>', 'seconds between heartbeat log lines (0 = off)', '0')
    .option('--wait <seconds>', 'long-poll wait (default 10; 1 with --batch)')
    .option('-j, --jump-start', "at start, dispatch this worker's lavasched jobs (after JUMPSTART_DELAY)")
    .option('--retries <n>', 'discard a message received more than n+1 times (negative = never)', '2')
    .option('-l, --level <level>', 'log level (default LAVA_LOGLEVEL or info)')
    .option('--log-json', 'JSON log lines even on a terminal')
    .option('--exit-code', 'exit with status 1 if a run it handled ended failed, rejected or discarded (for CI, with --batch)')
    .action(async (o: Opts) => {
      const heartbeat = int(o.heartbeat, '--heartbeat', 0);
      const logger = createLogger({ ...(o.level ? { level: o.level } : {}), ...(o.logJson ? { json: true } : {}) });
      const backend = await openBackend(backendUrl(g().backend));
      try {
        const realm = await resolveRealm(backend, g());
        const worker = await Worker.create({
          backend,
          realm: realm.realm,
          worker: o.worker,
          threads: int(o.threads, '--threads', 1),
          dev: o.dev ?? false,
          batch: o.batch ?? false,
          once: o.once ?? false,
          heartbeatSeconds: heartbeat,
          jumpStart: o.jumpStart ?? false,
          retries: int(o.retries, '--retries', -1000),
          ...(o.wait !== undefined ? { waitSeconds: int(o.wait, '--wait', 0) } : {}),
          logger,
        });
        await runDaemon(workerDaemon(worker), logger);
        const bad = UNSUCCESSFUL.filter((s) => worker.outcomes[s]).map((s) => `${worker.outcomes[s]} ${s}`);
        if (o.exitCode && bad.length) {
          process.stderr.write(`lava: runs that did not succeed: ${bad.join(', ')} (see \`lava events --since 1h\`)\n`);
          process.exitCode = 1;
        }
      } finally {
        await backend.close();
      }
    });
}
