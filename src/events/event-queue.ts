/**
 * The event queue on AWS: an SQS queue (config key EVENT_QUEUE) that an EventBridge rule, an SNS
 * topic or anyone else sends to. Each message is either an EventBridge event (routed to the event
 * rules, routeEvent) or a dispatch helper message (JSON or text, spec §2.6), raw or wrapped in an SNS
 * notification. Handled messages are deleted; an event (or message) already taken by a replica, or
 * by this one before a redelivery, is dropped: `event-taken` entries in the realm's directory, kept
 * a day, make each one fire once. See docs/event-rules.md and docs/dispatch-helper.md.
 */
import type * as SqsSdk from '@aws-sdk/client-sqs';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { Backend } from '../backends/ports.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { loadOptional } from '../core/optional.js';
import { runDispatchHelper, type HelperResult } from './dispatch-helper.js';
import { routeEvent, type FiredRule, type IncomingEvent } from './route.js';

export interface EventQueueOptions {
  backend: Backend;
  realm: string;
  /** The queue's name or URL (EVENT_QUEUE). */
  queueUrlOrName: string;
  logger: Logger;
  /** Stops the poller (between receives, or during a long poll). */
  signal: AbortSignal;
  /** Long-poll wait per receive, 0..20 s (default 20). */
  waitSeconds?: number;
  /** Default: a client from the SDK's standard settings (AWS_REGION, AWS_ENDPOINT_URL_SQS, …). */
  sqs?: SQSClient;
}

/** What became of one message. */
export type HandledMessage =
  | { kind: 'event'; event_id: string; fired: FiredRule[] }
  | { kind: 'helper'; result: HelperResult }
  | { kind: 'duplicate'; id: string };

const TAKEN_TTL = 86_400;
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Receive, handle and delete messages until `signal` is aborted. */
export async function pollEventQueue(o: EventQueueOptions): Promise<void> {
  let sdk: typeof SqsSdk;
  try {
    sdk = await loadOptional<typeof SqsSdk>('@aws-sdk/client-sqs', 'the event queue (EVENT_QUEUE)');
  } catch (err) {
    o.logger.error({ realm: o.realm, err: errorMessage(err) }, 'event queue: not polled');
    return;
  }
  const { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } = sdk;
  const sqs = o.sqs ?? new SQSClient({});
  try {
    const url = await queueUrl(sdk, sqs, o.queueUrlOrName, o.signal);
    if (!url) return;
    o.logger.info({ realm: o.realm, queue: url }, 'event queue: polling');
    while (!o.signal.aborted) {
      let messages: Message[];
      try {
        const r = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: Math.min(20, Math.max(0, o.waitSeconds ?? 20)),
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: o.signal },
        );
        messages = r.Messages ?? [];
      } catch (err) {
        if (o.signal.aborted || isAbort(err)) return;
        o.logger.warn({ realm: o.realm, queue: url, err: errorMessage(err) }, 'event queue: receive failed; retrying');
        await sleep(5_000, o.signal);
        continue;
      }
      for (const m of messages) {
        try {
          const handled = await handleQueueMessage(o.backend, o.realm, m.Body ?? '', m.MessageId ?? '', o.logger);
          o.logger.debug({ realm: o.realm, message_id: m.MessageId, handled }, 'event queue: message handled');
        } catch (err) {
          // Left in the queue: it comes back after its visibility timeout (and to the queue's DLQ, if it has one).
          o.logger.error({ realm: o.realm, message_id: m.MessageId, err: errorMessage(err) }, 'event queue: message failed');
          continue;
        }
        await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle })).catch((err: unknown) => {
          o.logger.warn({ realm: o.realm, message_id: m.MessageId, err: errorMessage(err) }, 'event queue: delete failed');
        });
      }
    }
  } finally {
    if (!o.sqs) sqs.destroy();
  }
}

/**
 * One message body: an EventBridge event (→ routeEvent, taken once per event id) or a dispatch helper
 * message (→ the helper, taken once per message id), either possibly inside an SNS notification.
 * Throws only when the backend fails (the message is then left for a redelivery).
 */
export async function handleQueueMessage(
  backend: Backend,
  realm: string,
  body: string,
  messageId: string,
  logger: Logger,
): Promise<HandledMessage> {
  let text = body;
  let json = parseJson(text);
  if (isMap(json) && json.Type === 'Notification' && typeof json.Message === 'string') {
    text = json.Message;
    json = parseJson(text);
  }
  const event = isMap(json) && isEvent(json) ? json : undefined;
  const id = event && typeof event.id === 'string' && event.id ? event.id : `message:${messageId}`;
  if (
    !(await backend.directory.claim(realm, {
      kind: 'event-taken',
      id,
      data: { at: new Date().toISOString() },
      ttlSeconds: TAKEN_TTL,
    }))
  ) {
    logger.info({ realm, id }, 'event queue: already taken; dropped');
    return { kind: 'duplicate', id };
  }
  try {
    if (event) {
      const fired = await routeEvent(backend, realm, { ...(event as unknown as IncomingEvent), id }, { logger });
      return { kind: 'event', event_id: id, fired };
    }
    // Lambda-style records inside one message: each record's body is a helper message.
    const bodies = isMap(json) && Array.isArray(json.Records) ? recordBodies(json.Records) : [text];
    const result: HelperResult = { dispatched: [], errors: [] };
    for (const b of bodies) {
      const r = typeof b === 'string' ? await runDispatchHelper(backend, realm, b, { logger }) : b;
      result.dispatched.push(...r.dispatched);
      result.errors.push(...r.errors);
    }
    return { kind: 'helper', result };
  } catch (err) {
    await backend.directory.delete(realm, 'event-taken', id).catch(() => undefined);
    throw err;
  }
}

function recordBodies(records: unknown[]): (string | HelperResult)[] {
  return records.map((r, i) => {
    const rec = isMap(r) ? r : {};
    const sns = isMap(rec.Sns) ? rec.Sns.Message : undefined;
    const body = typeof sns === 'string' ? sns : rec.body;
    if (typeof body === 'string') return body;
    return { dispatched: [], errors: [{ request: `Records[${i}]`, error: 'a record has neither Sns.Message nor body' }] };
  });
}

function isEvent(j: Record<string, unknown>): boolean {
  return typeof j.source === 'string' && typeof j['detail-type'] === 'string' && 'detail' in j;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

async function queueUrl(sdk: typeof SqsSdk, sqs: SQSClient, nameOrUrl: string, signal: AbortSignal): Promise<string | undefined> {
  if (/^https?:\/\//.test(nameOrUrl)) return nameOrUrl;
  try {
    const r = await sqs.send(new sdk.GetQueueUrlCommand({ QueueName: nameOrUrl }), { abortSignal: signal });
    return r.QueueUrl;
  } catch (err) {
    if (signal.aborted || isAbort(err)) return undefined;
    throw err;
  }
}

function isAbort(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'AbortError';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
