/**
 * The upstream guide's s3triggers entry (05-Dispatch/05-s3-dispatch.md, test/fixtures/upstream-guide/
 * s3trigger.yaml) passes `lava check`, and does what the guide says when its bucket and prefix are
 * filled in: an S3 notification for a matching object dispatches my_exe_job with the rendered env
 * parameters and globals; the if_* conditions keep other objects out.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFiles } from '../../src/cli/check.js';
import { Config } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import '../../src/handlers/config-keys.js';
import { fireObjectEvent } from '../../src/events/object-triggers.js';
import { objectEvents } from '../../src/events/s3-notification.js';
import { makeRealm, type TestRealm } from '../helpers.js';
import { GUIDE, example } from './guide.js';

/** An S3 notification as the guide's sample `info` describes it. */
function notification(key: string, size: number, sequencer: string) {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'ap-southeast-2',
        eventTime: '2022-01-30T16:18:17.123Z',
        eventName: 'ObjectCreated:Put',
        requestParameters: { sourceIPAddress: '10.200.240.5' },
        s3: { bucket: { name: 'my-bucket' }, object: { key, size, sequencer } },
      },
    ],
  };
}

describe('the guide s3trigger example', () => {
  let t: TestRealm;
  beforeAll(async () => {
    t = await makeRealm();
    await t.putJob({ job_id: 'my_exe_job', type: 'cmd', payload: 'env' });
    await t.backend.config.put('test', 'triggers', { ...example('s3trigger', 1), bucket: 'my-bucket', prefix: 'a' });
  });
  afterAll(() => t.close());

  it('passes lava check', () => {
    const report = checkFiles([path.join(GUIDE, 's3trigger.yaml')]);
    expect(report).toEqual({ errors: [], warnings: [], checked: 1 });
  });

  it('renders the env parameters and globals from bucket, key and info', async () => {
    const fire = (key: string, size = 1024, seq = key) =>
      fireObjectEvent(t.backend, 'test', objectEvents(notification(key, size, seq))[0]!, {
        config: new Config({}),
        logger: silentLogger,
      });
    const [f] = await fire('a/b/Happy+Face.zip');
    expect(f).toMatchObject({ trigger_id: 'unique_trigger_id', job_id: 'my_exe_job', outcome: 'dispatched' });
    const rec = await t.backend.events.get('test', 'my_exe_job', f!.run_id!);
    expect(rec?.log[0]?.info).toMatchObject({
      parameters: {
        env: {
          BUCKET: 'my-bucket',
          KEY: 'a/b/Happy Face.zip',
          IP: '10.200.240.5',
          EVENT_TIME: '2022-01-30T16:18:17.123000+00:00',
        },
      },
      // `bucket.split(':')[4]` of a plain bucket name is past the list's end: Jinja renders it empty.
      globals: { bucket: 'my-bucket', key: 'a/b/Happy Face.zip', 'account-id': '' },
    });
    // if_fnmatch *.zip, if_not_fnmatch *ignore*, if_size_gt 0.
    expect(await fire('a/b/photo.jpg')).toMatchObject([{ outcome: 'skipped', reason: 'condition' }]);
    expect(await fire('a/ignore-me.zip')).toMatchObject([{ outcome: 'skipped', reason: 'condition' }]);
    expect(await fire('a/empty.zip', 0)).toMatchObject([{ outcome: 'skipped', reason: 'condition' }]);
  });
});
