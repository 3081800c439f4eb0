/** What every command needs: the backend, the realm, and a way to print. */
import { backendUrl, openBackend } from '../backends/index.js';
import type { Backend } from '../backends/ports.js';
import { resolveRealm as resolveRealmOf } from '../backends/realm.js';
import type { RealmSpec } from '../core/schemas.js';
import { processSetting } from '../core/settings.js';
import { checkZone, localZone } from '../core/zones.js';

export interface GlobalOptions {
  backend?: string;
  realm?: string;
}

export async function withBackend<T>(g: GlobalOptions, fn: (backend: Backend) => Promise<T>): Promise<T> {
  const backend = await openBackend(backendUrl(g.backend));
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

export { canonicalBackendUrl } from '../backends/index.js';

/** `--realm` > `LAVA_REALM` > the only realm in the backend. */
export function resolveRealm(backend: Backend, g: GlobalOptions): Promise<RealmSpec> {
  return resolveRealmOf(backend, { realm: g.realm });
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** A plain text table: columns padded to their widest cell. */
export function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  process.stdout.write([line(headers), ...rows.map(line)].join('\n') + '\n');
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** --tz > LAVA_DISPATCHER_TZ > this machine's zone. */
export function dispatcherZone(tz?: string): string {
  const z = processSetting('DISPATCHER_TZ', { flag: tz }) ?? localZone();
  checkZone(z);
  return z;
}
