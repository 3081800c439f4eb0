/**
 * db_from_s3: load one CSV (or JSON Lines) object into a database table, with a table mode
 * (abort, append, delete, drop, switch, truncate). The object is `joinUri(bucket, key)` when
 * `bucket` is a URI (file:///…, the payload or temp area), else `s3://<bucket>/<key>`.
 *
 * Loaders: PostgreSQL `COPY … FROM STDIN` in the job's own session; MySQL/MariaDB
 * `LOAD DATA LOCAL INFILE`; SQLite, MSSQL, Oracle (and any database with the JSON option)
 * INSERTs; Redshift server-side `COPY … FROM 's3://…' IAM_ROLE …`.
 */
import { JobError, LavaError, errorMessage } from '../../core/errors.js';
import { renderTemplate } from '../../template/index.js';
import { renderingOn, vars } from '../process-job.js';
import type { Handler } from '../../run/handler.js';
import { load, MODES, type Mode } from './load.js';

export { MODES } from './load.js';
export { nameFromKey, objectUri } from './object.js';

export const dbFromS3Handler: Handler = {
  type: 'db_from_s3',
  parameters: {
    required: ['db_conn_id', 'bucket', 'key', 'schema', 'table', 'mode'],
    optional: ['args', 'columns', 'jinja', 'min_size', 's3_conn_id', 's3_iam_role', 'skip_missing', 'vars'],
  },
  async run(ctx) {
    const events: string[] = [];
    const p = ctx.job.parameters;
    const mode = String(p.mode).toLowerCase() as Mode;
    if (!MODES.includes(mode)) throw new JobError(`Bad mode "${String(p.mode)}": use one of ${MODES.join(', ')}`);
    const tctx = renderingOn(ctx) ? ctx.templateContext(vars(ctx)) : undefined;
    const render = (v: unknown, name: string, extra: Record<string, unknown> = {}): string => {
      if (typeof v !== 'string' || !v) throw new JobError(`parameters.${name} must be a non-empty string`);
      return tctx ? renderTemplate(v, { ...tctx, ...extra }).trim() : v;
    };
    const bucket = render(p.bucket, 'bucket');
    const key = render(p.key, 'key');
    const fail = (err: unknown): never => {
      const msg = errorMessage(err);
      throw new JobError(msg, { exit_status: 1, bucket, key, events, error: msg }, { cause: err });
    };
    try {
      return await load(ctx, { mode, bucket, key, events, render });
    } catch (err) {
      if (err instanceof LavaError && err.code === 'LAVA_JOB_FAILED' && (err.data as { events?: unknown })?.events) throw err;
      return fail(err);
    }
  },
};
