/**
 * Upstream's s3trigger dedup in `lava triggers`: with S3TRIGGER_DEDUP_CACHE_SIZE above 0, an event
 * of the same bucket, key, event type and size within S3TRIGGER_DEDUP_TTL of one that fired is
 * dropped, even when its version differs (so the firing claim would let it through). Off by default.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ObjectEvent } from '../../src/events/s3-notification.js';
import { TriggerDaemon } from '../../src/triggers/daemon.js';
import { makeRealm, type TestRealm } from '../helpers.js';

function event(version: string, size = 10): ObjectEvent {
  return {
    info: {
      bucket: 's3://landing',
      key: 'in/a.csv',
      size,
      source_ip: null,
      event_time: new Date().toISOString(),
      event_type: 'ObjectCreated:Put',
      aws_region: null,
    },
    record: {},
    version,
  };
}

describe('S3TRIGGER_DEDUP_*', () => {
  let t: TestRealm;
  beforeEach(async () => {
    t = await makeRealm();
    await t.putJob({ job_id: 'ingest', type: 'log', payload: 'x' });
    await t.backend.config.put('test', 'triggers', {
      trigger_id: 'in',
      bucket: 's3://landing',
      prefix: 'in',
      job_id: 'ingest',
      enabled: true,
    });
  });
  afterEach(() => t.close());

  const queued = async () => (await t.backend.events.query('test', { jobId: 'ingest' })).length;

  it('is off by default: two versions of one object fire twice', async () => {
    const d = await TriggerDaemon.create({ backend: t.backend, realm: 'test', watch: false });
    await d.fire(event('v1'));
    await d.fire(event('v2'));
    expect(await queued()).toBe(2);
  });

  it('drops a repeat within the TTL; a different size fires; after the TTL it fires again', async () => {
    const d = await TriggerDaemon.create({
      backend: t.backend,
      realm: 'test',
      watch: false,
      flags: { S3TRIGGER_DEDUP_CACHE_SIZE: 10, S3TRIGGER_DEDUP_TTL: '1s' },
    });
    expect(await d.fire(event('v1'))).toBe(true);
    expect(await d.fire(event('v2'))).toBe(true);
    expect(d.counts.duplicate).toBe(1);
    expect(await queued()).toBe(1);
    await d.fire(event('v3', 11));
    expect(await queued()).toBe(2);
    await new Promise((r) => setTimeout(r, 1_100));
    await d.fire(event('v4'));
    expect(await queued()).toBe(3);
  });

  it('remembers at most S3TRIGGER_DEDUP_CACHE_SIZE events', async () => {
    const d = await TriggerDaemon.create({
      backend: t.backend,
      realm: 'test',
      watch: false,
      flags: { S3TRIGGER_DEDUP_CACHE_SIZE: 1, S3TRIGGER_DEDUP_TTL: '1h' },
    });
    await d.fire(event('v1', 1));
    await d.fire(event('v2', 2)); // pushes size 1 out
    await d.fire(event('v3', 1));
    expect(await queued()).toBe(3);
    await d.fire(event('v4', 1));
    expect(await queued()).toBe(3);
  });
});
