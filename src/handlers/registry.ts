/** Job types by name. Adding a job type is one folder exporting a Handler, listed here. */
import { chainHandler } from './chain/index.js';
import { cmdHandler } from './cmd/index.js';
import { dagHandler } from './dag/index.js';
import { dbFromS3Handler } from './db-from-s3/index.js';
import { dispatchHandler } from './dispatch/index.js';
import { exeHandler } from './exe/index.js';
import { foreachHandler } from './foreach/index.js';
import { lavaschedHandler } from './lavasched/index.js';
import { logHandler } from './log/index.js';
import { pkgHandler } from './pkg/index.js';
import { sqlHandler } from './sql/index.js';
import { sqlcHandler } from './sqlc/index.js';
import { sqliHandler } from './sqli/index.js';
import { sqlvHandler } from './sqlv/index.js';
import type { Handler } from './types.js';

export type HandlerRegistry = ReadonlyMap<string, Handler>;

export function builtinHandlers(): Map<string, Handler> {
  return new Map(
    [
      cmdHandler,
      exeHandler,
      pkgHandler,
      logHandler,
      chainHandler,
      dagHandler,
      foreachHandler,
      dispatchHandler,
      lavaschedHandler,
      sqlHandler,
      sqliHandler,
      sqlcHandler,
      sqlvHandler,
      dbFromS3Handler,
    ].map((h) => [h.type, h]),
  );
}
