import path from 'node:path';
import { ConfigError } from '../core/errors.js';
import { processSetting } from '../core/settings.js';
import { isAwsUrl } from './aws/url.js';
import type { Backend } from './ports.js';
import { createPostgresBackend, isPostgresUrl } from './postgres/index.js';
import { createSqliteBackend } from './sqlite/index.js';

export const DEFAULT_BACKEND = 'sqlite:./.lava/lava.db';

/** `--backend URL` > `LAVA_BACKEND` > the embedded default. */
export function backendUrl(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return processSetting('BACKEND', { flag, env }) ?? DEFAULT_BACKEND;
}

export async function openBackend(url: string): Promise<Backend> {
  if (url.startsWith('sqlite:')) return createSqliteBackend(url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, ''));
  if (url.endsWith('.db') && !url.includes('://')) return createSqliteBackend(path.resolve(url));
  if (isPostgresUrl(url)) return createPostgresBackend(url);
  // Loaded on demand: the AWS SDK adds about half a second to every start.
  if (isAwsUrl(url)) return (await import('./aws/index.js')).createAwsBackend(url);
  throw new ConfigError(
    `unknown backend ${JSON.stringify(url)}: use sqlite:PATH, postgres://USER@HOST:PORT/DB or aws:// (e.g. --backend sqlite:./.lava/lava.db or LAVA_BACKEND)`,
  );
}

export type { Backend } from './ports.js';
