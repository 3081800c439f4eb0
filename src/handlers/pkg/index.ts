/** pkg: download package(s), unpack each into its own directory and run a command from it. */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { joinUri } from '../../backends/blob/index.js';
import { lavaPythonPath } from '../../connections/python.js';
import { JobError } from '../../core/errors.js';
import { confine } from '../../core/paths.js';
import { shlexSplit } from '../../core/shlex.js';
import { downloadJobPayload, payloadItems } from '../../run/payload.js';
import {
  jobEnv,
  paramArgs,
  renderArgs,
  runOne,
  runSequence,
  type FileRun,
  paramTimeout,
  jobConnections,
} from '../process-job.js';
import type { Handler } from '../../run/handler.js';
import { unpack } from './unpack.js';

export const pkgHandler: Handler = {
  type: 'pkg',
  parameters: { optional: ['args', 'command', 'connections', 'main', 'env', 'jinja', 'timeout', 'vars'] },
  async run(ctx) {
    const p = ctx.job.parameters;
    if (p.command !== undefined && p.main !== undefined) {
      throw new JobError('pkg job has both parameters.command and parameters.main: keep only command (main is deprecated)');
    }
    const commandLine = p.command ?? p.main;
    if (typeof commandLine !== 'string' || !commandLine.trim()) {
      throw new JobError(
        'pkg job needs parameters.command: the entry point inside the package and its arguments, e.g. "bin/run.sh --day today"',
      );
    }
    const [entry, ...rest] = shlexSplit(commandLine, 'parameters.command');
    const args = renderArgs(ctx, [...rest, ...paramArgs(ctx)]);
    const timeout = paramTimeout(ctx, 'PKG_TIMEOUT');
    const unpackTimeout = ctx.config.duration('PKG_UNPACK_TIMEOUT');
    const items = payloadItems(ctx.job.payload, 'pkg');
    const downloaded = await downloadJobPayload(ctx, items, 'PKG_MAX_PAYLOAD_SIZE');
    const conns = await jobConnections(ctx);
    try {
      const env = await jobEnv(ctx, { ...conns.env, LAVA_S3_PAYLOAD: joinUri(ctx.realm.s3_payloads, items[0] as string) });
      // The `lava` Python package, after the job's own PYTHONPATH entries (docs/python.md).
      env.PYTHONPATH = lavaPythonPath(env.PYTHONPATH);
      const files = downloaded.flatMap((d) => d.files);
      return await runSequence(
        ctx,
        files.map((file, n) => async () => {
          const name = path.basename(file);
          const dir = await fsp.mkdtemp(path.join(ctx.scratch, `${n}.`));
          try {
            const failed = (message: string, error: string): { run: FileRun; error: string; message: string } => ({
              run: { payload: name, exit_status: 1 },
              error,
              message: `${name}: ${message}`,
            });
            try {
              await withTimeout(
                unpack(file, dir, ctx.signal),
                unpackTimeout,
                `unpacking ${name} took over ${unpackTimeout}s (PKG_UNPACK_TIMEOUT)`,
              );
            } catch (err) {
              const msg = err instanceof Error ? err.message.replace(/^\[[A-Z_]+\] /, '') : String(err);
              return failed(msg, msg);
            }
            let program: string;
            try {
              program = confine(dir, entry as string, 'command');
            } catch {
              return failed(`command ${entry} is outside the package`, 'bad command');
            }
            try {
              await fsp.chmod(program, 0o700);
            } catch {
              return failed(`command ${entry} is not in the package`, `no such file in package: ${entry}`);
            }
            return await runOne(ctx, { payload: name, command: program, args, cwd: dir, env, timeout, outputBase: `${name}.` });
          } finally {
            await fsp.rm(dir, { recursive: true, force: true });
          }
        }),
      );
    } finally {
      await conns.remove();
    }
  },
};

async function withTimeout<T>(p: Promise<T>, seconds: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new JobError(message, { exit_status: 1 })), seconds * 1000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
