/** What every command needs: the backend, the realm, and a way to print. */
import { backendUrl, openBackend } from '../backends/index.js';
import type { Backend } from '../backends/ports.js';
import { ConfigError } from '../core/errors.js';
import type { RealmSpec } from '../core/schemas.js';

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
export async function resolveRealm(backend: Backend, g: GlobalOptions): Promise<RealmSpec> {
  const name = g.realm || process.env.LAVA_REALM;
  if (name) {
    const realm = await backend.config.getRealm(name);
    if (!realm)
      throw new ConfigError(`realm "${name}" does not exist in ${backend.url}: create it with \`lava init --realm ${name}\``);
    return realm;
  }
  const realms = await backend.config.listRealms();
  if (realms.length === 1) return realms[0] as RealmSpec;
  if (!realms.length) throw new ConfigError(`no realm in ${backend.url}: create one with \`lava init\``);
  throw new ConfigError(
    `several realms in ${backend.url} (${realms.map((r) => r.realm).join(', ')}): pass --realm or set LAVA_REALM`,
  );
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
