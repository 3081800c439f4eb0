/**
 * The event queue poller against local-aws-sqs, over an embedded realm: EventBridge events (raw and
 * SNS-wrapped) fire rules once however often they are delivered, dispatch helper messages (JSON,
 * text, SNS-wrapped) dispatch, and every handled message is deleted.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { pollEventQueue } from '../../src/events/event-queue.js';
import { startAwsEmulators, useEnv, type AwsEmulators } from '../support/aws.js';
import { makeRealm, type TestRealm } from '../helpers.js';

let aws: AwsEmulators;
let restore: () => void;
let t: TestRealm;
let sqs: SQSClient;
let url: string;

beforeAll(async () => {
  aws = await startAwsEmulators();
  restore = useEnv(aws.env);
  t = await makeRealm();
  await t.putJob({ job_id: 'q/load', type: 'log', payload: null });
  await t.putJob({ job_id: 'q/helper', type: 'log', payload: null });
  await t.backend.config.put('test', 'triggers', {
    trigger_id: 'uploads',
    enabled: true,
    event_pattern: { source: ['aws.s3'], 'detail-type': ['Object Created'], detail: { object: { key: [{ prefix: 'in/' }] } } },
    job_id: 'q/load',
    parameters: { vars: { key: '{{ detail.object.key }}' } },
  });
  sqs = new SQSClient({});
  url = (await sqs.send(new CreateQueueCommand({ QueueName: 'lava-events' }))).QueueUrl!;
}, 60_000);

afterAll(async () => {
  sqs?.destroy();
  await t?.close();
  restore?.();
  await aws?.stop();
});

const s3Event = (id: string, key: string) =>
  JSON.stringify({
    version: '0',
    id,
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '123456789012',
    time: '2026-01-01T00:00:00Z',
    region: 'us-east-1',
    resources: ['arn:aws:s3:::bucket'],
    detail: { bucket: { name: 'bucket' }, object: { key } },
  });

const sns = (message: string) => JSON.stringify({ Type: 'Notification', MessageId: 'm', TopicArn: 'arn:t', Message: message });

it('routes events once, runs helper messages, and deletes what it handled', async () => {
  for (const body of [
    s3Event('e-1', 'in/a.csv'),
    s3Event('e-1', 'in/a.csv'), // a redelivery (EventBridge delivers at least once)
    sns(s3Event('e-2', 'in/b.csv')),
    s3Event('e-3', 'out/c.csv'), // matches no rule
    JSON.stringify({ job_id: 'q/helper', parameters: { n: 1 } }),
    sns('q/helper -p n=2\nq/helper -p n=3'),
    'q/missing',
  ]) {
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
  }
  const controller = new AbortController();
  const polling = pollEventQueue({
    backend: t.backend,
    realm: 'test',
    queueUrlOrName: 'lava-events',
    logger: silentLogger,
    signal: controller.signal,
    waitSeconds: 1,
  });
  const depth = async () => {
    const a = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return Number(a.Attributes?.ApproximateNumberOfMessages) + Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible);
  };
  for (let i = 0; i < 100 && (await depth()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
  controller.abort();
  await polling;
  expect(await depth()).toBe(0);

  const loads = await t.backend.events.query('test', { jobId: 'q/load' });
  expect(loads).toHaveLength(2);
  const keys = await Promise.all(loads.map(async (r) => (await t.backend.events.get('test', 'q/load', r.run_id))!.log[0]!.info));
  expect(keys.map((i) => (i as { parameters: { vars: { key: string } } }).parameters.vars.key).sort()).toEqual([
    'in/a.csv',
    'in/b.csv',
  ]);
  expect(await t.backend.directory.get('test', 'event-taken', 'e-1')).toBeDefined();
  expect(await t.backend.events.query('test', { jobId: 'q/helper' })).toHaveLength(3);
}, 60_000);

it('stops promptly when aborted during a long poll', async () => {
  const controller = new AbortController();
  const started = Date.now();
  const polling = pollEventQueue({
    backend: t.backend,
    realm: 'test',
    queueUrlOrName: url,
    logger: silentLogger,
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(), 300);
  await polling;
  expect(Date.now() - started).toBeLessThan(5_000);
}, 30_000);
