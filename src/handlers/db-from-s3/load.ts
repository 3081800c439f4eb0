/** One load: find the object, resolve the connection, prepare the table for the mode, load, commit. */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { blobStoreFor } from '../../backends/blob/index.js';
import type { BlobStore } from '../../backends/ports.js';
import { JobError } from '../../core/errors.js';
import { parseBool, parseSize } from '../../core/units.js';
import { openResolved } from '../../connections/api.js';
import { resolveConnection } from '../../connections/resolve.js';
import type { DbClient, Dialect } from '../../connections/types.js';
import type { HandlerContext, JobResult } from '../../run/handler.js';
import { parseArgs, type Option } from './loader-options.js';
import { insertRows, mysqlLoadData, pgCopy, redshiftCopy, type LoadContext } from './loaders.js';
import { nameFromKey, objectUri } from './object.js';
import { isEmpty, table, tableExists, type Table } from './tables.js';

export const MODES = ['abort', 'append', 'delete', 'drop', 'switch', 'truncate'] as const;
export type Mode = (typeof MODES)[number];

export interface LoadRequest {
  mode: Mode;
  bucket: string;
  key: string;
  events: string[];
  render: (v: unknown, name: string, extra?: Record<string, unknown>) => string;
}

interface FoundObject {
  store: BlobStore | undefined;
  storeError: unknown;
  size: number;
}

/** The object's store and size, or the result of skipping it (missing, or a runt). */
async function findObject(ctx: HandlerContext, a: LoadRequest, uri: string): Promise<FoundObject | { skipped: JobResult }> {
  const p = ctx.job.parameters;
  const { events, bucket, key } = a;
  const skipMissing = p.skip_missing === undefined ? false : parseBool(p.skip_missing, 'parameters.skip_missing');
  const minSize = p.min_size === undefined ? 0 : parseSize(p.min_size, 'parameters.min_size');
  // A location without a blob store can still be loaded by Redshift, which reads S3 itself.
  let store: BlobStore | undefined;
  let storeError: unknown;
  try {
    store = blobStoreFor(uri);
  } catch (err) {
    storeError = err;
  }
  const info = store ? await store.head(uri) : { size: Number.POSITIVE_INFINITY };
  if (!info) {
    if (skipMissing) {
      events.push(`Skipped missing object ${uri}`);
      return { skipped: { exit_status: 0, bucket, key, events } };
    }
    throw new JobError(
      `No such object ${uri} (bucket ${JSON.stringify(bucket)}, key ${JSON.stringify(key)}): set skip_missing to ignore it`,
    );
  }
  if (info.size < minSize) {
    events.push(`Skipped runt object ${uri}: ${info.size} bytes is under min_size ${minSize}`);
    return { skipped: { exit_status: 0, bucket, key, events } };
  }
  return { store, storeError, size: info.size };
}

/** The target table's schema and name (rendered, or taken from the key), and the columns to create it with. */
function target(ctx: HandlerContext, a: LoadRequest): { schema: string; tableName: string; columns?: string[] } {
  const p = ctx.job.parameters;
  const { bucket, key } = a;
  const schema = nameFromKey(a.render(p.schema, 'schema', { bucket, key }), key, 'schema').toLowerCase();
  const tableName = nameFromKey(a.render(p.table, 'table', { bucket, key }), key, 'table').toLowerCase();
  const columns = p.columns;
  if (columns !== undefined && (!Array.isArray(columns) || !columns.every((c) => typeof c === 'string' && c.trim()))) {
    throw new JobError('parameters.columns must be a list of column definitions, e.g. ["id integer", "name varchar(50)"]');
  }
  return { schema, tableName, ...(columns !== undefined ? { columns: columns as string[] } : {}) };
}

/** What the modes do to a table, with the events they record. */
class TableWork {
  constructor(
    private readonly db: DbClient,
    private readonly dialect: Dialect,
    private readonly columns: string[] | undefined,
    private readonly events: string[],
    private readonly uri: string,
    private readonly loader: (t: Table) => Promise<number>,
  ) {}

  async create(t: Table): Promise<void> {
    if (!this.columns || !this.columns.length) {
      throw new JobError(`table ${t.schema}.${t.table} does not exist and parameters.columns is not given to create it`);
    }
    await this.db.query(`CREATE TABLE ${t.q} (${this.columns.join(', ')})`);
    this.events.push(`Created table ${t.schema}.${t.table}`);
  }

  /** Create the table if missing; true when it was created. */
  async ensure(t: Table): Promise<boolean> {
    if (await tableExists(this.db, t)) return false;
    await this.create(t);
    return true;
  }

  async truncate(t: Table): Promise<void> {
    if (this.dialect === 'sqlite3') await this.db.query(`DELETE FROM ${t.q}`);
    else await this.db.query(`TRUNCATE TABLE ${t.q}`);
    this.events.push(`Truncated ${t.schema}.${t.table}`);
  }

  async deleteAll(t: Table): Promise<void> {
    const del = await this.db.query(`DELETE FROM ${t.q}`);
    this.events.push(`Deleted ${del.rowCount} rows from ${t.schema}.${t.table}`);
  }

  async load(t: Table): Promise<void> {
    const n = await this.loader(t);
    this.events.push(`Loaded ${n} rows into ${t.schema}.${t.table} from ${this.uri}`);
  }

  /** switch: load whichever of `<table>_a` / `<table>_b` is empty, then empty the other. Commits. */
  async switchLoad(schema: string, tableName: string): Promise<void> {
    const ta = table(this.dialect, schema, `${tableName}_a`);
    const tb = table(this.dialect, schema, `${tableName}_b`);
    await this.ensure(ta);
    await this.ensure(tb);
    const into = (await isEmpty(this.db, ta)) ? ta : (await isEmpty(this.db, tb)) ? tb : undefined;
    if (!into) throw new JobError(`switch mode: neither ${ta.table} nor ${tb.table} is empty: empty one of them first`);
    const other = into === ta ? tb : ta;
    await this.load(into);
    await this.deleteAll(other);
    await this.db.commit();
    this.events.push(`Switched to ${into.schema}.${into.table}`);
    if (this.dialect !== 'sqlite3') await this.truncate(other);
  }

  /** The other modes: prepare the one table, load it. Commits. */
  async modeLoad(mode: Exclude<Mode, 'switch'>, main: Table): Promise<void> {
    switch (mode) {
      case 'abort':
        if (await tableExists(this.db, main)) {
          throw new JobError(`table ${main.schema}.${main.table} exists (mode abort): drop it, or use another mode`);
        }
        await this.create(main);
        break;
      case 'append':
        await this.ensure(main);
        break;
      case 'delete':
        if (!(await this.ensure(main))) await this.deleteAll(main);
        break;
      case 'truncate':
        if (!(await this.ensure(main))) await this.truncate(main);
        break;
      case 'drop':
        if (await tableExists(this.db, main)) {
          await this.db.query(`DROP TABLE ${main.q}`);
          this.events.push(`Dropped ${main.schema}.${main.table}`);
        }
        await this.create(main);
        break;
    }
    await this.load(main);
    await this.db.commit();
  }
}

/** The loader for the dialect and options. */
function loaderFor(
  dialect: Dialect,
  l: Omit<LoadContext, 't' | 'copyTimeout'>,
  copyTimeout: () => number,
  iamRole: unknown,
): (t: Table) => Promise<number> {
  const json = l.opts.some((o: Option) => o.keyword === 'JSON') && dialect !== 'redshift';
  return (t) => {
    const c: LoadContext = { ...l, t, copyTimeout: copyTimeout() };
    if (dialect === 'redshift') return redshiftCopy(c, iamRole);
    if (json) return insertRows(c, true);
    if (dialect === 'postgres') return pgCopy(c);
    if (dialect === 'mysql') return mysqlLoadData(c);
    return insertRows(c, false);
  };
}

export async function load(ctx: HandlerContext, a: LoadRequest): Promise<JobResult> {
  const p = ctx.job.parameters;
  const { events, bucket, key } = a;
  const uri = objectUri(bucket, key);
  const found = await findObject(ctx, a, uri);
  if ('skipped' in found) return found.skipped;
  const { store } = found;
  const { schema, tableName, columns } = target(ctx, a);
  const opts = parseArgs(p.args);
  const connId = p.db_conn_id;
  if (typeof connId !== 'string' || !connId) throw new JobError('parameters.db_conn_id must be a connection id');
  const c = await resolveConnection(connId, {
    backend: ctx.backend,
    realm: ctx.job.realm,
    config: ctx.config,
    jobId: ctx.job.job_id,
  });
  const dialect = c.connector.dialect;
  if (!store && dialect !== 'redshift') throw found.storeError;
  if (dialect === 'sqlite3' && schema !== 'main') {
    throw new JobError(`SQLite tables must be in schema "main", not "${schema}"`);
  }
  const db = await openResolved(c);
  const work = await fsp.mkdtemp(path.join(ctx.scratch, 'db_from_s3-'));
  try {
    const file = path.join(work, path.basename(key) || 'object');
    if (dialect !== 'redshift' && store) {
      await store.download(uri, file);
      events.push(`Downloaded ${uri} (${found.size} bytes)`);
    }
    const loader = loaderFor(
      dialect,
      { db, file, uri, opts, events },
      () => ctx.config.duration('PG_COPY_TIMEOUT'),
      p.s3_iam_role,
    );
    const tables = new TableWork(db, dialect, columns, events, uri, loader);
    await db.beginTransaction();
    try {
      if (a.mode === 'switch') await tables.switchLoad(schema, tableName);
      else await tables.modeLoad(a.mode, table(dialect, schema, tableName));
      return { exit_status: 0, bucket, key, events };
    } catch (err) {
      if (db.inTransaction) {
        try {
          await db.rollback();
          events.push('Rolled back');
        } catch {
          // report the original error
        }
      }
      throw err;
    }
  } finally {
    await db.close();
    await fsp.rm(work, { recursive: true, force: true });
  }
}
