/**
 * sqs action (upstream §5.2 `sqs`): send a rendered message to a queue.
 *
 * On the AWS backend (`aws://…`) it is SQS itself: `queue` is a queue name (looked up with
 * GetQueueUrl), or, as upstream, a queue URL when it contains `.amazonaws.com/` (upstream prefixes
 * `https://`, so its URLs must be given without a scheme; here a URL with its scheme works too).
 * `dedup_id` and `group_id` are sent only to FIFO queues (a name or URL ending `.fifo`).
 *
 * On every other backend there is no SQS: `queue` names a worker fleet of the job's realm (`core`),
 * or its queue in full (`lava-<realm>-core`), and the message goes into that worker queue through
 * the backend's Queue port. There are no FIFO queues there: `dedup_id` and `group_id` are ignored.
 */
import type * as SqsSdk from '@aws-sdk/client-sqs';
import { isAwsUrl, parseAwsUrl } from '../backends/aws/url.js';
import { queueName } from '../backends/ports.js';
import { loadOptional } from '../core/optional.js';
import { parseDuration } from '../core/units.js';
import { actionFail, optField, renderMessage, safeMessage } from './common.js';
import type { Action, ActionContext } from '../run/action.js';

const TYPE = 'sqs';
const MAX_DELAY = 900;

/** An upstream queue value that is a URL: it contains `.amazonaws.com/`. */
export function sqsQueueUrl(queue: string): string | undefined {
  if (!queue.includes('.amazonaws.com/')) return undefined;
  return /^https?:\/\//i.test(queue) ? queue : `https://${queue}`;
}

/** The worker a queue value names on a non-AWS backend: `core` or `lava-<realm>-core`. */
export function workerOfQueue(queue: string, realm: string): string {
  const prefix = `lava-${realm}-`;
  const worker = queue.startsWith(prefix) ? queue.slice(prefix.length) : queue;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(worker)) {
    actionFail(
      TYPE,
      `queue ${JSON.stringify(queue)}: name a worker of realm ${realm} (e.g. "core") or its queue "lava-${realm}-core"`,
    );
  }
  return worker;
}

async function sendToSqs(
  ctx: ActionContext,
  queue: string,
  body: string,
  o: { delay?: number; dedupId?: string; groupId?: string },
): Promise<string | undefined> {
  const { region } = parseAwsUrl(ctx.backend.url);
  const { GetQueueUrlCommand, SendMessageCommand, SQSClient } = await loadOptional<typeof SqsSdk>(
    '@aws-sdk/client-sqs',
    'the sqs action on the AWS backend',
  );
  const client = new SQSClient(region ? { region } : {});
  try {
    const url = sqsQueueUrl(queue) ?? (await client.send(new GetQueueUrlCommand({ QueueName: queue }))).QueueUrl;
    const fifo = /\.fifo$/.test(url ?? queue);
    const out = await client.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: body,
        ...(o.delay !== undefined ? { DelaySeconds: o.delay } : {}),
        ...(fifo && o.dedupId ? { MessageDeduplicationId: o.dedupId } : {}),
        ...(fifo && o.groupId ? { MessageGroupId: o.groupId } : {}),
      }),
    );
    return out.MessageId;
  } catch (err) {
    const name = (err as { name?: string }).name;
    actionFail(TYPE, `send to queue ${queue} failed: ${name && name !== 'Error' ? `${name}: ` : ''}${safeMessage(err, [])}`);
  } finally {
    client.destroy();
  }
}

export const sqsAction: Action = {
  type: TYPE,
  async run(spec, ctx) {
    if (typeof spec.queue !== 'string' || !spec.queue) actionFail(TYPE, 'needs "queue": a queue name (or URL)');
    if (spec.message === undefined) actionFail(TYPE, 'needs "message" (a string, or a value sent as JSON)');
    const body = renderMessage(TYPE, spec.message, 'message', ctx);
    let delay: number | undefined;
    if (spec.delay !== undefined && spec.delay !== null) {
      try {
        delay = parseDuration(spec.delay, 'delay');
      } catch (err) {
        actionFail(TYPE, err instanceof Error ? err.message : String(err));
      }
      if (!Number.isInteger(delay) || delay < 0 || delay > MAX_DELAY) actionFail(TYPE, `delay must be 0 to ${MAX_DELAY} seconds`);
    }
    const dedupId = optField(TYPE, spec, 'dedup_id', ctx);
    const groupId = optField(TYPE, spec, 'group_id', ctx);
    let messageId: string | undefined;
    let target: string;
    if (isAwsUrl(ctx.backend.url)) {
      target = spec.queue;
      messageId = await sendToSqs(ctx, spec.queue, body, {
        ...(delay !== undefined ? { delay } : {}),
        ...(dedupId !== undefined ? { dedupId } : {}),
        ...(groupId !== undefined ? { groupId } : {}),
      });
    } else {
      const worker = workerOfQueue(spec.queue, ctx.job.realm);
      target = queueName(ctx.job.realm, worker);
      messageId = await ctx.backend.queue(ctx.job.realm, worker).send(body, delay ? { delaySeconds: delay } : {});
    }
    ctx.logger.info(
      { job_id: ctx.job.job_id, run_id: ctx.job.run_id, action: TYPE, queue: target, message_id: messageId },
      'sqs action',
    );
  },
};
