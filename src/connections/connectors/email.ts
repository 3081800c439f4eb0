/**
 * email (upstream §6.3): subtype `ses` (the default: region, configuration_set, from) sends through
 * SES v2 SendEmail; subtype `smtp` (host, port, tls, user, password) sends with nodemailer over SMTP.
 * Type `smtp` is an alias of type email with subtype smtp. `password` names a secret.
 *
 * `emailer()` builds the sender the email action and the connection API use; with no connection it
 * is bare SES (the email action without `email_conn`). Messages are MIME built by nodemailer in both
 * cases (SES gets it as a raw message), so attachments work the same way on both.
 */
import type * as SesSdk from '@aws-sdk/client-sesv2';
import nodemailer from 'nodemailer';
import { loadOptional } from '../../core/optional.js';
import { parseDuration } from '../../core/units.js';
import { ConnectionError, redact } from '../errors.js';
import { emailSchema } from '../schemas.js';
import type { Connector, ResolvedConnection } from '../types.js';

export interface EmailAttachment {
  filename: string;
  content: Buffer;
}

export interface EmailMessage {
  to: string[];
  cc?: string[];
  bcc?: string[];
  subject: string;
  /** Sent as HTML when it starts with `<html>` (any case), as upstream does; else as plain text. */
  body: string;
  from?: string;
  replyTo?: string[];
  attachments?: EmailAttachment[];
}

export interface EmailerOptions {
  /** Sender when neither the message nor the connection has one (SES_FROM). */
  defaultFrom?: string;
  /** SES region when the connection has none (SES_REGION). */
  region?: string;
  /** SES configuration set when the connection has none (SES_CONFIGURATION_SET). */
  configurationSet?: string;
}

export interface Emailer {
  readonly kind: 'smtp' | 'ses';
  /** Where mail goes, for messages (never credentials). */
  readonly target: string;
  send(m: EmailMessage): Promise<{ messageId: string }>;
  /** SMTP: connect, EHLO and log in; SES: check that credentials resolve (nothing is sent). */
  verify(): Promise<string>;
  close(): void;
}

/** Upstream's rule: a body is HTML iff it starts with `<html>` (case-insensitive). */
export function isHtml(body: string): boolean {
  return /^<html>/i.test(body);
}

function asList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

/** The connection's subtype: type smtp means smtp; otherwise the spec's subtype, default ses. */
export function emailSubtype(c: ResolvedConnection): 'smtp' | 'ses' {
  if (c.type === 'smtp') return 'smtp';
  return c.spec.subtype === 'smtp' ? 'smtp' : 'ses';
}

function mailOptions(
  m: EmailMessage,
  from: string,
  replyTo: string[],
): nodemailer.SendMailOptions & { ses?: Record<string, unknown> } {
  return {
    from,
    to: m.to,
    ...(m.cc?.length ? { cc: m.cc } : {}),
    ...(m.bcc?.length ? { bcc: m.bcc } : {}),
    ...(replyTo.length ? { replyTo } : {}),
    subject: m.subject,
    ...(isHtml(m.body) ? { html: m.body } : { text: m.body }),
    ...(m.attachments?.length ? { attachments: m.attachments.map((a) => ({ filename: a.filename, content: a.content })) } : {}),
  };
}

function senderOf(m: EmailMessage, c: ResolvedConnection | undefined, o: EmailerOptions): string {
  const from = m.from ?? (c?.spec.from as string | undefined) ?? o.defaultFrom;
  if (!from) {
    throw new ConnectionError(
      c
        ? `email connection "${c.connId}" has no "from" and the action gives none: set "from" on either, or SES_FROM in the realm config`
        : 'email action has no sender: set "from" on the action, or SES_FROM in the realm config',
    );
  }
  return from;
}

/** A redacted error for a failed send or verify. */
function sendError(what: string, err: unknown, secrets: readonly string[]): ConnectionError {
  const e = err as { message?: unknown; name?: unknown };
  const msg = typeof e?.message === 'string' && e.message ? e.message : String(err);
  const name = typeof e?.name === 'string' && e.name !== 'Error' ? `${e.name}: ` : '';
  return new ConnectionError(`${what}: ${redact(`${name}${msg}`, secrets)}`);
}

function smtpEmailer(c: ResolvedConnection, o: EmailerOptions): Emailer {
  const s = c.spec;
  if (typeof s.host !== 'string') throw new ConnectionError(`email connection "${c.connId}" (smtp) needs "host"`);
  const tls = s.tls === true;
  const port = typeof s.port === 'number' ? s.port : tls ? 465 : 25;
  const timeoutMs = parseDuration(s.timeout ?? '10s', 'timeout') * 1000;
  const password = c.secrets.password;
  if (s.user !== undefined && password === undefined) {
    throw new ConnectionError(
      `email connection "${c.connId}" has a user but no password: set "password" to the name of a secret (lava secret put NAME -)`,
    );
  }
  const transport = nodemailer.createTransport({
    host: s.host,
    port,
    secure: tls,
    ...(typeof s.user === 'string' ? { auth: { user: s.user, pass: password ?? '' } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs * 3,
  });
  const secrets = password ? [password] : [];
  const target = `smtp://${s.host}:${port}`;
  const label = `email connection "${c.connId}" (${target}${typeof s.user === 'string' ? ` as ${s.user}` : ''})`;
  return {
    kind: 'smtp',
    target,
    async send(m) {
      const from = senderOf(m, c, o);
      try {
        const info = (await transport.sendMail(mailOptions(m, from, m.replyTo ?? asList(s.reply_to)))) as { messageId?: string };
        return { messageId: info.messageId ?? '' };
      } catch (err) {
        throw sendError(`cannot send through ${label}`, err, secrets);
      }
    },
    async verify() {
      try {
        await transport.verify();
      } catch (err) {
        throw sendError(`cannot connect to ${label}`, err, secrets);
      }
      return `connected to ${target}, EHLO${typeof s.user === 'string' ? ' and login' : ''} accepted (nothing sent)`;
    },
    close() {
      transport.close();
    },
  };
}

function sesEmailer(c: ResolvedConnection | undefined, o: EmailerOptions): Emailer {
  const region = (c?.spec.region as string | undefined) ?? o.region;
  const configurationSet = (c?.spec.configuration_set as string | undefined) ?? o.configurationSet;
  // The SES SDK is an optional package: loaded (and the client made) on the first send or verify.
  let made: { client: SesSdk.SESv2Client; transport: nodemailer.Transporter } | undefined;
  const ses = async () => {
    if (made) return made;
    const { SESv2Client, SendEmailCommand } = await loadOptional<typeof SesSdk>('@aws-sdk/client-sesv2', 'email through SES');
    if (made) return made;
    const client = new SESv2Client(region ? { region } : {});
    return (made = { client, transport: nodemailer.createTransport({ SES: { sesClient: client, SendEmailCommand } }) });
  };
  const target = `SES${region ? ` in ${region}` : ''}`;
  const label = c ? `email connection "${c.connId}" (${target})` : target;
  return {
    kind: 'ses',
    target,
    async send(m) {
      const from = senderOf(m, c, o);
      const { transport } = await ses();
      try {
        const info = (await transport.sendMail({
          ...mailOptions(m, from, m.replyTo ?? asList(c?.spec.reply_to)),
          ...(configurationSet ? { ses: { ConfigurationSetName: configurationSet } } : {}),
        })) as { messageId?: string; response?: string };
        return { messageId: info.response ?? info.messageId ?? '' };
      } catch (err) {
        throw sendError(`cannot send through ${label}`, err, []);
      }
    },
    async verify() {
      const { client } = await ses();
      try {
        await client.config.credentials();
      } catch (err) {
        throw sendError(`no AWS credentials for ${label}`, err, []);
      }
      return `AWS credentials resolve for ${target} (nothing sent; SES itself was not contacted)`;
    },
    close() {
      made?.transport.close();
      made?.client.destroy();
      made = undefined;
    },
  };
}

/** The sender for a resolved email connection, or bare SES when `c` is undefined. */
export function emailer(c: ResolvedConnection | undefined, o: EmailerOptions = {}): Emailer {
  if (c && c.connector.type !== 'email') {
    throw new ConnectionError(`connection "${c.connId}" is of type ${c.type}, not email`);
  }
  return c && emailSubtype(c) === 'smtp' ? smtpEmailer(c, o) : sesEmailer(c, o);
}

export const emailConnector: Connector = {
  type: 'email',
  aliases: ['smtp'],
  dialect: 'generic',
  schema: emailSchema,
  required: [],
  secretFields: ['password'],
  check(spec) {
    const smtp = String(spec.type).toLowerCase() === 'smtp' || spec.subtype === 'smtp';
    if (smtp && spec.host === undefined) return ['host is required for an smtp email connection'];
    return [];
  },
  async test(c) {
    const e = emailer(c);
    try {
      return `${c.connId} (${c.type}, ${emailSubtype(c)}): ${await e.verify()}`;
    } finally {
      e.close();
    }
  },
  writeCli(c) {
    return Promise.reject(
      new ConnectionError(
        `connection "${c.connId}" is of type ${c.type}: Lava for TypeScript has no CLI connector (lava-email) for email connections; send from an email action instead`,
      ),
    );
  },
};
