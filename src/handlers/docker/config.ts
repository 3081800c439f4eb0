/** Configuration keys of the docker job type (see docs/configuration.md). */
import { defineKeys, type DeclaredKeys } from '../../core/config.js';

export const DOCKER_CONFIG = defineKeys({
  DOCKER_TIMEOUT: { kind: 'duration', default: '10m', doc: 'default docker timeout (from container start)' },
  DOCKER_PULL: {
    kind: 'str',
    default: 'always',
    doc: 'docker image pull: always (as upstream) or missing (only images the daemon does not have)',
  },
});

declare module '../../core/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the keys come from the extended type
  interface ConfigKeyRegistry extends DeclaredKeys<typeof DOCKER_CONFIG> {}
}
