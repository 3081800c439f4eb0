/** Backups below the CLI: a consistent copy of an embedded realm's database, and the pg_dump command of a PostgreSQL realm. */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { ValidationError } from '../core/errors.js';
import { parsePostgresUrl } from './postgres/db.js';

/** A consistent copy of the embedded database, taken with SQLite's online backup while others may write. */
export async function snapshotSqlite(dbFile: string, dest: string): Promise<void> {
  if (fs.existsSync(dest)) throw new ValidationError(`${dest} exists: remove it or choose another name`);
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    await db.backup(dest);
  } finally {
    db.close();
  }
  fs.chmodSync(dest, 0o600);
}

/** The pg_dump command for the backend's schema; the password is not in it (give it with PGPASSWORD or ~/.pgpass). */
export function pgDumpCommand(url: string, file: string): string {
  const pg = parsePostgresUrl(url);
  const u = new URL(pg.connectionString);
  u.password = '';
  const target = u.toString();
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return `pg_dump --schema=${quote(pg.schema)} --format=custom --file=${quote(file)} ${quote(target)}`;
}
