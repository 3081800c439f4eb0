/**
 * The trigger daemon on a watched directory, with the embedded backend and a real worker: a file that
 * lands fires its trigger (the job runs, the queued event records the trigger), files that do not
 * match (fnmatch, size_gt, prefix level) do not, a file still being written waits, a removal fires
 * ObjectRemoved:Delete, an event inotify missed is caught by the scan, and two replicas dispatch once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventRecord } from '../../src/backends/ports.js';
import { silentLogger } from '../../src/core/logger.js';
import { TriggerDaemon } from '../../src/triggers/daemon.js';
import { DirectoryWatcher } from '../../src/triggers/file-watcher.js';
import type { ObjectEvent } from '../../src/events/s3-notification.js';
import { makeRealm, type TestRealm } from '../helpers.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitFor<T>(fn: () => Promise<T | undefined> | T | undefined, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const FAST = { TRIGGER_SETTLE: '0.3s', TRIGGER_SCAN_INTERVAL: '1s' };

describe('file triggers', () => {
  let t: TestRealm;
  let area: string;
  const daemons: TriggerDaemon[] = [];

  beforeEach(async () => {
    t = await makeRealm(FAST);
    area = path.join(t.dir, 'area');
    fs.mkdirSync(path.join(area, 'in', 'sub'), { recursive: true });
    fs.mkdirSync(path.join(area, 'out'), { recursive: true });
    await t.putJob({
      job_id: 'ingest',
      type: 'cmd',
      payload: 'echo',
      parameters: { args: ['ingest'] },
    });
  });
  afterEach(async () => {
    await Promise.all(daemons.splice(0).map((d) => d.stop()));
    await t.close();
  });

  async function start(): Promise<{ daemon: TriggerDaemon; done: Promise<void> }> {
    const daemon = await TriggerDaemon.create({ backend: t.backend, realm: 'test', logger: silentLogger });
    daemons.push(daemon);
    const done = daemon.run();
    await waitFor(() => daemon.watching.length > 0 || undefined, 5_000, 'the watcher');
    return { daemon, done };
  }

  const queued = async (): Promise<EventRecord[]> =>
    (await t.backend.events.query('test', { jobId: 'ingest', limit: 100 })).filter((r) => r.log[0]?.status === 'queued');
  const triggerOf = (r: EventRecord) => (r.log[0]?.info as { trigger?: Record<string, unknown> }).trigger;

  it('a matching file fires; non-matching ones do not; the job runs with rendered parameters', async () => {
    const bucket = pathToFileURL(area).href;
    await t.backend.config.put('test', 'triggers', {
      trigger_id: 'csv-in',
      bucket,
      prefix: 'in',
      job_id: 'ingest',
      enabled: true,
      if_fnmatch: '*.csv',
      if_size_gt: 3,
      parameters: { args: ['{{ key }}', '{{ info.size }}', '{{ info.event_type }}'] },
    });
    // A more specific level: in/sub has its own trigger, so csv-in does not fire there.
    await t.backend.config.put('test', 'triggers', {
      trigger_id: 'sub',
      bucket,
      prefix: 'in/sub',
      job_id: 'ingest',
      enabled: false,
    });
    await start();
    fs.writeFileSync(path.join(area, 'in', 'data one.csv'), 'a,b\n1,2\n');
    fs.writeFileSync(path.join(area, 'in', 'notes.txt'), 'not a csv\n'); // fnmatch
    fs.writeFileSync(path.join(area, 'in', 'tiny.csv'), 'a\n'); // size_gt
    fs.writeFileSync(path.join(area, 'in', 'sub', 'deep.csv'), 'a,b\n1,2\n'); // prefix level
    fs.writeFileSync(path.join(area, 'out', 'other.csv'), 'a,b\n1,2\n'); // no trigger
    const [rec] = await waitFor(async () => ((await queued()).length ? queued() : undefined), 10_000, 'a dispatch');
    expect(triggerOf(rec!)).toEqual({ trigger_id: 'csv-in', bucket, key: 'in/data one.csv', event_type: 'ObjectCreated:Put' });
    expect(rec!.log[0]?.info).toMatchObject({ parameters: { args: ['in/data one.csv', '8', 'ObjectCreated:Put'] } });
    await sleep(1_500); // the others had their chance, and a scan
    expect(await queued()).toHaveLength(1);
    await t.drain();
    const ran = await t.backend.events.get('test', 'ingest', rec!.run_id);
    expect(ran?.status).toBe('complete');
  }, 30_000);

  it('a file still being written fires once, when it has settled; a removal fires ObjectRemoved:Delete', async () => {
    await t.backend.config.put('test', 'triggers', {
      trigger_id: 'any',
      bucket: area,
      prefix: '*',
      job_id: 'ingest',
      enabled: true,
      parameters: { args: ['{{ info.event_type }}', '{{ key }}', '{{ info.size }}'] },
    });
    await start();
    const file = path.join(area, 'in', 'growing.dat');
    const fd = fs.openSync(file, 'w');
    for (let i = 0; i < 6; i++) {
      fs.writeSync(fd, 'x'.repeat(100));
      await sleep(100);
    }
    fs.closeSync(fd);
    const [rec] = await waitFor(async () => ((await queued()).length ? queued() : undefined), 10_000, 'a dispatch');
    expect(rec!.log[0]?.info).toMatchObject({ parameters: { args: ['ObjectCreated:Put', 'in/growing.dat', '600'] } });
    fs.rmSync(file);
    const all = await waitFor(async () => ((await queued()).length === 2 ? queued() : undefined), 10_000, 'the delete');
    expect(all.map(triggerOf).map((x) => x?.event_type)).toEqual(
      expect.arrayContaining(['ObjectCreated:Put', 'ObjectRemoved:Delete']),
    );
    const del = all.find((r) => triggerOf(r)?.event_type === 'ObjectRemoved:Delete');
    expect(del?.log[0]?.info).toMatchObject({ parameters: { args: ['ObjectRemoved:Delete', 'in/growing.dat', 'None'] } });
  }, 30_000);

  it('two replicas watching the same directory dispatch once per file', async () => {
    await t.backend.config.put('test', 'triggers', {
      trigger_id: 'any',
      bucket: area,
      prefix: 'in',
      job_id: 'ingest',
      enabled: true,
    });
    const [a, b] = [await start(), await start()];
    for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(area, 'in', `f${i}.txt`), `file ${i}\n`);
    await waitFor(async () => ((await queued()).length >= 5 ? true : undefined), 10_000, 'five dispatches');
    await sleep(1_500);
    const recs = await queued();
    expect(recs.map((r) => triggerOf(r)?.key).sort()).toEqual(['in/f0.txt', 'in/f1.txt', 'in/f2.txt', 'in/f3.txt', 'in/f4.txt']);
    expect(a.daemon.counts.dispatched + b.daemon.counts.dispatched).toBe(5);
    expect(a.daemon.counts.duplicate + b.daemon.counts.duplicate).toBe(5);
    await Promise.all([a.daemon.stop(), b.daemon.stop()]);
    await Promise.all([a.done, b.done]);
    expect(a.daemon.state).toBe('stopped');
  }, 30_000);

  it('files present when watching starts do not fire; triggers put later are picked up', async () => {
    fs.writeFileSync(path.join(area, 'in', 'old.txt'), 'old\n');
    const daemon = await TriggerDaemon.create({ backend: t.backend, realm: 'test', logger: silentLogger });
    daemons.push(daemon);
    void daemon.run();
    await sleep(300);
    expect(daemon.watching).toEqual([]);
    await t.backend.config.put('test', 'triggers', {
      trigger_id: 'late',
      bucket: area,
      prefix: 'in',
      job_id: 'ingest',
      enabled: true,
    });
    await waitFor(() => daemon.watching.length > 0 || undefined, 5_000, 'the watcher');
    fs.writeFileSync(path.join(area, 'in', 'new.txt'), 'new\n');
    await waitFor(async () => ((await queued()).length ? true : undefined), 10_000, 'a dispatch');
    await sleep(500);
    expect((await queued()).map((r) => triggerOf(r)?.key)).toEqual(['in/new.txt']);
  }, 30_000);
});

describe('DirectoryWatcher', () => {
  it('the scan catches a file that fs.watch did not report', async () => {
    const t = await makeRealm();
    const dir = path.join(t.dir, 'w');
    fs.mkdirSync(dir);
    const fired: ObjectEvent[] = [];
    const w = new DirectoryWatcher({
      bucket: dir,
      dir,
      settleMs: 100,
      logger: silentLogger,
      fire: async (e) => (fired.push(e), true),
    });
    await w.start();
    // Stand in for a lost inotify event: stop the watcher hearing anything, so only scan() can see the file.
    (w as unknown as { watcher?: fs.FSWatcher }).watcher?.close();
    fs.writeFileSync(path.join(dir, 'missed.txt'), 'hello');
    await sleep(400);
    expect(fired).toEqual([]);
    await w.scan();
    await waitFor(() => fired.length || undefined, 5_000, 'the scan to fire');
    expect(fired[0]?.info).toMatchObject({ bucket: dir, key: 'missed.txt', size: 5, event_type: 'ObjectCreated:Put' });
    expect(fired[0]?.record).toMatchObject({ eventName: 'ObjectCreated:Put', s3: { object: { key: 'missed.txt', size: 5 } } });
    await w.stop();
    await t.close();
  });

  it('a firing that must be retried fires again at the next scan', async () => {
    const t = await makeRealm();
    const dir = path.join(t.dir, 'w');
    fs.mkdirSync(dir);
    let calls = 0;
    const w = new DirectoryWatcher({ bucket: dir, dir, settleMs: 100, logger: silentLogger, fire: async () => ++calls > 1 });
    await w.start();
    fs.writeFileSync(path.join(dir, 'x'), 'x');
    await waitFor(() => calls === 1 || undefined, 5_000, 'the first firing');
    await sleep(300);
    await w.scan();
    await waitFor(() => calls === 2 || undefined, 5_000, 'the retry');
    await w.scan();
    await sleep(300);
    expect(calls).toBe(2);
    await w.stop();
    await t.close();
  });
});
