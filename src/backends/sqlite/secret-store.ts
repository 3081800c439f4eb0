import type Database from 'better-sqlite3';
import { decryptSecret, encryptSecret } from '../crypto.js';
import type { SecretStore } from '../ports.js';

/**
 * Secrets encrypted with AES-256-GCM. The key lives outside the database file (a 0600 key file
 * or LAVA_SECRET_KEY), so a copy of the database alone does not reveal them.
 */
export class SqliteSecretStore implements SecretStore {
  constructor(
    private readonly db: Database.Database,
    private readonly key: () => Buffer,
  ) {}

  async get(realm: string, name: string): Promise<string | undefined> {
    const row = this.db.prepare('SELECT value FROM secrets WHERE realm = ? AND name = ?').get(realm, name) as
      { value: string } | undefined;
    return row ? this.decrypt(realm, row.value) : undefined;
  }

  async put(realm: string, name: string, value: string): Promise<void> {
    this.db
      .prepare('INSERT OR REPLACE INTO secrets (realm, name, value) VALUES (?, ?, ?)')
      .run(realm, name, await this.encrypt(realm, value));
  }

  async delete(realm: string, name: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM secrets WHERE realm = ? AND name = ?').run(realm, name).changes > 0;
  }

  async list(realm: string): Promise<string[]> {
    const rows = this.db.prepare('SELECT name FROM secrets WHERE realm = ? ORDER BY name').all(realm) as { name: string }[];
    return rows.map((r) => r.name);
  }

  async encrypt(realm: string, plaintext: string): Promise<string> {
    return encryptSecret(this.key(), realm, plaintext);
  }

  async decrypt(realm: string, ciphertext: string): Promise<string> {
    return decryptSecret(this.key, realm, ciphertext);
  }
}
