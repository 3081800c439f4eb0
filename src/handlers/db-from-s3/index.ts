/**
 * db_from_s3: load one CSV (or JSON Lines) object into a database table, with a table mode
 * (abort, append, delete, drop, switch, truncate). The object is `joinUri(bucket, key)` when
 * `bucket` is a URI (file:///…, the payload or temp area), else `s3://<bucket>/<key>`.
 *
 * Loaders: PostgreSQL `COPY … FROM STDIN` in the job's own session; MySQL/MariaDB
 * `LOAD DATA LOCAL INFILE`; SQLite, MSSQL, Oracle (and any database with the JSON option)
 * INSERTs; Redshift server-side `COPY … FROM 's3://…' IAM_ROLE …`.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type pg from 'pg';
import { blobStoreFor, joinUri } from '../../backends/blob/index.js';
import { JobError, LavaError, errorMessage } from '../../core/errors.js';
import { parseBool, parseSize } from '../../core/units.js';
import { openResolved } from '../../connections/api.js';
import type { MysqlRaw } from '../../connections/connectors/mysql.js';
import { csvFormat, parseCsv } from '../../connections/csv.js';
import { copyFromStdin } from '../../connections/pg-copy.js';
import { resolveConnection } from '../../connections/resolve.js';
import type { DbClient, Dialect } from '../../connections/types.js';
import type { BlobStore } from '../../backends/ports.js';
import { renderTemplate } from '../../template/index.js';
import { renderingOn, vars } from '../process-job.js';
import type { HandlerContext, JobResult } from '../../run/handler.js';
import type { Handler } from '../../run/handler.js';

export const MODES = ['abort', 'append', 'delete', 'drop', 'switch', 'truncate'] as const;
type Mode = (typeof MODES)[number];

/** The object a bucket + key names (see the module comment). */
export function objectUri(bucket: string, key: string): string {
  if (/^[a-z][\w+.-]*:\/\//i.test(bucket)) return joinUri(bucket, key);
  return `s3://${bucket.replace(/^\/+|\/+$/g, '')}/${key.replace(/^\/+/, '')}`;
}

/** Schema/table names given as `/regex`: capture group 1 of the regex searched in the key without suffixes. */
export function nameFromKey(value: string, key: string, what: string): string {
  if (!value.startsWith('/')) return value;
  const slash = key.lastIndexOf('/');
  const base = key.slice(slash + 1);
  const stem = key.slice(0, slash + 1) + (base.includes('.') ? base.slice(0, base.indexOf('.')) : base);
  let re: RegExp;
  try {
    re = new RegExp(value.slice(1));
  } catch (err) {
    throw new JobError(`Bad ${what} regex ${JSON.stringify(value.slice(1))}: ${errorMessage(err)}`);
  }
  const m = re.exec(stem);
  if (!m || m[1] === undefined) {
    throw new JobError(
      `${what} regex ${JSON.stringify(value.slice(1))} does not match "${stem}" (the key without suffixes) with a group 1`,
    );
  }
  return m[1];
}

// ---------------------------------------------------------------------------------------------
// Dialect SQL

function quoteIdent(d: Dialect, name: string): string {
  if (d === 'mysql') return '`' + name.replace(/`/g, '``') + '`';
  if (d === 'mssql') return '[' + name.replace(/]/g, ']]') + ']';
  return '"' + name.replace(/"/g, '""') + '"';
}

interface Table {
  schema: string;
  table: string;
  q: string;
}

function table(d: Dialect, schema: string, name: string): Table {
  const s = d === 'oracle' ? schema.toUpperCase() : schema;
  const t = d === 'oracle' ? name.toUpperCase() : name;
  return { schema: s, table: t, q: `${quoteIdent(d, s)}.${quoteIdent(d, t)}` };
}

async function tableExists(db: DbClient, t: Table): Promise<boolean> {
  const sql =
    db.dialect === 'sqlite3'
      ? "SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?"
      : db.dialect === 'oracle'
        ? 'SELECT 1 FROM all_tables WHERE owner = ? AND table_name = ?'
        : 'SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?';
  const params = db.dialect === 'sqlite3' ? [t.table] : [t.schema, t.table];
  return (await db.query(sql, params)).rows.length > 0;
}

async function tableColumns(db: DbClient, t: Table): Promise<string[]> {
  const sql =
    db.dialect === 'sqlite3'
      ? 'SELECT name FROM pragma_table_info(?) ORDER BY cid'
      : db.dialect === 'oracle'
        ? 'SELECT column_name FROM all_tab_columns WHERE owner = ? AND table_name = ? ORDER BY column_id'
        : 'SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position';
  const params = db.dialect === 'sqlite3' ? [t.table] : [t.schema, t.table];
  const r = await db.query(sql, params);
  return r.rows.map((row) => String(Object.values(row)[0]));
}

async function isEmpty(db: DbClient, t: Table): Promise<boolean> {
  const sql =
    db.dialect === 'mssql'
      ? `SELECT TOP 1 1 AS x FROM ${t.q}`
      : db.dialect === 'oracle'
        ? `SELECT 1 FROM ${t.q} FETCH FIRST 1 ROWS ONLY`
        : `SELECT 1 AS x FROM ${t.q} LIMIT 1`;
  return (await db.query(sql)).rows.length === 0;
}

// ---------------------------------------------------------------------------------------------
// Loader options (`args`)

interface Option {
  keyword: string;
  value: string | undefined;
  text: string;
}

function parseArgs(args: unknown): Option[] {
  if (args === undefined) return [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
    throw new JobError('parameters.args must be a list of loader options, e.g. ["CSV", "HEADER", "DELIMITER \'|\'"]');
  }
  return args.map((a) => {
    const m = /^\s*([A-Za-z_]+)(?:\s+([\s\S]*?))?\s*$/.exec(a);
    if (!m)
      throw new JobError(`Bad loader option ${JSON.stringify(a)}: start with a keyword such as FORMAT, HEADER or DELIMITER`);
    return { keyword: (m[1] as string).toUpperCase(), value: m[2] || undefined, text: a.trim() };
  });
}

function checkKeywords(opts: Option[], allowed: readonly string[], loader: string): void {
  for (const o of opts) {
    if (!allowed.includes(o.keyword)) {
      throw new JobError(`loader option ${o.keyword} is not allowed for ${loader}: use ${allowed.join(', ')}`);
    }
  }
}

/** A quoted SQL string literal's content ('c' → c, '' → '). */
function literal(o: Option): string {
  const m = /^'((?:[^']|'')*)'$/.exec(o.value ?? '') ?? /^"((?:[^"]|"")*)"$/.exec(o.value ?? '');
  if (!m) throw new JobError(`loader option ${o.keyword} needs a quoted value, e.g. ${o.keyword} '|'`);
  return (m[1] as string).replace(/''/g, "'").replace(/\\t/g, '\t');
}

const PG_OPTIONS = [
  'CSV',
  'FORMAT',
  'HEADER',
  'OIDS',
  'FREEZE',
  'DELIMITER',
  'NULL',
  'QUOTE',
  'ESCAPE',
  'FORCE_NOT_NULL',
  'FORCE_NULL',
  'ENCODING',
  'GZIP',
  'MANIFEST',
  'JSON',
];
const MYSQL_OPTIONS = [
  'CSV',
  'IGNORE',
  'REPLACE',
  'PARTITION',
  'DELIMITER',
  'ENCODING',
  'QUOTE',
  'ESCAPE',
  'HEADER',
  'TERMINATOR',
  'GZIP',
  'MANIFEST',
  'JSON',
];
const INSERT_OPTIONS = [
  'CSV',
  'DELIMITER',
  'DOUBLEQUOTE',
  'ESCAPECHAR',
  'QUOTECHAR',
  'QUOTING',
  'GZIP',
  'HEADER',
  'MANIFEST',
  'JSON',
];
const REDSHIFT_OPTIONS = [
  'CSV',
  'GZIP',
  'BZIP2',
  'LZOP',
  'ZSTD',
  'MANIFEST',
  'IGNOREHEADER',
  'DATEFORMAT',
  'TIMEFORMAT',
  'JSON',
  'AVRO',
  'FORMAT',
  'DELIMITER',
  'BLANKSASNULL',
  'EMPTYASNULL',
  'MAXERROR',
  'NULL',
  'QUOTE',
  'ESCAPE',
  'REMOVEQUOTES',
  'ACCEPTINVCHARS',
  'ACCEPTANYDATE',
  'FILLRECORD',
  'TRIMBLANKS',
  'TRUNCATECOLUMNS',
  'ENCODING',
  'REGION',
  'COMPUPDATE',
  'STATUPDATE',
  'ROUNDEC',
  'EXPLICIT_IDS',
  'IGNOREBLANKLINES',
  'ESCAPE',
];

// ---------------------------------------------------------------------------------------------
// Reading the object

async function isGzip(file: string): Promise<boolean> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** The file's bytes, gunzipped when GZIP is given or the file starts with the gzip magic number. */
async function openData(file: string, gzip: boolean): Promise<Readable> {
  const raw = fs.createReadStream(file);
  return gzip || (await isGzip(file)) ? raw.pipe(zlib.createGunzip()) : raw;
}

async function readText(file: string, gzip: boolean): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await openData(file, gzip)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// ---------------------------------------------------------------------------------------------
// Loaders: each returns the rows loaded.

interface LoadContext {
  db: DbClient;
  t: Table;
  file: string;
  uri: string;
  opts: Option[];
  events: string[];
  copyTimeout: number;
}

async function pgCopy(l: LoadContext): Promise<number> {
  checkKeywords(l.opts, PG_OPTIONS, 'PostgreSQL COPY');
  const gzip = l.opts.some((o) => o.keyword === 'GZIP');
  const withOpts: string[] = [];
  for (const o of l.opts) {
    if (o.keyword === 'GZIP') continue;
    if (o.keyword === 'MANIFEST') throw new JobError('loader option MANIFEST is not supported for client-side loads');
    if (o.keyword === 'CSV') withOpts.push('FORMAT csv');
    else if ((o.keyword === 'FORCE_NOT_NULL' || o.keyword === 'FORCE_NULL') && o.value?.trim() === '*') {
      const cols = await tableColumns(l.db, l.t);
      withOpts.push(`${o.keyword} (${cols.map((c) => quoteIdent('postgres', c)).join(', ')})`);
    } else withOpts.push(o.value === undefined ? o.keyword : `${o.keyword} ${o.value}`);
  }
  const sql = `COPY ${l.t.q} FROM STDIN${withOpts.length ? ` WITH (${withOpts.join(', ')})` : ''}`;
  l.events.push(sql);
  const source = await openData(l.file, gzip);
  return copyFromStdin(l.db.raw as pg.Client, sql, source as AsyncIterable<Buffer>, l.copyTimeout);
}

async function mysqlLoadData(l: LoadContext): Promise<number> {
  checkKeywords(l.opts, MYSQL_OPTIONS, 'MySQL LOAD DATA');
  let dup = '';
  let partition = '';
  let charset = '';
  const fields: string[] = [];
  let lines = '';
  let ignore = '';
  let gzip = false;
  for (const o of l.opts) {
    switch (o.keyword) {
      case 'GZIP':
        gzip = true;
        break;
      case 'MANIFEST':
        throw new JobError('loader option MANIFEST is not supported for client-side loads');
      case 'IGNORE':
      case 'REPLACE':
        dup = ` ${o.keyword}`;
        break;
      case 'PARTITION':
        partition = ` PARTITION ${o.value ?? ''}`;
        break;
      case 'ENCODING':
        if (!/^\w+$/.test(o.value ?? ''))
          throw new JobError('loader option ENCODING needs a character set name, e.g. ENCODING utf8mb4');
        charset = ` CHARACTER SET ${o.value}`;
        break;
      case 'CSV':
        fields.push("TERMINATED BY ','", "OPTIONALLY ENCLOSED BY '\"'");
        break;
      case 'DELIMITER':
        fields.unshift(`TERMINATED BY ${mysqlLiteral(literal(o))}`);
        break;
      case 'QUOTE': {
        const optional = /^OPTIONAL\s+/i.test(o.value ?? '');
        const v = literal({ ...o, value: (o.value ?? '').replace(/^OPTIONAL\s+/i, '') });
        fields.push(`${optional ? 'OPTIONALLY ' : ''}ENCLOSED BY ${mysqlLiteral(v)}`);
        break;
      }
      case 'ESCAPE':
        fields.push(`ESCAPED BY ${mysqlLiteral(literal(o))}`);
        break;
      case 'TERMINATOR': {
        const v = (o.value ?? '').toUpperCase();
        lines = ` LINES TERMINATED BY ${v === 'DOS' ? "'\\r\\n'" : v === 'UNIX' ? "'\\n'" : mysqlLiteral(literal(o))}`;
        break;
      }
      case 'HEADER': {
        const n = o.value === undefined ? 1 : Number(o.value);
        if (!Number.isInteger(n) || n < 0) throw new JobError('loader option HEADER takes a line count, e.g. HEADER 1');
        ignore = ` IGNORE ${n} LINES`;
        break;
      }
    }
  }
  // Later FIELDS clauses of the same kind override earlier ones (DELIMITER after CSV).
  const byKind = new Map<string, string>();
  for (const f of fields) byKind.set(f.replace(/^(OPTIONALLY )?(\w+)[\s\S]*/, '$2'), f);
  const ordered = ['TERMINATED', 'ENCLOSED', 'ESCAPED'].flatMap((k) => (byKind.has(k) ? [byKind.get(k) as string] : []));
  const fieldsClause = ordered.length ? ` FIELDS ${ordered.join(' ')}` : '';
  const sql = `LOAD DATA LOCAL INFILE 'lava-db-from-s3'${dup} INTO TABLE ${l.t.q}${partition}${charset}${fieldsClause}${lines}${ignore}`;
  l.events.push(sql);
  const data = await openData(l.file, gzip);
  return (l.db.raw as MysqlRaw).queryWithInfile(sql, () => data);
}

function mysqlLiteral(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
}

const MAX_PARAMS: Record<string, number> = {
  sqlite3: 999,
  mssql: 2000,
  oracle: 0,
  postgres: 30000,
  redshift: 30000,
  mysql: 30000,
};

async function insertRows(l: LoadContext, json: boolean): Promise<number> {
  checkKeywords(l.opts, INSERT_OPTIONS, `${l.db.dialect} inserts`);
  const get = (k: string) => l.opts.find((o) => o.keyword === k);
  if (get('MANIFEST')) throw new JobError('loader option MANIFEST is not supported for client-side loads');
  const columns = await tableColumns(l.db, l.t);
  const text = await readText(l.file, get('GZIP') !== undefined);
  let rows: unknown[][];
  if (json) {
    rows = text
      .split(/\r?\n/)
      .map((line, i) => [line.trim(), i + 1] as const)
      .filter(([line]) => line)
      .map(([line, n]) => {
        let v: unknown;
        try {
          v = JSON.parse(line);
        } catch (err) {
          throw new JobError(`line ${n} of ${l.uri} is not JSON: ${errorMessage(err)}`);
        }
        if (Array.isArray(v)) return v;
        if (v && typeof v === 'object') return columns.map((c) => toDbValue((v as Record<string, unknown>)[c]));
        throw new JobError(`line ${n} of ${l.uri} is not a JSON object or array`);
      });
  } else {
    let format;
    try {
      format = csvFormat({
        ...(get('DELIMITER') ? { delimiter: literal(get('DELIMITER') as Option) } : {}),
        ...(get('QUOTECHAR') ? { quotechar: literal(get('QUOTECHAR') as Option) } : {}),
        ...(get('ESCAPECHAR') ? { escapechar: literal(get('ESCAPECHAR') as Option) } : {}),
        ...(get('DOUBLEQUOTE') ? { doublequote: parseBool(get('DOUBLEQUOTE')?.value ?? 'true') } : {}),
        ...(get('QUOTING') ? { quoting: (get('QUOTING')?.value ?? '').replace(/^'|'$/g, '') } : {}),
      });
    } catch (err) {
      throw new JobError(errorMessage(err));
    }
    rows = [...parseCsv(text, format)];
    if (get('HEADER')) rows.shift();
  }
  for (const [i, r] of rows.entries()) {
    if (r.length !== columns.length) {
      throw new JobError(
        `row ${i + 1} of ${l.uri} has ${r.length} fields but table ${l.t.schema}.${l.t.table} has ${columns.length} columns`,
      );
    }
  }
  const one = `(${columns.map(() => '?').join(', ')})`;
  const perStatement = Math.max(1, Math.floor((MAX_PARAMS[l.db.dialect] ?? 0) / Math.max(1, columns.length)));
  l.events.push(`INSERT INTO ${l.t.q} VALUES ${one} (${rows.length} rows, ${perStatement} per statement)`);
  for (let i = 0; i < rows.length; i += perStatement) {
    const batch = rows.slice(i, i + perStatement);
    await l.db.query(`INSERT INTO ${l.t.q} VALUES ${batch.map(() => one).join(', ')}`, batch.flat());
  }
  return rows.length;
}

function toDbValue(v: unknown): unknown {
  if (v === undefined) return null;
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return v;
}

async function redshiftCopy(l: LoadContext, iamRole: unknown): Promise<number> {
  checkKeywords(l.opts, REDSHIFT_OPTIONS, 'Redshift COPY');
  if (!l.uri.startsWith('s3://')) {
    throw new JobError(`Redshift loads from S3 only: ${l.uri} is not an s3:// object`);
  }
  if (typeof iamRole !== 'string' || !iamRole) {
    throw new JobError('Redshift loads need parameters.s3_iam_role (s3_conn_id credentials are not supported yet)');
  }
  const sql = `COPY ${l.t.q} FROM '${l.uri.replace(/'/g, "''")}' IAM_ROLE '${iamRole.replace(/'/g, "''")}'${l.opts.length ? ' ' + l.opts.map((o) => o.text).join(' ') : ''}`;
  l.events.push(sql);
  return (await l.db.query(sql)).rowCount;
}

// ---------------------------------------------------------------------------------------------

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

async function load(
  ctx: HandlerContext,
  a: {
    mode: Mode;
    bucket: string;
    key: string;
    events: string[];
    render: (v: unknown, name: string, extra?: Record<string, unknown>) => string;
  },
): Promise<JobResult> {
  const p = ctx.job.parameters;
  const { events, bucket, key } = a;
  const uri = objectUri(bucket, key);
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
  const info = store
    ? await store.head(uri)
    : { uri, name: path.basename(key), size: Number.POSITIVE_INFINITY, modified: new Date() };
  if (!info) {
    if (skipMissing) {
      events.push(`Skipped missing object ${uri}`);
      return { exit_status: 0, bucket, key, events };
    }
    throw new JobError(
      `No such object ${uri} (bucket ${JSON.stringify(bucket)}, key ${JSON.stringify(key)}): set skip_missing to ignore it`,
    );
  }
  if (info.size < minSize) {
    events.push(`Skipped runt object ${uri}: ${info.size} bytes is under min_size ${minSize}`);
    return { exit_status: 0, bucket, key, events };
  }
  const schema = nameFromKey(a.render(p.schema, 'schema', { bucket, key }), key, 'schema').toLowerCase();
  const tableName = nameFromKey(a.render(p.table, 'table', { bucket, key }), key, 'table').toLowerCase();
  const columns = p.columns;
  if (columns !== undefined && (!Array.isArray(columns) || !columns.every((c) => typeof c === 'string' && c.trim()))) {
    throw new JobError('parameters.columns must be a list of column definitions, e.g. ["id integer", "name varchar(50)"]');
  }
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
  if (!store && dialect !== 'redshift') throw storeError;
  if (dialect === 'sqlite3' && schema !== 'main') {
    throw new JobError(`SQLite tables must be in schema "main", not "${schema}"`);
  }
  const db = await openResolved(c);
  const work = await fsp.mkdtemp(path.join(ctx.scratch, 'db_from_s3-'));
  try {
    const file = path.join(work, path.basename(key) || 'object');
    if (dialect !== 'redshift' && store) {
      await store.download(uri, file);
      events.push(`Downloaded ${uri} (${info.size} bytes)`);
    }
    const json = opts.some((o) => o.keyword === 'JSON') && dialect !== 'redshift';
    const loadInto = async (t: Table): Promise<number> => {
      const l: LoadContext = { db, t, file, uri, opts, events, copyTimeout: ctx.config.duration('PG_COPY_TIMEOUT') };
      if (dialect === 'redshift') return redshiftCopy(l, p.s3_iam_role);
      if (json) return insertRows(l, true);
      if (dialect === 'postgres') return pgCopy(l);
      if (dialect === 'mysql') return mysqlLoadData(l);
      return insertRows(l, false);
    };
    const create = async (t: Table) => {
      if (!columns || !(columns as string[]).length) {
        throw new JobError(`table ${t.schema}.${t.table} does not exist and parameters.columns is not given to create it`);
      }
      await db.query(`CREATE TABLE ${t.q} (${(columns as string[]).join(', ')})`);
      events.push(`Created table ${t.schema}.${t.table}`);
    };
    const ensure = async (t: Table): Promise<boolean> => {
      if (await tableExists(db, t)) return false;
      await create(t);
      return true;
    };
    const truncate = async (t: Table) => {
      if (dialect === 'sqlite3') await db.query(`DELETE FROM ${t.q}`);
      else await db.query(`TRUNCATE TABLE ${t.q}`);
      events.push(`Truncated ${t.schema}.${t.table}`);
    };
    const loaded = (t: Table, n: number) => events.push(`Loaded ${n} rows into ${t.schema}.${t.table} from ${uri}`);

    const main = table(dialect, schema, tableName);
    await db.beginTransaction();
    try {
      if (a.mode === 'switch') {
        const ta = table(dialect, schema, `${tableName}_a`);
        const tb = table(dialect, schema, `${tableName}_b`);
        await ensure(ta);
        await ensure(tb);
        const target = (await isEmpty(db, ta)) ? ta : (await isEmpty(db, tb)) ? tb : undefined;
        if (!target) throw new JobError(`switch mode: neither ${ta.table} nor ${tb.table} is empty: empty one of them first`);
        const other = target === ta ? tb : ta;
        loaded(target, await loadInto(target));
        const del = await db.query(`DELETE FROM ${other.q}`);
        events.push(`Deleted ${del.rowCount} rows from ${other.schema}.${other.table}`);
        await db.commit();
        events.push(`Switched to ${target.schema}.${target.table}`);
        if (dialect !== 'sqlite3') await truncate(other);
        return { exit_status: 0, bucket, key, events };
      }
      switch (a.mode) {
        case 'abort':
          if (await tableExists(db, main)) {
            throw new JobError(`table ${main.schema}.${main.table} exists (mode abort): drop it, or use another mode`);
          }
          await create(main);
          break;
        case 'append':
          await ensure(main);
          break;
        case 'delete':
          if (!(await ensure(main))) {
            const del = await db.query(`DELETE FROM ${main.q}`);
            events.push(`Deleted ${del.rowCount} rows from ${main.schema}.${main.table}`);
          }
          break;
        case 'truncate':
          if (!(await ensure(main))) await truncate(main);
          break;
        case 'drop':
          if (await tableExists(db, main)) {
            await db.query(`DROP TABLE ${main.q}`);
            events.push(`Dropped ${main.schema}.${main.table}`);
          }
          await create(main);
          break;
      }
      loaded(main, await loadInto(main));
      await db.commit();
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
