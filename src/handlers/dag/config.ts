/** Configuration keys of the dag job type (see docs/configuration.md). */
import os from 'node:os';
import { defineKeys, type DeclaredKeys } from '../../core/config.js';

const cpus = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);

export const DAG_CONFIG = defineKeys({
  DAG_WORKERS: { kind: 'int', default: cpus, doc: 'default dag parallelism' },
  DAG_MAX_WORKERS: { kind: 'int', default: 4 * cpus, doc: 'maximum dag parallelism' },
});

declare module '../../core/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the keys come from the extended type
  interface ConfigKeyRegistry extends DeclaredKeys<typeof DAG_CONFIG> {}
}
