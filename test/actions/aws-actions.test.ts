/**
 * The AWS-facing actions: sqs against local-aws-sqs (a real SQS emulator, test/support/aws.ts), and
 * sns, email without email_conn (SES v2) and event (EventBridge PutEvents) at the SDK boundary.
 *
 * SNS, SES and EventBridge are STAND-INS: no emulator for them runs here, so a local node:http server
 * (test/support/aws-standins.ts) takes their endpoints (AWS_ENDPOINT_URL_SNS / _SESV2 / _EVENTBRIDGE)
 * and records the request the real AWS SDK sends. These tests check what Lava asks of the service,
 * decoded from the wire, not that AWS would deliver it.
 *
 * Then, on the embedded backend, the sqs action puts its message in the realm's own worker queue.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsQueueUrl, workerOfQueue } from '../../src/actions/sqs.js';
import { arnRegion } from '../../src/actions/sns.js';
import { openBackend } from '../../src/backends/index.js';
import type { Backend } from '../../src/backends/ports.js';
import type { RealmSpec } from '../../src/core/schemas.js';
import { dispatch } from '../../src/dispatch/dispatch.js';
import { Worker } from '../../src/worker/worker.js';
import { makeRealm } from '../helpers.js';
import { startAwsEmulators, useEnv, type AwsEmulators } from '../support/aws.js';
import { startAwsStandins, type AwsStandins } from '../support/aws-standins.js';

const REALM = 'aw';
let emu: AwsEmulators;
let standins: AwsStandins;
let restoreEnv: () => void;
let backend: Backend;
let work: string;
let sqs: SQSClient;

beforeAll(async () => {
  emu = await startAwsEmulators();
  standins = await startAwsStandins();
  restoreEnv = useEnv({ ...emu.env, ...standins.env });
  backend = await openBackend('aws://?autocreate=true');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-aws-actions-'));
  const realm: RealmSpec = {
    realm: REALM,
    s3_payloads: pathToFileURL(path.join(work, 'payloads')).href,
    s3_temp: pathToFileURL(path.join(work, 'temp')).href,
    config: { TMPDIR: path.join(work, 'scratch'), SES_FROM: 'lava@example.com' },
    on_fail: [],
  };
  await backend.config.putRealm(realm);
  sqs = new SQSClient({});
}, 60_000);

afterAll(async () => {
  sqs?.destroy();
  await backend?.close();
  restoreEnv?.();
  await standins?.stop();
  await emu?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** Store the job, dispatch it, run worker w until the queue is empty; the run's statuses and log. */
async function runOnAws(spec: Record<string, unknown>) {
  await backend.config.put(REALM, 'jobs', { worker: 'w', enabled: true, payload: null, ...spec });
  const runId = await dispatch(backend, { realm: REALM, jobId: String(spec.job_id) });
  const worker = await Worker.create({ backend, realm: REALM, worker: 'w', batch: true, waitSeconds: 0 });
  await worker.run();
  const rec = await backend.events.get(REALM, String(spec.job_id), runId);
  const log = rec?.log ?? [];
  return { runId, statuses: log.map((e) => e.status), log, last: log.at(-1)?.info };
}

describe('sqs action on the AWS backend (local-aws-sqs)', () => {
  it('sends the rendered message to a queue named by name', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'notify-q' }));
    const r = await runOnAws({
      job_id: 'aws/sqs',
      type: 'log',
      on_success: [
        { action: 'sqs', queue: 'notify-q', message: { job: '{{ job.job_id }}', run: '{{ job.run_id }}', n: 1 } },
        { action: 'sqs', queue: 'notify-q', message: 'plain {{ job.job_id }}', delay: 0 },
      ],
    });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    const bodies = (got.Messages ?? []).map((m) => m.Body).sort();
    expect(bodies).toEqual([JSON.stringify({ job: 'aws/sqs', run: r.runId, n: 1 }), 'plain aws/sqs'].sort());
    for (const m of got.Messages ?? []) await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
  });

  it('a missing queue is action_failed with the SDK error', async () => {
    const r = await runOnAws({
      job_id: 'aws/sqs-missing',
      type: 'log',
      on_success: [{ action: 'sqs', queue: 'no-such-queue', message: 'x' }],
    });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete', 'action_failed']);
    expect(String(r.last)).toMatch(/^on_success action: sqs: sqs action: send to queue no-such-queue failed: /);
  });

  it('upstream quirk: a value containing .amazonaws.com/ is a URL, https:// added when missing', () => {
    expect(sqsQueueUrl('sqs.eu-west-1.amazonaws.com/123456789012/q')).toBe('https://sqs.eu-west-1.amazonaws.com/123456789012/q');
    expect(sqsQueueUrl('https://sqs.eu-west-1.amazonaws.com/123456789012/q')).toBe(
      'https://sqs.eu-west-1.amazonaws.com/123456789012/q',
    );
    expect(sqsQueueUrl('my-queue')).toBeUndefined();
  });
});

describe('sns action (stand-in endpoint: no SNS emulator here)', () => {
  it('publishes the rendered message and the subject cut to 100 characters', async () => {
    const before = standins.requests.length;
    const topic = 'arn:aws:sns:us-east-1:123456789012:alerts';
    const r = await runOnAws({
      job_id: 'aws/sns',
      type: 'log',
      on_success: [
        { action: 'sns', topic, message: '{{ job.job_id }} done', subject: `${'S'.repeat(120)}` },
        { action: 'sns', topic, message: { run: '{{ job.run_id }}' } },
      ],
    });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    const got = standins.requests.slice(before).filter((q) => q.service === 'sns');
    expect(got).toHaveLength(2);
    expect(got[0]?.body).toMatchObject({ Action: 'Publish', TopicArn: topic, Message: 'aws/sns done', Subject: 'S'.repeat(100) });
    expect(got[1]?.body.Message).toBe(JSON.stringify({ run: r.runId }));
    expect(got[1]?.body.Subject).toBeUndefined();
    expect(String(got[0]?.headers.authorization)).toContain('/us-east-1/sns/aws4_request');
    expect(arnRegion('arn:aws:sns:eu-west-2:1:t')).toBe('eu-west-2');
  });

  it('a topic that is not an ARN is action_failed', async () => {
    const r = await runOnAws({
      job_id: 'aws/sns-bad',
      type: 'log',
      on_success: [{ action: 'sns', topic: 'alerts', message: 'x' }],
    });
    expect(String(r.last)).toMatch(/sns action: needs "topic": the ARN/);
  });
});

describe('email action without email_conn (stand-in SES v2 endpoint: no SES emulator here)', () => {
  it('sends through SES SendEmail as a raw MIME message from SES_FROM; HTML iff the body starts <html>', async () => {
    const before = standins.requests.length;
    const r = await runOnAws({
      job_id: 'aws/ses',
      type: 'log',
      on_success: [
        {
          action: 'email',
          to: ['ops@example.com'],
          subject: '{{ job.job_id }} ok',
          message: 'run {{ job.run_id }}',
          region: 'eu-west-1',
        },
        {
          action: 'email',
          to: 'ops@example.com',
          from: 'me@example.com',
          subject: 'html',
          message: '<HTML><b>{{ job.job_id }}</b></HTML>',
        },
      ],
    });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    const got = standins.requests.slice(before).filter((q) => q.service === 'sesv2');
    expect(got).toHaveLength(2);
    expect(got[0]?.operation).toBe('/v2/email/outbound-emails');
    expect(String(got[0]?.headers.authorization)).toContain('/eu-west-1/ses/aws4_request');
    expect(got[0]?.body).toMatchObject({
      FromEmailAddress: 'lava@example.com',
      Destination: { ToAddresses: ['ops@example.com'] },
    });
    const raw = (b: Record<string, unknown>) => Buffer.from((b.Content as { Raw: { Data: string } }).Raw.Data ?? '', 'base64');
    const plain = await simpleParser(raw(got[0]!.body));
    expect(plain.subject).toBe('aws/ses ok');
    expect(plain.text?.trim()).toBe(`run ${r.runId}`);
    expect(plain.html).toBe(false);
    const html = await simpleParser(raw(got[1]!.body));
    expect(html.from?.text).toBe('me@example.com');
    expect(String(html.html).trim()).toBe('<HTML><b>aws/ses</b></HTML>');
    expect(html.text?.trim()).toBe('aws/ses');
  });

  it('attachments without email_conn are refused, as upstream', async () => {
    const r = await runOnAws({
      job_id: 'aws/ses-att',
      type: 'log',
      on_success: [{ action: 'email', to: 'a@example.com', subject: 's', message: 'm', attachments: ['x.txt'] }],
    });
    expect(String(r.last)).toContain('attachments need "email_conn"');
  });
});

describe('event action on the AWS backend (stand-in EventBridge endpoint: no emulator here)', () => {
  it('puts the event with upstream defaults and still records it in the run', async () => {
    const before = standins.requests.length;
    const r = await runOnAws({
      job_id: 'aws/event',
      type: 'log',
      on_success: [
        { action: 'event' },
        { action: 'event', detail: { who: '{{ job.job_id }}' }, event_bus: 'ops', resources: ['arn:x'] },
      ],
    });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete', 'event', 'event']);
    const got = standins.requests.slice(before).filter((q) => q.service === 'eventbridge');
    expect(got.map((q) => q.operation)).toEqual(['PutEvents', 'PutEvents']);
    const entry = (got[0]?.body.Entries as Record<string, unknown>[])[0]!;
    expect(entry).toMatchObject({ Source: 'lava.aw', DetailType: 'Lava Job Action', EventBusName: 'default', Resources: [] });
    expect(JSON.parse(String(entry.Detail))).toEqual({
      realm: 'aw',
      worker: 'w',
      job_id: 'aws/event',
      run_id: r.runId,
      exit_status: 0,
    });
    const second = (got[1]?.body.Entries as Record<string, unknown>[])[0]!;
    expect(second).toMatchObject({ EventBusName: 'ops', Resources: ['arn:x'], Detail: JSON.stringify({ who: 'aws/event' }) });
  });

  it('FailedEntryCount > 0 is action_failed with the entry error, and no event entry', async () => {
    standins.failNextPutEvents('MalformedDetail', 'Detail is malformed.');
    const r = await runOnAws({ job_id: 'aws/event-fail', type: 'log', on_success: [{ action: 'event' }] });
    expect(r.statuses).toEqual(['queued', 'starting', 'running', 'complete', 'action_failed']);
    expect(String(r.last)).toBe(
      'on_success action: event: event action: EventBridge refused the event: MalformedDetail: Detail is malformed.',
    );
  });
});

describe('sqs action on the embedded backend: the realm worker queue', () => {
  it('puts the message in lava-<realm>-<worker>, where a dispatch-format message is run by that worker', async () => {
    const t = await makeRealm();
    try {
      await t.putJob({ job_id: 'q/target', type: 'log', worker: 'other' });
      // A dispatch message for q/target (upstream's SQS body, §2.1), its strings rendered.
      const message = {
        realm: 'test',
        worker: 'other',
        job_id: 'q/target',
        run_id: '{{ job.run_id }}-child',
        ts_dispatch: '{{ job.ts_dispatch }}',
      };
      const ran = await t.runOnce({
        job_id: 'q/sender',
        type: 'log',
        on_success: [
          { action: 'sqs', queue: 'other', message },
          { action: 'sqs', queue: 'lava-test-other', message: 'not a dispatch message' },
        ],
      });
      expect(ran.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
      expect((await t.backend.queue('test', 'other').counts()).visible).toBe(2);
      await t.drain({ worker: 'other' });
      const rec = await t.backend.events.get('test', 'q/target', `${ran.runId}-child`);
      expect(rec?.log.map((e) => e.status)).toEqual(['starting', 'running', 'complete']);
      expect((await t.backend.queue('test', 'other').counts()).visible).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('names a worker or its full queue name', () => {
    expect(workerOfQueue('core', 'r')).toBe('core');
    expect(workerOfQueue('lava-r-core', 'r')).toBe('core');
    expect(() => workerOfQueue('https://x/y', 'r')).toThrow(/name a worker of realm r/);
  });
});
