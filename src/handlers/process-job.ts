/** What cmd, exe and pkg share: environment, running one program, uploading its output. */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { prepareJobConnections } from '../connections/api.js';
import type { ConfigKey } from '../core/config.js';
import { JobError } from '../core/errors.js';
import { parseDuration } from '../core/units.js';
import { renderTemplate } from '../template/index.js';
import { floatRepr } from '../template/py-object.js';
import { liveOutput } from '../run/live-output.js';
import { excerpt, runProcess, type ProcessResult } from '../run/process.js';
import type { HandlerContext } from '../run/handler.js';

export interface FileRun {
  payload: string;
  exit_status: number;
  stdout?: string;
  stderr?: string;
}

/** Worker env < job `env` (rendered) < handler extras < Lava's own variables. */
export async function jobEnv(ctx: HandlerContext, extras: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  const p = ctx.job.parameters;
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (p.env !== undefined) {
    if (!p.env || typeof p.env !== 'object' || Array.isArray(p.env)) {
      throw new JobError('parameters.env must be a map of NAME: value');
    }
    const tctx = renderingOn(ctx) ? ctx.templateContext(vars(ctx)) : undefined;
    for (const [k, v] of Object.entries(p.env as Record<string, unknown>)) {
      env[k] = tctx ? renderTemplate(String(v), tctx) : String(v);
    }
  }
  Object.assign(env, extras);
  if (ctx.config.bool('JOB_LOCAL_TMPDIR')) env.TMPDIR = localTmpdir(ctx.scratch);
  Object.assign(env, lavaEnv(ctx), { LAVA_S3_TMP: ctx.s3tmp });
  return env;
}

let tmpSeq = 0;

/**
 * A new private TMPDIR inside the run's scratch dir. The scratch dir is the run's own (mode 0700), so
 * a counter names it: one mkdir, without mkdtemp's round trip through the thread pool.
 */
function localTmpdir(scratch: string): string {
  for (;;) {
    const dir = path.join(scratch, `.lava.tmp-${process.pid}-${++tmpSeq}`);
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
      return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** `parameters.connections` made ready: LAVA_CONN_* executables and their env (remove() when done). */
export function jobConnections(ctx: HandlerContext): ReturnType<typeof prepareJobConnections> {
  return prepareJobConnections(ctx.job.parameters.connections, {
    backend: ctx.backend,
    realm: ctx.job.realm,
    config: ctx.config,
    jobId: ctx.job.job_id,
    scratch: ctx.scratch,
  });
}

/** The `LAVA_*` variables every job process gets. */
export function lavaEnv(ctx: HandlerContext): Record<string, string> {
  return {
    LAVA_REALM: ctx.job.realm,
    LAVA_WORKER: ctx.job.worker,
    LAVA_OWNER: ctx.job.owner ?? '',
    LAVA_JOB_ID: ctx.job.job_id,
    LAVA_RUN_ID: ctx.job.run_id,
    LAVA_S3_KEY: ctx.realm.s3_key ?? '',
    LAVA_BACKEND: ctx.backend.url,
  };
}

/** `parameters.timeout`, else the type's default from config; seconds. */
export function paramTimeout(ctx: HandlerContext, fallback: ConfigKey): number {
  return parseDuration(ctx.job.parameters.timeout ?? ctx.config.duration(fallback), 'parameters.timeout');
}

export function renderingOn(ctx: HandlerContext): boolean {
  return ctx.job.parameters.jinja !== false;
}

export function vars(ctx: HandlerContext): Record<string, unknown> {
  const v = ctx.job.parameters.vars;
  if (v === undefined) return {};
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new JobError('parameters.vars must be a map');
  return v as Record<string, unknown>;
}

/** Render each argv element after lexing (upstream renders tokens, not the whole line). */
export function renderArgs(ctx: HandlerContext, args: readonly unknown[]): string[] {
  if (!renderingOn(ctx)) return args.map(String);
  const tctx = ctx.templateContext(vars(ctx));
  return args.map((a) => renderTemplate(String(a), tctx));
}

export function paramArgs(ctx: HandlerContext): unknown[] {
  const a = ctx.job.parameters.args;
  if (a === undefined) return [];
  if (!Array.isArray(a)) throw new JobError('parameters.args must be a list');
  return a;
}

/** Run one program; upload its non-empty output as `<base>stdout` / `<base>stderr`. */
export async function runOne(
  ctx: HandlerContext,
  o: {
    payload: string;
    command: string;
    args: string[];
    cwd: string;
    env: NodeJS.ProcessEnv;
    timeout: number;
    outputBase: string;
  },
): Promise<{ run: FileRun; error: string | null; message?: string }> {
  // Plain files in the scratch dir: each directory made and removed costs more than a short job.
  const base = path.join(ctx.scratch, `.lava-out-${randomUUID()}`);
  const stdoutFile = `${base}.stdout`;
  const stderrFile = `${base}.stderr`;
  const live = liveOutput(ctx, [
    { name: `${o.outputBase}stdout`, file: stdoutFile },
    { name: `${o.outputBase}stderr`, file: stderrFile },
  ]);
  let r: ProcessResult;
  let publishedLive: ReadonlySet<string>;
  try {
    r = await runProcess({
      command: o.command,
      args: o.args,
      cwd: o.cwd,
      env: o.env,
      stdoutFile,
      stderrFile,
      timeout: o.timeout,
      tee: ctx.dev,
      signal: ctx.signal,
      registry: ctx.processes,
    });
  } finally {
    // Before the final upload: no live publish may land after it.
    publishedLive = await live.stop();
  }
  const run: FileRun = { payload: o.payload, exit_status: r.exitStatus };
  if (!ctx.dev) {
    for (const [stream, file] of [
      ['stdout', stdoutFile],
      ['stderr', stderrFile],
    ] as const) {
      const name = `${o.outputBase}${stream}`;
      const st = await fsp.stat(file);
      // An empty file is not stored, unless a live publish stored an earlier, longer one.
      if (st.size === 0 && !publishedLive.has(name)) continue;
      run[stream] = await ctx.saveOutput(name, { file });
    }
  }
  if (r.exitStatus === 0) return { run, error: null };
  const error = r.spawnError ?? (await excerpt(stderrFile, ctx.config.int('STDERR_SIZE')));
  const message = r.aborted
    ? `${o.payload}: killed because the worker is stopping`
    : r.timedOut
      ? timedOutMessage(o.timeout)
      : r.spawnError // could not start: say why (upstream fails with a Python exception here)
        ? `${o.payload}: ${r.spawnError}`
        : failedMessage(r.exitStatus);
  return { run, error, message };
}

/** Upstream's text for a program that exited non-zero (the stderr excerpt is in `error_data.error`). */
export function failedMessage(exitStatus: number): string {
  return `Failed with exit status ${exitStatus}`;
}

/** Upstream's text for a timeout: the seconds as a Python float prints them (`1.0`, `2.5`). */
export function timedOutMessage(seconds: number): string {
  return `Timed out after ${floatRepr(seconds)} seconds`;
}

/** Run a list of programs in order, stopping at the first failure; the result upstream returns. */
export async function runSequence(
  ctx: HandlerContext,
  steps: Array<() => Promise<{ run: FileRun; error: string | null; message?: string }>>,
): Promise<{ exit_status: number; output: FileRun[] }> {
  const output: FileRun[] = [];
  for (const step of steps) {
    const { run, error, message } = await step();
    output.push(run);
    if (run.exit_status !== 0) {
      throw new JobError(message ?? failedMessage(run.exit_status), { exit_status: run.exit_status, output, error });
    }
  }
  return { exit_status: 0, output };
}
