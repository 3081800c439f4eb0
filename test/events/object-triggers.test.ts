/**
 * Object triggers, the pure part (spec §2.5): S3 notification parsing, the prefix lookup, the
 * conditions table, rendering; and firing against the embedded backend (dispatch, the trigger in the
 * queued event, disabled and unknown jobs, once per event).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Config } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import '../../src/handlers/config-keys.js';
import {
  bucketDirectory,
  conditionsPass,
  fireObjectEvent,
  prefixLevels,
  renderTrigger,
  selectTriggers,
  triggerContext,
  type ObjectTrigger,
} from '../../src/events/object-triggers.js';
import { decodeS3Key, encodeS3Key, objectEvents, type ObjectInfo } from '../../src/events/s3-notification.js';
import { makeRealm, type TestRealm } from '../helpers.js';

/** The documented S3 event notification record (version 2.1). */
function s3Event(key: string, over: { size?: number; eventName?: string; bucket?: string; sequencer?: string } = {}) {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'ap-southeast-2',
        eventTime: '2026-03-01T10:20:30.123Z',
        eventName: over.eventName ?? 'ObjectCreated:Put',
        userIdentity: { principalId: 'AWS:AIDAEXAMPLE' },
        requestParameters: { sourceIPAddress: '203.0.113.9' },
        responseElements: { 'x-amz-request-id': 'C3D13FE58DE4C810', 'x-amz-id-2': 'FMyUVURIY8' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'lava',
          bucket: {
            name: over.bucket ?? 'my-bucket',
            ownerIdentity: { principalId: 'A3NL1KOZZKExample' },
            arn: 'arn:aws:s3:::my-bucket',
          },
          object: {
            key,
            size: over.size ?? 1024,
            eTag: 'd41d8cd98f00b204e9800998ecf8427e',
            sequencer: over.sequencer ?? '0055AED6DCD90281E5',
          },
        },
      },
    ],
  };
}

const info = (over: Partial<ObjectInfo> = {}): ObjectInfo => ({
  bucket: 'b',
  key: 'in/data/file.csv',
  size: 100,
  source_ip: null,
  event_time: '2026-03-01T10:20:30Z',
  event_type: 'ObjectCreated:Put',
  aws_region: null,
  ...over,
});

describe('S3 event notifications', () => {
  it('a record becomes the canonical info, the key decoded (+ is a space)', () => {
    const [e, ...rest] = objectEvents(JSON.stringify(s3Event('in/my+report%282%29.csv')));
    expect(rest).toEqual([]);
    expect(e?.info).toEqual({
      bucket: 'my-bucket',
      key: 'in/my report(2).csv',
      size: 1024,
      source_ip: '203.0.113.9',
      event_time: '2026-03-01T10:20:30.123Z',
      event_type: 'ObjectCreated:Put',
      aws_region: 'ap-southeast-2',
    });
    expect(e?.version).toBe('0055AED6DCD90281E5');
    expect(e?.record.eventSource).toBe('aws:s3');
  });

  it('inside an SQS record, an SNS record, or the SNS envelope SNS puts into SQS', () => {
    const inner = JSON.stringify(s3Event('a/b'));
    const keys = (m: unknown) => objectEvents(m).map((e) => e.info.key);
    expect(keys({ Records: [{ eventSource: 'aws:sqs', body: inner }] })).toEqual(['a/b']);
    expect(keys({ Records: [{ EventSource: 'aws:sns', Sns: { Message: inner } }] })).toEqual(['a/b']);
    expect(keys(JSON.stringify({ Type: 'Notification', MessageId: 'm', TopicArn: 'arn:t', Message: inner }))).toEqual(['a/b']);
  });

  it('s3:TestEvent yields nothing; other messages are errors', () => {
    const test = { Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2026-03-01T10:00:00Z', Bucket: 'my-bucket' };
    expect(objectEvents(JSON.stringify(test))).toEqual([]);
    expect(objectEvents({ Type: 'Notification', Message: JSON.stringify(test) })).toEqual([]);
    expect(() => objectEvents('not json')).toThrow(/not JSON/);
    expect(() => objectEvents({ hello: 1 })).toThrow(/not an S3 event/);
    expect(() => objectEvents({ Records: [{ eventSource: 'aws:dynamodb' }] })).toThrow(/not an S3 event/);
  });

  it('EventBridge: event_type is detail-type:reason without spaces, the key as is', () => {
    const [e] = objectEvents({
      version: '0',
      id: 'ev-1',
      'detail-type': 'Object Created',
      source: 'aws.s3',
      time: '2026-03-01T10:20:30Z',
      region: 'us-east-1',
      detail: {
        bucket: { name: 'bk' },
        object: { key: 'x y+z', size: 5, sequencer: 's1' },
        reason: 'PutObject',
        'source-ip-address': '10.0.0.1',
      },
    });
    expect(e?.info).toMatchObject({
      bucket: 'bk',
      key: 'x y+z',
      size: 5,
      event_type: 'ObjectCreated:PutObject',
      source_ip: '10.0.0.1',
    });
  });

  it('keys encode and decode as S3 does', () => {
    expect(encodeS3Key('a b/c(1)+.csv')).toBe('a+b/c(1)%2B.csv');
    expect(decodeS3Key(encodeS3Key('a b/c(1)+.csv'))).toBe('a b/c(1)+.csv');
    expect(decodeS3Key('bad%zz')).toBe('bad%zz');
  });
});

describe('prefix lookup', () => {
  it('levels go from the whole key to the first component, then *', () => {
    expect(prefixLevels('a/b/c')).toEqual(['a/b/c', 'a/b', 'a', '*']);
    expect(prefixLevels('file.csv')).toEqual(['file.csv', '*']);
  });

  it('the first level with any rows wins: no accumulation', () => {
    const rows = [
      { trigger_id: 'all', prefix: '*' },
      { trigger_id: 'a', prefix: 'a' },
      { trigger_id: 'ab1', prefix: 'a/b' },
      { trigger_id: 'ab2', prefix: 'a/b/' },
      { trigger_id: 'rule', event_pattern: { source: ['x'] } },
    ];
    expect(selectTriggers(rows, 'a/b/c.csv')?.rows.map((r) => r.trigger_id)).toEqual(['ab1', 'ab2']);
    expect(selectTriggers(rows, 'a/x/c.csv')?.rows.map((r) => r.trigger_id)).toEqual(['a']);
    expect(selectTriggers(rows, 'ab/c.csv')?.rows.map((r) => r.trigger_id)).toEqual(['all']);
    expect(selectTriggers(rows.slice(1, 2), 'z')).toBeUndefined();
  });

  it('a bucket that is a file:// URI or an absolute path is a directory', () => {
    expect(bucketDirectory('file:///data/in%20box')).toBe('/data/in box');
    expect(bucketDirectory('/data/in')).toBe('/data/in');
    expect(bucketDirectory('my-bucket')).toBeUndefined();
  });
});

describe('conditions', () => {
  const table: [Record<string, unknown>, Partial<ObjectInfo>, boolean][] = [
    [{}, {}, true],
    [{ if_fnmatch: '*.csv' }, {}, true],
    [{ if_fnmatch: '*.txt' }, {}, false],
    [{ if_fnmatch: ['*.txt', 'in/*'] }, {}, true],
    [{ if_not_fnmatch: '*.csv' }, {}, false],
    [{ if_not_fnmatch: '*/tmp/*' }, {}, true],
    [{ if_size_gt: 100 }, {}, false],
    [{ if_size_gt: 99 }, {}, true],
    [{ if_size_gt: '1K' }, { size: 1001 }, true],
    [{ if_size_gt: '1KiB' }, { size: 1001 }, false],
    [{ if_not_size_gt: 0 }, { size: 0 }, true],
    [{ if_size_gt: 0 }, { size: null }, false],
    [{ if_event_type: 'ObjectCreated:*' }, {}, true],
    [{ if_event_type: 'ObjectRemoved:*' }, {}, false],
    [{ if_not_event_type: 'ObjectRemoved:*' }, {}, true],
    [{ if_fnmatch: '*.csv', if_size_gt: 1000 }, {}, false],
  ];
  for (const [conds, over, expected] of table) {
    it(`${JSON.stringify(conds)} on ${JSON.stringify(over)} → ${expected}`, () => {
      expect(conditionsPass({ trigger_id: 't', ...conds }, info(over))).toBe(expected);
    });
  }

  it('an unknown condition, or a bad value, is an error', () => {
    expect(() => conditionsPass({ if_newer_than: '1d' }, info())).toThrow(/unknown trigger condition if_newer_than/);
    expect(() => conditionsPass({ if_fnmatch: 3 }, info())).toThrow(/glob/);
    expect(() => conditionsPass({ if_size_gt: 'big' }, info())).toThrow(/bad size/);
  });
});

describe('rendering', () => {
  const [event] = objectEvents(s3Event('in/2026/data file.csv'));
  const trigger = (over: Partial<ObjectTrigger> = {}): ObjectTrigger => ({
    trigger_id: 't',
    bucket: 'my-bucket',
    prefix: 'in',
    job_id: 'load/{{ key.split("/")[1] }}',
    enabled: true,
    parameters: {
      vars: { file: 's3://{{ bucket }}/{{ key }}', size: '{{ info.size }}', when: "{{ info.event_time.strftime('%Y%m%d') }}" },
    },
    globals: { region: '{{ info.aws_region }}', seq: '{{ event.s3.object.sequencer }}' },
    ...over,
  });

  it('job ids, parameters and globals see bucket, key, event, info and utils', () => {
    const r = renderTrigger(
      trigger({ job_id: ['load/{{ key.split("/")[1] }}', 'x-{{ utils.path.basename(key) }}'] }),
      triggerContext(event!),
    );
    expect(r).toEqual({
      jobIds: ['load/2026', 'x-data file.csv'],
      parameters: { vars: { file: 's3://my-bucket/in/2026/data file.csv', size: '1024', when: '20260301' } },
      globals: { region: 'ap-southeast-2', seq: '0055AED6DCD90281E5' },
    });
  });

  it('jinja: false leaves everything as written', () => {
    const t = trigger({ jinja: false });
    expect(renderTrigger(t, triggerContext(event!))).toEqual({
      jobIds: [t.job_id],
      parameters: t.parameters,
      globals: t.globals,
    });
  });
});

describe('firing (embedded backend)', () => {
  let t: TestRealm;
  const config = new Config({});
  beforeEach(async () => {
    t = await makeRealm();
    await t.putJob({ job_id: 'load', type: 'cmd', payload: 'true' });
    await t.putJob({ job_id: 'off', type: 'cmd', payload: 'true', enabled: false });
  });
  afterEach(() => t.close());

  const put = (spec: Record<string, unknown>) =>
    t.backend.config.put('test', 'triggers', { bucket: 'my-bucket', prefix: 'in', enabled: true, ...spec });

  it('dispatches with rendered parameters; the queued event records the trigger; a redelivery is a duplicate', async () => {
    await put({ trigger_id: 'tr', job_id: 'load', parameters: { vars: { key: '{{ key }}' } }, delay: 0 });
    const [event] = objectEvents(s3Event('in/a b.csv'));
    const firings = await fireObjectEvent(t.backend, 'test', event!, { config, logger: silentLogger });
    expect(firings).toMatchObject([{ trigger_id: 'tr', job_id: 'load', outcome: 'dispatched' }]);
    const rec = await t.backend.events.get('test', 'load', firings[0]!.run_id!);
    expect(rec?.log[0]).toMatchObject({
      status: 'queued',
      info: {
        trigger: { trigger_id: 'tr', bucket: 'my-bucket', key: 'in/a b.csv', event_type: 'ObjectCreated:Put' },
        parameters: { vars: { key: 'in/a b.csv' } },
      },
    });
    expect(await fireObjectEvent(t.backend, 'test', event!, { config, logger: silentLogger })).toMatchObject([
      { outcome: 'duplicate' },
    ]);
    // Another event of the same key (a new sequencer) fires again.
    const [again] = objectEvents(s3Event('in/a b.csv', { sequencer: '0055AED6DCD90281F0' }));
    expect(await fireObjectEvent(t.backend, 'test', again!, { config, logger: silentLogger })).toMatchObject([
      { outcome: 'dispatched' },
    ]);
  });

  it('disabled triggers and jobs are skipped; unknown jobs and bad templates fail; no trigger is none', async () => {
    await put({ trigger_id: 'a-off', job_id: 'load', enabled: false });
    await put({ trigger_id: 'b-job-off', job_id: 'off' });
    await put({ trigger_id: 'c-unknown', job_id: 'nope' });
    await put({ trigger_id: 'd-bad', job_id: '{{ key.nosuch( }}' });
    await put({ trigger_id: 'e-cond', job_id: 'load', if_fnmatch: '*.txt' });
    const [event] = objectEvents(s3Event('in/x.csv'));
    const firings = await fireObjectEvent(t.backend, 'test', event!, { config, logger: silentLogger });
    expect(firings.map((f) => [f.trigger_id, f.outcome])).toEqual([
      ['a-off', 'skipped'],
      ['b-job-off', 'skipped'],
      ['c-unknown', 'failed'],
      ['d-bad', 'failed'],
      ['e-cond', 'skipped'],
    ]);
    const [other] = objectEvents(s3Event('out/x.csv'));
    expect(await fireObjectEvent(t.backend, 'test', other!, { config, logger: silentLogger })).toEqual([{ outcome: 'none' }]);
  });

  it('a bad trigger spec at the winning level fails the lookup', async () => {
    await put({ trigger_id: 'bad', job_id: 'load', surprise: 1 });
    const [event] = objectEvents(s3Event('in/x.csv'));
    expect(await fireObjectEvent(t.backend, 'test', event!, { config, logger: silentLogger })).toMatchObject([
      { outcome: 'failed', reason: expect.stringMatching(/bad trigger spec bad/) },
    ]);
  });
});
