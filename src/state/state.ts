/**
 * The state manager: small named values jobs share across runs. Types: `json` (JSON text),
 * `raw` (stored as given), `secure` (JSON text encrypted with the realm's key).
 */
import type { Backend } from '../backends/ports.js';
import type { Config } from '../core/config.js';
import { LavaError, ValidationError } from '../core/errors.js';
import { checkStateId } from '../core/paths.js';
import type { StateItem } from '../core/schemas.js';
import { isoLocal, systemClock, type Clock } from '../core/time.js';
import { parseDuration } from '../core/units.js';

export type StateType = StateItem['type'];

export interface PutStateOptions {
  type?: StateType;
  /** Duration; default STATE_TTL, at most STATE_MAX_TTL (see `overMaxTtl`). */
  ttl?: string | number;
  /**
   * A `ttl` over STATE_MAX_TTL: `cap` it silently (upstream, and the state action) or refuse it with
   * an `error` (the CLI and the API, where a person typed the value). @default 'cap'
   */
  overMaxTtl?: 'cap' | 'error';
  publisher?: string;
  /** Refuse ids starting with "lava" (the action and CLI do; the API does not, as upstream). */
  checkReserved?: boolean;
}

export async function putState(
  backend: Backend,
  realm: string,
  config: Config,
  stateId: string,
  value: unknown,
  o: PutStateOptions = {},
  clock: Clock = systemClock,
): Promise<StateItem> {
  checkStateId(stateId);
  if (o.checkReserved && stateId.toLowerCase().startsWith('lava')) {
    throw new ValidationError(`state_id "${stateId}" is reserved (ids starting with "lava" belong to Lava): rename it`);
  }
  const type = o.type ?? 'json';
  if (!['json', 'raw', 'secure'].includes(type)) throw new ValidationError(`state type "${type}": use json, raw or secure`);
  const requested = parseDuration(o.ttl ?? config.duration('STATE_TTL'), 'ttl');
  if (requested <= 0) throw new ValidationError(`ttl ${JSON.stringify(o.ttl)} must be positive, e.g. "7d"`);
  const maxTtl = config.duration('STATE_MAX_TTL');
  if (requested > maxTtl && o.overMaxTtl === 'error') {
    throw new ValidationError(
      `ttl ${JSON.stringify(o.ttl)} is longer than STATE_MAX_TTL (${maxTtl % 86400 ? `${maxTtl}s` : `${maxTtl / 86400}d`}): use a shorter ttl, or raise STATE_MAX_TTL in the realm's config`,
    );
  }
  const ttl = Math.min(requested, maxTtl);
  const now = clock.now();
  let stored: unknown = value;
  if (type === 'json') stored = JSON.stringify(value);
  else if (type === 'secure') {
    const text = JSON.stringify(value);
    if (Buffer.byteLength(text) > 4096) throw new ValidationError('secure state values are limited to 4096 bytes of JSON');
    stored = await backend.secrets.encrypt(realm, text);
  }
  const item: StateItem = {
    state_id: stateId,
    type,
    value: stored,
    timestamp: isoLocal(now),
    ttl: Math.floor(now.getTime() / 1000 + ttl),
    ...(o.publisher ? { publisher: o.publisher } : {}),
  };
  await backend.state.put(realm, item);
  return item;
}

/** The decoded value of a state item, or undefined when missing or expired. */
export async function getState(
  backend: Backend,
  realm: string,
  stateId: string,
  clock: Clock = systemClock,
): Promise<{ found: boolean; value?: unknown; item?: StateItem }> {
  const item = await backend.state.get(realm, stateId);
  // Unlike upstream (which returns items DynamoDB has not reaped yet), an expired item is gone.
  if (!item || item.ttl * 1000 < clock.now().getTime()) return { found: false };
  return { found: true, value: await decodeState(backend, realm, item), item };
}

export async function decodeState(backend: Backend, realm: string, item: StateItem): Promise<unknown> {
  try {
    switch (item.type) {
      case 'json':
        return JSON.parse(String(item.value)) as unknown;
      case 'raw':
        return item.value;
      case 'secure':
        return JSON.parse(await backend.secrets.decrypt(realm, String(item.value))) as unknown;
    }
  } catch (cause) {
    throw new LavaError('LAVA_STATE', `state item "${item.state_id}" cannot be decoded as ${item.type}: put it again`, { cause });
  }
}

/** A job's `state` map: each default replaced by the stored value when there is one. */
export async function importState(
  backend: Backend,
  realm: string,
  defaults: Record<string, unknown>,
  _config: Config,
  clock: Clock = systemClock,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { ...defaults };
  for (const id of Object.keys(defaults)) {
    const got = await getState(backend, realm, id, clock);
    if (got.found) out[id] = got.value;
  }
  return out;
}
