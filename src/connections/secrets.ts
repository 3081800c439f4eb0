/**
 * Secret values for connections, fetched from the backend's SecretStore by name and cached
 * process-wide per (backend, realm, name) as upstream caches SSM parameters: at most
 * PARAM_CACHE_SIZE entries for PARAM_CACHE_TTL (TTL 0 = no expiry, no size limit).
 */
import type { Backend } from '../backends/ports.js';
import { ConnectionError } from './errors.js';

interface Entry {
  value: string;
  expires: number;
}

export interface CacheSettings {
  size: number;
  /** Seconds; 0 = never expire. */
  ttl: number;
}

const cache = new Map<string, Entry>();

/** Forget every cached secret (tests; `lava secret put` in the same process). */
export function clearSecretCache(): void {
  cache.clear();
}

export function secretCacheSize(): number {
  return cache.size;
}

/**
 * The value of secret `name`, or a ConnectionError that names the secret and the field that
 * refers to it (never a value).
 */
export async function getSecret(
  backend: Backend,
  realm: string,
  name: string,
  settings: CacheSettings,
  usedBy: string,
  now: () => number = Date.now,
): Promise<string> {
  const key = `${backend.url}\u0000${realm}\u0000${name}`;
  const hit = cache.get(key);
  const t = now();
  if (hit && (settings.ttl <= 0 || hit.expires > t)) {
    // Refresh LRU order.
    cache.delete(key);
    cache.set(key, hit);
    return hit.value;
  }
  if (hit) cache.delete(key);
  const value = await backend.secrets.get(realm, name);
  if (value === undefined) {
    throw new ConnectionError(
      `secret "${name}" (${usedBy}) does not exist in realm "${realm}": store it with \`lava secret put ${name} -\` (value on stdin)`,
    );
  }
  if (settings.size > 0 || settings.ttl <= 0) {
    cache.set(key, { value, expires: settings.ttl > 0 ? t + settings.ttl * 1000 : Number.POSITIVE_INFINITY });
    if (settings.ttl > 0) {
      while (cache.size > settings.size) {
        const oldest = cache.keys().next().value;
        if (oldest === undefined) break;
        cache.delete(oldest);
      }
    }
  }
  return value;
}
