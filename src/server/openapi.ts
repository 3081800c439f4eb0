/**
 * The published OpenAPI 3.1 document of the HTTP API. A test checks that every route of the app is
 * described here and nothing else, so the two cannot drift apart.
 */
import { BATCH_TASK_STATES } from '../backends/ports.js';
import { ROLES } from './tokens.js';
import { STATUSES } from '../observe/runs.js';

type Schema = Record<string, unknown>;

const str = { type: 'string' };
const num = { type: 'number' };
const int = { type: 'integer' };
const time = { type: 'string', format: 'date-time' };
const nullable = (s: Schema): Schema => ({ anyOf: [s, { type: 'null' }] });
const obj = (properties: Record<string, Schema>, required = Object.keys(properties)): Schema => ({
  type: 'object',
  properties,
  required,
});
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const list = (key: string, item: Schema): Schema => obj({ [key]: { type: 'array', items: item } });

const schemas: Record<string, Schema> = {
  Error: obj({ error: obj({ code: str, message: str, field: str }, ['code', 'message']) }),
  Status: { type: 'string', enum: [...STATUSES] },
  RunSummary: obj({
    run_id: str,
    job_id: str,
    status: ref('Status'),
    worker: nullable(str),
    ts_dispatch: nullable(str),
    started: nullable(time),
    ended: nullable(time),
    duration: nullable(num),
    ts_event: str,
  }),
  RunDetail: {
    allOf: [
      ref('RunSummary'),
      obj({
        log: { type: 'array', items: obj({ ts_event: str, status: ref('Status'), info: {} }) },
        parameters: {},
        globals: {},
        children: { type: 'array', items: ref('RunSummary') },
        outputs: { type: 'array', items: obj({ job_id: str, name: str, size: int, modified: time }) },
      }),
    ],
  },
  JobSummary: obj({
    job_id: str,
    type: str,
    worker: str,
    dispatcher: nullable(str),
    enabled: {},
    description: nullable(str),
    schedule: {},
    next_fire: nullable(time),
    last_run: nullable(obj({ run_id: str, status: ref('Status'), ts_event: str })),
  }),
  Queue: obj({
    worker: str,
    queue: str,
    visible: int,
    inflight: int,
    delayed: int,
    oldest_age_seconds: nullable(int),
    workers: int,
    slots: int,
    busy: int,
  }),
  Worker: obj({
    id: str,
    worker: str,
    host: str,
    pid: int,
    started: str,
    seen: time,
    threads: int,
    busy: int,
    runs: { type: 'array', items: obj({ job_id: str, run_id: str, started: str }) },
  }),
  Dispatcher: obj({
    name: str,
    jobs: int,
    replicas: {
      type: 'array',
      items: obj({
        id: str,
        host: str,
        pid: int,
        started: str,
        seen: time,
        ticks: int,
        last_tick: nullable(str),
        lag_seconds: nullable(num),
        dispatched: int,
      }),
    },
  }),
  StateItem: obj(
    { state_id: str, type: str, secure: { type: 'boolean' }, value: {}, publisher: nullable(str), timestamp: str, ttl: num },
    ['state_id', 'type', 'secure', 'publisher', 'timestamp', 'ttl'],
  ),
  HelperRequest: obj(
    {
      job_id: str,
      parameters: { type: 'object' },
      globals: { type: 'object' },
      delay: { anyOf: [num, str], description: 'seconds or a duration such as 5m' },
    },
    ['job_id'],
  ),
  TaskState: { type: 'string', enum: [...BATCH_TASK_STATES] },
  Batch: obj(
    {
      batch_id: str,
      job_id: str,
      options: { type: 'object', description: 'the business job and the chunking options it was submitted with' },
      submitted: time,
      state: { type: 'string', description: 'submitting, submitted or finished' },
      task_count: int,
      counts: obj(Object.fromEntries(BATCH_TASK_STATES.map((st) => [st, int]))),
      total: int,
      done: { type: 'integer', description: 'tasks complete, dead or discarded' },
      fraction: { type: 'number', minimum: 0, maximum: 1, description: 'done / total' },
    },
    ['batch_id', 'job_id', 'options', 'submitted', 'state', 'counts', 'total', 'done', 'fraction'],
  ),
  BatchTask: obj({
    key: str,
    state: ref('TaskState'),
    task: { type: 'object', description: 'what the task carries: dates, attributes, payload' },
    info: {
      type: 'object',
      description: 'set by admission and operators: run_id, attempt, attempts_from, run_status, error, died_at, discarded_at…',
    },
    updated: time,
  }),
  DeadResult: obj({
    batch_id: str,
    moved: { type: 'integer', description: 'tasks this request moved' },
    unknown: { type: 'array', items: str, description: 'named keys that are not tasks of the batch' },
    skipped: { type: 'array', items: str, description: 'named keys of tasks that were not dead' },
  }),
  Token: obj({ id: str, role: { type: 'string', enum: [...ROLES] }, name: str, created: time }),
};

interface Route {
  method: 'get' | 'post' | 'delete';
  path: string;
  summary: string;
  /** The least role; absent: public. */
  role?: (typeof ROLES)[number];
  params?: { name: string; in: 'path' | 'query'; schema?: Schema; description?: string }[];
  body?: Schema;
  /** The body may also be text/plain. */
  textBody?: boolean;
  /** The success status; default 201 for POST, else 200. */
  status?: '200' | '202';
  response: Schema | 'text';
}

const jobParam = { name: 'job_id', in: 'path' as const, description: 'URL-encoded (job ids may contain /)' };
const runParam = { name: 'run_id', in: 'path' as const };
const batchParam = { name: 'batch_id', in: 'path' as const };
const deadBody = obj(
  {
    keys: { type: 'array', items: str, minItems: 1, maxItems: 1000, description: 'task keys' },
    all: { type: 'boolean', enum: [true], description: 'every dead task of the batch' },
  },
  [],
);

export const ROUTES: Route[] = [
  { method: 'get', path: '/healthz', summary: 'Liveness', response: obj({ ok: { type: 'boolean' } }) },
  { method: 'get', path: '/openapi.json', summary: 'This document', response: { type: 'object' } },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics (text format)', role: 'viewer', response: 'text' },
  {
    method: 'get',
    path: '/api/whoami',
    summary: 'The served realm and the caller’s role',
    role: 'viewer',
    response: obj({ realm: str, role: str, auth: { type: 'boolean' } }),
  },
  {
    method: 'get',
    path: '/api/realms',
    summary: 'Realms on the backend',
    role: 'viewer',
    response: list('realms', obj({ realm: str, served: { type: 'boolean' } })),
  },
  {
    method: 'get',
    path: '/api/jobs',
    summary: 'Jobs with next fire time and last run',
    role: 'viewer',
    response: list('jobs', ref('JobSummary')),
  },
  {
    method: 'get',
    path: '/api/jobs/{job_id}',
    summary: 'A job’s spec, next fire times and recent runs',
    role: 'viewer',
    params: [jobParam],
    response: obj({
      job: { type: 'object' },
      next_fires: { type: 'array', items: time },
      runs: { type: 'array', items: ref('RunSummary') },
    }),
  },
  {
    method: 'get',
    path: '/api/schedules',
    summary: 'Scheduled jobs and their next fire time',
    role: 'viewer',
    response: list(
      'schedules',
      obj({ job_id: str, dispatcher: nullable(str), worker: str, schedule: {}, next_fire: nullable(time) }),
    ),
  },
  {
    method: 'get',
    path: '/api/runs',
    summary: 'Runs, newest first',
    role: 'viewer',
    params: [
      { name: 'job', in: 'query', description: 'only this job' },
      { name: 'status', in: 'query', schema: ref('Status') },
      { name: 'since', in: 'query', schema: time, description: 'latest event at or after' },
      { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
    ],
    response: list('runs', ref('RunSummary')),
  },
  {
    method: 'get',
    path: '/api/runs/{run_id}',
    summary: 'One run: events, parameters, globals, children and outputs',
    role: 'viewer',
    params: [runParam, { name: 'job', in: 'query', description: 'the job of the run to show (default: the dispatched one)' }],
    response: obj({ run: ref('RunDetail') }),
  },
  {
    method: 'get',
    path: '/api/runs/{run_id}/outputs/{name}',
    summary: 'An output file from a byte offset (at most 1 MiB); X-Lava-Size has its current size, for a live tail',
    role: 'viewer',
    params: [
      runParam,
      { name: 'name', in: 'path' },
      { name: 'job', in: 'query', description: 'the job whose output (default: the dispatched one)' },
      { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
    ],
    response: 'text',
  },
  {
    method: 'post',
    path: '/api/runs/{run_id}/stop',
    summary: 'Ask the worker to stop a queued or running run (it ends failed)',
    role: 'operator',
    params: [runParam],
    response: obj({ run_id: str, requested: { type: 'boolean' } }),
  },
  {
    method: 'post',
    path: '/api/dispatch',
    summary: 'Dispatch a run of a job',
    role: 'operator',
    body: obj(
      {
        job_id: str,
        parameters: { type: 'object' },
        globals: { type: 'object' },
        delay: { anyOf: [num, str], description: 'seconds or a duration such as 5m' },
      },
      ['job_id'],
    ),
    response: obj({ run_id: str, worker: str, warning: str }, ['run_id', 'worker']),
  },
  {
    method: 'post',
    path: '/api/events',
    summary: 'Route an EventBridge-shaped event to the event rules (triggers with event_pattern) that match it',
    role: 'operator',
    status: '202',
    body: obj(
      {
        source: str,
        'detail-type': str,
        detail: { type: 'object' },
        id: { type: 'string', description: 'the event id (default: a new UUID)' },
        time: time,
        resources: { type: 'array', items: str },
        version: str,
        account: str,
        region: str,
      },
      ['source', 'detail-type', 'detail'],
    ),
    response: list('fired', obj({ trigger_id: str, job_id: str, run_id: str })),
  },
  {
    method: 'post',
    path: '/api/dispatch-helper',
    summary:
      'Dispatch runs from a dispatch helper message: a JSON request object or list, or text (one `JOB_ID [-d DUR] [-p k=v]... [-g k=v]...` per line)',
    role: 'operator',
    status: '200',
    textBody: true,
    body: {
      anyOf: [ref('HelperRequest'), { type: 'array', items: ref('HelperRequest'), minItems: 1 }],
    },
    response: obj({
      dispatched: { type: 'array', items: obj({ job_id: str, run_id: str }) },
      errors: { type: 'array', items: obj({ request: str, job_id: str, error: str }, ['request', 'error']) },
    }),
  },
  {
    method: 'get',
    path: '/api/batches',
    summary: 'Orchestrated batches, newest first, with tasks per state and progress',
    role: 'viewer',
    params: [
      { name: 'state', in: 'query', description: 'only batches in this state (submitting, submitted, finished)' },
      { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
    ],
    response: obj({ batches: { type: 'array', items: ref('Batch') }, more: { type: 'integer' } }, ['batches']),
  },
  {
    method: 'get',
    path: '/api/batches/{batch_id}',
    summary: 'One batch: its record, tasks per state and progress',
    role: 'viewer',
    params: [batchParam],
    response: obj({ batch: ref('Batch') }),
  },
  {
    method: 'get',
    path: '/api/batches/{batch_id}/tasks',
    summary: 'Tasks of a batch by state (default: the closed ones, complete, dead and discarded), in pages',
    role: 'viewer',
    params: [
      batchParam,
      { name: 'state', in: 'query', description: 'a task state, or several separated by commas' },
      { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
      { name: 'cursor', in: 'query', description: 'the `cursor` of the previous page' },
    ],
    response: obj({ tasks: { type: 'array', items: ref('BatchTask') }, cursor: str }, ['tasks']),
  },
  {
    method: 'post',
    path: '/api/batches/{batch_id}/dead/retry',
    summary: 'Put dead tasks back to pending with a fresh allowance of attempts (a finished batch is reopened)',
    role: 'operator',
    status: '200',
    params: [batchParam],
    body: deadBody,
    response: ref('DeadResult'),
  },
  {
    method: 'post',
    path: '/api/batches/{batch_id}/dead/discard',
    summary: 'Discard dead tasks: they count as done and never run again',
    role: 'operator',
    status: '200',
    params: [batchParam],
    body: deadBody,
    response: ref('DeadResult'),
  },
  {
    method: 'get',
    path: '/api/queues',
    summary: 'Each worker fleet’s queue: depth, in flight, oldest age, live workers',
    role: 'viewer',
    response: list('queues', ref('Queue')),
  },
  {
    method: 'get',
    path: '/api/workers',
    summary: 'Live worker processes and their current runs',
    role: 'viewer',
    response: list('workers', ref('Worker')),
  },
  {
    method: 'get',
    path: '/api/dispatchers',
    summary: 'Dispatchers and their live replicas',
    role: 'viewer',
    response: list('dispatchers', ref('Dispatcher')),
  },
  {
    method: 'get',
    path: '/api/state',
    summary: 'State items (secure values are never shown)',
    role: 'viewer',
    params: [{ name: 'prefix', in: 'query' }],
    response: list('items', ref('StateItem')),
  },
  {
    method: 'get',
    path: '/api/stats',
    summary: 'Runs ended per status in time buckets',
    role: 'viewer',
    params: [{ name: 'hours', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 336, default: 24 } }],
    response: obj({
      bucket_seconds: int,
      buckets: { type: 'array', items: obj({ start: time, counts: { type: 'object', additionalProperties: int } }) },
      totals: { type: 'object', additionalProperties: int },
      truncated: { type: 'boolean' },
    }),
  },
  {
    method: 'get',
    path: '/api/tokens',
    summary: 'API tokens (never their secrets)',
    role: 'admin',
    response: list('tokens', ref('Token')),
  },
  {
    method: 'post',
    path: '/api/tokens',
    summary: 'Make a token; the response is the only time it is shown',
    role: 'admin',
    body: obj({ role: { type: 'string', enum: [...ROLES] }, name: str }, ['role']),
    response: { allOf: [ref('Token'), obj({ token: str })] },
  },
  {
    method: 'delete',
    path: '/api/tokens/{id}',
    summary: 'Revoke a token',
    role: 'admin',
    params: [{ name: 'id', in: 'path' }],
    response: obj({ id: str, deleted: { type: 'boolean' } }),
  },
];

export function openApiDocument(version = '0.1.0'): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const errors = {
      '400': { description: 'Bad input: the message names the field', content: { 'application/json': { schema: ref('Error') } } },
      ...(r.role
        ? {
            '401': { description: 'No or unknown token', content: { 'application/json': { schema: ref('Error') } } },
            '403': { description: 'The token’s role is too low', content: { 'application/json': { schema: ref('Error') } } },
          }
        : {}),
    };
    (paths[r.path] ??= {})[r.method] = {
      summary: r.summary,
      ...(r.role ? { security: [{ bearer: [] }], 'x-lava-role': r.role } : { security: [] }),
      parameters: (r.params ?? []).map((p) => ({
        name: p.name,
        in: p.in,
        required: p.in === 'path',
        schema: p.schema ?? str,
        ...(p.description ? { description: p.description } : {}),
      })),
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: r.body }, ...(r.textBody ? { 'text/plain': { schema: str } } : {}) },
            },
          }
        : {}),
      responses: {
        [r.status ?? (r.method === 'post' && r.path !== '/api/runs/{run_id}/stop' ? '201' : '200')]: {
          description: 'OK',
          content: r.response === 'text' ? { 'text/plain': { schema: str } } : { 'application/json': { schema: r.response } },
        },
        ...errors,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Lava HTTP API',
      version,
      description:
        'One realm’s jobs, runs, queues, workers and dispatchers. Tokens: `lava token create --role viewer|operator|admin`.',
    },
    components: { schemas, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
