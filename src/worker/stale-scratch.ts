/**
 * Scratch dirs of dead workers. A worker's scratch root `<TMPDIR>/<realm>/<worker>.<pid>` holds its
 * runs' dirs, which can hold connection files with secrets. A worker killed with -9 cannot remove
 * it, so the next worker to start for the realm on the same host does.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

/**
 * What tells this process from a later one that reuses its pid: the boot id and the process's start
 * time (in clock ticks since boot, /proc/PID/stat field 22). Undefined where there is no /proc.
 */
export function processMarker(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = fields[19]; // field 22
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return start ? `${boot}:${start}` : undefined;
  } catch {
    return undefined;
  }
}

/** Is the worker that wrote `marker` (if it did) still this live process? */
function workerAlive(pid: number, marker: unknown): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive, but another user's; its files are not ours to remove.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // The pid is in use: by the same worker only if its start marker still matches.
  if (typeof marker !== 'string') return true;
  const now = processMarker(pid);
  return now === undefined || now === marker;
}

function readInfo(dir: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'worker.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * Remove the scratch roots under `realmDir` whose workers are dead: their pid is gone, or now
 * belongs to another process. Workers of other hosts (a shared TMPDIR) and `keep` are left alone.
 * Returns the removed dirs.
 */
export async function removeDeadWorkerDirs(realmDir: string, host: string, keep: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fsp.readdir(realmDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const dir = path.join(realmDir, name);
    const suffix = /\.(\d+)$/.exec(name);
    if (dir === keep || !suffix) continue;
    const info = readInfo(dir);
    if (info && typeof info.host === 'string' && info.host !== host) continue;
    const pid = typeof info?.pid === 'number' ? info.pid : Number(suffix[1]);
    if (!Number.isSafeInteger(pid) || pid <= 1 || workerAlive(pid, info?.pid_start)) continue;
    try {
      if (!(await fsp.lstat(dir)).isDirectory()) continue;
      await fsp.rm(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // Removed by another starting worker, or not ours: leave it.
    }
  }
  return removed;
}
