/**
 * What every conformance suite shares: its options, opening what is under test once per suite,
 * per-test realm names and skips that state their reason.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, it } from 'vitest';
import type { Backend } from '../../src/backends/ports.js';
import type { RealmSpec } from '../../src/core/schemas.js';

/** How a backend test file runs a suite against what it makes (by default a Backend). */
export interface ConformanceOptions<T = { backend: Backend }> {
  name: string;
  make: () => Promise<T & { cleanup: () => Promise<void> }>;
  /** Test title → why it is skipped on this backend. */
  skip?: Record<string, string>;
}

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

/** Make what a suite tests once before it (cleaned up after it); `onReady` hands it to the suite. */
export function useSubject<T>(make: ConformanceOptions<T>['make'], onReady: (subject: T) => void): void {
  let cleanup: () => Promise<void> = async () => {};
  beforeAll(async () => {
    const subject = await make();
    cleanup = subject.cleanup;
    onReady(subject);
  }, 60_000);
  afterAll(async () => {
    await cleanup();
  }, 60_000);
}

const defaultRealmSpec = (realm: string): RealmSpec => ({ realm, s3_payloads: 'file:///tmp/p', s3_temp: 'file:///tmp/t' });

/**
 * Open the backend under test once per suite (closed after it) and make fresh realms on it
 * (some backends need the realm before its tables). `onReady` hands the opened backend to the suite.
 */
export function useBackend(
  make: ConformanceOptions['make'],
  onReady: (backend: Backend) => void,
  realmSpec: (realm: string) => RealmSpec = defaultRealmSpec,
): { freshRealm(label: string): Promise<string> } {
  let backend: Backend | undefined;
  useSubject(make, (opened) => {
    backend = opened.backend;
    onReady(opened.backend);
  });
  return {
    async freshRealm(label: string): Promise<string> {
      const realm = uniqueRealm(label);
      await backend!.config.putRealm(realmSpec(realm));
      return realm;
    },
  };
}
