/** Configuration keys of object triggers and `lava triggers` (see docs/configuration.md and docs/triggers.md). */
import { defineKeys, type DeclaredKeys } from '../core/config.js';

export const TRIGGER_CONFIG = defineKeys({
  S3TRIGGER_QUEUE: {
    kind: 'str',
    default: '',
    doc: 'SQS queue (name or URL) that S3 event notifications are sent to; `lava triggers` polls it. Empty: none',
  },
  TRIGGER_SCAN_INTERVAL: {
    kind: 'duration',
    default: '30s',
    doc: 'how often `lava triggers` rereads the triggers table and rescans watched directories (for missed file events)',
  },
  TRIGGER_SETTLE: {
    kind: 'duration',
    default: '2s',
    doc: 'a watched file fires once its size and modification time have not changed for this long',
  },
  TRIGGER_FIRED_TTL: {
    kind: 'duration',
    default: '7d',
    doc: 'how long a firing is remembered, so that replicas and redelivered events fire an object event once',
  },
  S3TRIGGER_DEDUP_TTL: {
    kind: 'duration',
    default: '30s',
    doc: 'with S3TRIGGER_DEDUP_CACHE_SIZE above 0: an event of the same bucket, key, event type and size this soon after one that fired is dropped',
  },
  S3TRIGGER_DEDUP_CACHE_SIZE: {
    kind: 'int',
    default: 0,
    doc: 'most object events remembered for S3TRIGGER_DEDUP_TTL; 0 turns that dedup off',
  },
});

declare module '../core/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the keys come from the extended type
  interface ConfigKeyRegistry extends DeclaredKeys<typeof TRIGGER_CONFIG> {}
}
