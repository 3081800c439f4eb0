/** `lava triggers`: fire the realm's object triggers (a daemon; `lava trigger` manages their specs). */
import type { Command } from 'commander';
import { backendUrl, openBackend } from '../backends/index.js';
import { createLogger } from '../core/logger.js';
import { TriggerDaemon } from '../triggers/daemon.js';
import { resolveRealm, type GlobalOptions } from './context.js';
import { runDaemon, triggerDaemon } from './daemon.js';

export interface TriggersOptions {
  queue?: string;
  watch: boolean;
  level?: string;
}

export function registerTriggers(program: Command, g: () => GlobalOptions): void {
  program
    .command('triggers')
    .description(
      'fire object triggers: watch the directories of file triggers and receive S3 event notifications from ' +
        'S3TRIGGER_QUEUE; run several for high availability (SIGINT/SIGTERM/SIGHUP: stop)',
    )
    .option('-q, --queue <queue>', 'SQS queue (name or URL) of S3 event notifications (default: S3TRIGGER_QUEUE)')
    .option('--no-watch', 'do not watch directories (only the SQS queue)')
    .option('-l, --level <level>', 'log level')
    .action((o: TriggersOptions) => runTriggers(g(), o));
}

async function runTriggers(opts: GlobalOptions, o: TriggersOptions): Promise<void> {
  const logger = createLogger(o.level ? { level: o.level } : {});
  const backend = await openBackend(backendUrl(opts.backend));
  try {
    const realm = await resolveRealm(backend, opts);
    const triggers = await TriggerDaemon.create({
      backend,
      realm: realm.realm,
      logger,
      watch: o.watch,
      ...(o.queue !== undefined ? { flags: { S3TRIGGER_QUEUE: o.queue } } : {}),
    });
    await runDaemon(triggerDaemon(triggers, logger), logger);
  } finally {
    await backend.close();
  }
}
