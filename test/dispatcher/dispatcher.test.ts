import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openBackend } from '../../src/backends/index.js';
import { Dispatcher, type DispatcherOptions } from '../../src/dispatcher/dispatcher.js';
import { decodeMessage } from '../../src/dispatch/message.js';
import { makeRealm, type TestRealm } from '../helpers.js';

let t: TestRealm;
beforeEach(async () => {
  t = await makeRealm();
});
afterEach(async () => {
  await t.close();
});

class FakeClock {
  constructor(public t: number) {}
  now = () => new Date(this.t);
  set(iso: string) {
    this.t = Date.parse(iso);
  }
  advance(ms: number) {
    this.t += ms;
  }
}

async function dispatcher(clock: FakeClock, o: Partial<DispatcherOptions> = {}) {
  return Dispatcher.create({ backend: t.backend, realm: 'test', name: 'main', tz: 'UTC', clock, reloadSeconds: 0, ...o });
}

/** Every message on worker w's queue, taken off it. */
async function takeAll() {
  const q = t.backend.queue('test', 'w');
  const out = [];
  for (;;) {
    const got = await q.receive({ max: 10, visibilitySeconds: 60, waitSeconds: 0 });
    if (!got.length) return out;
    for (const m of got) {
      out.push(decodeMessage(m.body));
      await q.delete(m.receipt);
    }
  }
}

describe('built-in dispatcher', () => {
  it('dispatches a due job once per fire time, to the job worker, stamped with the tick time', async () => {
    await t.putJob({ job_id: 'every-minute', type: 'log', dispatcher: 'main', schedule: '* * * * *' });
    await t.putJob({ job_id: 'other', type: 'log', dispatcher: 'elsewhere', schedule: '* * * * *' });
    const clock = new FakeClock(Date.parse('2026-06-01T10:00:30Z'));
    const d = await dispatcher(clock);
    await d.tick(); // first run: nothing is overdue
    clock.set('2026-06-01T10:01:00.200Z');
    await d.tick();
    await d.tick(); // same minute again: no second dispatch
    const msgs = await takeAll();
    expect(msgs.map((m) => m.job_id)).toEqual(['every-minute']);
    expect(msgs[0]?.worker).toBe('w');
    expect(new Date(msgs[0]!.ts_dispatch).toISOString()).toBe('2026-06-01T10:01:00.000Z');
  });

  it('picks up schedule changes without a restart', async () => {
    await t.putJob({ job_id: 'j', type: 'log', dispatcher: 'main', schedule: '0 12 * * *' });
    const clock = new FakeClock(Date.parse('2026-06-01T10:00:30Z'));
    const d = await dispatcher(clock);
    await d.tick();
    await t.putJob({ job_id: 'j', type: 'log', dispatcher: 'main', schedule: '1 10 * * *' });
    clock.set('2026-06-01T10:01:01Z');
    await d.tick();
    expect(await takeAll()).toHaveLength(1);
  });

  it('lets two replicas race over many ticks with no duplicate and no miss', async () => {
    for (let i = 0; i < 20; i++) await t.putJob({ job_id: `job${i}`, type: 'log', dispatcher: 'main', schedule: '* * * * *' });
    const other = await openBackend(t.backendUrl); // a second process's view of the same realm file
    try {
      const clockA = new FakeClock(Date.parse('2026-06-01T00:00:30Z'));
      const clockB = new FakeClock(clockA.t);
      const a = await dispatcher(clockA);
      const b = await Dispatcher.create({
        backend: other,
        realm: 'test',
        name: 'main',
        tz: 'UTC',
        clock: clockB,
        reloadSeconds: 0,
      });
      await a.tick();
      // 60 simulated minutes; the replicas tick at jittered times, in random order, sometimes concurrently.
      for (let minute = 1; minute <= 60; minute++) {
        clockA.set(new Date(Date.parse('2026-06-01T00:00:00Z') + minute * 60_000 + Math.random() * 20_000).toISOString());
        clockB.set(new Date(Date.parse('2026-06-01T00:00:00Z') + minute * 60_000 + Math.random() * 20_000).toISOString());
        if (Math.random() < 0.3) await Promise.all([a.tick(), b.tick()]);
        else if (Math.random() < 0.5) await a.tick().then(() => b.tick());
        else await b.tick().then(() => a.tick());
      }
      const msgs = await takeAll();
      expect(msgs).toHaveLength(20 * 60);
      const keys = new Set(msgs.map((m) => `${m.job_id}@${new Date(m.ts_dispatch).toISOString().slice(0, 16)}`));
      expect(keys.size).toBe(20 * 60);
      expect(a.dispatched + b.dispatched).toBe(20 * 60);
      expect(a.dispatched).toBeGreaterThan(0);
      expect(b.dispatched).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
  });

  describe('missed fire times', () => {
    async function outage(policy: string | undefined, jobPolicy?: string) {
      await t.backend.config.putRealm({
        ...t.realm,
        config: { ...t.realm.config, ...(policy ? { DISPATCHER_CATCHUP: policy } : {}) },
      });
      await t.putJob({
        job_id: 'm',
        type: 'log',
        dispatcher: 'main',
        schedule: '*/5 * * * *',
        ...(jobPolicy ? { 'x-lava-catchup': jobPolicy } : {}),
      });
      const clock = new FakeClock(Date.parse('2026-06-01T10:00:30Z'));
      await (await dispatcher(clock)).tick();
      // The dispatcher is down from 10:00:30 until 10:30:20: fire times 10:05 … 10:30 were due.
      clock.set('2026-06-01T10:30:20Z');
      const restarted = await dispatcher(clock);
      await restarted.tick();
      const msgs = await takeAll();
      const [record] = await t.backend.events.query('test', { jobId: 'm', status: 'catchup' });
      const info = record?.log[0]?.info as { policy: string; missed: string[]; dispatched: string[] };
      const hhmm = (s: string) => new Date(s).toISOString().slice(11, 16);
      return { count: msgs.length, info, missed: info.missed.map(hhmm), caughtUp: info.dispatched.map(hhmm) };
    }

    it('skip (the default, like cron): only the on-time tick runs; an event records what was skipped', async () => {
      const r = await outage(undefined);
      expect(r.count).toBe(1); // 10:30 is within DISPATCHER_GRACE, so on time
      expect(r.info.policy).toBe('skip');
      expect(r.missed).toEqual(['10:05', '10:10', '10:15', '10:20', '10:25']);
      expect(r.caughtUp).toEqual([]);
    });

    it('once: the latest missed tick runs as well', async () => {
      const r = await outage('once');
      expect(r.count).toBe(2);
      expect(r.caughtUp).toEqual(['10:25']);
    });

    it('all: every missed tick within the window runs, and a job can override the realm', async () => {
      const r = await outage('skip', 'all');
      expect(r.count).toBe(6);
      expect(r.info.policy).toBe('all');
      expect(r.caughtUp).toEqual(['10:05', '10:10', '10:15', '10:20', '10:25']);
    });
  });

  it('dispatches nothing while the suppression file exists', async () => {
    const flag = path.join(t.dir, 'nodispatch');
    await t.backend.config.putRealm({ ...t.realm, config: { ...t.realm.config, NO_DISPATCH: flag } });
    await t.putJob({ job_id: 'j', type: 'log', dispatcher: 'main', schedule: '* * * * *' });
    const clock = new FakeClock(Date.parse('2026-06-01T10:00:30Z'));
    const d = await dispatcher(clock);
    await d.tick();
    fs.writeFileSync(flag, '');
    clock.set('2026-06-01T10:01:01Z');
    await d.tick();
    expect(await takeAll()).toHaveLength(0);
  });

  it('finishes a tick another replica claimed but never dispatched, with the claimed run id', async () => {
    await t.putJob({ job_id: 'j', type: 'log', dispatcher: 'main', schedule: '0 0 1 1 *' });
    const fireTime = new Date('2026-06-01T10:01:00Z');
    await t.backend.schedules.claim('test', 'main', { jobId: 'j', fireTime, runId: 'run-from-dead-replica' }, 'dead:1');
    const clock = new FakeClock(Date.parse('2026-06-01T10:01:30Z'));
    const d = await dispatcher(clock, { staleSeconds: 0 });
    await new Promise((r) => setTimeout(r, 5));
    await d.tick();
    const msgs = await takeAll();
    expect(msgs.map((m) => m.run_id)).toEqual(['run-from-dead-replica']);
    expect(await t.backend.schedules.stale('test', 'main', new Date(Date.now() + 1000))).toEqual([]);
  });
});
