/**
 * Event rules: an incoming EventBridge-shaped event is matched against the realm's enabled triggers
 * that have an `event_pattern`; each match renders its job id(s), parameters and globals with Jinja
 * (variables `event`, `detail`, `utils`) and dispatches them. See docs/event-rules.md.
 *
 * A rule that is malformed, fails to render or names an unknown job is logged and skipped; the
 * other rules still fire.
 */
import { randomUUID } from 'node:crypto';
import type { Backend } from '../backends/ports.js';
import { errorMessage } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { checkSpec } from '../core/validate.js';
import type { TriggerSpec } from '../core/schemas.js';
import { dispatch, realmConfig } from '../dispatch/dispatch.js';
import { renderStructure, renderTemplate, utils } from '../template/index.js';
import { matchesPattern } from './pattern.js';

/** An event as EventBridge delivers it (the fields a rule can match; others are kept as given). */
export interface IncomingEvent {
  source: string;
  'detail-type': string;
  detail: unknown;
  resources?: string[];
  time?: string;
  id?: string;
}

export interface FiredRule {
  trigger_id: string;
  job_id: string;
  run_id: string;
}

/** The event as a pattern sees it: EventBridge's envelope with `id`, `time` and `resources` filled in. */
export function eventEnvelope(event: IncomingEvent): Record<string, unknown> {
  return {
    version: '0',
    ...event,
    id: event.id ?? randomUUID(),
    time: event.time ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    resources: event.resources ?? [],
  };
}

export async function routeEvent(
  backend: Backend,
  realm: string,
  event: IncomingEvent,
  options?: { logger?: Logger },
): Promise<FiredRule[]> {
  const logger = options?.logger ?? silentLogger;
  const full = eventEnvelope(event);
  const eventId = full.id as string;
  const rules = (await backend.config.list(realm, 'triggers')).filter((t) => t.event_pattern !== undefined);
  const fired: FiredRule[] = [];
  if (!rules.length) return fired;
  const config = await realmConfig(backend, realm);
  for (const raw of rules) {
    const id = String(raw.trigger_id);
    const log = { realm, trigger_id: id, event_id: eventId, source: event.source, detail_type: event['detail-type'] };
    const checked = checkSpec('trigger', raw);
    if (!checked.value) {
      logger.warn({ ...log, errors: checked.errors }, 'event rule skipped: its spec is not valid');
      continue;
    }
    const rule = checked.value;
    if (rule.enabled !== true || !rule.event_pattern || !matchesPattern(rule.event_pattern, full)) continue;
    let rendered: ReturnType<typeof renderRule>;
    try {
      rendered = renderRule(rule, full);
    } catch (err) {
      logger.warn({ ...log, err: errorMessage(err) }, 'event rule skipped: it did not render');
      continue;
    }
    for (const jobId of rendered.jobIds) {
      try {
        const runId = await dispatch(
          backend,
          {
            realm,
            jobId,
            ...(rendered.parameters ? { parameters: rendered.parameters } : {}),
            ...(rendered.globals ? { globals: rendered.globals } : {}),
            ...(rule.delay !== undefined ? { delay: rule.delay } : {}),
            trigger: { trigger_id: id, event_id: eventId, source: event.source, detail_type: event['detail-type'] },
          },
          { config },
        );
        fired.push({ trigger_id: id, job_id: jobId, run_id: runId });
        logger.info({ ...log, job_id: jobId, run_id: runId }, 'event rule fired');
      } catch (err) {
        logger.warn({ ...log, job_id: jobId, err: errorMessage(err) }, 'event rule could not dispatch');
      }
    }
  }
  return fired;
}

function renderRule(
  rule: TriggerSpec,
  event: Record<string, unknown>,
): { jobIds: string[]; parameters?: Record<string, unknown>; globals?: Record<string, unknown> } {
  const jinja = rule.jinja !== false;
  const context = { event, detail: event.detail, utils };
  const jobIds = (Array.isArray(rule.job_id) ? rule.job_id : [rule.job_id]).map((j) =>
    (jinja ? renderTemplate(j, context) : j).trim(),
  );
  if (jobIds.some((j) => !j)) throw new Error('job_id rendered empty');
  const map = (name: string, value: Record<string, unknown> | undefined) => {
    if (value === undefined) return undefined;
    const out = jinja ? renderStructure(value, context) : value;
    if (!out || typeof out !== 'object' || Array.isArray(out)) throw new Error(`${name} did not render to a map`);
    return out as Record<string, unknown>;
  };
  const parameters = map('parameters', rule.parameters);
  const globals = map('globals', rule.globals);
  return { jobIds, ...(parameters ? { parameters } : {}), ...(globals ? { globals } : {}) };
}
