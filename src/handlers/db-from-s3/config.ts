/** Configuration keys of the db_from_s3 job type (see docs/configuration.md). */
import { defineKeys, type DeclaredKeys } from '../../core/config.js';

export const DB_FROM_S3_CONFIG = defineKeys({
  PG_COPY_TIMEOUT: { kind: 'duration', default: '30m', doc: 'db_from_s3: time allowed for one PostgreSQL COPY' },
});

declare module '../../core/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the keys come from the extended type
  interface ConfigKeyRegistry extends DeclaredKeys<typeof DB_FROM_S3_CONFIG> {}
}
