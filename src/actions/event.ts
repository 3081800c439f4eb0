/**
 * event action: upstream puts an event on AWS EventBridge (§5.2 `event`). The embedded backend has
 * no event bus, so the event is appended to this run's record in the events table instead, as a
 * log entry with status `event` whose info is the would-be EventBridge entry. Delivery to
 * EventBridge itself comes with the AWS backend.
 */
import { LavaError } from '../core/errors.js';
import { renderTemplate } from '../template/index.js';
import type { Action, ActionContext, ActionSpec } from '../run/action.js';

const FIELDS = ['action', 'detail', 'detail_type', 'source', 'event_bus', 'resources'] as const;

/** What the action records: the fields of an EventBridge PutEvents entry. */
export interface EventInfo {
  source: string;
  detail_type: string;
  detail: unknown;
  resources: string[];
  event_bus: string;
}

function fail(message: string): never {
  throw new LavaError('LAVA_ACTION', `event action: ${message}`);
}

function checkFields(spec: ActionSpec): void {
  const unknown = Object.keys(spec).filter((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown.length) {
    fail(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}: use ${FIELDS.join(', ')}`);
  }
}

function renderField(value: unknown, name: string, ctx: ActionContext): string {
  if (typeof value !== 'string') fail(`"${name}" must be a string, not ${JSON.stringify(value)}`);
  try {
    return renderTemplate(value, ctx.templateContext);
  } catch (err) {
    throw new LavaError('LAVA_ACTION', `event action: bad ${name}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

/**
 * The default detail. Upstream reads `result.exit_status`, which a failed run's result does not
 * have (it is under `error_data`), so the default event failed in on_fail (Appendix A7). Here it
 * falls back to `error_data.exit_status`, then null.
 */
function defaultDetail(ctx: ActionContext): Record<string, unknown> {
  const result = (ctx.templateContext.result ?? {}) as Record<string, unknown>;
  const errorData = result.error_data as Record<string, unknown> | null | undefined;
  const exitStatus =
    result.exit_status ?? (errorData && typeof errorData === 'object' ? errorData.exit_status : undefined) ?? null;
  return {
    realm: ctx.job.realm,
    worker: ctx.job.worker,
    job_id: ctx.job.job_id,
    run_id: ctx.job.run_id,
    exit_status: exitStatus,
  };
}

export function buildEvent(spec: ActionSpec, ctx: ActionContext): EventInfo {
  checkFields(spec);
  let detail: unknown;
  if (spec.detail === undefined) detail = defaultDetail(ctx);
  else if (typeof spec.detail === 'string') detail = renderField(spec.detail, 'detail', ctx);
  else if (spec.detail !== null && typeof spec.detail === 'object' && !Array.isArray(spec.detail)) {
    // Each string value is rendered on its own; other JSON values are passed through.
    detail = Object.fromEntries(
      Object.entries(spec.detail).map(([k, v]) => [k, typeof v === 'string' ? renderField(v, `detail.${k}`, ctx) : v]),
    );
  } else fail('"detail" must be a string or a map of strings');

  let resources: string[] = [];
  if (spec.resources !== undefined) {
    if (!Array.isArray(spec.resources)) fail('"resources" must be a list of strings');
    resources = spec.resources.map((r: unknown, i) => renderField(r, `resources[${i}]`, ctx));
  }
  return {
    source: spec.source === undefined ? `lava.${ctx.job.realm}` : renderField(spec.source, 'source', ctx),
    detail_type: spec.detail_type === undefined ? 'Lava Job Action' : renderField(spec.detail_type, 'detail_type', ctx),
    detail,
    resources,
    event_bus: spec.event_bus === undefined ? 'default' : renderField(spec.event_bus, 'event_bus', ctx),
  };
}

export const eventAction: Action = {
  type: 'event',
  async run(spec, ctx) {
    const info = buildEvent(spec, ctx);
    await ctx.backend.events.record(ctx.job.realm, {
      job_id: ctx.job.job_id,
      run_id: ctx.job.run_id,
      status: 'event',
      info: JSON.parse(JSON.stringify(info)) as unknown,
      at: new Date(),
      ts_dispatch: ctx.job.ts_dispatch,
      worker: ctx.job.worker,
      ttlSeconds: ctx.config.optDuration('EVENT_TTL'),
      keepStatus: true,
    });
    ctx.logger.info(
      { job_id: ctx.job.job_id, run_id: ctx.job.run_id, action: 'event', source: info.source, detail_type: info.detail_type },
      'event action',
    );
  },
};
