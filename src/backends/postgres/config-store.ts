import type { RealmSpec } from '../../core/schemas.js';
import { CONFIG_TABLES, type ConfigStore, type ConfigTable, type Item } from '../ports.js';
import type { Db } from './db.js';
import { CONFIG_CHANNEL, type QueueNotifier } from './notifier.js';

/** A cached item is read again after this long, whatever the notifications say. */
export const CONFIG_CACHE_MS = 5_000;

/**
 * Realms and their jobs/connections/triggers as `json` documents (kept verbatim, key order included).
 *
 * `get` is on every run's path (a worker reads the job's spec for each message), so items are cached
 * while the backend's LISTEN connection is up. Every change made through this store notifies
 * `lava_config` in the statement that makes it, so every process drops its cache when the change
 * commits. The cache is also dropped whenever the LISTEN connection is lost or re-established, is not
 * used while it is down, and never serves an item older than CONFIG_CACHE_MS.
 */
export class PostgresConfigStore implements ConfigStore {
  private readonly cache = new Map<string, { item: Item | undefined; at: number }>();
  /** Bumped on every invalidation: a read that started before one is not cached. */
  private generation = 0;

  constructor(
    private readonly db: Db,
    private readonly notifier?: QueueNotifier,
  ) {
    notifier?.onConfigChange(() => this.invalidate());
  }

  private invalidate(): void {
    this.generation++;
    this.cache.clear();
  }

  /**
   * Run a change (an INSERT, UPDATE or DELETE without RETURNING) with the notification added: sent
   * when it commits. Returns how many rows it changed.
   */
  private async change(sql: string, values: unknown[]): Promise<number> {
    const n = values.length + 1;
    const { rows } = await this.db.query<{ n: number }>(
      `WITH change AS (${sql} RETURNING 1)
       SELECT (SELECT count(*) FROM change)::int AS n, pg_notify('${CONFIG_CHANNEL}', $${n}::text)`,
      [...values, this.db.opts.schema],
    );
    this.invalidate();
    return rows[0]?.n ?? 0;
  }

  async getRealm(realm: string): Promise<RealmSpec | undefined> {
    const { rows } = await this.db.query<{ spec: RealmSpec }>(`SELECT spec FROM ${this.db.t('realms')} WHERE realm = $1`, [
      realm,
    ]);
    return rows[0]?.spec;
  }

  async putRealm(spec: RealmSpec): Promise<void> {
    await this.change(
      `INSERT INTO ${this.db.t('realms')} (realm, spec) VALUES ($1, $2::json)
       ON CONFLICT (realm) DO UPDATE SET spec = excluded.spec`,
      [spec.realm, JSON.stringify(spec)],
    );
  }

  async deleteRealm(realm: string): Promise<boolean> {
    return (await this.change(`DELETE FROM ${this.db.t('realms')} WHERE realm = $1`, [realm])) > 0;
  }

  async listRealms(): Promise<RealmSpec[]> {
    const { rows } = await this.db.query<{ spec: RealmSpec }>(`SELECT spec FROM ${this.db.t('realms')} ORDER BY realm`);
    return rows.map((r) => r.spec);
  }

  async get(realm: string, table: ConfigTable, id: string): Promise<Item | undefined> {
    const caching = this.notifier?.listening === true;
    const key = caching ? JSON.stringify([realm, table, id]) : '';
    if (caching) {
      const hit = this.cache.get(key);
      if (hit && Date.now() - hit.at < CONFIG_CACHE_MS) return hit.item && structuredClone(hit.item);
    }
    const generation = this.generation;
    const at = Date.now();
    const { rows } = await this.db.query<{ spec: Item }>(
      `SELECT spec FROM ${this.db.t('items')} WHERE realm = $1 AND tbl = $2 AND id = $3`,
      [realm, table, id],
    );
    const item = rows[0]?.spec;
    // Cached only when no change was seen while it was read, and while changes can be heard.
    if (caching && generation === this.generation && this.notifier?.listening) {
      this.cache.set(key, { item: item && structuredClone(item), at });
    }
    return item;
  }

  async put(realm: string, table: ConfigTable, item: Item): Promise<void> {
    const id = item[CONFIG_TABLES[table]];
    if (typeof id !== 'string' || !id) throw new TypeError(`${table} item needs a string ${CONFIG_TABLES[table]}`);
    await this.change(
      `INSERT INTO ${this.db.t('items')} (realm, tbl, id, spec) VALUES ($1, $2, $3, $4::json)
       ON CONFLICT (realm, tbl, id) DO UPDATE SET spec = excluded.spec`,
      [realm, table, id, JSON.stringify(item)],
    );
  }

  async delete(realm: string, table: ConfigTable, id: string): Promise<boolean> {
    const n = await this.change(`DELETE FROM ${this.db.t('items')} WHERE realm = $1 AND tbl = $2 AND id = $3`, [
      realm,
      table,
      id,
    ]);
    return n > 0;
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
