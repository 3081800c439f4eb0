/**
 * slack action (upstream §5.2 `slack`): post a rendered message to the incoming webhook of a slack
 * connection. `from`, `subject` and `message` are rendered; the message is cut to 3000 characters and
 * the subject to 250. Style, colour, preamble and from default from the connection.
 */
import {
  SLACK_MAX_MESSAGE,
  SLACK_MAX_SUBJECT,
  SLACK_STYLES,
  slackSender,
  type SlackStyle,
} from '../connections/connectors/slack.js';
import { actionFail, checkFields, optField, renderField, resolveFor } from './common.js';
import type { Action } from '../run/action.js';

const TYPE = 'slack';
const FIELDS = ['slack_conn', 'message', 'from', 'subject', 'colour', 'style', 'preamble'] as const;

/** Cut `s` to `max` characters, the last one an ellipsis. */
function cut(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

export const slackAction: Action = {
  type: TYPE,
  async run(spec, ctx) {
    checkFields(TYPE, spec, FIELDS);
    if (typeof spec.slack_conn !== 'string' || !spec.slack_conn) {
      actionFail(TYPE, 'needs "slack_conn": the conn_id of a slack connection');
    }
    if (spec.message === undefined) actionFail(TYPE, 'needs "message"');
    if (spec.style !== undefined && !SLACK_STYLES.includes(spec.style as SlackStyle)) {
      actionFail(TYPE, `style ${JSON.stringify(spec.style)}: use ${SLACK_STYLES.join(', ')}`);
    }
    for (const f of ['colour', 'preamble'] as const) {
      if (spec[f] !== undefined && typeof spec[f] !== 'string') actionFail(TYPE, `"${f}" must be a string`);
    }
    const message = cut(renderField(TYPE, spec.message, 'message', ctx), SLACK_MAX_MESSAGE);
    const subject = optField(TYPE, spec, 'subject', ctx);
    const from = optField(TYPE, spec, 'from', ctx);
    const conn = await resolveFor(ctx, spec.slack_conn);
    await slackSender(conn, { realm: ctx.job.realm }).send({
      message,
      ...(subject !== undefined ? { subject: cut(subject, SLACK_MAX_SUBJECT) } : {}),
      ...(from !== undefined ? { from } : {}),
      ...(spec.style !== undefined ? { style: spec.style as SlackStyle } : {}),
      ...(spec.colour !== undefined ? { colour: spec.colour as string } : {}),
      ...(spec.preamble !== undefined ? { preamble: spec.preamble as string } : {}),
    });
    ctx.logger.info({ job_id: ctx.job.job_id, run_id: ctx.job.run_id, action: TYPE, slack_conn: conn.connId }, 'slack action');
  },
};
