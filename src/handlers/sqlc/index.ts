/**
 * sqlc: run SQL files from the payload area through the database's own command line client (psql,
 * mysql/mariadb, sqlite3; `lava sql` for mssql/oracle), each rendered file on stdin.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../../core/errors.js';
import { lavaCommand, makeCliDir } from '../../connections/cli-dir.js';
import { resolveConnection } from '../../connections/resolve.js';
import { renderTemplate } from '../../template/index.js';
import { downloadJobPayload, payloadItems } from '../../run/payload.js';
import { paramArgs, renderArgs, renderingOn, runOne, runSequence, vars, type FileRun, paramTimeout } from '../process-job.js';
import { connIdParam } from '../sql/common.js';
import type { Handler } from '../../run/handler.js';

/** `sh -c` feeding a file to a program's stdin (runProcess gives children /dev/null). */
export const STDIN_FROM_FILE = 'f=$1; shift; exec "$@" < "$f"';

export const sqlcHandler: Handler = {
  type: 'sqlc',
  parameters: { required: ['conn_id'], optional: ['args', 'jinja', 'timeout', 'vars'] },
  async run(ctx) {
    const p = ctx.job.parameters;
    const connId = connIdParam(p);
    const timeout = paramTimeout(ctx, 'SQLC_TIMEOUT');
    const args = renderArgs(ctx, paramArgs(ctx));
    const items = payloadItems(ctx.job.payload, 'sqlc');
    const downloaded = await downloadJobPayload(ctx, items, 'SQLC_MAX_PAYLOAD_SIZE');
    const c = await resolveConnection(connId, {
      backend: ctx.backend,
      realm: ctx.job.realm,
      config: ctx.config,
      jobId: ctx.job.job_id,
    });
    const dir = await makeCliDir(ctx.scratch);
    try {
      const script = await c.connector.writeCli(c, dir, { lavaCommand: lavaCommand() });
      const env: NodeJS.ProcessEnv = { ...process.env, LAVA_REALM: ctx.job.realm, PGAPPNAME: c.applicationName };
      const tctx = renderingOn(ctx) ? ctx.templateContext(vars(ctx)) : undefined;
      const renderedDir = await fsp.mkdtemp(path.join(ctx.scratch, 'sqlc-'));
      return await runSequence(
        ctx,
        downloaded
          .flatMap((d) => d.files)
          .map((file, n) => async () => {
            const name = path.basename(file);
            let input = file;
            if (tctx) {
              try {
                const text = renderTemplate(await fsp.readFile(file, 'utf8'), tctx, { autoescape: /\.(html?|xml)$/i.test(name) });
                input = path.join(renderedDir, String(n), name);
                await fsp.mkdir(path.dirname(input));
                await fsp.writeFile(input, text);
              } catch (err) {
                const msg = errorMessage(err);
                const run: FileRun = { payload: name, exit_status: 1 };
                return { run, error: msg, message: `${name}: ${msg}` };
              }
            }
            return runOne(ctx, {
              payload: name,
              command: '/bin/sh',
              args: ['-c', STDIN_FROM_FILE, 'sqlc', input, script, ...args],
              cwd: ctx.scratch,
              env,
              timeout,
              outputBase: `${name}.`,
            });
          }),
      );
    } finally {
      await fsp.rm(dir.path, { recursive: true, force: true });
    }
  },
};
