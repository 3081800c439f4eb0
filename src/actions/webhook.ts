/**
 * webhook action (beyond upstream): POST a rendered body to a rendered URL, optionally signed with
 * HMAC-SHA256 under a realm secret, retried with exponential backoff and jitter on 5xx answers and
 * network errors (never on 4xx). See docs/actions/webhook.md for how a receiver verifies it.
 *
 *   X-Lava-Timestamp: <unix seconds>
 *   X-Lava-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
 */
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDuration } from '../core/units.js';
import { renderStructure } from '../template/index.js';
import { actionFail, checkFields, exitStatusOf, realmSecret, renderField, safeMessage, statusOf } from './common.js';
import type { Action, ActionContext, ActionSpec } from '../run/action.js';

const TYPE = 'webhook';
const FIELDS = ['url', 'body', 'headers', 'secret', 'timeout', 'retries'] as const;
const MAX_RETRIES = 10;
/** Backoff before retry n (0-based): BASE·2ⁿ, at most CAP, with jitter (half to all of it). */
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;

/** The signature header's value for `body` sent at `timestamp` (unix seconds). */
export function webhookSignature(secret: string, timestamp: number | string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function backoffMs(retry: number, random: () => number = Math.random): number {
  const full = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** retry);
  return Math.round(full / 2 + (random() * full) / 2);
}

/** The URL without credentials or query, for messages. */
function shown(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function defaultBody(ctx: ActionContext): Record<string, unknown> {
  const result = (ctx.templateContext.result ?? {}) as Record<string, unknown>;
  return {
    realm: ctx.job.realm,
    job_id: ctx.job.job_id,
    run_id: ctx.job.run_id,
    status: statusOf(ctx),
    exit_status: exitStatusOf(ctx),
    error: result.error ?? null,
  };
}

function buildBody(spec: ActionSpec, ctx: ActionContext): { body: string; contentType: string } {
  if (spec.body === undefined || spec.body === null) {
    return { body: JSON.stringify(defaultBody(ctx)), contentType: 'application/json' };
  }
  if (typeof spec.body === 'string') {
    return { body: renderField(TYPE, spec.body, 'body', ctx), contentType: 'text/plain; charset=utf-8' };
  }
  if (typeof spec.body === 'object' && !Array.isArray(spec.body)) {
    try {
      return { body: JSON.stringify(renderStructure(spec.body, ctx.templateContext)), contentType: 'application/json' };
    } catch (err) {
      actionFail(TYPE, `bad body: ${err instanceof Error ? err.message : String(err)}`, err);
    }
  }
  actionFail(TYPE, '"body" must be a string or a map');
}

function buildHeaders(spec: ActionSpec, ctx: ActionContext): Record<string, string> {
  if (spec.headers === undefined || spec.headers === null) return {};
  if (typeof spec.headers !== 'object' || Array.isArray(spec.headers)) actionFail(TYPE, '"headers" must be a map of name: value');
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(spec.headers as Record<string, unknown>)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) actionFail(TYPE, `bad header name ${JSON.stringify(name)}`);
    if (/^x-lava-(timestamp|signature)$/i.test(name)) actionFail(TYPE, `header ${name} is set by the action itself`);
    const value = typeof v === 'number' || typeof v === 'boolean' ? String(v) : renderField(TYPE, v, `headers.${name}`, ctx);
    if (/[\r\n]/.test(value)) actionFail(TYPE, `header ${name}: the value may not contain a line break`);
    out[name] = value;
  }
  return out;
}

type Attempt = { ok: true; status: number } | { ok: false; retry: boolean; why: string };

export const webhookAction: Action = {
  type: TYPE,
  async run(spec, ctx) {
    checkFields(TYPE, spec, FIELDS);
    if (spec.url === undefined) actionFail(TYPE, 'needs "url": the address to POST to');
    const rendered = renderField(TYPE, spec.url, 'url', ctx);
    let url: URL;
    try {
      url = new URL(rendered);
    } catch {
      actionFail(TYPE, `url ${JSON.stringify(rendered.slice(0, 200))} is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      actionFail(TYPE, `url must be http:// or https://, not ${url.protocol}`);
    let timeoutS: number;
    try {
      timeoutS = parseDuration(spec.timeout ?? '10s', 'timeout');
    } catch (err) {
      actionFail(TYPE, err instanceof Error ? err.message : String(err));
    }
    if (!(timeoutS > 0)) actionFail(TYPE, 'timeout must be more than 0');
    const retries = spec.retries ?? 3;
    if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES) {
      actionFail(TYPE, `retries must be a whole number from 0 to ${MAX_RETRIES}`);
    }
    if (spec.secret !== undefined && (typeof spec.secret !== 'string' || !spec.secret)) {
      actionFail(TYPE, '"secret" must be the name of a realm secret (lava secret put NAME -)');
    }
    const { body, contentType } = buildBody(spec, ctx);
    const headers = buildHeaders(spec, ctx);
    const secret =
      typeof spec.secret === 'string' ? await realmSecret(ctx, spec.secret, 'secret of a webhook action') : undefined;
    const secrets = secret ? [secret] : [];
    const hasContentType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');

    const attempt = async (): Promise<Attempt> => {
      const timestamp = Math.floor(Date.now() / 1000);
      const sign: Record<string, string> = secret
        ? { 'X-Lava-Timestamp': String(timestamp), 'X-Lava-Signature': webhookSignature(secret, timestamp, body) }
        : {};
      const all: Record<string, string> = { 'user-agent': 'lava-ts-webhook', ...headers, ...sign };
      if (!hasContentType) all['content-type'] = contentType;
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: all,
          body,
          signal: AbortSignal.timeout(timeoutS * 1000),
          redirect: 'manual',
        });
      } catch (err) {
        const e = err as { name?: string; cause?: { code?: string; message?: string } };
        const why =
          e.name === 'TimeoutError'
            ? `no answer within ${timeoutS}s`
            : `${safeMessage(err, secrets)}${e.cause?.code ? ` (${e.cause.code})` : e.cause?.message ? ` (${safeMessage(e.cause, secrets)})` : ''}`;
        return { ok: false, retry: true, why };
      }
      const text = await res.text().catch(() => '');
      if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
      const excerpt = text.replace(/\s+/g, ' ').trim().slice(0, 200);
      return {
        ok: false,
        retry: res.status >= 500,
        why: `HTTP ${res.status}${excerpt ? `: ${safeMessage(excerpt, secrets)}` : ''}`,
      };
    };

    for (let n = 0; ; n++) {
      const r = await attempt();
      if (r.ok) {
        ctx.logger.info(
          { job_id: ctx.job.job_id, run_id: ctx.job.run_id, action: TYPE, url: shown(url), status: r.status, attempts: n + 1 },
          'webhook action',
        );
        return;
      }
      if (!r.retry || n >= retries) {
        const tries = n + 1;
        actionFail(
          TYPE,
          `POST ${shown(url)} failed${tries > 1 ? ` after ${tries} attempts` : ''}: ${r.why}${!r.retry ? ' (a 4xx answer is not retried)' : ''}`,
        );
      }
      const wait = backoffMs(n);
      ctx.logger.warn(
        { job_id: ctx.job.job_id, run_id: ctx.job.run_id, action: TYPE, url: shown(url), attempt: n + 1, retry_in_ms: wait },
        `webhook action: ${r.why}; retrying`,
      );
      await sleep(wait);
    }
  },
};
