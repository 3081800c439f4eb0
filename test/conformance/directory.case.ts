/**
 * Directory conformance: a realm's entries by kind and id (live processes, tokens, stop requests),
 * with optional expiry. Backend-agnostic: every test uses its own realm.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import type { Backend, DirectoryEntry } from '../../src/backends/ports.js';
import { type ConformanceOptions, skippableTest, useBackend } from './harness.js';

export type DirectoryConformanceOptions = ConformanceOptions;

const ids = (entries: DirectoryEntry[]) => entries.map((e) => e.id);

export function runDirectoryConformance(opts: DirectoryConformanceOptions): void {
  const test = skippableTest(opts.name, opts.skip);

  describe(`Directory conformance: ${opts.name}`, () => {
    let backend!: Backend;
    const { freshRealm } = useBackend(opts.make, (b) => (backend = b));

    test('put/get/list/delete', async () => {
      const realm = await freshRealm('dir-crud');
      const d = backend.directory;
      expect(await d.get(realm, 'worker', 'w1')).toBeUndefined();
      expect(await d.list(realm, 'worker')).toEqual([]);
      const before = Date.now();
      await d.put(realm, { kind: 'worker', id: 'w1', data: { host: 'h1', pid: 42 } });
      const got = await d.get(realm, 'worker', 'w1');
      expect(got).toMatchObject({ kind: 'worker', id: 'w1', data: { host: 'h1', pid: 42 } });
      expect(got).not.toHaveProperty('expires');
      // Backends may stamp with the database clock: allow some skew.
      expect(got?.updated.getTime()).toBeGreaterThanOrEqual(before - 2_000);
      expect(got?.updated.getTime()).toBeLessThanOrEqual(Date.now() + 2_000);
      expect(await d.list(realm, 'worker')).toEqual([got]);
      expect(await d.delete(realm, 'worker', 'w1')).toBe(true);
      expect(await d.get(realm, 'worker', 'w1')).toBeUndefined();
      expect(await d.list(realm, 'worker')).toEqual([]);
      expect(await d.delete(realm, 'worker', 'w1')).toBe(false);
    });

    test('put replaces the entry', async () => {
      const realm = await freshRealm('dir-replace');
      const d = backend.directory;
      await d.put(realm, { kind: 'token', id: 't', data: { hash: 'old', extra: 1 }, ttlSeconds: 60 });
      await d.put(realm, { kind: 'token', id: 't', data: { hash: 'new' } });
      const got = await d.get(realm, 'token', 't');
      expect(got?.data).toEqual({ hash: 'new' });
      // Put without a ttl keeps the entry until deleted, whatever the earlier put said.
      expect(got).not.toHaveProperty('expires');
      expect(await d.list(realm, 'token')).toHaveLength(1);
    });

    test('list is sorted by id and limited to one kind and realm', async () => {
      const realm = await freshRealm('dir-list');
      const other = await freshRealm('dir-list-other');
      const d = backend.directory;
      for (const id of ['m', 'b', 'a-2', 'a', 'Z', 'a10', 'a9']) await d.put(realm, { kind: 'worker', id, data: { id } });
      await d.put(realm, { kind: 'workers', id: 'x', data: {} });
      await d.put(realm, { kind: 'dispatcher', id: 'main', data: {} });
      await d.put(other, { kind: 'worker', id: 'c', data: {} });
      // Byte order, as ids compare on every backend.
      expect(ids(await d.list(realm, 'worker'))).toEqual(['Z', 'a', 'a-2', 'a10', 'a9', 'b', 'm']);
      expect((await d.list(realm, 'worker')).every((e) => e.kind === 'worker' && e.data.id === e.id)).toBe(true);
      expect(ids(await d.list(realm, 'dispatcher'))).toEqual(['main']);
      expect(ids(await d.list(other, 'worker'))).toEqual(['c']);
      expect(await d.list(realm, 'server')).toEqual([]);
      expect(await d.get(other, 'worker', 'a')).toBeUndefined();
      expect(await d.get(realm, 'dispatcher', 'm')).toBeUndefined();
      expect(await d.delete(other, 'worker', 'a')).toBe(false);
      expect(await d.get(realm, 'worker', 'a')).toBeDefined();
    });

    test('an entry with a ttl expires; one without is kept', async () => {
      const realm = await freshRealm('dir-ttl');
      const d = backend.directory;
      const before = Date.now();
      await d.put(realm, { kind: 'worker', id: 'brief', data: { n: 1 }, ttlSeconds: 1 });
      await d.put(realm, { kind: 'worker', id: 'kept', data: { n: 2 } });
      await d.put(realm, { kind: 'worker', id: 'long', data: { n: 3 }, ttlSeconds: 3600 });
      const brief = await d.get(realm, 'worker', 'brief');
      expect(brief?.expires).toBeInstanceOf(Date);
      expect(brief?.expires?.getTime()).toBeGreaterThanOrEqual(before + 1_000 - 2_000);
      expect(brief?.expires?.getTime()).toBeLessThanOrEqual(Date.now() + 1_000 + 2_000);
      expect(ids(await d.list(realm, 'worker'))).toEqual(['brief', 'kept', 'long']);
      await sleep(1_500);
      expect(await d.get(realm, 'worker', 'brief')).toBeUndefined();
      expect(ids(await d.list(realm, 'worker'))).toEqual(['kept', 'long']);
      expect(await d.get(realm, 'worker', 'kept')).not.toHaveProperty('expires');
      expect((await d.get(realm, 'worker', 'long'))?.data).toEqual({ n: 3 });
      // Put again, the expired entry is alive again.
      await d.put(realm, { kind: 'worker', id: 'brief', data: { n: 4 }, ttlSeconds: 60 });
      expect((await d.get(realm, 'worker', 'brief'))?.data).toEqual({ n: 4 });
    }, 10_000);

    test('claim: one winner among concurrent claims', async () => {
      const realm = await freshRealm('dir-claim-race');
      const d = backend.directory;
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          d.claim(realm, { kind: 'trigger-fired', id: 'obj', data: { by: i }, ttlSeconds: 60 }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await d.get(realm, 'trigger-fired', 'obj'))?.data).toEqual({ by: winner });
      // Another id is its own claim.
      expect(await d.claim(realm, { kind: 'trigger-fired', id: 'obj-2', data: {} })).toBe(true);
      expect(await d.claim(realm, { kind: 'trigger-fired', id: 'obj-2', data: {} })).toBe(false);
    });

    test('claim: a live entry is not taken; an expired one is', async () => {
      const realm = await freshRealm('dir-claim-ttl');
      const d = backend.directory;
      await d.put(realm, { kind: 'k', id: 'kept', data: { n: 1 } });
      expect(await d.claim(realm, { kind: 'k', id: 'kept', data: { n: 2 } })).toBe(false);
      expect((await d.get(realm, 'k', 'kept'))?.data).toEqual({ n: 1 });
      expect(await d.claim(realm, { kind: 'k', id: 'brief', data: { n: 1 }, ttlSeconds: 1 })).toBe(true);
      expect(await d.claim(realm, { kind: 'k', id: 'brief', data: { n: 2 }, ttlSeconds: 1 })).toBe(false);
      await sleep(1_500);
      expect(await d.claim(realm, { kind: 'k', id: 'brief', data: { n: 3 }, ttlSeconds: 60 })).toBe(true);
      const got = await d.get(realm, 'k', 'brief');
      expect(got?.data).toEqual({ n: 3 });
      expect(got?.expires?.getTime()).toBeGreaterThan(Date.now() + 30_000);
      expect(await d.claim(realm, { kind: 'k', id: 'brief', data: { n: 4 } })).toBe(false);
    }, 10_000);

    test('put after claim replaces the entry', async () => {
      const realm = await freshRealm('dir-claim-put');
      const d = backend.directory;
      expect(await d.claim(realm, { kind: 'k', id: 'x', data: { n: 1 }, ttlSeconds: 60 })).toBe(true);
      await d.put(realm, { kind: 'k', id: 'x', data: { n: 2 } });
      const got = await d.get(realm, 'k', 'x');
      expect(got?.data).toEqual({ n: 2 });
      expect(got).not.toHaveProperty('expires');
      expect(ids(await d.list(realm, 'k'))).toEqual(['x']);
      expect(await d.delete(realm, 'k', 'x')).toBe(true);
      expect(await d.claim(realm, { kind: 'k', id: 'x', data: { n: 3 } })).toBe(true);
    });

    test('data of every JSON kind round-trips', async () => {
      const realm = await freshRealm('dir-data');
      const data = {
        text: 'ünïcødé ✓ "quoted"\nline',
        empty: '',
        int: 42,
        big: 2 ** 53 - 1,
        float: 3.5,
        neg: -0.25,
        yes: true,
        no: false,
        nothing: null,
        list: [1, 'two', null, [3, [4]], { five: 5 }],
        nested: { a: { b: { c: ['d'] } }, emptyObj: {}, emptyList: [] },
      };
      await backend.directory.put(realm, { kind: 'server', id: 'api', data });
      expect((await backend.directory.get(realm, 'server', 'api'))?.data).toEqual(data);
      expect((await backend.directory.list(realm, 'server'))[0]?.data).toEqual(data);
    });
  });
}
