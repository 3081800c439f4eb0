import type { StateItem } from '../../core/schemas.js';
import type { StateStore } from '../ports.js';
import type { Db } from './db.js';

export class PostgresStateStore implements StateStore {
  constructor(private readonly db: Db) {}

  async get(realm: string, stateId: string): Promise<StateItem | undefined> {
    const { rows } = await this.db.query<{ item: StateItem }>(
      `SELECT item FROM ${this.db.t('state')} WHERE realm = $1 AND state_id = $2`,
      [realm, stateId],
    );
    return rows[0]?.item;
  }

  async put(realm: string, item: StateItem): Promise<void> {
    await this.db.query(
      `INSERT INTO ${this.db.t('state')} (realm, state_id, item) VALUES ($1, $2, $3::json)
       ON CONFLICT (realm, state_id) DO UPDATE SET item = excluded.item`,
      [realm, item.state_id, JSON.stringify(item)],
    );
  }

  async delete(realm: string, stateId: string): Promise<boolean> {
    const res = await this.db.query(`DELETE FROM ${this.db.t('state')} WHERE realm = $1 AND state_id = $2`, [realm, stateId]);
    return (res.rowCount ?? 0) > 0;
  }

  /** The prefix is literal: `starts_with`, not LIKE. */
  async list(realm: string, prefix = ''): Promise<StateItem[]> {
    const { rows } = await this.db.query<{ item: StateItem }>(
      `SELECT item FROM ${this.db.t('state')} WHERE realm = $1 AND starts_with(state_id, $2) ORDER BY state_id`,
      [realm, prefix],
    );
    return rows.map((r) => r.item);
  }
}
