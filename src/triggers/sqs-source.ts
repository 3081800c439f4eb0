/**
 * Object events from an SQS queue that S3 event notifications are sent to (directly, or through an
 * SNS topic, or EventBridge). Each message is handled, then deleted; a message whose dispatch could not
 * be made now (the store or a worker queue unreachable) is left for SQS to deliver again. A message
 * that is not an S3 event is logged and deleted (it would never become one).
 */
import type * as SqsSdk from '@aws-sdk/client-sqs';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { loadOptional } from '../core/optional.js';
import { objectEvents, type ObjectEvent } from '../events/s3-notification.js';

export interface SqsSourceOptions {
  /** A queue name, or its URL. */
  queue: string;
  /** Fire an event; false means "try again later". */
  fire(event: ObjectEvent): Promise<boolean>;
  logger: Logger;
  /** Long poll; default 20 seconds. */
  waitSeconds?: number;
  client?: SQSClient;
}

export class SqsSource {
  /** The SDK and the client, once loaded (the SDK is an optional package). */
  private sqs: { sdk: typeof SqsSdk; client: SQSClient } | undefined;
  private readonly ownClient: boolean;
  private url: string | undefined;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  received = 0;

  constructor(private readonly o: SqsSourceOptions) {
    this.ownClient = !o.client;
  }

  private get api(): { sdk: typeof SqsSdk; client: SQSClient } {
    if (!this.sqs) throw new Error('SqsSource: the SQS client is used before it is loaded');
    return this.sqs;
  }

  get queue(): string {
    return this.o.queue;
  }

  private async queueUrl(): Promise<string> {
    if (this.url) return this.url;
    if (/^https?:\/\//.test(this.o.queue)) return (this.url = this.o.queue);
    const { sdk, client } = this.api;
    const r = await client.send(new sdk.GetQueueUrlCommand({ QueueName: this.o.queue }));
    if (!r.QueueUrl) throw new Error(`SQS returned no URL for queue ${this.o.queue}`);
    return (this.url = r.QueueUrl);
  }

  start(): void {
    this.loop ??= this.poll();
  }

  /** Stop receiving; the message in hand is finished. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    if (this.ownClient) this.sqs?.client.destroy();
  }

  private async poll(): Promise<void> {
    const signal = this.stopping.signal;
    try {
      const sdk = await loadOptional<typeof SqsSdk>('@aws-sdk/client-sqs', 'object triggers from SQS (S3TRIGGER_QUEUE)');
      this.sqs = { sdk, client: this.o.client ?? new sdk.SQSClient({}) };
    } catch (err) {
      this.o.logger.error({ queue: this.o.queue, error: errorMessage(err) }, 'object triggers: not receiving from SQS');
      return;
    }
    let failures = 0;
    this.o.logger.info({ queue: this.o.queue }, 'object triggers: receiving S3 event notifications');
    while (!signal.aborted) {
      try {
        const url = await this.queueUrl();
        const messages = await this.receive(url, signal);
        failures = 0;
        for (const m of messages) await this.handle(url, m);
      } catch (err) {
        if (signal.aborted) break;
        failures++;
        this.o.logger.warn({ queue: this.o.queue, error: errorMessage(err) }, 'object triggers: receiving from SQS failed');
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(30_000, 1000 * 2 ** Math.min(failures, 5)));
          signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
        });
      }
    }
  }

  /**
   * One long poll. Stopping returns at once; what the abandoned poll still brings back is made
   * visible again, so another replica (or the next start) takes it without waiting out its lease.
   */
  private receive(url: string, signal: AbortSignal): Promise<Message[]> {
    const { sdk, client } = this.api;
    const request = client
      .send(new sdk.ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: this.o.waitSeconds ?? 20 }))
      .then((r) => r.Messages ?? []);
    return new Promise((resolve, reject) => {
      let abandoned = false;
      const onAbort = () => {
        abandoned = true;
        resolve([]);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      request.then(
        (messages) => {
          signal.removeEventListener('abort', onAbort);
          if (!abandoned) return resolve(messages);
          for (const m of messages) void this.release(url, m).catch(() => undefined);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          if (!abandoned) reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  private async release(url: string, m: Message): Promise<void> {
    const { sdk, client } = this.api;
    await client.send(
      new sdk.ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }),
    );
  }

  private async handle(url: string, m: Message): Promise<void> {
    this.received++;
    let events: ObjectEvent[];
    try {
      events = objectEvents(m.Body ?? '');
    } catch (err) {
      this.o.logger.warn(
        { queue: this.o.queue, message_id: m.MessageId, error: errorMessage(err) },
        'object triggers: not an S3 event notification: deleted',
      );
      events = [];
    }
    let done = true;
    for (const e of events) {
      try {
        if (!(await this.o.fire(e))) done = false;
      } catch (err) {
        done = false;
        this.o.logger.warn({ ...e.info, error: errorMessage(err) }, 'object triggers: firing failed');
      }
    }
    // Left undeleted, the message comes back after its visibility timeout and is tried again;
    // what did fire is not fired twice (its firings are claimed).
    if (done)
      await this.api.client.send(new this.api.sdk.DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
  }
}
