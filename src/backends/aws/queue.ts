/**
 * A worker queue on SQS: the standard queue `lava-<realm>-<worker>`, created on first use when it does
 * not exist (CreateQueue is idempotent), with upstream's defaults (visibility 3600 s, retention 1 day).
 *
 * Where SQS differs from the port's contract (see docs/backends/aws.md):
 * - a stale receipt (from an earlier receive of the same message) may still delete or extend it, and
 *   deleting twice succeeds; the run claims keep a run from running twice at once regardless;
 * - counts are approximate (they lag by up to a minute on real SQS);
 * - waits and leases are whole seconds; a long poll is at most 20 s per request (we loop);
 * - an aborted long poll stays open at SQS and takes the next message; we give such messages back.
 */
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs';
import { ConfigError } from '../../core/errors.js';
import type { Queue, QueueCounts, QueueMessage, ReceiveOptions } from '../ports.js';
import { isAbort, isAwsError, type AwsClients } from './clients.js';

/** SQS limits. */
const MAX_BATCH = 10;
const MAX_WAIT = 20;
const MAX_VISIBILITY = 43_200;
const MAX_DELAY = 900;

/** Errors that mean "this receipt does not (or no longer) name an in-flight message of this queue". */
const STALE_RECEIPT = ['ReceiptHandleIsInvalid', 'MessageNotInflight', 'InvalidParameterValue', 'InvalidIdFormat'];

const QUEUE_NAME_RE = /^[A-Za-z0-9_-]{1,80}$/;

function toMessage(m: Message): QueueMessage {
  return {
    id: m.MessageId ?? '',
    receipt: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
    sentAt: new Date(Number(m.Attributes?.SentTimestamp ?? Date.now())),
  };
}

export class SqsQueue implements Queue {
  readonly maxDelaySeconds = MAX_DELAY;
  private url?: Promise<string>;

  constructor(
    private readonly clients: AwsClients,
    readonly name: string,
    /** Aborted when the backend closes: waiting receives return []. */
    private readonly closed: AbortSignal,
  ) {}

  /** The queue URL, looked up once (and the queue created if missing). */
  private queueUrl(): Promise<string> {
    if (!this.url) {
      this.url = this.lookup();
      this.url.catch(() => (this.url = undefined));
    }
    return this.url;
  }

  private async lookup(): Promise<string> {
    if (!QUEUE_NAME_RE.test(this.name)) {
      throw new ConfigError(
        `"${this.name}" cannot be an SQS queue name: realm and worker names may only use letters, digits, - and _ (at most 80 in all)`,
      );
    }
    try {
      const r = await this.clients.sqs.send(new GetQueueUrlCommand({ QueueName: this.name }));
      if (r.QueueUrl) return r.QueueUrl;
    } catch (err) {
      if (!isAwsError(err, 'QueueDoesNotExist', 'NonExistentQueue')) throw err;
    }
    try {
      const r = await this.clients.sqs.send(
        new CreateQueueCommand({
          QueueName: this.name,
          Attributes: { VisibilityTimeout: '3600', MessageRetentionPeriod: '86400' },
        }),
      );
      if (r.QueueUrl) return r.QueueUrl;
    } catch (err) {
      // Made at the same moment with other attributes: use it.
      if (!isAwsError(err, 'QueueAlreadyExists', 'QueueNameExists')) throw err;
    }
    const r = await this.clients.sqs.send(new GetQueueUrlCommand({ QueueName: this.name }));
    if (!r.QueueUrl) throw new ConfigError(`SQS returned no URL for queue ${this.name}`);
    return r.QueueUrl;
  }

  async send(body: string, options: { delaySeconds?: number } = {}): Promise<string> {
    const delay = Math.ceil(Math.max(0, options.delaySeconds ?? 0));
    if (delay > MAX_DELAY) {
      throw new ConfigError(`SQS delays are at most ${MAX_DELAY} seconds (15 minutes); ${delay} was asked for`);
    }
    const r = await this.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: await this.queueUrl(), MessageBody: body, ...(delay ? { DelaySeconds: delay } : {}) }),
    );
    return r.MessageId ?? '';
  }

  async receive(options: ReceiveOptions): Promise<QueueMessage[]> {
    const user = options.signal;
    if (user?.aborted || this.closed.aborted) return [];
    const url = await this.queueUrl();
    const max = Math.min(MAX_BATCH, Math.max(1, Math.floor(options.max)));
    const visibility = Math.min(MAX_VISIBILITY, Math.max(0, Math.ceil(options.visibilitySeconds)));
    const deadline = Date.now() + Math.max(0, options.waitSeconds) * 1000;
    for (;;) {
      const wait = Math.min(MAX_WAIT, Math.ceil(Math.max(0, deadline - Date.now()) / 1000));
      // Long-poll for one message, then top the batch up without waiting: SQS answers a long poll as
      // soon as anything is ready anyway, while local-aws-sqs would wait out the whole wait to fill a batch.
      const first = await this.receiveOnce(url, 1, wait, visibility, user);
      if (first === 'aborted') return [];
      if (first.length) {
        const more = max > 1 ? await this.receiveOnce(url, max - 1, 0, visibility) : [];
        if (more !== 'aborted') first.push(...more);
        return first;
      }
      if (Date.now() >= deadline || user?.aborted || this.closed.aborted) return [];
    }
  }

  /**
   * One ReceiveMessage. If `signal` aborts first, this returns 'aborted' at once but lets the request
   * run on: SQS keeps an abandoned long poll open and hands it the next message anyway (the client
   * would never see it until the lease ran out), so whatever it brings back is made visible again.
   * Only closing the backend cuts the request itself.
   */
  private receiveOnce(
    url: string,
    max: number,
    wait: number,
    visibility: number,
    signal?: AbortSignal,
  ): Promise<QueueMessage[] | 'aborted'> {
    const request = this.clients.sqs
      .send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: max,
          VisibilityTimeout: visibility,
          WaitTimeSeconds: wait,
          // Both names: SQS documents MessageSystemAttributeNames, local emulators only honour the older one.
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
          AttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'] as unknown as QueueAttributeName[],
        }),
        { abortSignal: this.closed },
      )
      .then((r) => (r.Messages ?? []).map(toMessage))
      .catch((err: unknown) => {
        if (isAbort(err) || this.closed.aborted) return [] as QueueMessage[];
        throw err;
      });
    if (!signal) return request;
    return new Promise((resolve, reject) => {
      let abandoned = false;
      const onAbort = () => {
        abandoned = true;
        resolve('aborted');
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      request.then(
        (messages) => {
          signal.removeEventListener('abort', onAbort);
          if (!abandoned) return resolve(messages);
          for (const m of messages) void this.extendVisibility(m.receipt, 0).catch(() => false);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          if (!abandoned) reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  async extendVisibility(receipt: string, seconds: number): Promise<boolean> {
    try {
      await this.clients.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: await this.queueUrl(),
          ReceiptHandle: receipt,
          VisibilityTimeout: Math.min(MAX_VISIBILITY, Math.max(0, Math.ceil(seconds))),
        }),
      );
      return true;
    } catch (err) {
      if (isAwsError(err, ...STALE_RECEIPT)) return false;
      throw err;
    }
  }

  async delete(receipt: string): Promise<boolean> {
    try {
      await this.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: await this.queueUrl(), ReceiptHandle: receipt }));
      return true;
    } catch (err) {
      if (isAwsError(err, ...STALE_RECEIPT)) return false;
      throw err;
    }
  }

  /** SQS cannot tell when its oldest message was sent, so `oldestSentAt` is left out. */
  async counts(): Promise<QueueCounts> {
    const r = await this.clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: await this.queueUrl(),
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    const a = r.Attributes ?? {};
    return {
      visible: Number(a.ApproximateNumberOfMessages ?? 0),
      inflight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
    };
  }
}
