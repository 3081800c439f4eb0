/**
 * The HTTP API (under /api/), /metrics, /openapi.json and the dashboard, as one hono app over a
 * realm's backend. Every route names the least role it needs; see auth.ts for who gets which role.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import { z } from 'zod';
import { BATCH_TASK_STATES, type Backend, type BatchTaskState } from '../backends/ports.js';
import { discardDead, retryDead } from '../batch/dead.js';
import { CLOSED_STATES, MAX_TASK_PAGE, batchSummary, listBatchTasks, summarize } from '../batch/tasks.js';
import { LavaError, ValidationError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { RealmSpec } from '../core/schemas.js';
import { dispatch } from '../dispatch/dispatch.js';
import { liveWorkers } from '../dispatch/directory.js';
import { requestStop } from '../dispatch/stop.js';
import { runDispatchHelper } from '../events/dispatch-helper.js';
import { routeEvent } from '../events/route.js';
import { listDispatchers, listQueues, listWorkers } from '../observe/fleet.js';
import { jobDetail, listJobs } from '../observe/jobs.js';
import { listOutputs, readOutput } from '../observe/outputs.js';
import { FINAL_STATUSES, STATUSES, listRuns, runDetail } from '../observe/runs.js';
import { listState } from '../observe/state.js';
import { runStats } from '../observe/stats.js';
import { dashboardRoutes } from './assets.js';
import type { Auth } from './auth.js';
import { type Caller } from './auth.js';
import type { Metrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { ROLES, createToken, deleteToken, listTokens, type Role } from './tokens.js';

export interface AppOptions {
  backend: Backend;
  realm: RealmSpec;
  /** Zone cron lines are read in (next fire times). */
  tz: string;
  auth: Auth;
  metrics: Metrics;
  logger: Logger;
}

type Env = { Variables: { caller: Caller } };

/** An error the API answers with: a status, a stable code, a message that says how to fix it, and the field. */
export class ApiError extends LavaError {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415,
    code: string,
    message: string,
    readonly field?: string,
  ) {
    super(code, message);
  }
}

export function createApp(o: AppOptions): Hono<Env> {
  const { backend, auth } = o;
  const realm = o.realm.realm;
  const app = new Hono<Env>();

  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'self'"], imgSrc: ["'self'", 'data:'], styleSrc: ["'self'"], scriptSrc: ["'self'"] },
      crossOriginResourcePolicy: 'same-origin',
    }),
  );
  app.use('*', (c, next) => auth.checkHost(c, next));
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: 1024 * 1024,
      onError: (c) => c.json(errorBody('LAVA_TOO_LARGE', 'the request body is over 1 MiB'), 413),
    }),
  );

  const need = (role: Role) => auth.require(role);

  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/openapi.json', (c) => c.json(openApiDocument()));
  app.get('/metrics', need('viewer'), async (c) => {
    await o.metrics.poll();
    c.header('Content-Type', o.metrics.registry.contentType);
    return c.body(await o.metrics.text());
  });

  app.get('/api/whoami', need('viewer'), (c) => {
    const caller = c.get('caller');
    return c.json({ realm, role: caller.role, auth: caller.auth, ...(caller.token ? { token: caller.token } : {}) });
  });
  app.get('/api/realms', need('viewer'), async (c) =>
    c.json({ realms: (await backend.config.listRealms()).map((r) => ({ realm: r.realm, served: r.realm === realm })) }),
  );

  app.get('/api/jobs', need('viewer'), async (c) => c.json({ jobs: await listJobs(backend, realm, o.tz) }));
  app.get('/api/jobs/:job', need('viewer'), async (c) => c.json(await jobDetail(backend, realm, c.req.param('job'), o.tz)));
  app.get('/api/schedules', need('viewer'), async (c) => {
    const jobs = await listJobs(backend, realm, o.tz);
    return c.json({
      schedules: jobs
        .filter((j) => j.schedule !== null)
        .map((j) => ({
          job_id: j.job_id,
          dispatcher: j.dispatcher,
          worker: j.worker,
          schedule: j.schedule,
          next_fire: j.next_fire,
        })),
    });
  });

  app.get('/api/runs', need('viewer'), async (c) => {
    const q = parseQuery(c, runsQuery);
    return c.json({ runs: await listRuns(backend, realm, q) });
  });
  app.get('/api/runs/:run', need('viewer'), async (c) => {
    const run = await runDetail(backend, realm, c.req.param('run'), c.req.query('job'));
    const jobs = [run.job_id, ...run.children.map((ch) => ch.job_id)];
    const outputs = (await Promise.all(jobs.map((j) => listOutputs(o.realm, j, run.run_id)))).flat();
    return c.json({ run: { ...run, outputs } });
  });
  app.get('/api/runs/:run/outputs/:name{.+}', need('viewer'), async (c) => {
    const q = parseQuery(c, outputQuery);
    const runId = c.req.param('run');
    const jobId = q.job ?? (await runDetail(backend, realm, runId)).job_id;
    const { data, size } = await readOutput(o.realm, jobId, runId, c.req.param('name'), q.offset);
    c.header('Content-Type', 'text/plain; charset=utf-8');
    c.header('X-Lava-Size', String(size));
    c.header('Cache-Control', 'no-store');
    return c.body(new Uint8Array(data));
  });
  app.post('/api/runs/:run/stop', need('operator'), async (c) => {
    const runId = c.req.param('run');
    const run = await runDetail(backend, realm, runId);
    if (FINAL_STATUSES.has(run.status)) {
      throw new ApiError(409, 'LAVA_RUN_ENDED', `run ${runId} already ended (${run.status}); nothing to stop`);
    }
    await requestStop(backend, realm, runId, callerName(c.get('caller')), run.job_id);
    return c.json({ run_id: runId, requested: true });
  });

  app.post('/api/dispatch', need('operator'), async (c) => {
    const body = await parseBody(c, dispatchBody);
    const runId = await dispatch(backend, {
      realm,
      jobId: body.job_id,
      ...(body.parameters ? { parameters: body.parameters } : {}),
      ...(body.globals ? { globals: body.globals } : {}),
      ...(body.delay !== undefined ? { delay: body.delay } : {}),
    });
    const job = (await backend.config.get(realm, 'jobs', body.job_id)) as { worker: string };
    const live = (await liveWorkers(backend, realm, job.worker)).length > 0;
    return c.json(
      {
        run_id: runId,
        worker: job.worker,
        ...(live ? {} : { warning: `no live worker serves "${job.worker}": the run waits in the queue until one starts` }),
      },
      201,
    );
  });

  app.post('/api/events', need('operator'), async (c) => {
    const body = await parseBody(c, eventBody);
    const fired = await routeEvent(backend, realm, body, { logger: o.logger });
    return c.json({ fired }, 202);
  });

  app.post('/api/dispatch-helper', need('operator'), async (c) => {
    const type = c.req.header('content-type') ?? '';
    const body = type.startsWith('text/plain') ? await c.req.text() : await parseBody(c, helperBody);
    const result = await runDispatchHelper(backend, realm, body, { logger: o.logger });
    if (!result.dispatched.length) {
      const first = result.errors[0];
      const message = first ? `nothing was dispatched: ${first.request}: ${first.error}` : 'nothing was dispatched';
      return c.json({ ...errorBody('LAVA_INVALID', message), ...result }, 400);
    }
    return c.json(result, 200);
  });

  app.get('/api/batches', need('viewer'), async (c) => {
    const q = parseQuery(c, batchesQuery);
    const all = (await backend.batches.list(realm)).filter((b) => !q.state || b.state === q.state).reverse();
    const shown = all.slice(0, q.limit);
    const batches = await Promise.all(shown.map(async (b) => summarize(b, await backend.batches.counts(realm, b.batch_id))));
    return c.json({ batches, ...(all.length > shown.length ? { more: all.length - shown.length } : {}) });
  });
  app.get('/api/batches/:batch_id', need('viewer'), async (c) =>
    c.json({ batch: await batchSummary(backend, realm, c.req.param('batch_id')) }),
  );
  app.get('/api/batches/:batch_id/tasks', need('viewer'), async (c) => {
    const q = parseQuery(c, tasksQuery);
    return c.json(
      await listBatchTasks(backend, realm, c.req.param('batch_id'), q.state ?? CLOSED_STATES, {
        limit: q.limit,
        ...(q.cursor ? { cursor: q.cursor } : {}),
      }),
    );
  });
  app.post('/api/batches/:batch_id/dead/retry', need('operator'), async (c) => {
    const batchId = c.req.param('batch_id');
    const body = await parseBody(c, deadBody);
    return c.json({ batch_id: batchId, ...(await retryDead(backend, realm, batchId, body.all ? 'all' : body.keys!)) });
  });
  app.post('/api/batches/:batch_id/dead/discard', need('operator'), async (c) => {
    const batchId = c.req.param('batch_id');
    const body = await parseBody(c, deadBody);
    return c.json({ batch_id: batchId, ...(await discardDead(backend, realm, batchId, body.all ? 'all' : body.keys!)) });
  });

  app.get('/api/queues', need('viewer'), async (c) => c.json({ queues: await listQueues(backend, realm) }));
  app.get('/api/workers', need('viewer'), async (c) => c.json({ workers: await listWorkers(backend, realm) }));
  app.get('/api/dispatchers', need('viewer'), async (c) => c.json({ dispatchers: await listDispatchers(backend, realm) }));
  app.get('/api/state', need('viewer'), async (c) =>
    c.json({ items: await listState(backend, realm, c.req.query('prefix') ?? '') }),
  );
  app.get('/api/stats', need('viewer'), async (c) => c.json(await runStats(backend, realm, parseQuery(c, statsQuery).hours)));

  app.get('/api/tokens', need('admin'), async (c) => c.json({ tokens: await listTokens(backend, realm) }));
  app.post('/api/tokens', need('admin'), async (c) => {
    const body = await parseBody(c, tokenBody);
    const { token, info } = await createToken(backend, realm, body.role, body.name);
    return c.json({ token, ...info }, 201);
  });
  app.delete('/api/tokens/:id', need('admin'), async (c) => {
    const id = c.req.param('id');
    if (!(await deleteToken(backend, realm, id)))
      throw new ApiError(404, 'LAVA_NOT_FOUND', `token ${id} not found: list them with GET /api/tokens`);
    auth.forget();
    return c.json({ id, deleted: true });
  });

  app.route('/', dashboardRoutes());

  app.notFound((c) => c.json(errorBody('LAVA_NOT_FOUND', `no route ${c.req.method} ${c.req.path}: see /openapi.json`), 404));
  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(errorBody(err.code, err.detail, err.field), err.status);
    if (err instanceof ValidationError) return c.json(errorBody(err.code, err.detail, fieldOf(err.detail)), 400);
    if (err instanceof LavaError && err.code === 'LAVA_NOT_FOUND') return c.json(errorBody(err.code, err.detail), 404);
    if (err instanceof LavaError && err.code === 'LAVA_DISPATCH') return c.json(errorBody(err.code, err.detail), 503);
    o.logger.error({ err: String(err), path: c.req.path }, 'API request failed');
    return c.json(errorBody('LAVA_INTERNAL', 'the server failed to answer; its log has the reason'), 500);
  });
  return app;
}

function errorBody(code: string, message: string, field?: string) {
  return { error: { code, message, ...(field ? { field } : {}) } };
}

/** Validation messages start with the field they are about (`delay "x" is out of range…`). */
function fieldOf(message: string): string | undefined {
  return /^(?:[A-Za-z]+ )?"?([A-Za-z_][\w.]*)"?[ :]/.exec(message)?.[1];
}

function callerName(caller: Caller): string {
  return caller.token ? `token ${caller.token.id}${caller.token.name ? ` (${caller.token.name})` : ''}` : 'local user';
}

const runsQuery = z.strictObject({
  job: z.string().min(1).optional(),
  status: z.enum(STATUSES).optional(),
  since: z.iso
    .datetime({ offset: true })
    .transform((s) => new Date(s))
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
const outputQuery = z.strictObject({ job: z.string().min(1).optional(), offset: z.coerce.number().int().min(0).optional() });
const statsQuery = z.strictObject({
  hours: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 14)
    .default(24),
});
const dispatchBody = z.strictObject({
  job_id: z.string().min(1),
  parameters: z.record(z.string(), z.unknown()).optional(),
  globals: z.record(z.string(), z.unknown()).optional(),
  delay: z.union([z.number(), z.string()]).optional(),
});
/** An event as EventBridge delivers it; `detail` is the JSON object (not PutEvents' string). */
const eventBody = z.strictObject({
  source: z.string().min(1),
  'detail-type': z.string().min(1),
  detail: z.record(z.string(), z.unknown(), { error: 'detail is required: a JSON object' }),
  id: z.string().min(1).max(200).optional(),
  time: z.string().optional(),
  resources: z.array(z.string()).optional(),
  version: z.string().optional(),
  account: z.string().optional(),
  region: z.string().optional(),
});
const helperBody = z.union([z.record(z.string(), z.unknown()), z.array(z.unknown()).min(1)], {
  error: 'the body is a request object such as {"job_id": "demo/hello"}, or a list of them',
});
const batchesQuery = z.strictObject({
  state: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const tasksQuery = z.strictObject({
  state: z
    .string()
    .refine((s) => s.split(',').every((x) => (BATCH_TASK_STATES as readonly string[]).includes(x)), {
      message: `task states separated by commas, each one of ${BATCH_TASK_STATES.join(', ')}`,
    })
    .transform((s) => s.split(',') as BatchTaskState[])
    .optional(),
  limit: z.coerce.number().int().min(1).max(MAX_TASK_PAGE).default(100),
  cursor: z.string().min(1).max(2000).optional(),
});
const deadBody = z
  .strictObject({
    keys: z.array(z.string().min(1).max(1000)).min(1).max(1000).optional(),
    all: z.literal(true).optional(),
  })
  .refine((b) => (b.keys === undefined) !== (b.all === undefined), {
    message: 'give either "keys" (a list of task keys) or "all": true, not both and not neither',
    path: ['keys'],
  });
const tokenBody = z.strictObject({ role: z.enum(ROLES), name: z.string().max(200).optional() });

function parseQuery<T extends z.ZodType>(c: Context, schema: T): z.infer<T> {
  return check(schema, c.req.query(), 'query parameter');
}

async function parseBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  if (!(c.req.header('content-type') ?? '').startsWith('application/json')) {
    const also = c.req.path === '/api/dispatch-helper' ? ' (or text/plain, one request per line)' : '';
    throw new ApiError(415, 'LAVA_CONTENT_TYPE', `send the body as JSON with Content-Type: application/json${also}`);
  }
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new ApiError(400, 'LAVA_INVALID', 'the body is not valid JSON');
  }
  return check(schema, raw, 'field');
}

function check<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(',') : '');
  throw new ApiError(
    400,
    'LAVA_INVALID',
    `${what} ${field ? `"${field}"` : ''}: ${issue.message}`.replace('  ', ' '),
    field || undefined,
  );
}
