/** cmd: run a command line (lexed like a shell, but no shell) in the run's scratch directory. */
import { JobError } from '../../core/errors.js';
import { shlexSplit } from '../../core/shlex.js';
import { jobEnv, paramArgs, renderArgs, runOne, runSequence, paramTimeout } from '../process-job.js';
import type { Handler } from '../../run/handler.js';

export const cmdHandler: Handler = {
  type: 'cmd',
  parameters: { optional: ['args', 'env', 'jinja', 'timeout', 'vars'] },
  async run(ctx) {
    const payload = ctx.job.payload;
    if (typeof payload !== 'string' || !payload.trim()) {
      throw new JobError('cmd job payload must be a non-empty command string, e.g. "echo hello"');
    }
    const [command, ...args] = renderArgs(ctx, [...shlexSplit(payload, 'payload'), ...paramArgs(ctx)]);
    const timeout = paramTimeout(ctx, 'CMD_TIMEOUT');
    const env = await jobEnv(ctx);
    return runSequence(ctx, [
      () => runOne(ctx, { payload, command: command as string, args, cwd: ctx.scratch, env, timeout, outputBase: '' }),
    ]);
  },
};
