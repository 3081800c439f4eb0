/** What the notification actions share: strict keys, rendering with the action's name in errors, connections. */
import type { Config } from '../core/config.js';
import { LavaError } from '../core/errors.js';
import { redact } from '../connections/errors.js';
import { resolveConnection } from '../connections/resolve.js';
import { getSecret } from '../connections/secrets.js';
import type { ResolvedConnection } from '../connections/types.js';
import { renderStructure, renderTemplate } from '../template/index.js';
import type { ActionContext, ActionSpec } from '../run/action.js';

export function actionFail(type: string, message: string, cause?: unknown): never {
  throw new LavaError('LAVA_ACTION', `${type} action: ${message}`, cause === undefined ? {} : { cause });
}

/** Upstream checks the keys of some actions strictly: a typo must not pass silently. */
export function checkFields(type: string, spec: ActionSpec, fields: readonly string[]): void {
  const unknown = Object.keys(spec).filter((k) => k !== 'action' && !fields.includes(k));
  if (unknown.length) {
    actionFail(
      type,
      `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}: use ${fields.join(', ')}`,
    );
  }
}

/** A string field rendered with the action context; errors name the field. */
export function renderField(type: string, value: unknown, name: string, ctx: ActionContext): string {
  if (typeof value !== 'string') actionFail(type, `"${name}" must be a string, not ${JSON.stringify(value)}`);
  try {
    return renderTemplate(value, ctx.templateContext);
  } catch (err) {
    actionFail(type, `bad ${name}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}

/** An optional string field, rendered. */
export function optField(type: string, spec: ActionSpec, name: string, ctx: ActionContext): string | undefined {
  return spec[name] === undefined || spec[name] === null ? undefined : renderField(type, spec[name], name, ctx);
}

/** A string or a JSON value whose strings are rendered one by one; a non-string becomes JSON text. */
export function renderMessage(type: string, value: unknown, name: string, ctx: ActionContext): string {
  if (typeof value === 'string') return renderField(type, value, name, ctx);
  if (value === undefined || value === null) actionFail(type, `needs "${name}"`);
  try {
    return JSON.stringify(renderStructure(value, ctx.templateContext));
  } catch (err) {
    actionFail(type, `bad ${name}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}

/** The connection `connId` of the job's realm, resolved with the worker's configuration. */
export function resolveFor(ctx: ActionContext, connId: string): Promise<ResolvedConnection> {
  return resolveConnection(connId, {
    backend: ctx.backend,
    realm: ctx.job.realm,
    config: ctx.config,
    jobId: ctx.job.job_id,
  });
}

/** A secret of the job's realm by name (cached as connection secrets are). */
export function realmSecret(ctx: ActionContext, name: string, usedBy: string): Promise<string> {
  const config: Config = ctx.config;
  return getSecret(
    ctx.backend,
    ctx.job.realm,
    name,
    { size: config.int('PARAM_CACHE_SIZE'), ttl: config.duration('PARAM_CACHE_TTL') },
    usedBy,
  );
}

/** An error's message with the given secret values replaced by `***`. */
export function safeMessage(err: unknown, secrets: readonly string[]): string {
  const e = err as { message?: unknown; name?: unknown };
  const msg = typeof e?.message === 'string' && e.message ? e.message : String(err);
  return redact(msg, secrets);
}

/** The outcome a list of actions follows. */
export function statusOf(ctx: ActionContext): string {
  if (ctx.when === 'on_retry') return 'retrying';
  if (ctx.when === 'on_fail') return 'failed';
  if (ctx.when === 'on_success') return 'complete';
  const result = ctx.templateContext.result as { error?: unknown } | undefined;
  return result?.error === undefined || result.error === null ? 'complete' : 'failed';
}

/** The exit status of the result, or of its `error_data` (a failed run's result has it there). */
export function exitStatusOf(ctx: ActionContext): unknown {
  const result = (ctx.templateContext.result ?? {}) as Record<string, unknown>;
  const errorData = result.error_data as Record<string, unknown> | null | undefined;
  return result.exit_status ?? (errorData && typeof errorData === 'object' ? errorData.exit_status : undefined) ?? null;
}
