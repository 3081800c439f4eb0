/** Configuration keys of the sql job type (see docs/configuration.md). */
import { defineKeys, type DeclaredKeys } from '../../core/config.js';

export const SQL_CONFIG = defineKeys({
  SQL_OUTPUT_SUFFIX: { kind: 'str', default: '.out', doc: 'suffix of sql result files' },
});

declare module '../../core/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the keys come from the extended type
  interface ConfigKeyRegistry extends DeclaredKeys<typeof SQL_CONFIG> {}
}
