/** Configuration keys of the smb_get and smb_put job types (see docs/configuration.md). */
import { defineKeys, type DeclaredKeys } from '../../core/config.js';

export const SMB_CONFIG = defineKeys({
  SMB_TIMEOUT: { kind: 'duration', default: '10m', doc: 'default smb_get / smb_put timeout' },
});

declare module '../../core/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the keys come from the extended type
  interface ConfigKeyRegistry extends DeclaredKeys<typeof SMB_CONFIG> {}
}
