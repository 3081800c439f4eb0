/**
 * The secret stores' shared crypto: AES-256-GCM with the realm name as additional data, and the
 * 32-byte key from LAVA_SECRET_KEY or a 0600 key file. Every backend stores the same `v1:` strings.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { ConfigError, LavaError } from '../core/errors.js';
import { processSetting } from '../core/settings.js';

export function encryptSecret(key: Buffer, realm: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(realm));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
}

export function decryptSecret(key: () => Buffer, realm: string, ciphertext: string): string {
  const [version, iv, tag, body] = ciphertext.split(':');
  if (version !== 'v1' || !iv || !tag || body === undefined) {
    throw new LavaError('LAVA_SECRET', 'stored secret is not in a known format: put it again with `lava secret put`');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key(), Buffer.from(iv, 'base64'));
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

/** LAVA_SECRET_KEY (base64, 32 bytes), or undefined when it is not set. */
export function keyFromEnv(env: NodeJS.ProcessEnv = process.env): Buffer | undefined {
  const fromEnv = processSetting('SECRET_KEY', { env });
  if (!fromEnv) return undefined;
  const buf = Buffer.from(fromEnv, 'base64');
  if (buf.length !== 32) throw new ConfigError('LAVA_SECRET_KEY must be 32 bytes, base64-encoded (openssl rand -base64 32)');
  return buf;
}

/** The key in `file` (base64), creating it with mode 0600 and a random key if it does not exist. */
export function readOrCreateKeyFile(file: string): Buffer {
  try {
    return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const created = randomBytes(32);
  try {
    fs.writeFileSync(file, created.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    return created;
  } catch {
    // Another process created it first.
    return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  }
}
