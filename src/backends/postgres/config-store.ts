import type { RealmSpec } from '../../core/schemas.js';
import { CONFIG_TABLES, type ConfigStore, type ConfigTable, type Item } from '../ports.js';
import type { Db } from './db.js';

/** Realms and their jobs/connections/triggers as `json` documents (kept verbatim, key order included). */
export class PostgresConfigStore implements ConfigStore {
  constructor(private readonly db: Db) {}

  async getRealm(realm: string): Promise<RealmSpec | undefined> {
    const { rows } = await this.db.query<{ spec: RealmSpec }>(`SELECT spec FROM ${this.db.t('realms')} WHERE realm = $1`, [
      realm,
    ]);
    return rows[0]?.spec;
  }

  async putRealm(spec: RealmSpec): Promise<void> {
    await this.db.query(
      `INSERT INTO ${this.db.t('realms')} (realm, spec) VALUES ($1, $2::json)
       ON CONFLICT (realm) DO UPDATE SET spec = excluded.spec`,
      [spec.realm, JSON.stringify(spec)],
    );
  }

  async deleteRealm(realm: string): Promise<boolean> {
    return ((await this.db.query(`DELETE FROM ${this.db.t('realms')} WHERE realm = $1`, [realm])).rowCount ?? 0) > 0;
  }

  async listRealms(): Promise<RealmSpec[]> {
    const { rows } = await this.db.query<{ spec: RealmSpec }>(`SELECT spec FROM ${this.db.t('realms')} ORDER BY realm`);
    return rows.map((r) => r.spec);
  }

  async get(realm: string, table: ConfigTable, id: string): Promise<Item | undefined> {
    const { rows } = await this.db.query<{ spec: Item }>(
      `SELECT spec FROM ${this.db.t('items')} WHERE realm = $1 AND tbl = $2 AND id = $3`,
      [realm, table, id],
    );
    return rows[0]?.spec;
  }

  async put(realm: string, table: ConfigTable, item: Item): Promise<void> {
    const id = item[CONFIG_TABLES[table]];
    if (typeof id !== 'string' || !id) throw new TypeError(`${table} item needs a string ${CONFIG_TABLES[table]}`);
    await this.db.query(
      `INSERT INTO ${this.db.t('items')} (realm, tbl, id, spec) VALUES ($1, $2, $3, $4::json)
       ON CONFLICT (realm, tbl, id) DO UPDATE SET spec = excluded.spec`,
      [realm, table, id, JSON.stringify(item)],
    );
  }

  async delete(realm: string, table: ConfigTable, id: string): Promise<boolean> {
    const res = await this.db.query(`DELETE FROM ${this.db.t('items')} WHERE realm = $1 AND tbl = $2 AND id = $3`, [
      realm,
      table,
      id,
    ]);
    return (res.rowCount ?? 0) > 0;
  }

  async list(realm: string, table: ConfigTable, where: Record<string, string> = {}): Promise<Item[]> {
    const values: unknown[] = [realm, table];
    const conds = Object.entries(where).map(([k, v]) => {
      if (!/^\w+$/.test(k)) throw new TypeError(`bad filter field ${k}`);
      values.push(k, v);
      const key = `$${values.length - 1}::text`;
      // Only string fields match, as in SQLite where json_extract of a number never equals a text value.
      return ` AND json_typeof(spec -> ${key}) = 'string' AND spec ->> ${key} = $${values.length}`;
    });
    const { rows } = await this.db.query<{ spec: Item }>(
      `SELECT spec FROM ${this.db.t('items')} WHERE realm = $1 AND tbl = $2${conds.join('')} ORDER BY id`,
      values,
    );
    return rows.map((r) => r.spec);
  }
}
