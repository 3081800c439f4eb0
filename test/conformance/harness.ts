/** What every conformance suite shares: per-test realm names and skips that state their reason. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, it } from 'vitest';
import type { Backend } from '../../src/backends/ports.js';

/** A realm name unique to one test, readable in failures. */
export function uniqueRealm(label: string): string {
  const slug = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 20);
  return `${slug}-${randomBytes(4).toString('hex')}`;
}

/** `it`, except that a title listed in `skip` is skipped with its reason in the title. */
export function skippableTest(backendName: string, skip: Record<string, string> = {}) {
  return (title: string, fn: () => Promise<void>, timeout?: number): void => {
    const reason = skip[title];
    if (reason !== undefined) it.skip(`${title} [skipped on ${backendName}: ${reason}]`, fn);
    else it(title, fn, timeout);
  };
}

/**
 * Open the backend under test once per suite (closed after it) and make fresh realms on it.
 * `onReady` hands the opened backend to the suite.
 */
export function useBackend(
  make: () => Promise<{ backend: Backend; cleanup: () => Promise<void> }>,
  onReady: (backend: Backend) => void,
): { freshRealm(label: string): Promise<string> } {
  let backend: Backend | undefined;
  let cleanup: () => Promise<void> = async () => {};
  beforeAll(async () => {
    ({ backend, cleanup } = await make());
    onReady(backend);
  }, 60_000);
  afterAll(async () => {
    await cleanup();
  }, 60_000);
  return {
    async freshRealm(label: string): Promise<string> {
      const realm = uniqueRealm(label);
      await backend!.config.putRealm({ realm, s3_payloads: 'file:///tmp/p', s3_temp: 'file:///tmp/t' });
      return realm;
    },
  };
}
