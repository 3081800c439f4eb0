/**
 * RunClaims conformance: at most one live owner of a run id at a time, with leases.
 * Backend-agnostic: every test uses its own realm.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import type { Backend, ClaimResult, NewEvent } from '../../src/backends/ports.js';
import { type ConformanceOptions, skippableTest, useBackend } from './harness.js';

export type RunClaimsConformanceOptions = ConformanceOptions;

/** Long enough past a 1 s lease for any clock granularity we expect. */
const PAST_LEASE_MS = 1_300;

export function runRunClaimsConformance(opts: RunClaimsConformanceOptions): void {
  const test = skippableTest(opts.name, opts.skip);

  describe(`RunClaims conformance: ${opts.name}`, () => {
    let backend!: Backend;
    const { freshRealm } = useBackend(opts.make, (b) => (backend = b));

    test('first claim is attempt 1; another owner is busy while the lease lives', async () => {
      const realm = await freshRealm('rc-first');
      expect(await backend.runs.claim(realm, 'run-1', 'worker-a', 60)).toEqual({ outcome: 'claimed', attempt: 1 });
      const busy = await backend.runs.claim(realm, 'run-1', 'worker-b', 60);
      expect(busy.outcome).toBe('busy');
      if (busy.outcome !== 'busy') return;
      expect(busy.owner).toBe('worker-a');
      expect(busy.leaseSeconds).toBeGreaterThan(0);
      expect(busy.leaseSeconds).toBeLessThanOrEqual(60);
      // Asking again does not take it either.
      expect(await backend.runs.claim(realm, 'run-1', 'worker-c', 60)).toMatchObject({ outcome: 'busy', owner: 'worker-a' });
    });

    test('claims are per run id and per realm', async () => {
      const r1 = await freshRealm('rc-iso-1');
      const r2 = await freshRealm('rc-iso-2');
      expect(await backend.runs.claim(r1, 'run', 'a', 60)).toEqual({ outcome: 'claimed', attempt: 1 });
      expect(await backend.runs.claim(r1, 'run-other', 'b', 60)).toEqual({ outcome: 'claimed', attempt: 1 });
      expect(await backend.runs.claim(r2, 'run', 'b', 60)).toEqual({ outcome: 'claimed', attempt: 1 });
      await backend.runs.finish(r2, 'run', 'b');
      expect(await backend.runs.claim(r1, 'run', 'c', 60)).toMatchObject({ outcome: 'busy', owner: 'a' });
    });

    test('after the lease expires a new owner claims attempt 2', async () => {
      const realm = await freshRealm('rc-expire');
      expect(await backend.runs.claim(realm, 'run', 'worker-a', 1)).toEqual({ outcome: 'claimed', attempt: 1 });
      await sleep(PAST_LEASE_MS);
      expect(await backend.runs.claim(realm, 'run', 'worker-b', 60)).toEqual({ outcome: 'claimed', attempt: 2 });
      expect(await backend.runs.claim(realm, 'run', 'worker-a', 60)).toMatchObject({ outcome: 'busy', owner: 'worker-b' });
      // The old owner lost it: it can no longer renew.
      expect(await backend.runs.renew(realm, 'run', 'worker-a', 60)).toBe(false);
      expect(await backend.runs.renew(realm, 'run', 'worker-b', 60)).toBe(true);
    }, 10_000);

    test('renew by the owner extends the lease; by anyone else it fails', async () => {
      const realm = await freshRealm('rc-renew');
      expect(await backend.runs.claim(realm, 'run', 'owner', 1)).toEqual({ outcome: 'claimed', attempt: 1 });
      expect(await backend.runs.renew(realm, 'run', 'owner', 30)).toBe(true);
      expect(await backend.runs.renew(realm, 'run', 'intruder', 30)).toBe(false);
      expect(await backend.runs.renew(realm, 'never-claimed', 'owner', 30)).toBe(false);
      await sleep(PAST_LEASE_MS);
      // Without the renewal the 1 s lease would have ended by now.
      const busy = await backend.runs.claim(realm, 'run', 'intruder', 30);
      expect(busy).toMatchObject({ outcome: 'busy', owner: 'owner' });
      if (busy.outcome === 'busy') expect(busy.leaseSeconds).toBeGreaterThan(20);
    }, 10_000);

    test('finish makes later claims return done', async () => {
      const realm = await freshRealm('rc-finish');
      expect(await backend.runs.claim(realm, 'run', 'a', 60)).toEqual({ outcome: 'claimed', attempt: 1 });
      await backend.runs.finish(realm, 'run', 'a');
      expect(await backend.runs.claim(realm, 'run', 'b', 60)).toEqual({ outcome: 'done' });
      expect(await backend.runs.claim(realm, 'run', 'a', 60)).toEqual({ outcome: 'done' });
      expect(await backend.runs.renew(realm, 'run', 'a', 60)).toBe(false);
      // Releasing a finished run does not reopen it.
      await backend.runs.release(realm, 'run', 'a');
      expect(await backend.runs.claim(realm, 'run', 'b', 60)).toEqual({ outcome: 'done' });
    });

    test('finish records the outcome and deletes the delivery, only for the owner, once', async () => {
      const realm = await freshRealm('rc-end');
      const q = backend.queue(realm, 'w');
      await q.send('the run');
      const [msg] = await q.receive({ max: 1, visibilitySeconds: 60, waitSeconds: 0 });
      expect(await backend.runs.claim(realm, 'run', 'a', 60)).toEqual({ outcome: 'claimed', attempt: 1 });
      const outcome = {
        job_id: 'j',
        run_id: 'run',
        status: 'complete',
        info: { exit_status: 0 },
        at: new Date(),
        before: [{ status: 'starting', info: null, at: new Date() }],
      };
      const end = { outcome, delivery: { queue: q, receipt: msg?.receipt ?? '' } };

      // Not the owner: nothing is written, nothing deleted.
      expect(await backend.runs.finish(realm, 'run', 'b', end)).toBe(false);
      expect(await backend.events.get(realm, 'j', 'run')).toBeUndefined();
      expect((await q.counts()).inflight).toBe(1);
      expect(await backend.runs.claim(realm, 'run', 'c', 60)).toMatchObject({ outcome: 'busy', owner: 'a' });

      expect(await backend.runs.finish(realm, 'run', 'a', end)).toBe(true);
      expect((await backend.events.get(realm, 'j', 'run'))?.log.map((e) => e.status)).toEqual(['starting', 'complete']);
      expect(await q.counts()).toMatchObject({ visible: 0, inflight: 0 });
      expect(await backend.runs.claim(realm, 'run', 'c', 60)).toEqual({ outcome: 'done' });
      // Again (a retried call): true, and the outcome is not recorded twice.
      expect(await backend.runs.finish(realm, 'run', 'a', end)).toBe(true);
      expect((await backend.events.get(realm, 'j', 'run'))?.log).toHaveLength(2);
      expect(await backend.runs.finish(realm, 'run', 'b', end)).toBe(false);
    });

    test('release lets another owner claim at once', async () => {
      const realm = await freshRealm('rc-release');
      expect(await backend.runs.claim(realm, 'run', 'a', 300)).toEqual({ outcome: 'claimed', attempt: 1 });
      // Release by someone who does not own it changes nothing.
      await backend.runs.release(realm, 'run', 'b');
      expect(await backend.runs.claim(realm, 'run', 'b', 300)).toMatchObject({ outcome: 'busy', owner: 'a' });
      await backend.runs.release(realm, 'run', 'a');
      expect(await backend.runs.claim(realm, 'run', 'b', 300)).toEqual({ outcome: 'claimed', attempt: 2 });
      expect(await backend.runs.claim(realm, 'run', 'a', 300)).toMatchObject({ outcome: 'busy', owner: 'b' });
      await backend.runs.finish(realm, 'run', 'b');
      expect(await backend.runs.claim(realm, 'run', 'c', 300)).toEqual({ outcome: 'done' });
    });

    test('expire deletes claims last written before the cutoff, and only those', async () => {
      const realm = await freshRealm('rc-expire');
      await backend.runs.claim(realm, 'old', 'worker-a', 60);
      await backend.runs.finish(realm, 'old', 'worker-a');
      expect(await backend.runs.expire(realm, new Date(Date.now() - 60_000))).toBe(0);
      expect(await backend.runs.claim(realm, 'old', 'worker-b', 60)).toEqual({ outcome: 'done' });
      expect(await backend.runs.expire(realm, new Date(Date.now() + 60_000))).toBe(1);
      // Forgotten: a (very late) delivery of it would be a first attempt again.
      expect(await backend.runs.claim(realm, 'old', 'worker-b', 60)).toEqual({ outcome: 'claimed', attempt: 1 });
    });

    test('concurrent claims of one run: exactly one wins', async () => {
      const realm = await freshRealm('rc-race');
      const owners = Array.from({ length: 8 }, (_, i) => `w${i}`);
      const results = await Promise.all(owners.map((o) => backend.runs.claim(realm, 'race', o, 60)));
      const winners = results.filter((r) => r.outcome === 'claimed');
      expect(winners).toEqual([{ outcome: 'claimed', attempt: 1 }]);
      const winner = owners[results.findIndex((r) => r.outcome === 'claimed')];
      for (const r of results) if (r.outcome === 'busy') expect(r.owner).toBe(winner);
    });

    test('a start event goes out with the first claim only, and only for the winner', async () => {
      const realm = await freshRealm('rc-start');
      const at = new Date();
      const start = (owner: string): NewEvent => ({
        job_id: 'job',
        run_id: 'run',
        status: 'running',
        info: 'Iteration 1',
        at,
        worker: owner,
        before: [{ status: 'starting', info: null, at }],
      });
      const owners = ['a', 'b', 'c', 'd'];
      const results = await Promise.all(owners.map((o) => backend.runs.claim(realm, 'run', o, 1, start(o))));
      const winners = results.filter((r) => r.outcome === 'claimed');
      expect(winners).toHaveLength(1);
      const won = winners[0] as Extract<ClaimResult, { outcome: 'claimed' }>;
      expect(won.attempt).toBe(1);
      const record = await backend.events.get(realm, 'job', 'run');
      if (won.started) {
        // Recorded once, by the winner: the losers' events are nowhere.
        expect(record?.status).toBe('running');
        expect(record?.log.map((e) => e.status)).toEqual(['starting', 'running']);
        expect(record?.worker).toBe(owners[results.indexOf(won)]);
      } else {
        // A backend that does not record it with the claim records nothing of it.
        expect(record).toBeUndefined();
      }
      // A later claim (attempt 2, after the lease) never records its start event.
      await sleep(PAST_LEASE_MS);
      const again = await backend.runs.claim(realm, 'run', 'e', 60, start('e'));
      expect(again).toEqual({ outcome: 'claimed', attempt: 2 });
      expect((await backend.events.get(realm, 'job', 'run'))?.log.length ?? 0).toBe(won.started ? 2 : 0);
    }, 10_000);
  });
}
