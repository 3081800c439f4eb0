/** What every run of one worker shares: the run kernel's view of its host, with nothing of the daemon. */
import type { Backend } from '../backends/ports.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { RealmSpec } from '../core/schemas.js';
import type { Clock } from '../core/time.js';
import type { ActionRegistry } from './action.js';
import type { HandlerRegistry } from './handler.js';
import type { ProcessRegistry } from './process.js';

export interface RunEnvironment {
  readonly backend: Backend;
  readonly realm: RealmSpec;
  readonly config: Config;
  readonly worker: string;
  readonly hostname: string;
  readonly dev: boolean;
  readonly logger: Logger;
  readonly handlers: HandlerRegistry;
  readonly actions: ActionRegistry;
  readonly processes: ProcessRegistry;
  readonly clock: Clock;
  /** The worker's scratch root: `<TMPDIR>/<realm>/<worker>.<pid>`. */
  readonly workerDir: string;
  /** Aborted when the worker is forced to stop. */
  readonly signal: AbortSignal;
}
