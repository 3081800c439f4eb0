/**
 * EventStore conformance: one record per run with an append-only log of events.
 * Backend-agnostic: every test uses its own realm.
 */
import { describe, expect } from 'vitest';
import { isoLocal, isoUtcNaive } from '../../src/core/time.js';
import type { Backend, NewEvent } from '../../src/backends/ports.js';
import { type ConformanceOptions, skippableTest, useBackend } from './harness.js';

export type EventStoreConformanceOptions = ConformanceOptions;

/** Whole-second instants around a fixed base, so formats and ttl arithmetic are exact. */
const BASE = Date.UTC(2026, 0, 15, 10, 0, 0);
const at = (seconds: number) => new Date(BASE + seconds * 1000);

function ev(jobId: string, runId: string, status: string, seconds: number, extra: Partial<NewEvent> = {}): NewEvent {
  return { job_id: jobId, run_id: runId, status, info: null, at: at(seconds), ...extra };
}

export function runEventStoreConformance(opts: EventStoreConformanceOptions): void {
  const test = skippableTest(opts.name, opts.skip);

  describe(`EventStore conformance: ${opts.name}`, () => {
    let backend!: Backend;
    const { freshRealm } = useBackend(opts.make, (b) => (backend = b));

    test('get of an unknown run is undefined', async () => {
      const realm = await freshRealm('ev-missing');
      expect(await backend.events.get(realm, 'no/job', 'no-run')).toBeUndefined();
      expect(await backend.events.query(realm, {})).toEqual([]);
    });

    test('record creates the record, then appends events in order', async () => {
      const realm = await freshRealm('ev-append');
      await backend.events.record(
        realm,
        ev('demo/job', 'run-1', 'dispatched', 0, {
          info: 'queued',
          ts_dispatch: isoLocal(at(0)),
          worker: 'core',
          hostname: 'host-a',
        }),
      );
      const first = await backend.events.get(realm, 'demo/job', 'run-1');
      expect(first).toMatchObject({
        job_id: 'demo/job',
        run_id: 'run-1',
        status: 'dispatched',
        ts_dispatch: isoLocal(at(0)),
        ts_event: isoLocal(at(0)),
        tu_event: isoUtcNaive(at(0)),
        worker: 'core',
        hostname: 'host-a',
      });
      expect(first?.log).toEqual([
        { ts_event: isoLocal(at(0)), tu_event: isoUtcNaive(at(0)), status: 'dispatched', info: 'queued' },
      ]);

      await backend.events.record(realm, ev('demo/job', 'run-1', 'starting', 5, { info: { pid: 42 } }));
      await backend.events.record(realm, ev('demo/job', 'run-1', 'complete', 9, { info: { exit: 0, out: ['a', 'b'] } }));

      const rec = await backend.events.get(realm, 'demo/job', 'run-1');
      expect(rec?.status).toBe('complete');
      expect(rec?.ts_event).toBe(isoLocal(at(9)));
      expect(rec?.tu_event).toBe(isoUtcNaive(at(9)));
      expect(rec?.log).toEqual([
        { ts_event: isoLocal(at(0)), tu_event: isoUtcNaive(at(0)), status: 'dispatched', info: 'queued' },
        { ts_event: isoLocal(at(5)), tu_event: isoUtcNaive(at(5)), status: 'starting', info: { pid: 42 } },
        { ts_event: isoLocal(at(9)), tu_event: isoUtcNaive(at(9)), status: 'complete', info: { exit: 0, out: ['a', 'b'] } },
      ]);
      // Still one record for the run.
      expect(await backend.events.query(realm, { runId: 'run-1' })).toHaveLength(1);
    });

    test('entries held back (before) are appended first, in one write, on a new record and an existing one', async () => {
      const realm = await freshRealm('ev-before');
      const entry = (status: string, seconds: number, info: unknown = null) => ({
        ts_event: isoLocal(at(seconds)),
        tu_event: isoUtcNaive(at(seconds)),
        status,
        info,
      });
      await backend.events.record(
        realm,
        ev('j', 'r', 'running', 2, {
          info: 'Iteration 1',
          worker: 'core',
          before: [{ status: 'starting', info: null, at: at(1) }],
        }),
      );
      let rec = await backend.events.get(realm, 'j', 'r');
      expect(rec).toMatchObject({ status: 'running', ts_event: isoLocal(at(2)), worker: 'core' });
      expect(rec?.log).toEqual([entry('starting', 1), entry('running', 2, 'Iteration 1')]);

      await backend.events.record(
        realm,
        ev('j', 'r', 'complete', 9, {
          before: [
            { status: 'starting', info: 'Attempt 2', at: at(7) },
            { status: 'running', info: { n: 1 }, at: at(8) },
          ],
        }),
      );
      rec = await backend.events.get(realm, 'j', 'r');
      expect(rec).toMatchObject({ status: 'complete', ts_event: isoLocal(at(9)), tu_event: isoUtcNaive(at(9)) });
      expect(rec?.log).toEqual([
        entry('starting', 1),
        entry('running', 2, 'Iteration 1'),
        entry('starting', 7, 'Attempt 2'),
        entry('running', 8, { n: 1 }),
        entry('complete', 9),
      ]);
    });

    test('ts_dispatch, worker and hostname are kept when later events omit them', async () => {
      const realm = await freshRealm('ev-keep');
      const dispatchTs = isoLocal(at(-30));
      await backend.events.record(
        realm,
        ev('j', 'r', 'dispatched', 0, { ts_dispatch: dispatchTs, worker: 'core', hostname: 'h1' }),
      );
      await backend.events.record(realm, ev('j', 'r', 'running', 1));
      await backend.events.record(realm, ev('j', 'r', 'running', 2, { ts_dispatch: null, worker: null, hostname: null }));
      let rec = await backend.events.get(realm, 'j', 'r');
      expect(rec).toMatchObject({ ts_dispatch: dispatchTs, worker: 'core', hostname: 'h1', status: 'running' });

      // A later event that does give them sets them.
      await backend.events.record(realm, ev('j', 'r', 'retry', 3, { worker: 'other', hostname: 'h2' }));
      rec = await backend.events.get(realm, 'j', 'r');
      expect(rec).toMatchObject({ ts_dispatch: dispatchTs, worker: 'other', hostname: 'h2', status: 'retry' });
      expect(rec?.log.map((e) => e.status)).toEqual(['dispatched', 'running', 'running', 'retry']);
    });

    test('a record created without dispatch fields has them null', async () => {
      const realm = await freshRealm('ev-nulls');
      await backend.events.record(realm, ev('j', 'r', 'starting', 0));
      const rec = await backend.events.get(realm, 'j', 'r');
      expect(rec?.ts_dispatch ?? null).toBeNull();
      expect(rec?.worker ?? null).toBeNull();
      expect(rec?.hostname ?? null).toBeNull();
      expect(rec?.ttl ?? null).toBeNull();
    });

    test('ttl is computed from ttlSeconds', async () => {
      const realm = await freshRealm('ev-ttl');
      await backend.events.record(realm, ev('j', 'r1', 'complete', 0, { ttlSeconds: 3600 }));
      expect((await backend.events.get(realm, 'j', 'r1'))?.ttl).toBe(BASE / 1000 + 3600);
      await backend.events.record(realm, ev('j', 'r1', 'complete', 10, { ttlSeconds: 60 }));
      expect((await backend.events.get(realm, 'j', 'r1'))?.ttl).toBe(BASE / 1000 + 10 + 60);
      // Fractional instants floor to whole epoch seconds.
      await backend.events.record(realm, { ...ev('j', 'r2', 'complete', 0, { ttlSeconds: 100 }), at: new Date(BASE + 999) });
      expect((await backend.events.get(realm, 'j', 'r2'))?.ttl).toBe(BASE / 1000 + 100);
    });

    test('info may be a string, an object or null', async () => {
      const realm = await freshRealm('ev-info');
      const infos: unknown[] = ['plain text', { a: 1, b: { c: [true, null, 'x'] } }, null, 'ünïcødé ✓ "quoted"', [1, 2]];
      for (const [i, info] of infos.entries()) await backend.events.record(realm, ev('j', 'r', `s${i}`, i, { info }));
      const rec = await backend.events.get(realm, 'j', 'r');
      expect(rec?.log.map((e) => e.info)).toEqual(infos);
      expect(rec?.log.map((e) => e.status)).toEqual(['s0', 's1', 's2', 's3', 's4']);
    });

    test('the same run id under two jobs is two records', async () => {
      const realm = await freshRealm('ev-two-jobs');
      await backend.events.record(realm, ev('job/a', 'same-run', 'complete', 0));
      await backend.events.record(realm, ev('job/b', 'same-run', 'failed', 1));
      expect((await backend.events.get(realm, 'job/a', 'same-run'))?.status).toBe('complete');
      expect((await backend.events.get(realm, 'job/b', 'same-run'))?.status).toBe('failed');
      expect((await backend.events.get(realm, 'job/a', 'same-run'))?.log).toHaveLength(1);
    });

    test('realms are isolated', async () => {
      const r1 = await freshRealm('ev-iso-1');
      const r2 = await freshRealm('ev-iso-2');
      await backend.events.record(r1, ev('j', 'r', 'complete', 0));
      expect(await backend.events.get(r2, 'j', 'r')).toBeUndefined();
      expect(await backend.events.query(r2, {})).toEqual([]);
      expect(await backend.events.query(r1, {})).toHaveLength(1);
    });

    test('query filters by jobId, runId, status and since, newest first, with limit', async () => {
      const realm = await freshRealm('ev-query');
      // run ids and their latest event times (seconds from BASE), deliberately recorded out of order.
      await backend.events.record(realm, ev('job/a', 'a1', 'dispatched', 10));
      await backend.events.record(realm, ev('job/b', 'b1', 'complete', 30));
      await backend.events.record(realm, ev('job/a', 'a2', 'complete', 50));
      await backend.events.record(realm, ev('job/a', 'a1', 'failed', 40)); // a1's latest is now 40
      await backend.events.record(realm, ev('job/b', 'b2', 'failed', 20));
      await backend.events.record(realm, ev('job/c', 'c1', 'complete', 60));

      const runs = async (q: Parameters<Backend['events']['query']>[1]) =>
        (await backend.events.query(realm, q)).map((r) => r.run_id);

      expect(await runs({})).toEqual(['c1', 'a2', 'a1', 'b1', 'b2']);
      expect(await runs({ jobId: 'job/a' })).toEqual(['a2', 'a1']);
      expect(await runs({ jobId: 'job/none' })).toEqual([]);
      expect(await runs({ runId: 'b2' })).toEqual(['b2']);
      expect(await runs({ status: 'failed' })).toEqual(['a1', 'b2']);
      expect(await runs({ status: 'dispatched' })).toEqual([]); // only the latest status counts
      expect(await runs({ since: at(40) })).toEqual(['c1', 'a2', 'a1']); // at or after
      expect(await runs({ since: at(41) })).toEqual(['c1', 'a2']);
      expect(await runs({ since: at(1000) })).toEqual([]);
      expect(await runs({ limit: 2 })).toEqual(['c1', 'a2']);
      expect(await runs({ jobId: 'job/a', status: 'complete' })).toEqual(['a2']);
      expect(await runs({ jobId: 'job/b', since: at(25), limit: 5 })).toEqual(['b1']);

      const [full] = await backend.events.query(realm, { runId: 'a1' });
      expect(full?.job_id).toBe('job/a');
      expect(full?.status).toBe('failed');
      expect(full?.log.map((e) => e.status)).toEqual(['dispatched', 'failed']);
    });

    test('query default limit is 100', async () => {
      const realm = await freshRealm('ev-limit');
      for (let i = 0; i < 105; i++) await backend.events.record(realm, ev('j', `r${String(i).padStart(3, '0')}`, 'complete', i));
      const got = await backend.events.query(realm, {});
      expect(got).toHaveLength(100);
      expect(got[0]?.run_id).toBe('r104');
      expect(got[99]?.run_id).toBe('r005');
    });

    test('expire removes only records whose ttl has passed', async () => {
      const realm = await freshRealm('ev-expire');
      const other = await freshRealm('ev-expire-other');
      await backend.events.record(realm, ev('j', 'short', 'complete', 0, { ttlSeconds: 60 }));
      await backend.events.record(realm, ev('j', 'long', 'complete', 0, { ttlSeconds: 3600 }));
      await backend.events.record(realm, ev('j', 'forever', 'complete', 0));
      await backend.events.record(other, ev('j', 'short', 'complete', 0, { ttlSeconds: 60 }));

      expect(await backend.events.expire(realm, at(30))).toBe(0);
      expect(await backend.events.get(realm, 'j', 'short')).toBeDefined();

      expect(await backend.events.expire(realm, at(120))).toBe(1);
      expect(await backend.events.get(realm, 'j', 'short')).toBeUndefined();
      expect(await backend.events.get(realm, 'j', 'long')).toBeDefined();
      expect(await backend.events.get(realm, 'j', 'forever')).toBeDefined();
      // Another realm's records are not touched.
      expect(await backend.events.get(other, 'j', 'short')).toBeDefined();

      expect(await backend.events.expire(realm, at(120))).toBe(0);
      expect(await backend.events.expire(realm, at(10 * 86400))).toBe(1);
      expect((await backend.events.query(realm, {})).map((r) => r.run_id)).toEqual(['forever']);
    });

    test('keepStatus appends an entry without changing the record status', async () => {
      const realm = await freshRealm('ev-keep');
      await backend.events.record(realm, ev('j', 'r', 'complete', 0));
      await backend.events.record(realm, { ...ev('j', 'r', 'event', 1), keepStatus: true });
      const rec = await backend.events.get(realm, 'j', 'r');
      expect(rec?.status).toBe('complete');
      expect(rec?.log.map((e) => e.status)).toEqual(['complete', 'event']);
    });
  });
}
