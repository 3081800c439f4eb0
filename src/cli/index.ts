/** The `lava` command line. */
import { Command, CommanderError } from 'commander';
import { LavaError, errorMessage } from '../core/errors.js';
import { VERSION, versionText } from '../core/version.js';
import { registerAws } from './aws.js';
import { registerBackup } from './backup.js';
import { registerBatch } from './batch.js';
import { registerCheck } from './check.js';
import { registerChecksum } from './checksum.js';
import { registerConnUsage } from './conn-usage.js';
import { registerCompletion } from './completion.js';
import { registerConnections } from './connections.js';
import type { GlobalOptions } from './context.js';
import { registerDagGen } from './dag-gen.js';
import { registerDb } from './db.js';
import { registerDispatch } from './dispatch.js';
import { registerDump } from './dump.js';
import { registerEvents } from './events.js';
import { registerInit } from './init.js';
import { registerItemCommands } from './items.js';
import { registerJobActivity } from './job-activity.js';
import { registerNew } from './new.js';
import { registerPayload } from './payload.js';
import { registerPs } from './ps.js';
import { registerQuickstart } from './quickstart.js';
import { registerRun } from './run.js';
import { registerQueue } from './queue.js';
import { registerRuns } from './runs.js';
import { registerSchedule } from './schedule.js';
import { registerServe } from './serve.js';
import { registerState } from './state.js';
import { registerStop } from './stop.js';
import { registerTriggers } from './triggers.js';
import { registerWorker } from './worker.js';

export { VERSION };

export function buildProgram(): Command {
  const program = new Command('lava')
    .description('Lava for TypeScript: run Lava job specs — dispatch, workers, events')
    .version(versionText(), '-V, --version', 'print the version and the commit it was built from')
    .option('--backend <url>', 'backend URL (default LAVA_BACKEND, else sqlite:./.lava/lava.db)')
    .option('--realm <name>', 'realm (default LAVA_REALM, else the only realm in the backend)')
    .showHelpAfterError()
    .addHelpText(
      'after',
      `
Environment: LAVA_BACKEND, LAVA_REALM, LAVA_LOGLEVEL, and LAVA_<PARAM> for any configuration parameter.

Examples:
  lava quickstart
  lava init && lava job put examples/jobs/demo.yaml && lava dispatch demo/hello
  lava worker -w core --batch && lava events demo/hello`,
    );
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  registerInit(program, g);
  registerItemCommands(program, g);
  registerConnections(program, g);
  registerPayload(program, g);
  registerDispatch(program, g);
  registerWorker(program, g);
  registerEvents(program, g);
  registerRuns(program, g);
  registerQueue(program, g);
  registerPs(program, g);
  registerCheck(program);
  registerQuickstart(program);
  registerSchedule(program, g);
  registerBatch(program, g);
  registerTriggers(program, g);
  registerState(program, g);
  registerRun(program, g);
  registerStop(program);
  registerDagGen(program, g);
  registerDb(program, g);
  registerServe(program, g);
  registerAws(program, g);
  registerDump(program, g);
  registerBackup(program, g);
  registerChecksum(program, g);
  registerConnUsage(program, g);
  registerJobActivity(program, g);
  registerNew(program);
  registerCompletion(program);
  return program;
}

/**
 * A reader that stops early (`lava schema | head -1`) closes the pipe: stop quietly, as Unix tools do,
 * instead of dying with an EPIPE stack trace. A closed stderr only loses messages.
 */
export function quietOnClosedPipes(): void {
  const closed = (err: NodeJS.ErrnoException) => err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED';
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (!closed(err)) throw err;
    process.exit();
  });
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (!closed(err)) throw err;
  });
}

export async function main(argv: string[] = process.argv): Promise<void> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`lava: ${err instanceof LavaError ? err.message : errorMessage(err)}\n`);
    process.exitCode = 1;
  }
}
