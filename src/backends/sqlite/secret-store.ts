import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { LavaError } from '../../core/errors.js';
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
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key(), iv);
    cipher.setAAD(Buffer.from(realm));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
  }

  async decrypt(realm: string, ciphertext: string): Promise<string> {
    const [version, iv, tag, body] = ciphertext.split(':');
    if (version !== 'v1' || !iv || !tag || body === undefined) {
      throw new LavaError('LAVA_SECRET', 'stored secret is not in a known format: put it again with `lava secret put`');
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key(), Buffer.from(iv, 'base64'));
      decipher.setAAD(Buffer.from(realm));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
    } catch (cause) {
      throw new LavaError(
        'LAVA_SECRET',
        'cannot decrypt a stored secret: the key file or LAVA_SECRET_KEY differs from the one it was written with',
        { cause },
      );
    }
  }
}
