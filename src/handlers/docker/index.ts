/**
 * docker: run a container from the image named by the payload, through the Docker Engine API
 * (dockerode, an optional package). The run's scratch directory is bind-mounted at the same path
 * and is the working directory; the container's stdout and stderr become the run's `logs` output.
 * The container is killed on timeout (exit status 28) or when the run is stopped, and always removed.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type Dockerode from 'dockerode';
import { joinUri } from '../../backends/blob/index.js';
import { dockerConnect, dockerErrorText, type DockerConnection } from '../../connections/connectors/docker.js';
import { ConnectionError, redact } from '../../connections/errors.js';
import { resolveConnection } from '../../connections/resolve.js';
import { JobError } from '../../core/errors.js';
import { shlexSplit } from '../../core/shlex.js';
import { renderTemplate } from '../../template/index.js';
import type { Handler, HandlerContext } from '../../run/handler.js';
import { liveOutput } from '../../run/live-output.js';
import { excerpt, TIMEOUT_EXIT_STATUS } from '../../run/process.js';
import { jobConnections, lavaEnv, paramArgs, paramTimeout, renderArgs, renderingOn, vars } from '../process-job.js';
import { containerSettings } from './host-config.js';

/** `repository[:tag]`; more than one `:` is refused, as upstream does (so no registry port). */
export function parseImage(payload: unknown): { repo: string; tag: string } {
  if (typeof payload !== 'string' || !payload.trim()) {
    throw new JobError('docker job payload must be an image: "repository[:tag]", e.g. "ghcr.io/acme/report:1.2"');
  }
  const p = payload.trim();
  const parts = p.split(':');
  if (parts.length > 2 || !parts[0] || parts[1] === '') {
    throw new JobError(`Bad payload: ${p}: Must be in the form repository[:tag]`);
  }
  return { repo: parts[0], tag: parts[1] ?? 'latest' };
}

/** The `docker` connection: `parameters.docker`, else the realm's `docker`, else none (the local daemon). */
async function connect(ctx: HandlerContext): Promise<DockerConnection> {
  const fromJob = ctx.job.parameters.docker !== undefined;
  const id = fromJob ? ctx.job.parameters.docker : ctx.realm.docker;
  const field = fromJob ? 'parameters.docker' : "the realm's docker";
  if (id !== undefined && (typeof id !== 'string' || !id)) throw new JobError(`${field} must be a conn_id string`);
  if (!id) return dockerConnect(undefined);
  const c = await resolveConnection(id, {
    backend: ctx.backend,
    realm: ctx.job.realm,
    config: ctx.config,
    jobId: ctx.job.job_id,
  });
  if (c.connector.type !== 'docker') {
    throw new ConnectionError(`connection "${id}" (${field}) is of type ${c.type}: it must be of type "docker"`);
  }
  return dockerConnect(c);
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number })?.statusCode;
}

/** Pull an image; the daemon's in-stream failures count as failures (upstream then finds no image: 404). */
async function pull(conn: DockerConnection, ref: string, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  // dockerode sends authconfig as the X-Registry-Auth header, never in the URL.
  const opts = { abortSignal: signal, ...(conn.auth ? { authconfig: conn.auth } : {}) };
  const stream = await conn.untimed.pull(ref, opts);
  await new Promise<void>((resolve, reject) => {
    conn.untimed.modem.followProgress(stream, (err: Error | null, output: Array<{ error?: string }>) => {
      const failed = err ?? output.find((o) => o.error);
      if (!failed) return resolve();
      reject(Object.assign(new Error(failed instanceof Error ? failed.message : String(failed.error)), { statusCode: 404 }));
    });
  });
}

async function imagePresent(conn: DockerConnection, ref: string): Promise<boolean> {
  try {
    await conn.client.getImage(ref).inspect();
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw err;
  }
}

function stoppedWhilePulling(repo: string): JobError {
  return new JobError(`Cannot pull docker image ${repo}: the run was stopped while pulling`);
}

/**
 * Make the image available: pulled always (DOCKER_PULL=always, upstream's behaviour) or only when the
 * daemon does not have it (missing). A pull failing with 404 or 500 logs in again once and retries.
 */
async function ensureImage(ctx: HandlerContext, conn: DockerConnection, repo: string, ref: string): Promise<DockerConnection> {
  const policy = ctx.config.str('DOCKER_PULL').toLowerCase();
  if (policy !== 'always' && policy !== 'missing') {
    throw new JobError(`configuration DOCKER_PULL is "${policy}": use always or missing`);
  }
  if (policy === 'missing' && (await imagePresent(conn, ref))) return conn;
  const fail = (c: DockerConnection, err: unknown) =>
    new JobError(`Cannot pull docker image ${repo}: ${redact(dockerErrorText(err), c.secrets)}`);
  try {
    await pull(conn, ref, ctx.signal);
    return conn;
  } catch (err) {
    if (ctx.signal.aborted) throw stoppedWhilePulling(repo);
    const status = statusOf(err);
    if (status !== 404 && status !== 500) throw fail(conn, err);
    ctx.logger.warn(
      { image: ref, status },
      `Docker login ok but pull image failed: Error ${status}: ${ref} - will try to login again`,
    );
  }
  const again = await connect(ctx);
  try {
    await pull(again, ref, ctx.signal);
    return again;
  } catch (err) {
    if (ctx.signal.aborted) throw stoppedWhilePulling(repo);
    throw fail(again, err);
  }
}

/** Proxy settings of the docker client's config file (docker-py's `use_config_proxy`), as env. */
async function configProxyEnv(): Promise<Record<string, string>> {
  const dir = process.env.DOCKER_CONFIG || path.join(os.homedir(), '.docker');
  let cfg: { proxies?: Record<string, Record<string, string>> };
  try {
    cfg = JSON.parse(await fsp.readFile(path.join(dir, 'config.json'), 'utf8')) as typeof cfg;
  } catch {
    return {};
  }
  const p = cfg.proxies?.default ?? {};
  const out: Record<string, string> = {};
  for (const [key, name] of [
    ['httpProxy', 'http_proxy'],
    ['httpsProxy', 'https_proxy'],
    ['ftpProxy', 'ftp_proxy'],
    ['noProxy', 'no_proxy'],
  ] as const) {
    if (typeof p[key] === 'string') out[name] = out[name.toUpperCase()] = p[key];
  }
  return out;
}

/** Worker variables never passed into a container: LAVA_SECRET_KEY (the realm's secret key) and the like. */
const SECRET_NAME = /SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL/i;

/**
 * The container's environment: the worker's LAVA_* variables (but not secrets) < proxy settings < `parameters.env`
 * (rendered) < connections, LAVA_S3_TMP, LAVA_S3_PAYLOAD, LAVA_TMP < Lava's own variables.
 */
async function containerEnv(ctx: HandlerContext, extras: Record<string, string>): Promise<Record<string, string>> {
  const env: Record<string, string> = await configProxyEnv();
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('LAVA_') && !SECRET_NAME.test(k) && v !== undefined) env[k] = v;
  }
  const p = ctx.job.parameters.env;
  if (p !== undefined) {
    if (!p || typeof p !== 'object' || Array.isArray(p)) throw new JobError('parameters.env must be a map of NAME: value');
    const tctx = renderingOn(ctx) ? ctx.templateContext(vars(ctx)) : undefined;
    for (const [k, v] of Object.entries(p as Record<string, unknown>))
      env[k] = tctx ? renderTemplate(String(v), tctx) : String(v);
  }
  return { ...env, ...extras, ...lavaEnv(ctx) };
}

/** `host_config` with upstream's defaults: scratch as working dir, the worker's euid/egid, a hostname. */
function hostConfig(ctx: HandlerContext): Record<string, unknown> {
  const given = ctx.job.parameters.host_config ?? {};
  if (!given || typeof given !== 'object' || Array.isArray(given)) throw new JobError('parameters.host_config must be a map');
  const j = ctx.job;
  return {
    working_dir: ctx.scratch,
    user: String(process.geteuid?.() ?? 0),
    group_add: [String(process.getegid?.() ?? 0)],
    // A hostname is at most 64 bytes (runc refuses longer ones).
    hostname: `lava-${j.realm}-${j.worker}-${j.run_id}`.slice(0, 64),
    ...(given as Record<string, unknown>),
  };
}

/** Copy the container's stdout and stderr to `logs` (both, in order) and stderr alone to `stderrFile`. */
async function followLogs(container: Dockerode.Container, modem: Dockerode['modem'], logsFile: string, stderrFile: string) {
  const logs = fs.openSync(logsFile, 'w');
  const errs = fs.openSync(stderrFile, 'w');
  let closed = false;
  const sink = (fds: number[]) =>
    new Writable({
      write(chunk: Buffer, _enc, done) {
        // Output arriving after the files are closed (the bounded wait below gave up) is dropped.
        if (!closed) for (const fd of fds) fs.writeSync(fd, chunk);
        done();
      },
    });
  const close = () => {
    closed = true;
    fs.closeSync(logs);
    fs.closeSync(errs);
  };
  let stream: NodeJS.ReadableStream;
  try {
    stream = await container.logs({ follow: true, stdout: true, stderr: true });
  } catch (err) {
    close();
    throw err;
  }
  const ended = new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', () => resolve());
  });
  modem.demuxStream(stream, sink([logs]), sink([logs, errs]));
  return {
    /** Wait (a bounded time) for the log stream to end, then close the files. */
    async done(): Promise<void> {
      await Promise.race([ended, new Promise((r) => setTimeout(r, 5000).unref())]);
      (stream as unknown as { destroy?: () => void }).destroy?.();
      close();
    },
  };
}

async function quietly(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch {
    // already gone, or the daemon went away: nothing more to do
  }
}

export const dockerHandler: Handler = {
  type: 'docker',
  parameters: { optional: ['args', 'command', 'connections', 'docker', 'env', 'host_config', 'jinja', 'timeout', 'vars'] },
  async run(ctx) {
    const payload = String(ctx.job.payload ?? '').trim();
    const { repo, tag } = parseImage(ctx.job.payload);
    const ref = `${repo}:${tag}`;
    const timeout = paramTimeout(ctx, 'DOCKER_TIMEOUT');
    const settings = containerSettings(hostConfig(ctx));
    const commandParam = ctx.job.parameters.command;
    if (commandParam !== undefined && typeof commandParam !== 'string') throw new JobError('parameters.command must be a string');
    // No command: the image's own entry point and command; `args` are ignored, as upstream.
    const cmd = commandParam?.trim() ? renderArgs(ctx, [...shlexSplit(commandParam, 'command'), ...paramArgs(ctx)]) : undefined;

    const conns = await jobConnections(ctx);
    let conn: DockerConnection | undefined;
    let container: Dockerode.Container | undefined;
    try {
      const env = await containerEnv(ctx, {
        ...conns.env,
        LAVA_S3_TMP: ctx.s3tmp,
        LAVA_S3_PAYLOAD: joinUri(ctx.realm.s3_payloads, payload),
        LAVA_TMP: ctx.scratch,
      });
      conn = await connect(ctx);
      conn = await ensureImage(ctx, conn, repo, ref);
      const j = ctx.job;
      try {
        container = await conn.client.createContainer({
          ...settings.config,
          name: `lava-${randomUUID()}`,
          Image: ref,
          ...(cmd ? { Cmd: cmd } : {}),
          Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
          Labels: {
            'lava.realm': j.realm,
            'lava.worker': j.worker,
            'lava.owner': j.owner ?? '',
            'lava.job_id': j.job_id,
            'lava.run_id': j.run_id,
          },
          AttachStdin: false,
          AttachStdout: false,
          AttachStderr: false,
          Tty: false,
          OpenStdin: false,
          HostConfig: { ...settings.hostConfig, Binds: [`${ctx.scratch}:${ctx.scratch}:rw`] },
        });
        ctx.signal.throwIfAborted();
        await container.start();
      } catch (err) {
        if (ctx.signal.aborted) throw new JobError(`${payload}: killed because the worker is stopping`);
        throw new JobError(`Cannot run container from image ${repo}: ${redact(dockerErrorText(err), conn.secrets)}`);
      }
      return await waitFor(ctx, conn, container, payload, timeout);
    } finally {
      if (container) await quietly(container.remove({ force: true, v: true }));
      await conns.remove();
    }
  },
};

/** Wait for the container under the timeout and the run's signal; store `logs`; the result upstream returns. */
async function waitFor(
  ctx: HandlerContext,
  conn: DockerConnection,
  created: Dockerode.Container,
  payload: string,
  timeout: number,
): Promise<Record<string, unknown>> {
  // Long calls (wait, followed logs) go through the client without the connection's API timeout.
  const container = conn.untimed.getContainer(created.id);
  const base = path.join(ctx.scratch, `.lava-out-${randomUUID()}`);
  const logsFile = `${base}.logs`;
  const stderrFile = `${base}.stderr`;
  const live = liveOutput(ctx, ctx.dev ? [] : [{ name: 'logs', file: logsFile }]);
  let timedOut = false;
  let aborted = false;
  let waitError: string | undefined;
  let exitStatus: number;
  const kill = () => quietly(container.kill());
  const timer = setTimeout(() => {
    timedOut = true;
    void kill();
  }, timeout * 1000);
  const onAbort = () => {
    aborted = true;
    void kill();
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  if (ctx.signal.aborted) onAbort();
  let published: ReadonlySet<string>;
  try {
    let logs: Awaited<ReturnType<typeof followLogs>>;
    try {
      logs = await followLogs(container, conn.untimed.modem, logsFile, stderrFile);
    } catch (err) {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
      throw new JobError(`${payload}: cannot read the container's output: ${redact(dockerErrorText(err), conn.secrets)}`);
    }
    try {
      const r = (await container.wait()) as { StatusCode?: number };
      exitStatus = r.StatusCode ?? 0;
    } catch (err) {
      exitStatus = 1;
      waitError = redact(dockerErrorText(err), conn.secrets);
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
      await logs.done();
    }
    if (timedOut) exitStatus = TIMEOUT_EXIT_STATUS;
    // Upstream stops a failed container; one that timed out or was stopped is killed above.
    if (exitStatus !== 0) await kill();
  } finally {
    published = await live.stop();
  }
  const result: Record<string, unknown> = { exit_status: exitStatus };
  const size = (await fsp.stat(logsFile).catch(() => undefined))?.size ?? 0;
  if (ctx.dev) {
    if (size > 0) process.stdout.write(await fsp.readFile(logsFile));
  } else if (size > 0 || published.has('logs')) {
    result.output = await ctx.saveOutput('logs', { file: logsFile });
  }
  if (exitStatus === 0) return result;
  const error = waitError ?? (await excerpt(stderrFile, ctx.config.int('STDERR_SIZE')));
  result.error = timedOut ? `Timed out after ${timeout} seconds` : error;
  const message = aborted
    ? `${payload}: killed because the worker is stopping`
    : timedOut
      ? `${payload}: Timed out after ${timeout} seconds`
      : `${payload}: exit status ${exitStatus}${error ? `: ${error.split('\n')[0]}` : ''}`;
  throw new JobError(message, result);
}
