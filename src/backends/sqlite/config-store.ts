import type Database from 'better-sqlite3';
import type { RealmSpec } from '../../core/schemas.js';
import { CONFIG_TABLES, type ConfigStore, type ConfigTable, type Item } from '../ports.js';

export class SqliteConfigStore implements ConfigStore {
  private getStmt?: Database.Statement;

  constructor(private readonly db: Database.Database) {}

  async getRealm(realm: string): Promise<RealmSpec | undefined> {
    const row = this.db.prepare('SELECT spec FROM realms WHERE realm = ?').get(realm) as { spec: string } | undefined;
    return row ? (JSON.parse(row.spec) as RealmSpec) : undefined;
  }

  async putRealm(spec: RealmSpec): Promise<void> {
    this.db.prepare('INSERT OR REPLACE INTO realms (realm, spec) VALUES (?, ?)').run(spec.realm, JSON.stringify(spec));
  }

  async deleteRealm(realm: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM realms WHERE realm = ?').run(realm).changes > 0;
  }

  async listRealms(): Promise<RealmSpec[]> {
    const rows = this.db.prepare('SELECT spec FROM realms ORDER BY realm').all() as { spec: string }[];
    return rows.map((r) => JSON.parse(r.spec) as RealmSpec);
  }

  async get(realm: string, table: ConfigTable, id: string): Promise<Item | undefined> {
    const row = (this.getStmt ??= this.db.prepare('SELECT spec FROM items WHERE realm = ? AND tbl = ? AND id = ?')).get(
      realm,
      table,
      id,
    ) as { spec: string } | undefined;
    return row ? (JSON.parse(row.spec) as Item) : undefined;
  }

  async put(realm: string, table: ConfigTable, item: Item): Promise<void> {
    const id = item[CONFIG_TABLES[table]];
    if (typeof id !== 'string' || !id) throw new TypeError(`${table} item needs a string ${CONFIG_TABLES[table]}`);
    this.db
      .prepare('INSERT OR REPLACE INTO items (realm, tbl, id, spec) VALUES (?, ?, ?, ?)')
      .run(realm, table, id, JSON.stringify(item));
  }

  async delete(realm: string, table: ConfigTable, id: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM items WHERE realm = ? AND tbl = ? AND id = ?').run(realm, table, id).changes > 0;
  }

  async list(realm: string, table: ConfigTable, where: Record<string, string> = {}): Promise<Item[]> {
    const conds = Object.keys(where).map((k) => {
      if (!/^\w+$/.test(k)) throw new TypeError(`bad filter field ${k}`);
      return ` AND json_extract(spec, '$.${k}') = ?`;
    });
    const rows = this.db
      .prepare(`SELECT spec FROM items WHERE realm = ? AND tbl = ?${conds.join('')} ORDER BY id`)
      .all(realm, table, ...Object.values(where)) as { spec: string }[];
    return rows.map((r) => JSON.parse(r.spec) as Item);
  }
}
