/** Tables in each SQL dialect: quoted names, and whether a table exists, its columns, whether it is empty. */
import type { DbClient, Dialect } from '../../connections/types.js';

export function quoteIdent(d: Dialect, name: string): string {
  if (d === 'mysql') return '`' + name.replace(/`/g, '``') + '`';
  if (d === 'mssql') return '[' + name.replace(/]/g, ']]') + ']';
  return '"' + name.replace(/"/g, '""') + '"';
}

export interface Table {
  schema: string;
  table: string;
  q: string;
}

export function table(d: Dialect, schema: string, name: string): Table {
  const s = d === 'oracle' ? schema.toUpperCase() : schema;
  const t = d === 'oracle' ? name.toUpperCase() : name;
  return { schema: s, table: t, q: `${quoteIdent(d, s)}.${quoteIdent(d, t)}` };
}

export async function tableExists(db: DbClient, t: Table): Promise<boolean> {
  const sql =
    db.dialect === 'sqlite3'
      ? "SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?"
      : db.dialect === 'oracle'
        ? 'SELECT 1 FROM all_tables WHERE owner = ? AND table_name = ?'
        : 'SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?';
  const params = db.dialect === 'sqlite3' ? [t.table] : [t.schema, t.table];
  return (await db.query(sql, params)).rows.length > 0;
}

export async function tableColumns(db: DbClient, t: Table): Promise<string[]> {
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

export async function isEmpty(db: DbClient, t: Table): Promise<boolean> {
  const sql =
    db.dialect === 'mssql'
      ? `SELECT TOP 1 1 AS x FROM ${t.q}`
      : db.dialect === 'oracle'
        ? `SELECT 1 FROM ${t.q} FETCH FIRST 1 ROWS ONLY`
        : `SELECT 1 AS x FROM ${t.q} LIMIT 1`;
  return (await db.query(sql)).rows.length === 0;
}
