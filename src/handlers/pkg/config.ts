/** Configuration keys of the pkg job type (see docs/configuration.md). */
import { defineKeys, type DeclaredKeys } from '../../core/config.js';

export const PKG_CONFIG = defineKeys({
  PKG_TIMEOUT: { kind: 'duration', default: '10m', doc: 'default pkg timeout (per package)' },
  PKG_UNPACK_TIMEOUT: { kind: 'duration', default: '30s', doc: 'time allowed to unpack a package' },
  PKG_MAX_PAYLOAD_SIZE: { kind: 'size', default: '20M', doc: 'largest pkg payload' },
});

declare module '../../core/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the keys come from the extended type
  interface ConfigKeyRegistry extends DeclaredKeys<typeof PKG_CONFIG> {}
}
