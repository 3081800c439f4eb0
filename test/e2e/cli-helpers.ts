/**
 * Helpers for end-to-end tests that drive the compiled `lava` command (bin/lava.js → dist/cli)
 * as real child processes: one call, a long-running worker, a throwaway realm, polling.
 *
 * No shell is ever used: arguments go to execFile/spawn as a list.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '../..');
export const LAVA_BIN = path.join(REPO_ROOT, 'bin/lava.js');
export const DIST_CLI = path.join(REPO_ROOT, 'dist/cli/index.js');
export const EXAMPLES = path.join(REPO_ROOT, 'examples');

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export interface LavaResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface LavaOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Milliseconds before the process is killed. @default 30000 */
  timeout?: number;
}

/** The parent's environment without any LAVA_* variable, so tests never see the caller's realm. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LAVA_')) env[k] = v;
  // Keep worker logs machine-readable and quiet unless a test asks otherwise.
  env.LAVA_LOGLEVEL = 'warn';
  return { ...env, ...extra };
}

/** Run `lava ARGS…` to completion. Never throws for a non-zero exit; the code is returned. */
export function lava(args: string[], options: LavaOptions = {}): Promise<LavaResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [LAVA_BIN, ...args],
      {
        cwd: options.cwd ?? REPO_ROOT,
        env: options.env ?? cleanEnv(),
        timeout: options.timeout ?? 30_000,
        maxBuffer: 16 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (!err) return resolve({ code: 0, stdout, stderr });
        if (typeof err.code === 'number') return resolve({ code: err.code, stdout, stderr });
        if (err.killed || err.signal) {
          return reject(
            new Error(`lava ${args.join(' ')} was killed (${String(err.signal)})\nstdout: ${stdout}\nstderr: ${stderr}`),
          );
        }
        reject(new Error(`cannot run lava ${args.join(' ')}: ${err.message}`));
      },
    );
  });
}

/** `lava` that must succeed; the error shows stdout and stderr. */
export async function lavaOk(args: string[], options: LavaOptions = {}): Promise<LavaResult> {
  const r = await lava(args, options);
  if (r.code !== 0) {
    throw new Error(`lava ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return r;
}

/** A long-running `lava` process (a worker) whose output is collected as it arrives. */
export interface LavaProcess {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Still running? */
  running(): boolean;
}

const spawned = new Set<ChildProcess>();

export function spawnLava(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): LavaProcess {
  const child = spawn(process.execPath, [LAVA_BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start lava ${args.join(' ')}`);
  spawned.add(child);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (err += s));
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      done = true;
      spawned.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, pid: child.pid, stdout: () => out, stderr: () => err, exited, running: () => !done };
}

/** SIGKILL every spawned `lava` process that is still running (afterEach/afterAll cleanup). */
export function killSpawned(): void {
  for (const c of spawned) {
    if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  spawned.clear();
}

/** Wait for a process to exit within `ms`, or fail with what it printed. */
export async function waitExit(p: LavaProcess, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`process ${p.pid} did not exit within ${ms} ms\nstdout: ${p.stdout()}\nstderr: ${p.stderr()}`)),
      ms,
    );
  });
  try {
    return await Promise.race([p.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Poll `predicate` until it returns a truthy value (which is returned) or `timeoutMs` passes.
 * `what` names the condition in the timeout error.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  timeoutMs: number,
  what = 'condition',
  intervalMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await predicate();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/** A temporary embedded realm made with `lava init --dir`, and the env that points at it. */
export interface CliRealm {
  dir: string;
  dbPath: string;
  backendUrl: string;
  /** LAVA_TMPDIR: the worker scratch root. */
  scratch: string;
  env: NodeJS.ProcessEnv;
  /** `lava` with this realm's env (plus extra env). */
  lava(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<LavaResult>;
  lavaOk(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<LavaResult>;
  spawn(args: string[], extraEnv?: NodeJS.ProcessEnv): LavaProcess;
  /** Write a file into the realm dir and return its path. */
  write(name: string, text: string): string;
  /** `lava events --run RUN --json` → the run's event records. */
  events(runId: string): Promise<EventRecordJson[]>;
  /** Statuses of a run's events, in the order they were recorded. */
  statuses(runId: string): Promise<string[]>;
  cleanup(): void;
}

export interface EventEntryJson {
  ts_event: string;
  status: string;
  info: unknown;
}

export interface EventRecordJson {
  job_id: string;
  run_id: string;
  status: string;
  worker: string | null;
  log: EventEntryJson[];
}

/** Make a temp dir and run `lava init --dir DIR` in it; every later call uses LAVA_BACKEND etc. */
export async function makeCliRealm(extraEnv: NodeJS.ProcessEnv = {}, prefix = 'lava-e2e-'): Promise<CliRealm> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const dbPath = path.join(dir, 'lava.db');
  const backendUrl = `sqlite:${dbPath}`;
  const scratch = path.join(dir, 'scratch');
  const env = cleanEnv({
    LAVA_BACKEND: backendUrl,
    LAVA_TMPDIR: scratch,
    LAVA_NO_DISPATCH: path.join(dir, 'nodispatch'),
    ...extraEnv,
  });
  const init = await lava(['init', '--dir', dir], { env, cwd: dir });
  if (init.code !== 0) throw new Error(`lava init failed (${init.code}): ${init.stdout}${init.stderr}`);
  const r: CliRealm = {
    dir,
    dbPath,
    backendUrl,
    scratch,
    env,
    lava: (args, more = {}) => lava(args, { env: { ...env, ...more }, cwd: dir }),
    lavaOk: (args, more = {}) => lavaOk(args, { env: { ...env, ...more }, cwd: dir }),
    spawn: (args, more = {}) => spawnLava(args, { env: { ...env, ...more }, cwd: dir }),
    write(name, text) {
      const file = path.join(dir, name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      return file;
    },
    async events(runId) {
      const res = await r.lavaOk(['events', '--run', runId, '--json', '-n', '1000']);
      return JSON.parse(res.stdout) as EventRecordJson[];
    },
    async statuses(runId) {
      const recs = await r.events(runId);
      // One record per run; its log is in the order the events were written.
      return recs.flatMap((rec) => rec.log).map((e) => e.status);
    },
    cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return r;
}

/** Run ids printed by `lava dispatch`, one per line. */
export function runIds(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** Rows of a printed table (`printTable`): header line first, cells split on 2+ spaces. */
export function tableRows(stdout: string, firstHeader: string): string[][] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith(firstHeader));
  if (start < 0) return [];
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.trim()) break;
    rows.push(line.split(/ {2,}/));
  }
  return rows;
}

function newestTs(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestTs(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** True when dist/cli/index.js is missing or older than some file under src/. */
export function distIsStale(): boolean {
  if (!fs.existsSync(DIST_CLI)) return true;
  return newestTs(path.join(REPO_ROOT, 'src')) > fs.statSync(DIST_CLI).mtimeMs;
}

/** Compile src/ into dist/ (tsc still emits when some file has type errors). */
export function build(): void {
  try {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: REPO_ROOT,
      stdio: 'pipe',
    });
  } catch (err) {
    if (!fs.existsSync(DIST_CLI)) throw err;
    const out = (err as { stdout?: Buffer }).stdout?.toString() ?? '';
    process.stderr.write(`warning: tsc reported errors; testing the emitted dist anyway\n${out}`);
  }
}

/**
 * Lock-free build check for a test file's beforeAll: build only when dist/cli/index.js is missing
 * (the global setup and `npm test` build when it is stale, before any file runs in parallel).
 */
export function ensureBuilt(): void {
  if (!fs.existsSync(DIST_CLI)) build();
}

/** Whether any process of a process group is still alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
