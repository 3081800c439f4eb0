import { decryptSecret, encryptSecret } from '../crypto.js';
import type { SecretStore } from '../ports.js';
import type { Db } from './db.js';

/**
 * Secrets encrypted with AES-256-GCM, exactly as the embedded backend stores them. The key never
 * enters the database: every host of a fleet gets the same LAVA_SECRET_KEY or key file.
 */
export class PostgresSecretStore implements SecretStore {
  constructor(
    private readonly db: Db,
    private readonly key: () => Buffer,
  ) {}

  async get(realm: string, name: string): Promise<string | undefined> {
    const { rows } = await this.db.query<{ value: string }>(
      `SELECT value FROM ${this.db.t('secrets')} WHERE realm = $1 AND name = $2`,
      [realm, name],
    );
    return rows[0] ? this.decrypt(realm, rows[0].value) : undefined;
  }

  async put(realm: string, name: string, value: string): Promise<void> {
    await this.db.query(
      `INSERT INTO ${this.db.t('secrets')} (realm, name, value) VALUES ($1, $2, $3)
       ON CONFLICT (realm, name) DO UPDATE SET value = excluded.value`,
      [realm, name, await this.encrypt(realm, value)],
    );
  }

  async delete(realm: string, name: string): Promise<boolean> {
    const res = await this.db.query(`DELETE FROM ${this.db.t('secrets')} WHERE realm = $1 AND name = $2`, [realm, name]);
    return (res.rowCount ?? 0) > 0;
  }

  async list(realm: string): Promise<string[]> {
    const { rows } = await this.db.query<{ name: string }>(
      `SELECT name FROM ${this.db.t('secrets')} WHERE realm = $1 ORDER BY name`,
      [realm],
    );
    return rows.map((r) => r.name);
  }

  async encrypt(realm: string, plaintext: string): Promise<string> {
    return encryptSecret(this.key(), realm, plaintext);
  }

  async decrypt(realm: string, ciphertext: string): Promise<string> {
    // Read first: a missing or malformed key must say so, not pass for a wrong one.
    const key = this.key();
    return decryptSecret(() => key, realm, ciphertext);
  }
}
