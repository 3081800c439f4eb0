/** `lava queue`: each worker fleet's queue (waiting, delayed, in flight, oldest) and its live workers. */
import type { Command } from 'commander';
import { listQueues, type QueueView } from '../observe/fleet.js';
import { printJson, printTable, resolveRealm, withBackend, type GlobalOptions } from './context.js';
import { humanAge } from './human.js';

export function queueRows(queues: QueueView[]): string[][] {
  return queues.map((q) => [
    q.worker,
    String(q.visible),
    String(q.delayed),
    String(q.inflight),
    humanAge(q.oldest_age_seconds),
    String(q.workers),
    String(q.slots),
    String(q.busy),
  ]);
}

export function registerQueue(program: Command, g: () => GlobalOptions): void {
  program
    .command('queue')
    .description("show each worker fleet's queue and the live workers serving it")
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) =>
      withBackend(g(), async (backend) => {
        const realm = await resolveRealm(backend, g());
        const queues = await listQueues(backend, realm.realm);
        if (o.json) return printJson(queues);
        printTable(['WORKER', 'QUEUED', 'DELAYED', 'IN_FLIGHT', 'OLDEST', 'WORKERS', 'SLOTS', 'BUSY'], queueRows(queues));
      }),
    );
}
