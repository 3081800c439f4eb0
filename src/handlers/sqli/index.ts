/** sqli: run inline SQL (a string or a list of strings) on a database connection. */
import { JobError } from '../../core/errors.js';
import { runSqlJob, SQL_PARAMETERS } from '../sql/common.js';
import type { Handler } from '../../run/handler.js';

export const sqliHandler: Handler = {
  type: 'sqli',
  parameters: SQL_PARAMETERS,
  async run(ctx) {
    const payload = ctx.job.payload;
    const list = typeof payload === 'string' ? [payload] : payload;
    if (!Array.isArray(list) || !list.length || !list.every((s) => typeof s === 'string')) {
      throw new JobError('Bad payload: sqli payload must be an SQL string or a list of SQL strings');
    }
    return runSqlJob(
      ctx,
      list.map((sql, i) => [String(i), sql] as const),
    );
  },
};
