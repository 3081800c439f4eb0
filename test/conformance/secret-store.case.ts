/**
 * SecretStore conformance: named secrets per realm and realm-keyed encryption.
 * Backend-agnostic: every test uses its own realm.
 */
import { describe, expect } from 'vitest';
import type { Backend } from '../../src/backends/ports.js';
import { type ConformanceOptions, skippableTest, useBackend } from './harness.js';

export type SecretStoreConformanceOptions = ConformanceOptions;

export function runSecretStoreConformance(opts: SecretStoreConformanceOptions): void {
  const test = skippableTest(opts.name, opts.skip);

  describe(`SecretStore conformance: ${opts.name}`, () => {
    let backend!: Backend;
    const { freshRealm } = useBackend(opts.make, (b) => (backend = b));

    test('put/get/list/delete', async () => {
      const realm = await freshRealm('sec-crud');
      expect(await backend.secrets.get(realm, 'db/password')).toBeUndefined();
      expect(await backend.secrets.list(realm)).toEqual([]);
      await backend.secrets.put(realm, 'db/password', 'hunter2');
      await backend.secrets.put(realm, 'api-token', 'tok-ünïcødé ✓ {"json": true}');
      await backend.secrets.put(realm, 'empty', '');
      expect(await backend.secrets.get(realm, 'db/password')).toBe('hunter2');
      expect(await backend.secrets.get(realm, 'api-token')).toBe('tok-ünïcødé ✓ {"json": true}');
      expect(await backend.secrets.get(realm, 'empty')).toBe('');
      expect(await backend.secrets.list(realm)).toEqual(['api-token', 'db/password', 'empty']);

      expect(await backend.secrets.delete(realm, 'db/password')).toBe(true);
      expect(await backend.secrets.get(realm, 'db/password')).toBeUndefined();
      expect(await backend.secrets.delete(realm, 'db/password')).toBe(false);
      expect(await backend.secrets.list(realm)).toEqual(['api-token', 'empty']);
    });

    test('put replaces the value', async () => {
      const realm = await freshRealm('sec-replace');
      await backend.secrets.put(realm, 's', 'first');
      await backend.secrets.put(realm, 's', 'second');
      expect(await backend.secrets.get(realm, 's')).toBe('second');
      expect(await backend.secrets.list(realm)).toEqual(['s']);
    });

    test('realms are isolated', async () => {
      const r1 = await freshRealm('sec-iso-1');
      const r2 = await freshRealm('sec-iso-2');
      await backend.secrets.put(r1, 'shared', 'one');
      await backend.secrets.put(r2, 'shared', 'two');
      expect(await backend.secrets.get(r1, 'shared')).toBe('one');
      expect(await backend.secrets.get(r2, 'shared')).toBe('two');
      await backend.secrets.delete(r1, 'shared');
      expect(await backend.secrets.get(r2, 'shared')).toBe('two');
      expect(await backend.secrets.list(r1)).toEqual([]);
    });

    test('encrypt/decrypt round trip', async () => {
      const realm = await freshRealm('sec-crypt');
      for (const plain of ['hello', '', 'ünïcødé ✓ 🔑', 'x'.repeat(10_000), '{"a": [1, 2]}']) {
        const c = await backend.secrets.encrypt(realm, plain);
        expect(typeof c).toBe('string');
        expect(await backend.secrets.decrypt(realm, c)).toBe(plain);
      }
    });

    test('ciphertext differs from the plaintext and from a second encryption', async () => {
      const realm = await freshRealm('sec-cipher');
      const plain = 'the quick brown fox jumps over the lazy dog';
      const c1 = await backend.secrets.encrypt(realm, plain);
      const c2 = await backend.secrets.encrypt(realm, plain);
      expect(c1).not.toBe(plain);
      expect(c1).not.toContain(plain);
      expect(c1).not.toContain(Buffer.from(plain).toString('base64'));
      expect(c1).not.toBe(c2);
      expect(await backend.secrets.decrypt(realm, c2)).toBe(plain);
    });

    test('decrypt with the wrong realm fails', async () => {
      const r1 = await freshRealm('sec-wrong-1');
      const r2 = await freshRealm('sec-wrong-2');
      const c = await backend.secrets.encrypt(r1, 'for realm one only');
      await expect(backend.secrets.decrypt(r2, c)).rejects.toThrow();
      expect(await backend.secrets.decrypt(r1, c)).toBe('for realm one only');
    });

    test('decrypt of garbage or tampered ciphertext fails', async () => {
      const realm = await freshRealm('sec-tamper');
      await expect(backend.secrets.decrypt(realm, 'not a ciphertext')).rejects.toThrow();
      await expect(backend.secrets.decrypt(realm, '')).rejects.toThrow();
      const c = await backend.secrets.encrypt(realm, 'sensitive value');
      // Flip one character near the end (inside the encrypted body or tag).
      const i = c.length - 3;
      const flipped = c.slice(0, i) + (c[i] === 'A' ? 'B' : 'A') + c.slice(i + 1);
      await expect(backend.secrets.decrypt(realm, flipped)).rejects.toThrow();
    });
  });
}
