import type Database from 'better-sqlite3';
import type { StateItem } from '../../core/schemas.js';
import type { StateStore } from '../ports.js';

export class SqliteStateStore implements StateStore {
  constructor(private readonly db: Database.Database) {}

  async get(realm: string, stateId: string): Promise<StateItem | undefined> {
    const row = this.db.prepare('SELECT item FROM state WHERE realm = ? AND state_id = ?').get(realm, stateId) as
      { item: string } | undefined;
    return row ? (JSON.parse(row.item) as StateItem) : undefined;
  }

  async put(realm: string, item: StateItem): Promise<void> {
    this.db
      .prepare('INSERT OR REPLACE INTO state (realm, state_id, item) VALUES (?, ?, ?)')
      .run(realm, item.state_id, JSON.stringify(item));
  }

  async delete(realm: string, stateId: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM state WHERE realm = ? AND state_id = ?').run(realm, stateId).changes > 0;
  }

  async list(realm: string, prefix = ''): Promise<StateItem[]> {
    const rows = this.db
      .prepare('SELECT item FROM state WHERE realm = ? AND substr(state_id, 1, length(?)) = ? ORDER BY state_id')
      .all(realm, prefix, prefix) as { item: string }[];
    return rows.map((r) => JSON.parse(r.item) as StateItem);
  }
}
