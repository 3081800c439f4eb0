/**
 * The stop policy shared by every long-running command (`lava worker`, `lava dispatcher`,
 * `lava up`), so that SIGINT, SIGTERM and SIGHUP mean the same everywhere: the first one stops
 * gracefully (no new work; running jobs get SHUTDOWN_GRACE, then are killed and handed back), the
 * next one forces (running jobs are killed and handed back now). SIGUSR1 logs the daemon's status.
 */
import type { Logger } from '../core/logger.js';
import type { Dispatcher } from '../dispatcher/dispatcher.js';
import type { TriggerDaemon } from '../triggers/daemon.js';
import type { Worker } from '../worker/worker.js';

/** What a command runs until it is told to stop. */
export interface Daemon {
  /** Resolves when the daemon has stopped. */
  run(): Promise<void>;
  /** Graceful stop: take no new work; running work gets its grace. */
  stop(): Promise<void>;
  /** Forced stop: end running work now. */
  kill(): void;
  /** Log the daemon's state (SIGUSR1). */
  status?(): void;
}

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

const ignore = () => undefined;

/** Run `daemon` with the stop policy's signal handlers installed, and remove them when it ends. */
export async function runDaemon(daemon: Daemon, logger: Logger): Promise<void> {
  let signals = 0;
  const onStop = (signal: NodeJS.Signals) => {
    if (++signals === 1) {
      logger.info({ signal }, 'stopping: no new jobs; running jobs get SHUTDOWN_GRACE to finish (signal again to stop now)');
      // A failure of the stop also fails run(), which reports it.
      daemon.stop().catch(() => undefined);
    } else {
      logger.warn({ signal }, 'stopping now: running jobs are killed and handed back');
      daemon.kill();
    }
  };
  const onStatus = () => daemon.status?.();
  for (const sig of STOP_SIGNALS) process.on(sig, onStop);
  // Without a listener SIGUSR1 would end the process (`lava stop -s SIGUSR1` reaches `lava up` too).
  process.on('SIGUSR1', onStatus);
  try {
    await daemon.run();
  } finally {
    for (const sig of STOP_SIGNALS) process.off(sig, onStop);
    process.off('SIGUSR1', onStatus);
    // Stopped by a signal: the command is on its way out, and another signal arriving meanwhile must
    // not end it with the signal's default action (killed instead of exit status 0).
    if (signals) for (const sig of STOP_SIGNALS) process.on(sig, ignore);
  }
}

/** Several daemons run as one (`lava up`): each signal reaches all of them. */
export function allOf(daemons: Daemon[]): Daemon {
  return {
    run: async () => void (await Promise.all(daemons.map((d) => d.run()))),
    stop: async () => void (await Promise.all(daemons.map((d) => d.stop()))),
    kill: () => daemons.forEach((d) => d.kill()),
    status: () => daemons.forEach((d) => d.status?.()),
  };
}

/** A worker: its graceful stop gives running jobs SHUTDOWN_GRACE. */
export function workerDaemon(worker: Worker): Daemon {
  return {
    run: () => worker.run(),
    stop: () => worker.stop(),
    kill: () => worker.kill(),
    status: () => worker.env.logger.info({ state: worker.state, config: worker.env.config.dump() }, 'worker status'),
  };
}

/** A dispatcher holds no jobs: forcing it is stopping it (a fire time in flight is finished by a replica). */
export function dispatcherDaemon(dispatcher: Dispatcher, name: string, logger: Logger): Daemon {
  const stop = () => dispatcher.stop();
  return {
    run: () => dispatcher.run(),
    stop,
    kill: () => void stop().catch(() => undefined),
    status: () =>
      logger.info({ dispatcher: name, state: dispatcher.state, dispatched: dispatcher.dispatched }, 'dispatcher status'),
  };
}

/**
 * The object trigger daemon holds no jobs, only dispatches of a moment: its graceful stop stops
 * watching and receiving and lets those finish; forcing it is the same (an event not yet fired is
 * fired by a replica, the next scan or SQS's redelivery).
 */
export function triggerDaemon(triggers: TriggerDaemon, logger: Logger): Daemon {
  const stop = () => triggers.stop();
  return {
    run: () => triggers.run(),
    stop,
    kill: () => void stop().catch(() => undefined),
    status: () => logger.info(triggers.status(), 'triggers status'),
  };
}
