/**
 * The trigger daemon on S3 event notifications: an object put into s3rver, and the notification S3
 * would send for it (the documented JSON: Records[] with eventName, s3.bucket.name, s3.object.key
 * form-encoded, size, sequencer) sent to a local-aws-sqs queue, plain, SNS-wrapped and as
 * s3:TestEvent. The daemon receives, dispatches with rendered parameters, and deletes the messages.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { s3ClientConfig } from '../../src/backends/blob/s3.js';
import type { EventRecord } from '../../src/backends/ports.js';
import { silentLogger } from '../../src/core/logger.js';
import { TriggerDaemon } from '../../src/triggers/daemon.js';
import { startAwsEmulators, useEnv, type AwsEmulators } from '../support/aws.js';
import { makeRealm, type TestRealm } from '../helpers.js';

const BUCKET = 'landing';
let emu: AwsEmulators;
let restoreEnv: (() => void) | undefined;
let sqs: SQSClient;
let s3: S3Client;

beforeAll(async () => {
  emu = await startAwsEmulators();
  restoreEnv = useEnv(emu.env);
  await emu.createBuckets(BUCKET);
  sqs = new SQSClient({});
  s3 = new S3Client({ ...s3ClientConfig(emu.env), region: emu.env.AWS_REGION, endpoint: emu.endpoints.s3, forcePathStyle: true });
}, 60_000);
afterAll(async () => {
  sqs?.destroy();
  s3?.destroy();
  restoreEnv?.();
  await emu?.stop();
}, 60_000);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitFor<T>(fn: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** What S3 sends for a PUT (event notification message structure, version 2.1). */
function notification(key: string, size: number, eTag: string, sequencer: string) {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'AWS:AIDAEXAMPLE' },
        requestParameters: { sourceIPAddress: '198.51.100.7' },
        responseElements: { 'x-amz-request-id': 'EXAMPLE123456789', 'x-amz-id-2': 'EXAMPLE123/abc' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'lava-triggers',
          bucket: { name: BUCKET, ownerIdentity: { principalId: 'EXAMPLE' }, arn: `arn:aws:s3:::${BUCKET}` },
          object: {
            key: encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/'),
            size,
            eTag,
            sequencer,
          },
        },
      },
    ],
  };
}

describe('S3 triggers through SQS', () => {
  let t: TestRealm;
  let queueUrl: string;
  let daemon: TriggerDaemon;
  let done: Promise<void>;
  let n = 0;

  beforeEach(async () => {
    t = await makeRealm();
    const name = `s3-events-${++n}-${Date.now()}`;
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
    await t.putJob({ job_id: 'load', type: 'cmd', payload: 'echo', parameters: { args: ['load'] } });
    await t.backend.config.put('test', 'triggers', {
      trigger_id: 'landing-csv',
      bucket: BUCKET,
      prefix: 'incoming',
      job_id: 'load',
      enabled: true,
      if_fnmatch: '*.csv',
      parameters: { args: ['s3://{{ bucket }}/{{ key }}', '{{ info.size }}', '{{ info.source_ip }}'] },
      globals: { etag: '{{ event.s3.object.eTag }}' },
    });
    // The queue by name, as S3TRIGGER_QUEUE holds it; a short poll keeps the test quick to stop.
    daemon = await TriggerDaemon.create({
      backend: t.backend,
      realm: 'test',
      logger: silentLogger,
      flags: { S3TRIGGER_QUEUE: name },
      sqsWaitSeconds: 1,
    });
    done = daemon.run();
  });
  afterEach(async () => {
    await daemon.stop();
    await done;
    await t.close();
  });

  const queued = async (): Promise<EventRecord[]> => t.backend.events.query('test', { jobId: 'load', limit: 100 });
  const send = (body: unknown) => sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));
  const inQueue = async () => {
    const r = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(r.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(r.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  };

  async function putObject(key: string, body: string) {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return { size: head.ContentLength ?? body.length, eTag: (head.ETag ?? '').replace(/"/g, '') };
  }

  it('an object put and its notification dispatch the job with rendered parameters; the message is deleted', async () => {
    const key = 'incoming/2026 03/sales+returns.csv';
    const obj = await putObject(key, 'id,amount\n1,10\n');
    await send(notification(key, obj.size, obj.eTag, '0065F1A2B3C4D5E6F7'));
    const [rec] = await waitFor(async () => ((await queued()).length ? queued() : undefined), 15_000, 'a dispatch');
    expect(rec!.log[0]).toMatchObject({
      status: 'queued',
      info: {
        trigger: { trigger_id: 'landing-csv', bucket: BUCKET, key, event_type: 'ObjectCreated:Put' },
        parameters: { args: [`s3://${BUCKET}/${key}`, String(obj.size), '198.51.100.7'] },
        globals: { etag: obj.eTag },
      },
    });
    await waitFor(async () => ((await inQueue()) === 0 ? true : undefined), 10_000, 'the message to be deleted');
    await t.drain();
    expect((await t.backend.events.get('test', 'load', rec!.run_id))?.status).toBe('complete');
    // The same notification delivered again (SQS is at least once) does not dispatch twice.
    await send(notification(key, obj.size, obj.eTag, '0065F1A2B3C4D5E6F7'));
    await waitFor(async () => ((await inQueue()) === 0 ? true : undefined), 10_000, 'the duplicate to be deleted');
    expect(await queued()).toHaveLength(1);
    expect(daemon.counts).toMatchObject({ dispatched: 1, duplicate: 1 });
  }, 40_000);

  it('an SNS-wrapped notification fires; s3:TestEvent, junk and non-matching keys do not', async () => {
    const obj = await putObject('incoming/via-sns.csv', 'a\n');
    await send({
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Time: new Date().toISOString(),
      Bucket: BUCKET,
      RequestId: 'R',
      HostId: 'H',
    });
    await send('this is not an S3 event');
    await send(notification('incoming/readme.txt', 3, 'abc', '0065F1A2B3C4D5E700'));
    await send(notification('elsewhere/x.csv', 3, 'abc', '0065F1A2B3C4D5E701'));
    await send({
      Type: 'Notification',
      MessageId: '6a1e4a3c-0000-4000-8000-000000000001',
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:s3-events',
      Subject: 'Amazon S3 Notification',
      Message: JSON.stringify(notification('incoming/via-sns.csv', obj.size, obj.eTag, '0065F1A2B3C4D5E702')),
      Timestamp: new Date().toISOString(),
    });
    const [rec] = await waitFor(async () => ((await queued()).length ? queued() : undefined), 15_000, 'a dispatch');
    expect((rec!.log[0]?.info as { trigger: unknown }).trigger).toMatchObject({ key: 'incoming/via-sns.csv' });
    await waitFor(async () => ((await inQueue()) === 0 ? true : undefined), 10_000, 'every message to be deleted');
    expect(await queued()).toHaveLength(1);
    expect(daemon.counts).toMatchObject({ dispatched: 1, skipped: 1, none: 1 });
  }, 40_000);
});

describe('the event queue (EVENT_QUEUE) in lava triggers', () => {
  it('an EventBridge event and a dispatch helper line sent to the queue start their jobs', async () => {
    const t = await makeRealm();
    const name = `events-${Date.now()}`;
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
    await t.putJob({ job_id: 'on-order', type: 'log', worker: 'orders' });
    await t.putJob({ job_id: 'by-hand', type: 'log', worker: 'orders' });
    await t.backend.config.put('test', 'triggers', {
      trigger_id: 'orders',
      enabled: true,
      event_pattern: { source: ['shop'], 'detail-type': ['Order Placed'] },
      job_id: 'on-order',
      parameters: { order: '{{ detail.id }}' },
    });
    const daemon = await TriggerDaemon.create({
      backend: t.backend,
      realm: 'test',
      logger: silentLogger,
      flags: { EVENT_QUEUE: name },
      sqsWaitSeconds: 1,
    });
    const done = daemon.run();
    try {
      const event = { id: 'ev-42', source: 'shop', 'detail-type': 'Order Placed', detail: { id: 42 } };
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(event) }));
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'by-hand -p note=from-the-queue' }));
      const order = await waitFor(
        async () => (await t.backend.events.query('test', { jobId: 'on-order' }))[0],
        15_000,
        'on-order',
      );
      expect((order.log[0]?.info as { parameters: unknown }).parameters).toEqual({ order: '42' });
      const manual = await waitFor(
        async () => (await t.backend.events.query('test', { jobId: 'by-hand' }))[0],
        15_000,
        'by-hand',
      );
      expect((manual.log[0]?.info as { parameters: unknown }).parameters).toEqual({ note: 'from-the-queue' });
    } finally {
      await daemon.stop();
      await done;
      await t.close();
    }
  }, 40_000);
});
