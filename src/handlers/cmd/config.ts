/** Configuration keys of the cmd job type (see docs/configuration.md). */
import { defineKeys, type DeclaredKeys } from '../../core/config.js';

export const CMD_CONFIG = defineKeys({
  CMD_TIMEOUT: { kind: 'duration', default: '10m', doc: 'default cmd timeout' },
});

declare module '../../core/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the keys come from the extended type
  interface ConfigKeyRegistry extends DeclaredKeys<typeof CMD_CONFIG> {}
}
