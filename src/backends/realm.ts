/** Which realm a command or API call works on: `--realm` > `LAVA_REALM` > the only realm in the backend. */
import { ConfigError } from '../core/errors.js';
import type { RealmSpec } from '../core/schemas.js';
import { processSetting } from '../core/settings.js';
import type { Backend } from './ports.js';

export interface RealmChoice {
  /** The caller's explicit realm (`--realm`, `{ realm }`). */
  realm?: string | undefined;
  /** Environment to read LAVA_REALM from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** How the caller names a realm, for errors. @default 'pass --realm or set LAVA_REALM' */
  howToName?: string;
}

/** No realm was named and the backend does not have exactly one (code LAVA_CONFIG, as every setup error). */
export class RealmNotChosenError extends ConfigError {
  constructor(
    message: string,
    /** `none`: the backend has no realm; `several`: it has more than one. */
    readonly reason: 'none' | 'several',
  ) {
    super(message);
  }
}

const HOW_TO_NAME = 'pass --realm or set LAVA_REALM';

/** The explicit realm or LAVA_REALM, without asking the backend; undefined when neither is set. */
export function namedRealm(o: RealmChoice = {}): string | undefined {
  return processSetting('REALM', { flag: o.realm, ...(o.env ? { env: o.env } : {}) });
}

/** The realm's name: named, else the only realm in the backend. A named realm need not exist yet. */
export async function realmName(backend: Backend, o: RealmChoice = {}): Promise<string> {
  return namedRealm(o) ?? (await onlyRealm(backend, o.howToName ?? HOW_TO_NAME)).realm;
}

/** The realm's record: named (and existing), else the only realm in the backend. */
export async function resolveRealm(backend: Backend, o: RealmChoice = {}): Promise<RealmSpec> {
  const name = namedRealm(o);
  if (!name) return onlyRealm(backend, o.howToName ?? HOW_TO_NAME);
  const realm = await backend.config.getRealm(name);
  if (!realm) {
    const fix = o.howToName ? `${o.howToName} to an existing one` : `create it with \`lava init --realm ${name}\``;
    throw new ConfigError(`realm "${name}" does not exist in ${backend.url}: ${fix}`);
  }
  return realm;
}

async function onlyRealm(backend: Backend, howToName: string): Promise<RealmSpec> {
  const realms = await backend.config.listRealms();
  if (realms.length === 1 && realms[0]) return realms[0];
  if (!realms.length) throw new RealmNotChosenError(`no realm in ${backend.url}: create one with \`lava init\``, 'none');
  throw new RealmNotChosenError(
    `several realms in ${backend.url} (${realms.map((r) => r.realm).join(', ')}): ${howToName}`,
    'several',
  );
}
