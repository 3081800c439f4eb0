/**
 * sqlv: render SQL files from the payload area and run them all in one `lava sql` process
 * (`node <repo>/bin/lava.js sql …`); result sets go to `<s3tmp>/stdout`, its stderr to
 * `<s3tmp>/stderr`.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { JobError, errorMessage } from '../../core/errors.js';
import { lavaCommand } from '../../connections/cli-dir.js';
import { renderTemplate } from '../../template/index.js';
import { downloadJobPayload, payloadItems } from '../../run/payload.js';
import { liveOutput } from '../../run/live-output.js';
import { excerpt, runProcess, type ProcessResult } from '../../run/process.js';
import { failedMessage, renderingOn, timedOutMessage, vars, type FileRun, lavaEnv, paramTimeout } from '../process-job.js';
import { batchSizeParam, boolParam, connIdParam, CSV_PARAMS, csvParams } from '../sql/common.js';
import type { Handler, HandlerContext } from '../../run/handler.js';

const FORMATS = ['csv', 'jsonl'];

/** The `lava sql` arguments for the job's parameters (all but the files and the output), and its timeout. */
function lavaSqlArgs(ctx: HandlerContext): { args: string[]; timeout: number } {
  const p = ctx.job.parameters;
  const connId = connIdParam(p);
  const format = p.format === undefined ? 'csv' : String(p.format).toLowerCase();
  if (!FORMATS.includes(format)) {
    throw new JobError(`Bad format "${String(p.format)}": use ${FORMATS.join(' or ')} (html and parquet are not supported yet)`);
  }
  const timeout = paramTimeout(ctx, 'SQLV_TIMEOUT');
  const args = ['sql', '--conn-id', connId, '--tag', `${ctx.job.job_id}:${ctx.job.run_id}`];
  args.push('--batch-size', String(batchSizeParam(p, ctx.config)), '--format', format);
  if (p.level !== undefined) args.push('--level', String(p.level));
  if (boolParam(p, 'header')) args.push('--header');
  if (boolParam(p, 'raw')) args.push('--raw');
  if (boolParam(p, 'transaction')) args.push('--transaction');
  if (format === 'csv') {
    const f = csvParams(p, ctx.config);
    args.push('--delimiter', f.delimiter, '--quoting', f.quoting, f.doublequote ? '--doublequote' : '--no-doublequote');
    if (p.dialect !== undefined || ctx.config.optStr('SQL_DIALECT')) {
      args.push('--dialect', String(p.dialect ?? ctx.config.optStr('SQL_DIALECT')));
    }
    if (f.quotechar !== null) args.push('--quotechar', f.quotechar);
    if (f.escapechar !== null) args.push('--escapechar', f.escapechar);
  }
  return { args, timeout };
}

export const sqlvHandler: Handler = {
  type: 'sqlv',
  parameters: {
    required: ['conn_id'],
    optional: ['batch_size', ...CSV_PARAMS, 'format', 'header', 'jinja', 'level', 'raw', 'timeout', 'transaction', 'vars'],
  },
  async run(ctx) {
    const { args, timeout } = lavaSqlArgs(ctx);

    const items = payloadItems(ctx.job.payload, 'sqlv');
    const downloaded = await downloadJobPayload(ctx, items, 'SQL_MAX_PAYLOAD_SIZE');
    const work = await fsp.mkdtemp(path.join(ctx.scratch, 'sqlv-'));
    const tctx = renderingOn(ctx) ? ctx.templateContext(vars(ctx)) : undefined;
    const files: string[] = [];
    const names: string[] = [];
    for (const [n, file] of downloaded.flatMap((d) => d.files).entries()) {
      const name = path.basename(file);
      names.push(name);
      if (!tctx) {
        files.push(file);
        continue;
      }
      try {
        const text = renderTemplate(await fsp.readFile(file, 'utf8'), tctx, { autoescape: /\.(html?|xml)$/i.test(name) });
        // One directory per file keeps its name, which `lava sql` uses in messages.
        const out = path.join(work, String(n), name);
        await fsp.mkdir(path.dirname(out));
        await fsp.writeFile(out, text);
        files.push(out);
      } catch (err) {
        const msg = errorMessage(err);
        throw new JobError(`${name}: ${msg}`, { exit_status: 1, output: [], error: msg });
      }
    }

    const data = path.join(work, 'stdout');
    const stderrFile = path.join(work, 'stderr');
    const [node, ...pre] = lavaCommand();
    const live = liveOutput(ctx, [
      { name: 'stdout', file: data },
      { name: 'stderr', file: stderrFile },
    ]);
    let r: ProcessResult;
    let publishedLive: ReadonlySet<string>;
    try {
      r = await runProcess({
        command: node as string,
        args: [...pre, '--realm', ctx.job.realm, ...args, '--output', data, ...files],
        cwd: ctx.scratch,
        env: { ...process.env, ...lavaEnv(ctx) },
        stdoutFile: path.join(work, 'process.stdout'),
        stderrFile,
        timeout,
        tee: ctx.dev,
        signal: ctx.signal,
        registry: ctx.processes,
      });
    } finally {
      // Before the final upload: no live publish may land after it.
      publishedLive = await live.stop();
    }
    const run: FileRun = { payload: names.join(' '), exit_status: r.exitStatus };
    for (const [stream, file] of [
      ['stdout', data],
      ['stderr', stderrFile],
    ] as const) {
      const size = await fsp.stat(file).then(
        (s) => s.size,
        () => 0,
      );
      // An empty file is not stored, unless a live publish stored an earlier, longer one.
      if ((size === 0 && !publishedLive.has(stream)) || (stream === 'stderr' && ctx.dev)) continue;
      run[stream] = await ctx.saveOutput(stream, { file });
    }
    if (r.exitStatus === 0) return { exit_status: 0, output: [run] };
    const error = r.spawnError ?? (await excerpt(stderrFile, ctx.config.int('STDERR_SIZE')));
    const message = r.timedOut
      ? timedOutMessage(timeout)
      : r.aborted
        ? 'killed because the worker is stopping'
        : failedMessage(r.exitStatus);
    throw new JobError(message, { exit_status: r.exitStatus, output: [run], error });
  },
};
