/** Every store suite a backend must pass, run in one call by each backend's test file. */
import { runBatchStoreConformance } from './batch-store.case.js';
import { runConfigStoreConformance } from './config-store.case.js';
import { runDirectoryConformance } from './directory.case.js';
import { runEventStoreConformance } from './event-store.case.js';
import type { ConformanceOptions } from './harness.js';
import { runQueueConformance } from './queue.case.js';
import { runRunClaimsConformance } from './run-claims.case.js';
import { runSecretStoreConformance } from './secret-store.case.js';
import { runStateStoreConformance } from './state-store.case.js';

const SUITES = {
  config: runConfigStoreConformance,
  events: runEventStoreConformance,
  runClaims: runRunClaimsConformance,
  state: runStateStoreConformance,
  secrets: runSecretStoreConformance,
  queue: runQueueConformance,
  directory: runDirectoryConformance,
  batches: runBatchStoreConformance,
} as const;

export interface BackendConformanceOptions extends Omit<ConformanceOptions, 'skip'> {
  /** Per suite: test title → why it is skipped on this backend. */
  skip?: Partial<Record<keyof typeof SUITES, Record<string, string>>>;
}

export function runBackendConformance(opts: BackendConformanceOptions): void {
  for (const [suite, run] of Object.entries(SUITES)) {
    const skip = opts.skip?.[suite as keyof typeof SUITES];
    run({ name: opts.name, make: opts.make, ...(skip ? { skip } : {}) });
  }
}
