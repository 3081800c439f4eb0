/** What sql and sqli share: parameters, CSV options, running scripts and uploading result sets. */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../core/config.js';
import { JobError, LavaError, errorMessage } from '../../core/errors.js';
import { parseBool } from '../../core/units.js';
import { openResolved } from '../../connections/api.js';
import { csvFormat, type CsvFormat } from '../../connections/csv.js';
import { resolveConnection } from '../../connections/resolve.js';
import { CsvWriter, runScript, StatementError } from '../../connections/sql-runner.js';
import type { DbClient, ResolvedConnection } from '../../connections/types.js';
import { renderTemplate } from '../../template/index.js';
import { renderingOn, vars } from '../process-job.js';
import type { HandlerContext, JobResult } from '../../run/handler.js';

export const CSV_PARAMS = ['delimiter', 'dialect', 'doublequote', 'escapechar', 'quotechar', 'quoting'] as const;

export const SQL_PARAMETERS = {
  required: ['conn_id'],
  optional: ['batch_size', ...CSV_PARAMS, 'header', 'jinja', 'output', 'raw', 'transaction', 'vars'],
} as const;

function bool(v: unknown, name: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  try {
    return parseBool(v, `parameters.${name}`);
  } catch (err) {
    throw new JobError(errorMessage(err));
  }
}

export function boolParam(p: Record<string, unknown>, name: string, dflt = false): boolean {
  return bool(p[name], name, dflt);
}

export function connIdParam(p: Record<string, unknown>, name = 'conn_id'): string {
  const v = p[name];
  if (typeof v !== 'string' || !v) throw new JobError(`parameters.${name} must be a connection id (a non-empty string)`);
  return v;
}

export function batchSizeParam(p: Record<string, unknown>, config: Config): number {
  const v = p.batch_size ?? config.int('SQL_BATCH_SIZE');
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isInteger(n) || n < 1) throw new JobError(`Bad batch_size: ${JSON.stringify(v)}: must be an integer >= 1`);
  return n;
}

/** CSV format from the job's parameters over the SQL_* configuration defaults. */
export function csvParams(p: Record<string, unknown>, config: Config): CsvFormat {
  const str = (name: string, key: 'SQL_DELIMITER' | 'SQL_ESCAPECHAR' | 'SQL_QUOTECHAR' | 'SQL_QUOTING' | 'SQL_DIALECT') => {
    const v = p[name];
    if (v === undefined) return config.optStr(key) ?? null;
    if (v === null) return null;
    if (typeof v !== 'string') throw new JobError(`parameters.${name} must be a string`);
    return v;
  };
  try {
    return csvFormat({
      dialect: str('dialect', 'SQL_DIALECT') ?? 'excel',
      delimiter: str('delimiter', 'SQL_DELIMITER') ?? '|',
      escapechar: str('escapechar', 'SQL_ESCAPECHAR'),
      quotechar: str('quotechar', 'SQL_QUOTECHAR'),
      quoting: str('quoting', 'SQL_QUOTING') ?? 'minimal',
      doublequote: bool(p.doublequote, 'doublequote', config.bool('SQL_DOUBLEQUOTE')),
    });
  } catch (err) {
    if (err instanceof JobError) throw err;
    throw new JobError(errorMessage(err));
  }
}

/** Resolve and open the job's connection. */
export async function openJobConnection(
  ctx: HandlerContext,
  connId: string,
): Promise<{ c: ResolvedConnection; client: DbClient }> {
  const c = await resolveConnection(connId, {
    backend: ctx.backend,
    realm: ctx.job.realm,
    config: ctx.config,
    jobId: ctx.job.job_id,
  });
  return { c, client: await openResolved(c) };
}

/**
 * Run scripts (`[name, text]`) on the job's connection: result sets go to
 * `<scratch>/[<output>/]<name>.<n><SQL_OUTPUT_SUFFIX>` and `<s3tmp>/[<output>/]…`.
 */
export async function runSqlJob(ctx: HandlerContext, scripts: readonly (readonly [string, string])[]): Promise<JobResult> {
  const p = ctx.job.parameters;
  const connId = connIdParam(p);
  const output = p.output;
  if (output !== undefined && (typeof output !== 'string' || !/^\w+$/.test(output))) {
    throw new JobError('Bad output parameter: Must be alphanumeric (letters, digits, _)');
  }
  const subdir = typeof output === 'string' ? [output] : [];
  const format = csvParams(p, ctx.config);
  const header = boolParam(p, 'header');
  const raw = boolParam(p, 'raw');
  const transaction = boolParam(p, 'transaction');
  const batchSize = batchSizeParam(p, ctx.config);
  const suffix = ctx.config.str('SQL_OUTPUT_SUFFIX');
  const tctx = renderingOn(ctx) ? ctx.templateContext(vars(ctx)) : undefined;
  const render = tctx ? (sql: string) => renderTemplate(sql, tctx) : undefined;

  const { client } = await openJobConnection(ctx, connId);
  const result: Record<string, string[]> = {};
  const outDir = path.join(ctx.scratch, ...subdir);
  await fsp.mkdir(outDir, { recursive: true });
  let open: { fd: number; file: string; rel: string } | undefined;
  const closeOpen = () => {
    if (open) fs.closeSync(open.fd);
    const o = open;
    open = undefined;
    return o;
  };
  try {
    if (transaction) await client.beginTransaction();
    for (const [name, text] of scripts) {
      const uris: string[] = (result[name] = []);
      await runScript(client, text, {
        name,
        raw,
        ...(render ? { render } : {}),
        writerFor(n) {
          closeOpen();
          const rel = [...subdir, `${name}.${n}${suffix}`].join('/');
          const file = path.join(outDir, `${name}.${n}${suffix}`);
          const fd = fs.openSync(file, 'w');
          open = { fd, file, rel };
          return new CsvWriter(fd, format, header, batchSize);
        },
        async afterResult() {
          const o = closeOpen();
          if (!o) return;
          uris.push(await ctx.saveOutput(o.rel, { file: o.file }));
        },
      });
    }
    if (transaction) await client.commit();
  } catch (err) {
    closeOpen();
    if (client.inTransaction) {
      try {
        await client.rollback();
      } catch {
        // the original error matters
      }
    }
    if (err instanceof StatementError) {
      throw new JobError(err.message + (transaction ? ' (transaction rolled back)' : ''), {
        payload: err.payload,
        statement: err.statement,
        output: result,
      });
    }
    if (err instanceof LavaError) throw err;
    throw new JobError(errorMessage(err), { output: result });
  } finally {
    await client.close();
  }
  return { exit_status: 0, output: result };
}
