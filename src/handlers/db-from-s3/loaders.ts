/** The loaders: each puts the object's rows into a table and returns how many it loaded. */
import type pg from 'pg';
import { JobError, errorMessage } from '../../core/errors.js';
import { parseBool } from '../../core/units.js';
import type { MysqlRaw } from '../../connections/connectors/mysql.js';
import { csvFormat, parseCsv } from '../../connections/csv.js';
import { copyFromStdin } from '../../connections/pg-copy.js';
import type { DbClient } from '../../connections/types.js';
import {
  checkKeywords,
  INSERT_OPTIONS,
  literal,
  MYSQL_OPTIONS,
  PG_OPTIONS,
  REDSHIFT_OPTIONS,
  type Option,
} from './loader-options.js';
import { openData, readText } from './object.js';
import { quoteIdent, tableColumns, type Table } from './tables.js';

export interface LoadContext {
  db: DbClient;
  t: Table;
  file: string;
  uri: string;
  opts: Option[];
  events: string[];
  copyTimeout: number;
}

export async function pgCopy(l: LoadContext): Promise<number> {
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

export async function mysqlLoadData(l: LoadContext): Promise<number> {
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

export async function insertRows(l: LoadContext, json: boolean): Promise<number> {
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

export async function redshiftCopy(l: LoadContext, iamRole: unknown): Promise<number> {
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
