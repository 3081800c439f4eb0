/**
 * API tokens: `lava_<id>_<secret>`. Only a SHA-256 of the secret is stored (in the realm's directory,
 * kind `token`); the token itself is printed once when it is made. Secrets are 32 random bytes, so a
 * fast hash is enough: there is nothing to guess by brute force.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Backend } from '../backends/ports.js';
import { ValidationError } from '../core/errors.js';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Viewer reads; operator also dispatches and stops runs; admin also manages tokens. */
export function roleAllows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

export function checkRole(value: string): Role {
  if ((ROLES as readonly string[]).includes(value)) return value as Role;
  throw new ValidationError(`role "${value}" is not one of ${ROLES.join(', ')}: use --role viewer|operator|admin`);
}

export interface TokenInfo {
  id: string;
  role: Role;
  name: string;
  created: string;
}

const KIND = 'token';

function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export async function createToken(
  backend: Backend,
  realm: string,
  role: Role,
  name = '',
): Promise<{ token: string; info: TokenInfo }> {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const info: TokenInfo = { id, role, name, created: new Date().toISOString() };
  await backend.directory.put(realm, { kind: KIND, id, data: { ...info, sha256: digest(secret) } });
  return { token: `lava_${id}_${secret}`, info };
}

export async function listTokens(backend: Backend, realm: string): Promise<TokenInfo[]> {
  return (await backend.directory.list(realm, KIND)).map((e) => ({
    id: e.id,
    role: checkRole(String(e.data.role)),
    name: String(e.data.name ?? ''),
    created: String(e.data.created ?? ''),
  }));
}

export function deleteToken(backend: Backend, realm: string, id: string): Promise<boolean> {
  return backend.directory.delete(realm, KIND, id);
}

const TOKEN_FORMAT = /^lava_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** The token's id and role, or undefined when it is malformed, unknown or revoked. */
export async function verifyToken(backend: Backend, realm: string, token: string): Promise<TokenInfo | undefined> {
  const m = TOKEN_FORMAT.exec(token);
  if (!m) return undefined;
  const entry = await backend.directory.get(realm, KIND, m[1] as string);
  const stored = entry && typeof entry.data.sha256 === 'string' ? Buffer.from(entry.data.sha256, 'hex') : undefined;
  const given = Buffer.from(digest(m[2] as string), 'hex');
  if (!entry || !stored || stored.length !== given.length || !timingSafeEqual(stored, given)) return undefined;
  return {
    id: entry.id,
    role: checkRole(String(entry.data.role)),
    name: String(entry.data.name ?? ''),
    created: String(entry.data.created ?? ''),
  };
}

/** Does the realm have any token? Then every request needs one. */
export async function hasTokens(backend: Backend, realm: string): Promise<boolean> {
  return (await backend.directory.list(realm, KIND)).length > 0;
}
