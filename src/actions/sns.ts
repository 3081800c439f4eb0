/**
 * sns action (upstream §5.2 `sns`): publish a rendered message to an SNS topic. `topic` is an ARN
 * and is not rendered; `message` is a string, or a JSON value sent as JSON text (its strings
 * rendered); `subject` is rendered and cut to 100 characters. Other keys are tolerated, as upstream.
 * The client's region is the topic ARN's; credentials come from the SDK's default chain.
 */
import type * as SnsSdk from '@aws-sdk/client-sns';
import { loadOptional } from '../core/optional.js';
import { actionFail, optField, renderMessage, safeMessage } from './common.js';
import type { Action } from '../run/action.js';

const TYPE = 'sns';
export const SNS_MAX_SUBJECT = 100;

/** The region of an ARN (`arn:aws:sns:<region>:<account>:<name>`), if it has one. */
export function arnRegion(arn: string): string | undefined {
  const parts = arn.split(':');
  return parts[0] === 'arn' && parts.length >= 6 && parts[3] ? parts[3] : undefined;
}

export const snsAction: Action = {
  type: TYPE,
  async run(spec, ctx) {
    if (typeof spec.topic !== 'string' || !spec.topic.startsWith('arn:')) {
      actionFail(TYPE, 'needs "topic": the ARN of an SNS topic (arn:aws:sns:<region>:<account>:<name>)');
    }
    if (spec.message === undefined) actionFail(TYPE, 'needs "message" (a string, or a value sent as JSON)');
    const message = renderMessage(TYPE, spec.message, 'message', ctx);
    const subject = optField(TYPE, spec, 'subject', ctx);
    const region = arnRegion(spec.topic);
    const { PublishCommand, SNSClient } = await loadOptional<typeof SnsSdk>('@aws-sdk/client-sns', 'the sns action');
    const client = new SNSClient(region ? { region } : {});
    try {
      const out = await client.send(
        new PublishCommand({
          TopicArn: spec.topic,
          Message: message,
          ...(subject ? { Subject: [...subject].slice(0, SNS_MAX_SUBJECT).join('') } : {}),
        }),
      );
      ctx.logger.info(
        { job_id: ctx.job.job_id, run_id: ctx.job.run_id, action: TYPE, topic: spec.topic, message_id: out.MessageId },
        'sns action',
      );
    } catch (err) {
      const name = (err as { name?: string }).name;
      actionFail(TYPE, `publish to ${spec.topic} failed: ${name && name !== 'Error' ? `${name}: ` : ''}${safeMessage(err, [])}`);
    } finally {
      client.destroy();
    }
  },
};
