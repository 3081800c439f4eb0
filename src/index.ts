/** Public API: open a backend, dispatch jobs, run workers, read and write state; the client (connect). */
export { openBackend, backendUrl, DEFAULT_BACKEND } from './backends/index.js';
export type * from './backends/ports.js';
export { dispatch, type DispatchRequest } from './dispatch/dispatch.js';
export { Worker, type WorkerOptions } from './worker/worker.js';
export {
  connect,
  LavaClient,
  RunHandle,
  type ConnectOptions,
  type DispatchOptions as ClientDispatchOptions,
  type RunsQuery,
  type FollowOptions,
  type RunResult,
  type ResultOptions,
  type OutputFile,
} from './client/client.js';
export { RunWaitTimeout, FINAL_STATUSES, STATUSES, type RunSummary } from './observe/runs.js';
export { putState, getState } from './state/state.js';
export { openState, LavaState, type OpenStateOptions, type StatePutOptions, type StateEntry } from './state/api.js';
export { Config } from './core/config.js';
export { CONFIG_PARAMS } from './handlers/config-keys.js';
export * from './core/errors.js';
export type { JobSpec, RealmSpec, ConnectionSpec, TriggerSpec, StateItem, DispatchMessage } from './core/schemas.js';
export type { Handler, HandlerContext, JobResult, RunJob } from './run/handler.js';
export type { Action, ActionContext } from './run/action.js';
export { createLogger } from './core/logger.js';
export {
  getConnection,
  getKysely,
  getCliConnection,
  getGenericConnection,
  getEmailConnection,
  getSlackConnection,
  getAwsConnection,
  getDockerConnection,
  getSshConnection,
  getConnectionSpec,
  prepareJobConnections,
  type ConnectionApiOptions,
} from './connections/api.js';
export { setLavaCommand } from './connections/cli-dir.js';
export { SqlError } from './connections/client.js';
export { ConnectionError } from './connections/errors.js';
export { clearSecretCache } from './connections/secrets.js';
export { splitStatements } from './connections/split.js';
export type { DbClient, QueryResult, RowSink, StreamResult, Dialect } from './connections/types.js';
export { submitBatch, deriveBatchId, type SubmitBatchRequest, type SubmitBatchResult } from './batch/submit.js';
export { admitOnce, runBatch, taskRunId, type AdmitOptions, type AdmitResult, type AdmissionInfo } from './batch/admission.js';
export { parsePolicy, backoffSeconds, type AdmissionPolicy, type Backoff } from './batch/policy.js';
export { HealthMonitor, parseGates, type HealthGate, type HealthReading } from './batch/health.js';
export { listDead, retryDead, discardDead } from './batch/dead.js';
export type { BusinessJob } from './batch/chunking.js';
export const version = '0.1.0';
