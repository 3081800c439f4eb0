/** State items as shown outside the realm: a secure item's value never leaves the store. */
import type { Backend } from '../backends/ports.js';

export interface StateView {
  state_id: string;
  type: string;
  secure: boolean;
  value?: unknown;
  publisher: string | null;
  timestamp: string;
  ttl: number;
}

export async function listState(backend: Backend, realm: string, prefix = ''): Promise<StateView[]> {
  return (await backend.state.list(realm, prefix)).map((item) => ({
    state_id: item.state_id,
    type: item.type,
    secure: item.type === 'secure',
    ...(item.type === 'secure' ? {} : { value: item.value }),
    publisher: item.publisher ?? null,
    timestamp: item.timestamp,
    ttl: item.ttl,
  }));
}
