/** Configuration keys of the lavasched job type (see docs/configuration.md). */
import { defineKeys, type DeclaredKeys } from '../../core/config.js';

export const LAVASCHED_CONFIG = defineKeys({
  CRONTAB_FILE: {
    kind: 'str',
    default: '',
    doc: 'lavasched writes this file instead of running `crontab` (for /etc/cron.d-style systems and tests)',
  },
});

declare module '../../core/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the keys come from the extended type
  interface ConfigKeyRegistry extends DeclaredKeys<typeof LAVASCHED_CONFIG> {}
}
