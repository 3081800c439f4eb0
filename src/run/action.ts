/** The contract between the run pipeline and a post-job action type. */
import type { Backend } from '../backends/ports.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { RealmSpec } from '../core/schemas.js';
import type { RunJob } from './handler.js';

export type ActionSpec = Record<string, unknown> & { action: string };

export interface ActionContext {
  readonly job: RunJob;
  readonly realm: RealmSpec;
  readonly config: Config;
  readonly backend: Backend;
  readonly logger: Logger;
  /** Which list the action is in: after `complete`, a retried attempt, or the final failure. */
  readonly when?: 'on_success' | 'on_retry' | 'on_fail';
  /** Template variables: the job context plus `result`. */
  readonly templateContext: Record<string, unknown>;
}

export interface Action {
  readonly type: string;
  run(spec: ActionSpec, ctx: ActionContext): Promise<void>;
}

/** Action types by name (actions/registry.ts builds the built-in one). */
export type ActionRegistry = ReadonlyMap<string, Action>;
