/**
 * slack (upstream §6.3): an incoming webhook. `webhook_url` is the URL itself (as upstream) or,
 * beyond upstream, the name of a secret holding it (anything that does not start with http:// or
 * https://). Either way the URL is treated as a secret: it is never logged or put in an error.
 *
 * `slackSender()` posts a message in one of three styles (see docs/connectors/slack.md):
 * `block` (the default), `attachment` or `plain`.
 */
import { parseDuration } from '../../core/units.js';
import { ConnectionError, redact } from '../errors.js';
import { slackSchema } from '../schemas.js';
import type { Connector, ResolvedConnection } from '../types.js';

export type SlackStyle = 'block' | 'attachment' | 'plain';
export const SLACK_STYLES: readonly SlackStyle[] = ['block', 'attachment', 'plain'];
export const SLACK_MAX_MESSAGE = 3000;
export const SLACK_MAX_SUBJECT = 250;

export interface SlackMessage {
  message: string;
  subject?: string;
  preamble?: string;
  from?: string;
  colour?: string;
  style?: SlackStyle;
}

/**
 * A colour for Slack: `good`, `warning` and `danger` are Slack's named colours and stay as they are;
 * a hex value gets its `#`. (Upstream forces `#` onto every value, breaking the names, Appendix A15.)
 */
export function slackColour(colour: string | undefined): string | undefined {
  if (!colour) return undefined;
  if (/^(good|warning|danger)$/i.test(colour)) return colour.toLowerCase();
  return colour.startsWith('#') ? colour : `#${colour}`;
}

/** The JSON body posted to the webhook. */
export function slackPayload(m: Required<Pick<SlackMessage, 'message' | 'from' | 'style'>> & SlackMessage): unknown {
  const colour = slackColour(m.colour);
  const fallback = m.subject ? `${m.subject}: ${m.message}` : m.message;
  switch (m.style) {
    case 'plain':
      return {
        text: [m.preamble, m.subject ? `*${m.subject}*` : undefined, m.message, `_from ${m.from}_`].filter((x) => x).join('\n'),
      };
    case 'attachment':
      return {
        ...(m.preamble ? { text: m.preamble } : {}),
        attachments: [
          {
            fallback: fallback.slice(0, SLACK_MAX_MESSAGE),
            ...(colour ? { color: colour } : {}),
            ...(m.subject ? { title: m.subject } : {}),
            text: m.message,
            footer: m.from,
            ts: Math.floor(Date.now() / 1000),
          },
        ],
      };
    case 'block':
      return {
        text: m.preamble || fallback.slice(0, SLACK_MAX_MESSAGE),
        attachments: [
          {
            ...(colour ? { color: colour } : {}),
            blocks: [
              // Not a header block: those hold at most 150 characters, a subject up to 250.
              ...(m.subject ? [{ type: 'section', text: { type: 'mrkdwn', text: `*${m.subject}*` } }] : []),
              { type: 'section', text: { type: 'mrkdwn', text: m.message } },
              { type: 'context', elements: [{ type: 'mrkdwn', text: `From: ${m.from}` }] },
            ],
          },
        ],
      };
  }
}

export interface SlackSender {
  send(m: SlackMessage): Promise<void>;
}

/** The webhook URL's host, for messages (the path is the secret part). */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * The parts of a webhook URL to keep out of messages: the URL, its path (with and without the query
 * and leading slash) and each long path segment, since servers echo paths in their errors.
 */
export function urlSecrets(url: string): string[] {
  const out = [url];
  try {
    const u = new URL(url);
    out.push(`${u.pathname}${u.search}`, u.pathname, u.pathname.replace(/^\/+/, ''));
    for (const seg of u.pathname.split('/')) if (seg.length >= 8) out.push(seg);
    if (u.search.length > 1) out.push(u.search.slice(1));
  } catch {
    // not a URL: the whole value is the secret
  }
  return out.filter((s) => s.length > 1);
}

/** Check the webhook URL's shape: an http(s) URL with a path. Returns problems, never the URL. */
export function webhookUrlProblems(url: string): string[] {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return ['webhook_url is not a URL'];
  }
  const problems: string[] = [];
  if (u.protocol !== 'https:' && u.protocol !== 'http:') problems.push(`webhook_url must be https:// (it is ${u.protocol})`);
  if (u.pathname === '/' || !u.pathname)
    problems.push('webhook_url has no path (a Slack webhook is https://hooks.slack.com/services/…)');
  return problems;
}

export function slackSender(c: ResolvedConnection, o: { realm: string }): SlackSender {
  if (c.connector.type !== 'slack') throw new ConnectionError(`connection "${c.connId}" is of type ${c.type}, not slack`);
  const url = c.secrets.webhook_url ?? '';
  const problems = webhookUrlProblems(url);
  if (problems.length) throw new ConnectionError(`bad slack connection "${c.connId}": ${problems.join('; ')}`);
  const timeoutMs = parseDuration(c.spec.timeout ?? '10s', 'timeout') * 1000;
  const label = `slack connection "${c.connId}" (${hostOf(url)})`;
  const s = c.spec;
  return {
    async send(m) {
      const style = m.style ?? (s.style as SlackStyle | undefined) ?? 'block';
      const body = JSON.stringify(
        slackPayload({
          message: m.message,
          style,
          from: m.from ?? (s.from as string | undefined) ?? `lava@${o.realm}`,
          ...((m.subject ?? undefined) !== undefined ? { subject: m.subject } : {}),
          ...((m.preamble ?? s.preamble) !== undefined ? { preamble: (m.preamble ?? s.preamble) as string } : {}),
          ...((m.colour ?? s.colour) !== undefined ? { colour: (m.colour ?? s.colour) as string } : {}),
        }),
      );
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'error',
        });
      } catch (err) {
        const e = err as { name?: string; message?: string; cause?: { message?: string; code?: string } };
        const why =
          e.name === 'TimeoutError'
            ? `no answer within ${timeoutMs / 1000}s`
            : `${e.message ?? String(err)}${e.cause?.code ? ` (${e.cause.code})` : ''}`;
        throw new ConnectionError(`cannot post to ${label}: ${redact(why, urlSecrets(url))}`);
      }
      const text = (await res.text().catch(() => '')).slice(0, 200);
      if (!res.ok) {
        throw new ConnectionError(`${label} answered HTTP ${res.status}: ${redact(text, urlSecrets(url)) || res.statusText}`);
      }
    },
  };
}

export const slackConnector: Connector = {
  type: 'slack',
  aliases: [],
  dialect: 'generic',
  schema: slackSchema,
  required: [],
  secretFields: ['webhook_url'],
  secretRef: (_field, value) => !/^https?:\/\//i.test(value),
  async test(c) {
    const url = c.secrets.webhook_url ?? '';
    const problems = webhookUrlProblems(url);
    if (problems.length) throw new ConnectionError(`bad slack connection "${c.connId}": ${problems.join('; ')}`);
    const from = c.spec.webhook_url === url ? 'in the spec' : `from secret ${String(c.spec.webhook_url)}`;
    return `${c.connId} (slack): webhook URL ${from} is a well-formed URL on ${hostOf(url)} (not posted to: a test would send a message)`;
  },
  writeCli(c) {
    return Promise.reject(
      new ConnectionError(
        `connection "${c.connId}" is of type slack: Lava for TypeScript has no CLI connector (lava-slack) for slack connections; post from a slack action instead`,
      ),
    );
  },
};
