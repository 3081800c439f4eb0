/** Configuration keys of the exe job type (see docs/configuration.md). */
import { defineKeys, type DeclaredKeys } from '../../core/config.js';

export const EXE_CONFIG = defineKeys({
  EXE_TIMEOUT: { kind: 'duration', default: '10m', doc: 'default exe timeout (per executable)' },
  EXE_MAX_PAYLOAD_SIZE: { kind: 'size', default: '10M', doc: 'largest exe payload' },
});

declare module '../../core/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the keys come from the extended type
  interface ConfigKeyRegistry extends DeclaredKeys<typeof EXE_CONFIG> {}
}
