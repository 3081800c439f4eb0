/**
 * `lava batch dead ls/retry/discard` (tasks out of attempts, waiting for an operator) and
 * `lava batch tasks` (a batch's tasks by state, by default the closed ones with their outcome).
 */
import type { Command } from 'commander';
import type { BatchTask, BatchTaskState } from '../backends/ports.js';
import { attemptsUsed, discardDead, listDead, retryDead, type DeadActionResult } from '../batch/dead.js';
import { CLOSED_STATES, listBatchTasks, taskState } from '../batch/tasks.js';
import { ValidationError } from '../core/errors.js';
import { printJson, printTable, resolveRealm, withBackend, type GlobalOptions } from './context.js';
import { localTime } from './human.js';

interface PageOptions {
  limit: string;
  cursor?: string;
  json?: boolean;
}

export function registerBatchDead(batch: Command, g: () => GlobalOptions): void {
  const dead = batch
    .command('dead')
    .description('tasks out of attempts: list them, retry them (back to pending) or discard them (docs/cli/batch.md)');

  dead
    .command('ls')
    .argument('<batch_id>')
    .description('list the dead tasks of a batch, with their last run and error')
    .option('--limit <n>', 'most tasks to show', '100')
    .option('--cursor <cursor>', 'continue after the previous page (its cursor is printed on stderr)')
    .option('--json', 'print JSON: {tasks, cursor?}')
    .action((batchId: string, o: PageOptions) => ls(g(), batchId, o));

  for (const [name, verb, what] of [
    ['retry', 'retried', 'put dead tasks back to pending with a fresh allowance of attempts; a finished batch is reopened'],
    ['discard', 'discarded', 'drop dead tasks for good: they count as done and never run again'],
  ] as const) {
    dead
      .command(name)
      .argument('<batch_id>')
      .argument('[keys...]', 'task keys (see `lava batch dead ls`)')
      .description(what)
      .option('--all', 'every dead task of the batch')
      .addHelpText(
        'after',
        `\nExamples:\n  lava batch dead ${name} weekly-2026-10 --all\n  lava batch dead ${name} weekly-2026-10 KEY1 KEY2`,
      )
      .action((batchId: string, keys: string[], o: { all?: boolean }) => act(g(), name, verb, batchId, keys, o));
  }

  batch
    .command('tasks')
    .argument('<batch_id>')
    .description('tasks of a batch with their outcome: by default the closed ones (complete, dead, discarded)')
    .option('--state <state>', 'only tasks in this state (any task state; repeatable)', (v: string, p: string[] = []) => [
      ...p,
      v,
    ])
    .option('--limit <n>', 'most tasks to show', '100')
    .option('--cursor <cursor>', 'continue after the previous page (its cursor is printed on stderr)')
    .option('--json', 'print JSON: {tasks, cursor?}')
    .action((batchId: string, o: PageOptions & { state?: string[] }) => tasks(g(), batchId, o));
}

function limitOf(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new ValidationError(`--limit ${value}: a whole number from 1 to 1000`);
  return n;
}

/** One line of an error, at most `max` characters. */
function short(text: unknown, max = 100): string {
  if (text === undefined || text === null || text === '') return '-';
  const one = String(text).replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

function more(cursor: string | undefined): void {
  if (cursor) process.stderr.write(`more tasks: add --cursor ${cursor}\n`);
}

async function ls(g: GlobalOptions, batchId: string, o: PageOptions): Promise<void> {
  const limit = limitOf(o.limit);
  await withBackend(g, async (backend) => {
    const realm = (await resolveRealm(backend, g)).realm;
    const page = await listDead(backend, realm, batchId, { limit, ...(o.cursor ? { cursor: o.cursor } : {}) });
    if (o.json) {
      printJson(page);
      return;
    }
    printTable(
      ['KEY', 'ATTEMPTS', 'DIED', 'RUN', 'STATUS', 'ERROR'],
      page.tasks.map((t) => {
        const info = t.info as { died_at?: string; run_id?: string; run_status?: string; error?: string };
        return [
          t.key,
          String(attemptsUsed(t)),
          localTime(info.died_at ?? t.updated),
          info.run_id ?? '-',
          info.run_status ?? '-',
          short(info.error),
        ];
      }),
    );
    more(page.cursor);
  });
}

async function act(
  g: GlobalOptions,
  name: 'retry' | 'discard',
  verb: string,
  batchId: string,
  keys: string[],
  o: { all?: boolean },
): Promise<void> {
  if (o.all && keys.length) throw new ValidationError(`lava batch dead ${name}: give task keys or --all, not both`);
  if (!o.all && !keys.length) {
    throw new ValidationError(
      `lava batch dead ${name}: name the task keys to ${name} (see \`lava batch dead ls ${batchId}\`), or --all for every dead task`,
    );
  }
  await withBackend(g, async (backend) => {
    const realm = (await resolveRealm(backend, g)).realm;
    const which = o.all ? 'all' : keys;
    const r: DeadActionResult =
      name === 'retry' ? await retryDead(backend, realm, batchId, which) : await discardDead(backend, realm, batchId, which);
    process.stdout.write(`${batchId}\t${r.moved} ${verb}\n`);
    if (r.skipped.length) process.stderr.write(`not dead (already retried or discarded?): ${r.skipped.join(' ')}\n`);
    if (r.unknown.length) {
      process.stderr.write(`not tasks of batch ${batchId}: ${r.unknown.join(' ')}\n`);
      process.exitCode = 1;
    }
  });
}

/** What a closed task came to, in a few words. */
function outcome(t: BatchTask): string {
  const info = t.info as { run_status?: string; error?: string };
  if (t.state === 'complete') return info.run_status ?? 'complete';
  return short(info.error ?? info.run_status, 80);
}

async function tasks(g: GlobalOptions, batchId: string, o: PageOptions & { state?: string[] }): Promise<void> {
  const limit = limitOf(o.limit);
  const states: BatchTaskState[] = o.state?.length ? o.state.map((s) => taskState(s, '--state')) : [...CLOSED_STATES];
  await withBackend(g, async (backend) => {
    const realm = (await resolveRealm(backend, g)).realm;
    const page = await listBatchTasks(backend, realm, batchId, states, { limit, ...(o.cursor ? { cursor: o.cursor } : {}) });
    if (o.json) {
      printJson(page);
      return;
    }
    printTable(
      ['KEY', 'STATE', 'ATTEMPTS', 'RUN', 'UPDATED', 'OUTCOME'],
      page.tasks.map((t) => [
        t.key,
        t.state,
        String(attemptsUsed(t)),
        (t.info as { run_id?: string }).run_id ?? '-',
        localTime(t.updated),
        outcome(t),
      ]),
    );
    more(page.cursor);
  });
}
