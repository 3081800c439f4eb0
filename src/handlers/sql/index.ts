/** sql: run SQL files from the payload area on a database connection; result sets become CSV files. */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { downloadJobPayload, payloadItems } from '../../run/payload.js';
import type { Handler } from '../../run/handler.js';
import { runSqlJob, SQL_PARAMETERS } from './common.js';

export const sqlHandler: Handler = {
  type: 'sql',
  parameters: SQL_PARAMETERS,
  async run(ctx) {
    const items = payloadItems(ctx.job.payload, 'sql');
    const downloaded = await downloadJobPayload(ctx, items, 'SQL_MAX_PAYLOAD_SIZE');
    const scripts: [string, string][] = [];
    for (const file of downloaded.flatMap((d) => d.files)) {
      scripts.push([path.basename(file), await fsp.readFile(file, 'utf8')]);
    }
    return runSqlJob(ctx, scripts);
  },
};
