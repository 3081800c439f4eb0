/**
 * What smb_get and smb_put share: parameters, the local or stored end of the copy, and one
 * smbclient run with upstream's outputs and failures.
 *
 * The file moves through a private staging directory in the run's scratch dir: smbclient runs there
 * and only ever names the local file `data`, so no local path is quoted into its commands. `file`
 * is an `s3://` URI, a `file://` URI inside the realm's temp or payload area, else a local path
 * relative to `basedir` (default the scratch dir) that must stay inside the scratch dir.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { blobStoreFor } from '../../backends/blob/index.js';
import {
  findSmbclient,
  shareNameProblem,
  smbclientArgs,
  smbclientEnv,
  SMBCLIENT_MISSING,
  smbPath,
  smbWord,
  writeAuthFile,
} from '../../connections/connectors/smb.js';
import { ConnectionError, redact } from '../../connections/errors.js';
import { resolveConnection } from '../../connections/resolve.js';
import { JobError, errorMessage } from '../../core/errors.js';
import { parseBool } from '../../core/units.js';
import { renderTemplate } from '../../template/index.js';
import type { HandlerContext, JobResult } from '../../run/handler.js';
import { excerpt, runProcess } from '../../run/process.js';
import { failedMessage, paramTimeout, renderingOn, timedOutMessage, vars } from '../process-job.js';

export const SMB_REQUIRED = ['conn_id', 'share_name', 'path', 'file'] as const;
export const SMB_OPTIONAL = ['basedir', 'jinja', 'timeout', 'vars'] as const;

const LOCAL_NAME = 'data';
const SMB_COMMAND = 'smbclient';

interface Parameters {
  connId: string;
  share: string;
  /** As rendered (POSIX style), for the result. */
  remotePath: string;
  /** As smbclient wants it. */
  remote: string;
  /** As rendered; for a local file, the absolute path. */
  file: string;
  isUri: boolean;
  timeout: number;
}

function str(ctx: HandlerContext, name: string): string {
  const v = ctx.job.parameters[name];
  if (typeof v !== 'string' || !v) throw new JobError(`parameters.${name} must be a non-empty string`);
  return v;
}

function isUri(s: string): boolean {
  return /^[a-z][\w+.-]*:\/\//i.test(s);
}

function readParameters(ctx: HandlerContext): Parameters {
  const timeout = paramTimeout(ctx, 'SMB_TIMEOUT');
  const connId = str(ctx, 'conn_id');
  const share = str(ctx, 'share_name');
  const shareProblem = shareNameProblem(share);
  if (shareProblem) throw new JobError(`parameters.share_name ${JSON.stringify(share.slice(0, 200))} ${shareProblem}`);
  let remotePath = str(ctx, 'path');
  let file = str(ctx, 'file');
  if (renderingOn(ctx)) {
    const tctx = ctx.templateContext(vars(ctx));
    remotePath = renderTemplate(remotePath, tctx);
    file = renderTemplate(file, tctx);
  }
  const remote = smbPath(remotePath, 'parameters.path');
  const uri = isUri(file);
  if (uri) {
    if (!/^(s3|file):\/\//.test(file)) {
      throw new JobError(`parameters.file ${JSON.stringify(file)}: use an s3:// or file:// URI, or a local path`);
    }
    if (file.startsWith('file://')) fileUriInArea(ctx, file);
  } else {
    const b = ctx.job.parameters.basedir;
    if (b !== undefined && (typeof b !== 'string' || !b)) throw new JobError('parameters.basedir must be a non-empty string');
    const basedir = inScratch(ctx, b ?? '.', 'parameters.basedir', ctx.scratch);
    file = inScratch(ctx, file, 'parameters.file', basedir);
  }
  return { connId, share, remotePath, remote, file, isUri: uri, timeout };
}

/**
 * A `file://` URI must be inside the realm's payload or temp area (when those are `file://`): the
 * worker host's other files are not for jobs to read or write.
 */
function fileUriInArea(ctx: HandlerContext, uri: string): void {
  let full: string;
  try {
    full = fileURLToPath(uri);
  } catch (err) {
    throw new JobError(`parameters.file ${JSON.stringify(uri)}: ${errorMessage(err)}`);
  }
  const areas = [ctx.realm.s3_temp, ctx.realm.s3_payloads].filter((a): a is string => !!a && a.startsWith('file://'));
  for (const area of areas) {
    const rel = path.relative(fileURLToPath(area), full);
    if (rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel)) return;
  }
  throw new JobError(
    `parameters.file ${JSON.stringify(uri)} is outside the realm's areas (${areas.join(', ') || 'none is a file:// URI'}): use a URI inside s3_temp or s3_payloads, an s3:// URI, or a local path`,
  );
}

/** `p` resolved against `base`, which must be the run's scratch dir or inside it. */
function inScratch(ctx: HandlerContext, p: string, field: string, base: string): string {
  const root = path.resolve(ctx.scratch);
  const full = path.resolve(base, p);
  const rel = path.relative(root, full);
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
    throw new JobError(
      `${field} ${JSON.stringify(p)} is ${full}, outside the run's scratch directory ${root}: local files must be inside it (or use an s3:// or file:// URI)`,
    );
  }
  return full;
}

/** smbclient's `-c` commands making each directory above `remote` (a collision is not an error). */
function mkdirCommands(remote: string): string[] {
  const parts = remote.split('\\').slice(0, -1);
  return parts.map((_, i) => `mkdir ${smbWord(parts.slice(0, i + 1).join('\\'))}`);
}

/** Run one smb_get / smb_put. */
export async function smbTransfer(ctx: HandlerContext, op: 'get' | 'put'): Promise<JobResult> {
  const p = ctx.job.parameters;
  const a = readParameters(ctx);
  const c = await resolveConnection(a.connId, {
    backend: ctx.backend,
    realm: ctx.job.realm,
    config: ctx.config,
    jobId: ctx.job.job_id,
  });
  if (c.connector.type !== 'smb') {
    throw new ConnectionError(`connection "${a.connId}" (parameters.conn_id) is of type ${c.type}: it must be of type "smb"`);
  }
  const bin = findSmbclient();
  if (!bin) throw new JobError(SMBCLIENT_MISSING);
  const createDirs = op === 'put' && p.create_dirs !== undefined && parseBool(p.create_dirs, 'parameters.create_dirs');
  const kmsKey = op === 'get' && p.kms_key_id !== undefined ? String(p.kms_key_id) : undefined;
  const smbSide = `${a.share}:${a.remotePath}`;

  const stage = await fsp.mkdtemp(path.join(ctx.scratch, '.smb-'));
  try {
    const local = path.join(stage, LOCAL_NAME);
    if (op === 'put') await fetchSource(a, local);
    const commands =
      op === 'get'
        ? [`get ${smbWord(a.remote)} ${smbWord(LOCAL_NAME)}`]
        : [...(createDirs ? mkdirCommands(a.remote) : []), `put ${smbWord(LOCAL_NAME)} ${smbWord(a.remote)}`];
    const stdoutFile = path.join(stage, 'stdout');
    const stderrFile = path.join(stage, 'stderr');
    const auth = await writeAuthFile(c, stage);
    let r;
    try {
      r = await runProcess({
        command: bin,
        args: [...smbclientArgs(c, a.share, auth.file), '-c', commands.join('; ')],
        cwd: stage,
        env: smbclientEnv(stage),
        stdoutFile,
        stderrFile,
        timeout: a.timeout,
        tee: ctx.dev,
        signal: ctx.signal,
        registry: ctx.processes,
      });
    } finally {
      await fsp.rm(auth.dir, { recursive: true, force: true });
    }
    const run: Record<string, unknown> = { exit_status: r.exitStatus };
    if (!ctx.dev) {
      for (const stream of ['stdout', 'stderr'] as const) {
        const file = path.join(stage, stream);
        if ((await fsp.stat(file)).size > 0) run[stream] = await ctx.saveOutput(stream, { file });
      }
    }
    if (r.exitStatus !== 0) {
      // smbclient reports some failures (a refused logon) on stdout.
      const size = ctx.config.int('STDERR_SIZE');
      const raw = r.spawnError ?? (await excerpt(stderrFile, size)) ?? (await excerpt(stdoutFile, size));
      const error = raw === null ? null : redact(raw, Object.values(c.secrets));
      const message = r.timedOut
        ? timedOutMessage(a.timeout)
        : r.aborted
          ? 'killed because the worker is stopping'
          : r.spawnError
            ? `${SMB_COMMAND}: ${r.spawnError}`
            : failedMessage(r.exitStatus);
      throw new JobError(message, { exit_status: r.exitStatus, output: [run], error });
    }
    if (op === 'get') await storeResult(ctx, a, local, kmsKey);
    return op === 'get'
      ? { exit_status: 0, source: smbSide, destination: a.file }
      : { exit_status: 0, source: a.file, destination: smbSide };
  } finally {
    await fsp.rm(stage, { recursive: true, force: true });
  }
}

/** smb_put: the source file copied into the staging directory. */
async function fetchSource(a: Parameters, local: string): Promise<void> {
  try {
    if (a.isUri) {
      const store = blobStoreFor(a.file);
      if (!(await store.head(a.file))) throw new Error('no such object');
      await store.download(a.file, local);
    } else {
      await fsp.copyFile(a.file, local);
    }
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(err);
    throw new JobError(`Cannot read ${a.file} (parameters.file): ${why}`, { exit_status: 1, output: [], error: why });
  }
}

/** smb_get: the fetched file stored at `file` (S3 with kms_key_id, else the realm's s3_key). */
async function storeResult(ctx: HandlerContext, a: Parameters, local: string, kmsKey: string | undefined): Promise<void> {
  try {
    if (a.isUri) {
      const key = kmsKey ?? ctx.realm.s3_key;
      await blobStoreFor(a.file, key ? { s3Key: key } : {}).upload(local, a.file);
    } else {
      await fsp.mkdir(path.dirname(a.file), { recursive: true });
      await fsp.copyFile(local, a.file);
    }
  } catch (err) {
    const why = errorMessage(err);
    throw new JobError(`Cannot store ${a.file} (parameters.file): ${why}`, { exit_status: 1, output: [], error: why });
  }
}
