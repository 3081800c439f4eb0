import { processSetting } from '../core/settings.js';
import type { Backend } from './ports.js';
import { backendFor } from './registry.js';

export const DEFAULT_BACKEND = 'sqlite:./.lava/lava.db';

/** `--backend URL` > `LAVA_BACKEND` > the embedded default. */
export function backendUrl(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return processSetting('BACKEND', { flag, env }) ?? DEFAULT_BACKEND;
}

/** Open the backend whose descriptor takes `url` (see registry.ts). */
export async function openBackend(url: string): Promise<Backend> {
  return backendFor(url).open(url);
}

export { snapshotSqlite, pgDumpCommand } from './snapshot.js';
export { isPostgresUrl } from './postgres/db.js';
export { backendAdmin, backendNamed, canonicalBackendUrl, findBackend, registerBackend } from './registry.js';
export type * from './descriptor.js';
export type { Backend } from './ports.js';
