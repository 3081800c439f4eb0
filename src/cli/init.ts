/** `lava init`: an embedded realm in a directory (database, payload area, temp area). */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { openBackend } from '../backends/index.js';
import { namedRealm } from '../backends/realm.js';
import { makeDirsSync } from '../core/paths.js';
import type { RealmSpec } from '../core/schemas.js';
import { processSetting } from '../core/settings.js';
import type { GlobalOptions } from './context.js';

export const DEFAULT_REALM = 'default';

export interface EmbeddedRealm {
  backendUrl: string;
  realm: RealmSpec;
  created: boolean;
}

/** Realm-wide actions a new realm starts with: failures are logged with their reason. */
export const DEFAULT_ON_FAIL = [
  { action: 'log', message: 'job {{ job.job_id }} run {{ job.run_id }} failed: {{ result.error }}' },
];

export async function initEmbeddedRealm(dir: string, realmName: string, backendFlag?: string): Promise<EmbeddedRealm> {
  const root = path.resolve(dir);
  // New directories are private to the owner (LAVA_FILE_MODE); existing ones keep their mode.
  makeDirsSync(path.join(root, 'payloads'));
  makeDirsSync(path.join(root, 'temp'));
  const backendUrl = backendFlag ?? `sqlite:${path.join(root, 'lava.db')}`;
  const backend = await openBackend(backendUrl);
  try {
    const existing = await backend.config.getRealm(realmName);
    if (existing) return { backendUrl: backend.url, realm: existing, created: false };
    const realm: RealmSpec = {
      realm: realmName,
      s3_payloads: pathToFileURL(path.join(root, 'payloads')).href,
      s3_temp: pathToFileURL(path.join(root, 'temp')).href,
      config: {},
      on_success: [],
      on_fail: DEFAULT_ON_FAIL,
    };
    await backend.config.putRealm(realm);
    return { backendUrl: backend.url, realm, created: true };
  } finally {
    await backend.close();
  }
}

export function registerInit(program: Command, g: () => GlobalOptions): void {
  program
    .command('init')
    .description('create an embedded realm: a SQLite database, a payload area and a temp area in one directory')
    .option('--dir <dir>', 'directory for the realm (default: the directory of a sqlite LAVA_BACKEND, else .lava)')
    .action(async (o: { dir?: string }) => {
      const name = namedRealm({ realm: g().realm }) ?? DEFAULT_REALM;
      // An explicit --dir holds the database too, unless --backend says otherwise.
      const backend = g().backend ?? (o.dir ? undefined : processSetting('BACKEND'));
      const sqlitePath = backend?.startsWith('sqlite:') ? backend.slice('sqlite:'.length) : undefined;
      const dir = o.dir ?? (sqlitePath ? path.dirname(sqlitePath) : '.lava');
      const r = await initEmbeddedRealm(dir, name, backend);
      process.stdout.write(
        `${r.created ? 'created' : 'found existing'} realm ${r.realm.realm} in ${r.backendUrl}\n` +
          `  payloads: ${r.realm.s3_payloads}\n  temp:     ${r.realm.s3_temp}\n`,
      );
      if (
        r.backendUrl !== backendUrlOf(processSetting('BACKEND')) &&
        !g().backend &&
        path.resolve(dir) !== path.resolve('.lava')
      ) {
        process.stdout.write(`use it with: export LAVA_BACKEND=${r.backendUrl}\n`);
      }
    });
}

function backendUrlOf(url: string | undefined): string | undefined {
  return url?.startsWith('sqlite:') ? `sqlite:${path.resolve(url.slice('sqlite:'.length))}` : url;
}
