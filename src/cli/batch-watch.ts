/** `lava batch status ID --watch`: tasks per state and progress, re-rendered until the batch is finished. */
import { BATCH_TASK_STATES } from '../backends/ports.js';
import { batchSummary, type BatchSummary } from '../batch/tasks.js';
import { ValidationError } from '../core/errors.js';
import { sleep } from '../core/time.js';
import { parseDuration } from '../core/units.js';
import { resolveRealm, withBackend, type GlobalOptions } from './context.js';
import { localTime } from './human.js';

const BAR_WIDTH = 40;

/** Whether the batch has nothing left to run: `finished`, or written and no task pending, queued, running or failed. */
export function isFinished(s: BatchSummary): boolean {
  if (s.state === 'finished') return true;
  return s.state !== 'submitting' && s.counts.pending + s.counts.queued + s.counts.running + s.counts.failed === 0;
}

export function progressLine(s: BatchSummary, bar: boolean): string {
  const pct = Math.floor(s.fraction * 100);
  const text = `${s.done}/${s.total} done (${pct}%)`;
  if (!bar) return text;
  const filled = Math.round(s.fraction * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${text}`;
}

/** The block a terminal shows: the batch line, a table of states and the bar. */
function block(s: BatchSummary): string[] {
  const width = Math.max(5, ...BATCH_TASK_STATES.map((st) => st.length));
  return [
    `batch ${s.batch_id}  job ${s.job_id}  state ${s.state}  submitted ${localTime(s.submitted)}`,
    `${'STATE'.padEnd(width)}  TASKS`,
    ...BATCH_TASK_STATES.map((st) => `${st.padEnd(width)}  ${s.counts[st]}`),
    progressLine(s, true),
  ];
}

/** One plain line per change, for logs and pipes. */
function line(s: BatchSummary): string {
  const counts = BATCH_TASK_STATES.filter((st) => s.counts[st] > 0)
    .map((st) => `${st} ${s.counts[st]}`)
    .join(', ');
  return `${new Date().toISOString()}  ${s.state}  ${progressLine(s, false)}${counts ? `  ${counts}` : ''}`;
}

export async function watchStatus(g: GlobalOptions, batchId: string, o: { every?: string; json?: boolean }): Promise<void> {
  if (o.json) throw new ValidationError('--watch and --json do not go together: drop one (poll `--json` for a snapshot)');
  const everyMs = Math.round(parseDuration(o.every ?? '2s', '--every') * 1000);
  if (everyMs < 100) throw new ValidationError(`--every ${o.every}: at least 0.1s`);
  const tty = Boolean(process.stdout.isTTY);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, onSignal);
  try {
    await withBackend(g, async (backend) => {
      const realm = (await resolveRealm(backend, g)).realm;
      let shown = 0;
      let last = '';
      for (;;) {
        const s = await batchSummary(backend, realm, batchId);
        if (tty) {
          const lines = block(s);
          process.stdout.write(`${shown ? `\x1b[${shown}A\x1b[J` : ''}${lines.join('\n')}\n`);
          shown = lines.length;
        } else {
          const key = JSON.stringify([s.state, s.counts]);
          if (key !== last) process.stdout.write(`${line(s)}\n`);
          last = key;
        }
        if (isFinished(s) || stop.signal.aborted) return;
        await sleep(everyMs, stop.signal);
        if (stop.signal.aborted) return;
      }
    });
  } finally {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.off(sig, onSignal);
  }
}
