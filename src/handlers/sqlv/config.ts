/** Configuration keys of the sqlv job type (see docs/configuration.md). */
import { defineKeys, type DeclaredKeys } from '../../core/config.js';

export const SQLV_CONFIG = defineKeys({
  SQLV_TIMEOUT: { kind: 'duration', default: '10m', doc: 'default sqlv timeout' },
});

declare module '../../core/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the keys come from the extended type
  interface ConfigKeyRegistry extends DeclaredKeys<typeof SQLV_CONFIG> {}
}
