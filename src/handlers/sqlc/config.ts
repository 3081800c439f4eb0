/** Configuration keys of the sqlc job type (see docs/configuration.md). */
import { defineKeys, type DeclaredKeys } from '../../core/config.js';

export const SQLC_CONFIG = defineKeys({
  SQLC_MAX_PAYLOAD_SIZE: { kind: 'size', default: '100K', doc: 'largest sqlc payload' },
  SQLC_TIMEOUT: { kind: 'duration', default: '10m', doc: 'default sqlc timeout' },
});

declare module '../../core/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the keys come from the extended type
  interface ConfigKeyRegistry extends DeclaredKeys<typeof SQLC_CONFIG> {}
}
