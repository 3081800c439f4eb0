/** exe: download executable(s) from the payload area and run each with the same arguments. */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { joinUri } from '../../backends/blob/index.js';
import { lavaPythonPath } from '../../connections/python.js';
import { JobError } from '../../core/errors.js';
import { shlexSplit } from '../../core/shlex.js';
import { downloadJobPayload } from '../../run/payload.js';
import { jobEnv, paramArgs, renderArgs, runOne, runSequence, paramTimeout, jobConnections } from '../process-job.js';
import type { Handler } from '../../run/handler.js';

export const exeHandler: Handler = {
  type: 'exe',
  parameters: { optional: ['args', 'connections', 'env', 'jinja', 'timeout', 'vars'] },
  async run(ctx) {
    const payload = ctx.job.payload;
    if (typeof payload !== 'string' || !payload.trim()) {
      throw new JobError('exe job payload must be one string: "path/in/payloads [args…]" (a list is not allowed)');
    }
    const [item, ...rest] = shlexSplit(payload, 'payload');
    const args = renderArgs(ctx, [...rest, ...paramArgs(ctx)]);
    const timeout = paramTimeout(ctx, 'EXE_TIMEOUT');
    const [downloaded] = await downloadJobPayload(ctx, [item as string], 'EXE_MAX_PAYLOAD_SIZE');
    const conns = await jobConnections(ctx);
    try {
      const env = await jobEnv(ctx, { ...conns.env, LAVA_S3_PAYLOAD: joinUri(ctx.realm.s3_payloads, item as string) });
      // The `lava` Python package, after the job's own PYTHONPATH entries (docs/python.md).
      env.PYTHONPATH = lavaPythonPath(env.PYTHONPATH);
      return await runSequence(
        ctx,
        (downloaded?.files ?? []).map((file) => async () => {
          // Owner only: the scratch dir is private, and nothing else needs to run it.
          await fsp.chmod(file, 0o700);
          const name = path.basename(file);
          return runOne(ctx, { payload: name, command: file, args, cwd: ctx.scratch, env, timeout, outputBase: `${name}.` });
        }),
      );
    } finally {
      await conns.remove();
    }
  },
};
