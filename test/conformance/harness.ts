/** What every conformance suite shares: per-test realm names and skips that state their reason. */
import { randomBytes } from 'node:crypto';
import { it } from 'vitest';

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
