/**
 * The state manager for job code: what upstream's `LavaStateItem.new(...).put()` and
 * `LavaStateItem.get(...).value` do, for TypeScript and JavaScript payloads.
 *
 * exe and pkg jobs run with LAVA_BACKEND, LAVA_REALM and LAVA_JOB_ID set, so inside a job
 *
 *   const state = await openState();
 *   const last = await state.get('orders/last-id', 0);
 *   await state.put('orders/last-id', last + 100, { ttl: '30d' });
 *   await state.close();
 *
 * needs no arguments. As upstream, the API does not refuse ids starting with "lava" (the
 * action and the CLI do).
 */
import { backendUrl, openBackend } from '../backends/index.js';
import type { Backend } from '../backends/ports.js';
import { resolveRealm } from '../backends/realm.js';
import { Config } from '../core/config.js';
import { NotFoundError } from '../core/errors.js';
import type { StateItem } from '../core/schemas.js';
import { processSetting } from '../core/settings.js';
import { systemClock, type Clock } from '../core/time.js';
import { getState, putState, type StateType } from './state.js';

export interface OpenStateOptions {
  /** A backend URL (default LAVA_BACKEND, else the embedded default), or a backend already open. */
  backend?: string | Backend;
  /** Default LAVA_REALM, else the only realm in the backend. */
  realm?: string;
  /** Environment to read LAVA_* from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Tests inject a fake clock. */
  clock?: Clock;
}

export interface StatePutOptions {
  /** `json` (default), `raw` or `secure`. */
  type?: StateType;
  /** Duration such as "12h" or a number of seconds; default STATE_TTL; over STATE_MAX_TTL is an error. */
  ttl?: string | number;
  /** Free text; default LAVA_JOB_ID, else "lava-state API". */
  publisher?: string;
}

/** A state item as read back: the decoded value and its metadata. */
export interface StateEntry {
  state_id: string;
  type: StateType;
  value: unknown;
  timestamp: string;
  /** Epoch seconds after which the item is gone. */
  ttl: number;
  publisher?: string;
}

export class LavaState {
  private closed = false;

  private constructor(
    readonly backend: Backend,
    readonly realm: string,
    private readonly config: Config,
    private readonly env: NodeJS.ProcessEnv,
    private readonly clock: Clock,
    private readonly owned: boolean,
  ) {}

  static async open(o: OpenStateOptions = {}): Promise<LavaState> {
    const env = o.env ?? process.env;
    const owned = typeof o.backend !== 'object';
    const backend = typeof o.backend === 'object' ? o.backend : await openBackend(backendUrl(o.backend, env));
    try {
      const realm = await resolveRealm(backend, { realm: o.realm, env, howToName: 'pass {realm} or set LAVA_REALM' });
      return new LavaState(backend, realm.realm, new Config(realm.config ?? {}, env), env, o.clock ?? systemClock, owned);
    } catch (err) {
      if (owned) await backend.close();
      throw err;
    }
  }

  /**
   * The value of a state item. A missing (or expired) item is an error, unless a fallback is
   * given: `get(id, 0)` returns 0 when the item is missing.
   */
  async get<T = unknown>(stateId: string, ...fallback: [] | [T]): Promise<T> {
    const got = await getState(this.backend, this.realm, stateId, this.clock);
    if (got.found) return got.value as T;
    if (fallback.length) return fallback[0];
    throw new NotFoundError('state item', stateId, `in realm ${this.realm}; pass a fallback, e.g. get(id, null), to allow that`);
  }

  /** The item with its metadata, or undefined when missing or expired. */
  async getEntry(stateId: string): Promise<StateEntry | undefined> {
    const got = await getState(this.backend, this.realm, stateId, this.clock);
    if (!got.found || !got.item) return undefined;
    return toEntry(got.item, got.value);
  }

  /** Store (replace) a state item. */
  async put(stateId: string, value: unknown, o: StatePutOptions = {}): Promise<StateEntry> {
    const item = await putState(
      this.backend,
      this.realm,
      this.config,
      stateId,
      value,
      {
        ...(o.type ? { type: o.type } : {}),
        ...(o.ttl !== undefined ? { ttl: o.ttl } : {}),
        overMaxTtl: 'error',
        publisher: o.publisher ?? processSetting('JOB_ID', { env: this.env }) ?? 'lava-state API',
      },
      this.clock,
    );
    return toEntry(item, value);
  }

  /** Remove a state item; false if there was none. */
  async delete(stateId: string): Promise<boolean> {
    return this.backend.state.delete(this.realm, stateId);
  }

  /** Close the backend if this object opened it (a backend passed in stays open). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.owned) await this.backend.close();
  }
}

/** `LavaState.open()`: defaults to LAVA_BACKEND and LAVA_REALM, as set for exe and pkg jobs. */
export function openState(o: OpenStateOptions = {}): Promise<LavaState> {
  return LavaState.open(o);
}

function toEntry(item: StateItem, value: unknown): StateEntry {
  return {
    state_id: item.state_id,
    type: item.type,
    value,
    timestamp: item.timestamp,
    ttl: item.ttl,
    ...(item.publisher !== undefined ? { publisher: item.publisher } : {}),
  };
}
