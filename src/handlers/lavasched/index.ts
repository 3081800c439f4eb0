/**
 * lavasched: build the crontab block that dispatches the scheduled jobs of one or more
 * dispatchers, and install it (with `crontab`, or into CRONTAB_FILE).
 */
import { execFile } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { JobError, errorMessage } from '../../core/errors.js';
import type { JobSpec } from '../../core/schemas.js';
import { shlexSplit } from '../../core/shlex.js';
import { localZone } from '../../core/zones.js';
import { isActive, scheduleEntries, scheduleProblems } from '../../dispatch/schedule.js';
import type { Handler, HandlerContext } from '../../run/handler.js';
import { cronLine, replaceBlock, unifiedDiff } from './crontab.js';

const run = promisify(execFile);

/** How cron lines call `lava dispatch`: DISPATCHER, else this installation's node and bin/lava.js. */
function dispatcherCommand(ctx: HandlerContext): string[] {
  const configured = ctx.config.str('DISPATCHER');
  if (configured) return shlexSplit(configured, 'DISPATCHER');
  const bin = fileURLToPath(new URL('../../../bin/lava.js', import.meta.url));
  return [process.execPath, bin];
}

async function readCrontab(file: string): Promise<string> {
  if (file) {
    try {
      return await fsp.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw err;
    }
  }
  try {
    return (await run('crontab', ['-l'])).stdout;
  } catch (err) {
    const e = err as { stderr?: string; code?: string | number };
    if (e.code === 'ENOENT') throw new JobError('crontab is not installed: install cron, or set CRONTAB_FILE');
    if (/no crontab/i.test(e.stderr ?? '')) return '';
    throw new JobError(`crontab -l failed: ${e.stderr ?? errorMessage(err)}`);
  }
}

export const lavaschedHandler: Handler = {
  type: 'lavasched',
  parameters: { required: ['dispatcher'], optional: ['args', 'env'] },
  async run(ctx) {
    const p = ctx.job.parameters;
    const names = (Array.isArray(p.dispatcher) ? p.dispatcher : [p.dispatcher]).map(String).sort();
    if (!names.length || names.some((n) => !n))
      throw new JobError('parameters.dispatcher must name a dispatcher (or a list of them)');
    const args = (p.args ?? []) as unknown[];
    if (!Array.isArray(args)) throw new JobError('parameters.args must be a list of extra `lava dispatch` arguments');
    const env = (p.env ?? {}) as Record<string, unknown>;
    if (typeof env !== 'object' || Array.isArray(env)) throw new JobError('parameters.env must be a map of NAME: value');

    const allEnv: Record<string, string> = { ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])) };
    allEnv.LAVA_REALM = ctx.job.realm;
    allEnv.LAVA_BACKEND ??= ctx.backend.url;
    const tz = allEnv.CRON_TZ ?? allEnv.TZ ?? localZone();
    const block = Object.keys(allEnv)
      .sort()
      .map((k) => `${k}=${allEnv[k]}`);
    const command = [...dispatcherCommand(ctx), 'dispatch'];
    const now = new Date();
    for (const name of names) {
      const jobs = (await ctx.backend.config.list(ctx.job.realm, 'jobs', { dispatcher: name })) as JobSpec[];
      for (const job of jobs) {
        const problems = scheduleProblems(job.schedule);
        if (problems.length) throw new JobError(`job ${job.job_id} has a bad schedule: ${problems.join('; ')}`);
        for (const entry of scheduleEntries(job.schedule)) {
          if (!isActive(entry, now, tz)) continue;
          block.push(cronLine(entry.crontab, command, ['--worker', job.worker, ...args.map(String), job.job_id]));
        }
      }
    }

    const file = ctx.config.str('CRONTAB_FILE');
    const old = await readCrontab(file);
    const next = replaceBlock(old, block);
    if (next === old) return { exit_status: 0 };
    const result: Record<string, unknown> = { exit_status: 0 };
    for (const [name, text] of [
      ['crontab.old', old],
      ['crontab.new', next],
    ] as const) {
      if (!text) continue;
      result[name] = await ctx.saveOutput(name, { data: text });
    }
    result['crontab.diff'] = unifiedDiff(old, next);
    if (file) {
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await fsp.writeFile(`${file}.tmp`, next);
      await fsp.rename(`${file}.tmp`, file);
    } else {
      const tmp = path.join(ctx.scratch, 'crontab.new');
      await fsp.writeFile(tmp, next);
      try {
        await run('crontab', [tmp]);
      } catch (err) {
        throw new JobError(`crontab refused the new table: ${(err as { stderr?: string }).stderr ?? errorMessage(err)}`, result);
      }
    }
    return result;
  },
};
