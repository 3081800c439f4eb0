import type { Directory, DirectoryEntry } from '../ports.js';
import type { Db } from './db.js';

interface Row {
  kind: string;
  id: string;
  data: Record<string, unknown>;
  updated: Date;
  expires: Date | null;
}

/** Times on the database clock, as leases are, so hosts with skewed clocks agree on who is alive. */
export class PostgresDirectory implements Directory {
  private readonly sql: Record<'put' | 'claim' | 'get' | 'list' | 'delete', string>;

  constructor(private readonly db: Db) {
    const t = db.t('directory');
    const live = '(expires IS NULL OR expires > now())';
    this.sql = {
      // A null ttl makes a null expiry: kept until deleted.
      put: `
        INSERT INTO ${t} (realm, kind, id, data, updated, expires)
        VALUES ($1, $2, $3, $4::json, now(), now() + $5::float8 * interval '1 second')
        ON CONFLICT (realm, kind, id) DO UPDATE SET data = excluded.data, updated = excluded.updated, expires = excluded.expires`,
      // Insert, or take over an expired entry; a live one is left alone. RETURNING yields a row only
      // when this statement wrote it, so of concurrent claims exactly one sees a row.
      claim: `
        INSERT INTO ${t} AS d (realm, kind, id, data, updated, expires)
        VALUES ($1, $2, $3, $4::json, now(), now() + $5::float8 * interval '1 second')
        ON CONFLICT (realm, kind, id) DO UPDATE SET data = excluded.data, updated = excluded.updated, expires = excluded.expires
        WHERE d.expires IS NOT NULL AND d.expires <= now()
        RETURNING 1`,
      get: `SELECT kind, id, data, updated, expires FROM ${t} WHERE realm = $1 AND kind = $2 AND id = $3 AND ${live}`,
      // Entries are few; dropping the expired ones of this kind here keeps the table small without a sweeper.
      // The SELECT sees the rows as they were before the DELETE, hence its own filter.
      list: `
        WITH gone AS (DELETE FROM ${t} WHERE realm = $1 AND kind = $2 AND expires <= now())
        SELECT kind, id, data, updated, expires FROM ${t} WHERE realm = $1 AND kind = $2 AND ${live} ORDER BY id`,
      delete: `DELETE FROM ${t} WHERE realm = $1 AND kind = $2 AND id = $3`,
    };
  }

  async put(realm: string, e: { kind: string; id: string; data: Record<string, unknown>; ttlSeconds?: number }): Promise<void> {
    await this.db.query(this.sql.put, [realm, e.kind, e.id, JSON.stringify(e.data), e.ttlSeconds ?? null]);
  }

  async claim(
    realm: string,
    e: { kind: string; id: string; data: Record<string, unknown>; ttlSeconds?: number },
  ): Promise<boolean> {
    const r = await this.db.query(this.sql.claim, [realm, e.kind, e.id, JSON.stringify(e.data), e.ttlSeconds ?? null]);
    return (r.rowCount ?? 0) > 0;
  }

  async get(realm: string, kind: string, id: string): Promise<DirectoryEntry | undefined> {
    const { rows } = await this.db.query<Row>(this.sql.get, [realm, kind, id]);
    return rows[0] && entry(rows[0]);
  }

  async list(realm: string, kind: string): Promise<DirectoryEntry[]> {
    return (await this.db.query<Row>(this.sql.list, [realm, kind])).rows.map(entry);
  }

  async delete(realm: string, kind: string, id: string): Promise<boolean> {
    return ((await this.db.query(this.sql.delete, [realm, kind, id])).rowCount ?? 0) > 0;
  }
}

function entry(row: Row): DirectoryEntry {
  return { kind: row.kind, id: row.id, data: row.data, updated: row.updated, ...(row.expires ? { expires: row.expires } : {}) };
}
