/**
 * Runs job processes: own process group, stdin from /dev/null, stdout/stderr to files (and to the
 * terminal in dev mode), a timeout that kills the whole group with exit status 28, a registry
 * so a stopping worker can kill whatever is still running, and the guardian that kills the group
 * if the worker dies first.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { guardian } from './guardian.js';

export const TIMEOUT_EXIT_STATUS = 28;

export class ProcessRegistry {
  private readonly groups = new Set<number>();

  add(pgid: number): void {
    this.groups.add(pgid);
  }

  remove(pgid: number): void {
    this.groups.delete(pgid);
  }

  get size(): number {
    return this.groups.size;
  }

  killAll(): void {
    for (const pgid of this.groups) killGroup(pgid);
    this.groups.clear();
  }
}

export function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

export interface RunProcessOptions {
  command: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdoutFile: string;
  stderrFile: string;
  /** Seconds. */
  timeout: number;
  /** Copy output to the worker's terminal as well (dev mode). */
  tee?: boolean;
  signal?: AbortSignal;
  registry?: ProcessRegistry;
}

export interface ProcessResult {
  exitStatus: number;
  timedOut: boolean;
  aborted: boolean;
  /** Set when the process could not be started (e.g. ENOENT, EACCES, ENOEXEC). */
  spawnError?: string;
}

export async function runProcess(o: RunProcessOptions): Promise<ProcessResult> {
  const out = fs.openSync(o.stdoutFile, 'w');
  const err = fs.openSync(o.stderrFile, 'w');
  try {
    guardian.start();
    return await new Promise<ProcessResult>((resolve) => {
      const child = spawn(o.command, [...o.args], {
        cwd: o.cwd,
        env: o.env,
        detached: true,
        stdio: ['ignore', o.tee ? 'pipe' : out, o.tee ? 'pipe' : err],
      });
      if (o.tee) {
        child.stdout?.on('data', (b: Buffer) => {
          fs.writeSync(out, b);
          process.stdout.write(b);
        });
        child.stderr?.on('data', (b: Buffer) => {
          fs.writeSync(err, b);
          process.stderr.write(b);
        });
      }
      let timedOut = false;
      let aborted = false;
      const pid = child.pid;
      if (pid !== undefined) {
        guardian.watch(pid); // first: the worker may be killed at any moment from here on
        o.registry?.add(pid);
      }
      const kill = () => pid !== undefined && killGroup(pid);
      const timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, o.timeout * 1000);
      const onAbort = () => {
        aborted = true;
        kill();
      };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      if (o.signal?.aborted) onAbort();
      let spawnError: string | undefined;
      child.on('error', (e: NodeJS.ErrnoException) => {
        spawnError = `cannot run ${o.command}: ${spawnProblem(o.command, e)}`;
      });
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        // Kill stray grandchildren left in the group, as upstream does on completion.
        kill();
        if (pid !== undefined) {
          o.registry?.remove(pid);
          guardian.unwatch(pid);
        }
        const exitStatus = timedOut ? TIMEOUT_EXIT_STATUS : spawnError ? 127 : (code ?? -(sig ? (osSignals[sig] ?? 1) : 1));
        resolve({ exitStatus, timedOut, aborted, ...(spawnError ? { spawnError } : {}) });
      });
    });
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
  }
}

function spawnProblem(command: string, e: NodeJS.ErrnoException): string {
  if (e.code === 'ENOEXEC') return 'Exec format error: is there a #! line?';
  if (e.code === 'ENOENT' && command.includes('/') && fs.existsSync(command)) {
    return 'the interpreter named in its #! line was not found (are the line endings CRLF? use LF)';
  }
  if (e.code === 'ENOENT') return 'no such program: check the name, or give its full path';
  if (e.code === 'EACCES') return 'permission denied: the file is not executable';
  return e.message;
}

const osSignals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };

/**
 * The first (size > 0) or last (size < 0) |size| bytes of a file, trimmed; null when empty.
 * This is the `error` of a failed process run (STDERR_SIZE).
 */
export async function excerpt(file: string, size: number): Promise<string | null> {
  let buf: Buffer;
  try {
    buf = await fsp.readFile(file);
  } catch {
    return null;
  }
  const n = Math.abs(size);
  const part = size >= 0 ? buf.subarray(0, n) : buf.subarray(Math.max(0, buf.length - n));
  const text = part.toString('utf8').trim();
  return text || null;
}
