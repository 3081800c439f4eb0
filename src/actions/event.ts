/**
 * event action (upstream §5.2 `event`): announce that something happened.
 *
 * - On the AWS backend (`aws://…`) the event is put on EventBridge with PutEvents, as upstream does
 *   (a failed entry, FailedEntryCount > 0, fails the action).
 * - On every backend it is delivered to the realm's matching event rules (`routeEvent`, src/events),
 *   which dispatch their jobs.
 * - And it is appended to this run's record as an entry with status `event` whose info is the
 *   EventBridge-shaped entry, so `lava events` and the dashboard show it.
 */
import { randomUUID } from 'node:crypto';
import type * as EventBridgeSdk from '@aws-sdk/client-eventbridge';
import { isAwsUrl, parseAwsUrl } from '../backends/aws/url.js';
import { LavaError } from '../core/errors.js';
import { loadOptional } from '../core/optional.js';
import { routeEvent } from '../events/route.js';
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

/** The entry's Detail: a string is sent as is (EventBridge wants JSON object text), a map as JSON. */
function detailText(detail: unknown): string {
  return typeof detail === 'string' ? detail : JSON.stringify(detail);
}

/** What rules match on: a detail string that is JSON object text is matched as that object. */
function detailValue(detail: unknown): unknown {
  if (typeof detail !== 'string') return detail;
  try {
    const v = JSON.parse(detail) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? v : detail;
  } catch {
    return detail;
  }
}

/** PutEvents on EventBridge; returns the event id. */
async function putEvent(ctx: ActionContext, info: EventInfo, time: Date): Promise<string | undefined> {
  const { region } = parseAwsUrl(ctx.backend.url);
  const { EventBridgeClient, PutEventsCommand } = await loadOptional<typeof EventBridgeSdk>(
    '@aws-sdk/client-eventbridge',
    'the event action on the AWS backend',
  );
  const client = new EventBridgeClient(region ? { region } : {});
  try {
    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: info.source,
            DetailType: info.detail_type,
            Detail: detailText(info.detail),
            Resources: info.resources,
            EventBusName: info.event_bus,
            Time: time,
          },
        ],
      }),
    );
    if ((out.FailedEntryCount ?? 0) > 0) {
      const entry = out.Entries?.[0];
      fail(`EventBridge refused the event: ${entry?.ErrorCode ?? 'error'}: ${entry?.ErrorMessage ?? 'no message'}`);
    }
    return out.Entries?.[0]?.EventId;
  } catch (err) {
    if (err instanceof LavaError) throw err;
    const name = (err as { name?: string }).name;
    fail(`PutEvents failed: ${name && name !== 'Error' ? `${name}: ` : ''}${err instanceof Error ? err.message : String(err)}`);
  } finally {
    client.destroy();
  }
}

export const eventAction: Action = {
  type: 'event',
  async run(spec, ctx) {
    const info = buildEvent(spec, ctx);
    const time = new Date();
    const eventId = isAwsUrl(ctx.backend.url) ? await putEvent(ctx, info, time) : undefined;
    const triggered = await routeEvent(
      ctx.backend,
      ctx.job.realm,
      {
        source: info.source,
        'detail-type': info.detail_type,
        detail: detailValue(info.detail),
        resources: info.resources,
        time: time.toISOString(),
        id: eventId ?? randomUUID(),
      },
      { logger: ctx.logger },
    );
    await ctx.backend.events.record(ctx.job.realm, {
      job_id: ctx.job.job_id,
      run_id: ctx.job.run_id,
      status: 'event',
      info: JSON.parse(JSON.stringify(info)) as unknown,
      at: time,
      ts_dispatch: ctx.job.ts_dispatch,
      worker: ctx.job.worker,
      ttlSeconds: ctx.config.optDuration('EVENT_TTL'),
      keepStatus: true,
    });
    ctx.logger.info(
      {
        job_id: ctx.job.job_id,
        run_id: ctx.job.run_id,
        action: 'event',
        source: info.source,
        detail_type: info.detail_type,
        ...(eventId ? { event_id: eventId } : {}),
        triggered: triggered.map((t) => ({ trigger_id: t.trigger_id, job_id: t.job_id, run_id: t.run_id })),
      },
      'event action',
    );
  },
};
