/**
 * Did two executions of one run id ever run at the same time? Jobs append lines to a shared file:
 *
 *     <run_id> <pid> start|beat|end <epoch ms>
 *
 * one `start`, a `beat` every BEAT_SECONDS while they work, and an `end`. An execution (run id and
 * pid) is known alive from its first line to its last; one killed with its worker writes no more
 * beats. Two executions of one run overlap when either wrote a line while the other was known alive,
 * so a killed execution that lived on beside its successor shows as soon as it beats again.
 */
import fs from 'node:fs';

/** Seconds between beats of HEARTBEAT_SCRIPT. */
export const BEAT_SECONDS = 0.1;

/**
 * A job script (for `sh FILE BEATS`) that writes the lines above for $LAVA_RUN_ID into $OUT, beating
 * BEATS times. It beats from a background loop in its process group (killing the group stops it),
 * and the main process waits for it, so the beats show the whole group alive.
 */
export const HEARTBEAT_SCRIPT = `now() { date +%s%3N; }
line() { echo "$LAVA_RUN_ID $$ $1 $(now)" >> "$OUT"; }
line start
n=\${1:-0}
( while [ "$n" -gt 0 ]; do sleep ${BEAT_SECONDS}; line beat; n=$((n - 1)); done ) &
wait
line end
`;

export interface Execution {
  runId: string;
  pid: number;
  /** Epoch ms of its first and last line. */
  first: number;
  last: number;
  ended: boolean;
}

/** The executions recorded in `file`, by run id, each run's in order of start. */
export function readExecutions(file: string): Map<string, Execution[]> {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const byKey = new Map<string, Execution>();
  for (const line of text.split('\n')) {
    const [runId, pid, kind, ts] = line.trim().split(' ');
    if (!runId || !pid || !kind || !ts) continue; // a line cut short by a kill
    const at = Number(ts);
    if (!Number.isFinite(at)) continue;
    const key = `${runId} ${pid}`;
    const e = byKey.get(key) ?? { runId, pid: Number(pid), first: at, last: at, ended: false };
    e.first = Math.min(e.first, at);
    e.last = Math.max(e.last, at);
    if (kind === 'end') e.ended = true;
    byKey.set(key, e);
  }
  const runs = new Map<string, Execution[]>();
  for (const e of byKey.values()) runs.set(e.runId, [...(runs.get(e.runId) ?? []), e]);
  for (const list of runs.values()) list.sort((a, b) => a.first - b.first);
  return runs;
}

/** Each pair of executions of one run that were alive at the same time, described. Empty is good. */
export function overlaps(runs: Map<string, Execution[]>): string[] {
  const found: string[] = [];
  for (const [runId, list] of runs) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i] as Execution;
        const b = list[j] as Execution;
        if (a.last >= b.first) {
          found.push(
            `run ${runId}: pid ${a.pid} (${a.first}..${a.last}) was still running when pid ${b.pid} started (${b.first}..${b.last})`,
          );
        }
      }
    }
  }
  return found;
}
