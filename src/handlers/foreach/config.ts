/** Configuration keys of the foreach job type (see docs/configuration.md). */
import { defineKeys, type DeclaredKeys } from '../../core/config.js';

export const FOREACH_CONFIG = defineKeys({
  FOREACH_LIMIT: { kind: 'int', default: 10, doc: 'default foreach limit' },
  FOREACH_MAX_LIMIT: { kind: 'int', default: 25, doc: 'maximum foreach limit' },
});

declare module '../../core/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the keys come from the extended type
  interface ConfigKeyRegistry extends DeclaredKeys<typeof FOREACH_CONFIG> {}
}
