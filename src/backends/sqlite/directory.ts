import type Database from 'better-sqlite3';
import type { Directory, DirectoryEntry } from '../ports.js';

interface Row {
  kind: string;
  id: string;
  data: string;
  updated: number;
  expires: number | null;
}

export class SqliteDirectory implements Directory {
  constructor(private readonly db: Database.Database) {}

  async put(realm: string, e: { kind: string; id: string; data: Record<string, unknown>; ttlSeconds?: number }): Promise<void> {
    const now = Date.now();
    const expires = e.ttlSeconds === undefined ? null : now + e.ttlSeconds * 1000;
    this.db
      .prepare('INSERT OR REPLACE INTO directory (realm, kind, id, data, updated, expires) VALUES (?, ?, ?, ?, ?, ?)')
      .run(realm, e.kind, e.id, JSON.stringify(e.data), now, expires);
  }

  async claim(
    realm: string,
    e: { kind: string; id: string; data: Record<string, unknown>; ttlSeconds?: number },
  ): Promise<boolean> {
    const now = Date.now();
    const expires = e.ttlSeconds === undefined ? null : now + e.ttlSeconds * 1000;
    // One statement: insert, or take over an expired entry; a live one is left alone.
    const info = this.db
      .prepare(
        `INSERT INTO directory (realm, kind, id, data, updated, expires) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (realm, kind, id) DO UPDATE SET data = excluded.data, updated = excluded.updated, expires = excluded.expires
         WHERE directory.expires IS NOT NULL AND directory.expires <= ?`,
      )
      .run(realm, e.kind, e.id, JSON.stringify(e.data), now, expires, now);
    return info.changes > 0;
  }

  async get(realm: string, kind: string, id: string): Promise<DirectoryEntry | undefined> {
    const row = this.db
      .prepare('SELECT * FROM directory WHERE realm = ? AND kind = ? AND id = ? AND (expires IS NULL OR expires > ?)')
      .get(realm, kind, id, Date.now()) as Row | undefined;
    return row && entry(row);
  }

  async list(realm: string, kind: string): Promise<DirectoryEntry[]> {
    const now = Date.now();
    // Entries are few; dropping the expired ones of this kind here keeps the table small without a sweeper.
    this.db.prepare('DELETE FROM directory WHERE realm = ? AND kind = ? AND expires <= ?').run(realm, kind, now);
    const rows = this.db.prepare('SELECT * FROM directory WHERE realm = ? AND kind = ? ORDER BY id').all(realm, kind) as Row[];
    return rows.map(entry);
  }

  async delete(realm: string, kind: string, id: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM directory WHERE realm = ? AND kind = ? AND id = ?').run(realm, kind, id).changes > 0;
  }
}

function entry(row: Row): DirectoryEntry {
  return {
    kind: row.kind,
    id: row.id,
    data: JSON.parse(row.data) as Record<string, unknown>,
    updated: new Date(row.updated),
    ...(row.expires === null ? {} : { expires: new Date(row.expires) }),
  };
}
