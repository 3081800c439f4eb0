/**
 * The job guardian: one small `sh` per worker process that holds the read end of a pipe from the
 * worker and the list of job process groups the worker runs. When the worker dies, even by
 * `kill -9`, the kernel closes the pipe; the guardian reads end-of-file and kills every group still
 * listed, so no job outlives its worker and runs beside the next attempt of its run.
 *
 * One guardian per worker process, not one supervisor per job: a job is still spawned directly
 * (same exit statuses, signals and spawn errors) and costs two short writes to the pipe.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/**
 * `+ PGID` lists a group, `- PGID` unlists it (it ended: its id may be reused). Signals that stop
 * a terminal session are ignored: only the pipe's end stops the guardian. `g` is " 1 2 3 ".
 */
const SCRIPT = `trap '' INT QUIT TERM HUP TSTP
g=' '
while read -r op pg; do
  case $op$g in
    +*) g="$g$pg " ;;
    -*" $pg "*) g="\${g% $pg *} \${g#* $pg }" ;;
  esac
done
for pg in $g; do kill -KILL -"$pg" 2>/dev/null; done
`;

/** A guardian that died is replaced at most this often (a missing /bin/sh must not spin). */
const RESPAWN_MS = 1000;

class Guardian {
  private child?: ChildProcess;
  private readonly groups = new Set<number>();
  private spawnedAt = 0;

  /** Start the guardian before the first job, so that no job starts unguarded. */
  start(): void {
    this.ensure();
  }

  watch(pgid: number): void {
    const child = this.ensure();
    this.groups.add(pgid);
    child?.stdin?.write(`+ ${pgid}\n`);
  }

  unwatch(pgid: number): void {
    if (this.groups.delete(pgid)) this.child?.stdin?.write(`- ${pgid}\n`);
  }

  /** The guardian's pid, if one runs (tests kill it to check it is replaced). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private ensure(): ChildProcess | undefined {
    if (this.child) return this.child;
    this.spawnedAt = Date.now();
    let child: ChildProcess;
    try {
      // Own session: a terminal's Ctrl-C or hang-up aimed at the worker does not reach it.
      child = spawn('/bin/sh', ['-c', SCRIPT, 'lava-guardian'], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    } catch {
      return undefined; // no /bin/sh: jobs run unguarded, as they always did
    }
    child.on('error', () => this.lost(child));
    child.on('exit', () => this.lost(child));
    child.stdin?.on('error', () => undefined); // EPIPE after the guardian died; 'exit' handles it
    // Neither the guardian nor its pipe keeps the worker's event loop alive.
    child.unref();
    (child.stdin as { unref?: () => void } | null)?.unref?.();
    this.child = child;
    // A replacement learns the groups of the guardian it replaces.
    for (const g of this.groups) child.stdin?.write(`+ ${g}\n`);
    return child;
  }

  /** The guardian died (killed by someone): replace it while there are groups to guard. */
  private lost(child: ChildProcess): void {
    if (this.child !== child) return;
    this.child = undefined;
    if (!this.groups.size) return; // the next job starts a new one
    const wait = Math.max(0, this.spawnedAt + RESPAWN_MS - Date.now());
    setTimeout(() => this.groups.size && this.ensure(), wait).unref();
  }
}

/** The guardian of this process's job process groups (made on the first job). */
export const guardian = new Guardian();
