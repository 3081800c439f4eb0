/**
 * email action (upstream §5.2 `email`): send a rendered subject and message to `to`. With
 * `email_conn`, through that email connection (SMTP or SES); without, through SES (region: the
 * action's, else SES_REGION; sender: the action's `from`, else SES_FROM). The body is HTML iff it
 * starts with `<html>`. Attachments (email_conn only, as upstream) are objects of the realm's
 * payload or temp areas: a URI under s3_payloads or s3_temp, or a name relative to this run's output
 * area `<s3_temp>/<job_id>/<run_id>/` (e.g. `stdout`).
 */
import { blobStoreFor, joinUri } from '../backends/blob/index.js';
import { payloadKeyProblem } from '../core/paths.js';
import { emailer, type EmailAttachment, type Emailer } from '../connections/connectors/email.js';
import { actionFail, checkFields, renderField, resolveFor } from './common.js';
import type { Action, ActionContext, ActionSpec } from '../run/action.js';

const TYPE = 'email';
const FIELDS = ['to', 'subject', 'message', 'from', 'region', 'email_conn', 'attachments'] as const;

function recipients(v: unknown): string[] {
  const list = typeof v === 'string' ? [v] : Array.isArray(v) ? v : undefined;
  if (!list || !list.length || list.some((x) => typeof x !== 'string' || !x.trim())) {
    actionFail(TYPE, 'needs "to": an address or a list of addresses');
  }
  return list as string[];
}

/** The URI of an attachment, confined to the realm's payload and temp areas. */
export function attachmentUri(name: string, ctx: ActionContext): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(name)) {
    const roots = [ctx.realm.s3_payloads, ctx.realm.s3_temp].map((r) => r.replace(/\/+$/, '') + '/');
    const root = roots.find((r) => name.startsWith(r));
    const problem = root ? payloadKeyProblem(name.slice(root.length)) : undefined;
    if (!root || problem) {
      actionFail(
        TYPE,
        `attachment ${JSON.stringify(name)} ${problem ?? 'is outside the realm'}: use a URI under s3_payloads (${ctx.realm.s3_payloads}) or s3_temp (${ctx.realm.s3_temp}), or a name in this run's output area`,
      );
    }
    return name;
  }
  try {
    return joinUri(ctx.realm.s3_temp, ctx.job.job_id, ctx.job.run_id, name);
  } catch (err) {
    actionFail(TYPE, `attachment ${JSON.stringify(name)}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function readAttachments(spec: ActionSpec, ctx: ActionContext): Promise<EmailAttachment[]> {
  if (spec.attachments === undefined || spec.attachments === null) return [];
  if (!Array.isArray(spec.attachments)) actionFail(TYPE, '"attachments" must be a list of names or URIs');
  const names = spec.attachments.map((a, i) => renderField(TYPE, a, `attachments[${i}]`, ctx));
  const max = ctx.config.int('EMAIL_MAX_ATTACHMENTS');
  if (names.length > max) actionFail(TYPE, `${names.length} attachments: at most ${max} (EMAIL_MAX_ATTACHMENTS)`);
  const maxSize = ctx.config.size('EMAIL_MAX_ATTACHMENT_SIZE');
  const out: EmailAttachment[] = [];
  for (const name of names) {
    const uri = attachmentUri(name, ctx);
    const store = blobStoreFor(uri, ctx.realm.s3_key ? { s3Key: ctx.realm.s3_key } : {});
    const head = await store.head(uri);
    if (!head) actionFail(TYPE, `attachment ${uri} does not exist`);
    if (head.size > maxSize) {
      actionFail(TYPE, `attachment ${uri} is ${head.size} bytes: at most ${maxSize} (EMAIL_MAX_ATTACHMENT_SIZE)`);
    }
    out.push({ filename: head.name, content: await store.read(uri) });
  }
  return out;
}

export const emailAction: Action = {
  type: TYPE,
  async run(spec, ctx) {
    checkFields(TYPE, spec, FIELDS);
    const to = recipients(spec.to);
    if (spec.subject === undefined) actionFail(TYPE, 'needs "subject"');
    if (spec.message === undefined) actionFail(TYPE, 'needs "message"');
    if (spec.email_conn !== undefined && (typeof spec.email_conn !== 'string' || !spec.email_conn)) {
      actionFail(TYPE, '"email_conn" must be the conn_id of an email connection');
    }
    if (spec.attachments !== undefined && spec.email_conn === undefined) {
      actionFail(TYPE, 'attachments need "email_conn" (as upstream): name an email connection');
    }
    const subject = renderField(TYPE, spec.subject, 'subject', ctx);
    const body = renderField(TYPE, spec.message, 'message', ctx);
    if (spec.from !== undefined && typeof spec.from !== 'string') actionFail(TYPE, '"from" must be a string');
    if (spec.region !== undefined && typeof spec.region !== 'string') actionFail(TYPE, '"region" must be a string');
    const attachments = await readAttachments(spec, ctx);
    const size = Buffer.byteLength(body) + Buffer.byteLength(subject) + attachments.reduce((n, a) => n + a.content.length, 0);
    const maxSize = ctx.config.size('EMAIL_MAX_SIZE');
    if (size > maxSize) actionFail(TYPE, `the email is ${size} bytes: at most ${maxSize} (EMAIL_MAX_SIZE)`);

    const conn = typeof spec.email_conn === 'string' ? await resolveFor(ctx, spec.email_conn) : undefined;
    const defaultFrom = ctx.config.optStr('SES_FROM');
    const region = spec.region ?? ctx.config.optStr('SES_REGION');
    const configurationSet = ctx.config.optStr('SES_CONFIGURATION_SET');
    let sender: Emailer | undefined;
    try {
      sender = emailer(conn, {
        ...(defaultFrom ? { defaultFrom } : {}),
        ...(region ? { region } : {}),
        ...(configurationSet ? { configurationSet } : {}),
      });
      const { messageId } = await sender.send({
        to,
        subject,
        body,
        ...(typeof spec.from === 'string' ? { from: spec.from } : {}),
        ...(attachments.length ? { attachments } : {}),
      });
      ctx.logger.info(
        {
          job_id: ctx.job.job_id,
          run_id: ctx.job.run_id,
          action: TYPE,
          to,
          via: conn ? `${conn.connId} (${sender.target})` : sender.target,
          message_id: messageId,
        },
        'email action',
      );
    } finally {
      sender?.close();
    }
  },
};
