/**
 * StateStore conformance: realm state items keyed by state_id.
 * Backend-agnostic: every test uses its own realm.
 */
import { describe, expect } from 'vitest';
import type { StateItem } from '../../src/core/schemas.js';
import type { Backend } from '../../src/backends/ports.js';
import { type ConformanceOptions, skippableTest, useBackend } from './harness.js';

export type StateStoreConformanceOptions = ConformanceOptions;

function item(stateId: string, value: unknown, extra: Partial<StateItem> = {}): StateItem {
  return { state_id: stateId, type: 'json', value, timestamp: '2026-01-15T10:00:00+00:00', ttl: 1_800_000_000, ...extra };
}

const ids = (items: StateItem[]) => items.map((i) => i.state_id).sort();

export function runStateStoreConformance(opts: StateStoreConformanceOptions): void {
  const test = skippableTest(opts.name, opts.skip);

  describe(`StateStore conformance: ${opts.name}`, () => {
    let backend!: Backend;
    const { freshRealm } = useBackend(opts.make, (b) => (backend = b));

    test('put/get/delete', async () => {
      const realm = await freshRealm('st-crud');
      expect(await backend.state.get(realm, 'counter')).toBeUndefined();
      const it1 = item('counter', { n: 1, list: [1, 'two', null], nested: { ok: true } }, { publisher: 'job/a' });
      await backend.state.put(realm, it1);
      expect(await backend.state.get(realm, 'counter')).toEqual(it1);
      expect(await backend.state.delete(realm, 'counter')).toBe(true);
      expect(await backend.state.get(realm, 'counter')).toBeUndefined();
      expect(await backend.state.delete(realm, 'counter')).toBe(false);
    });

    test('put replaces the item', async () => {
      const realm = await freshRealm('st-replace');
      await backend.state.put(realm, item('k', 'old', { publisher: 'someone' }));
      const replacement = item('k', 'new', { type: 'raw', ttl: 1_900_000_000 });
      await backend.state.put(realm, replacement);
      const got = await backend.state.get(realm, 'k');
      expect(got).toEqual(replacement);
      expect(got).not.toHaveProperty('publisher');
      expect(await backend.state.list(realm)).toHaveLength(1);
    });

    test('values of every JSON kind round-trip', async () => {
      const realm = await freshRealm('st-values');
      const values: unknown[] = ['text ünïcødé ✓', 42, 3.5, true, null, [1, [2]], { a: { b: 'c' } }];
      for (const [i, v] of values.entries()) await backend.state.put(realm, item(`v${i}`, v));
      for (const [i, v] of values.entries()) expect((await backend.state.get(realm, `v${i}`))?.value).toEqual(v);
      const extra = item('x', 1, { 'x-extra': 'kept' });
      await backend.state.put(realm, extra);
      expect(await backend.state.get(realm, 'x')).toEqual(extra);
    });

    test('list returns all items or those whose id starts with the prefix', async () => {
      const realm = await freshRealm('st-list');
      expect(await backend.state.list(realm)).toEqual([]);
      const all = ['app/a', 'app/b', 'app/sub/c', 'apple', 'other/x', 'ap'];
      for (const id of all) await backend.state.put(realm, item(id, id));
      expect(ids(await backend.state.list(realm))).toEqual([...all].sort());
      expect(ids(await backend.state.list(realm, ''))).toEqual([...all].sort());
      expect(ids(await backend.state.list(realm, 'app/'))).toEqual(['app/a', 'app/b', 'app/sub/c']);
      expect(ids(await backend.state.list(realm, 'app'))).toEqual(['app/a', 'app/b', 'app/sub/c', 'apple']);
      expect(ids(await backend.state.list(realm, 'ap'))).toEqual(['ap', 'app/a', 'app/b', 'app/sub/c', 'apple']);
      expect(ids(await backend.state.list(realm, 'app/a'))).toEqual(['app/a']);
      expect(ids(await backend.state.list(realm, 'zzz'))).toEqual([]);
      const listed = await backend.state.list(realm, 'other/');
      expect(listed).toEqual([item('other/x', 'other/x')]);
    });

    test('list prefix is literal (no wildcards)', async () => {
      const realm = await freshRealm('st-literal');
      for (const id of ['a_b', 'axb', 'a%c', 'abc', 'A_b', 'a.b']) await backend.state.put(realm, item(id, id));
      expect(ids(await backend.state.list(realm, 'a_'))).toEqual(['a_b']);
      expect(ids(await backend.state.list(realm, 'a%'))).toEqual(['a%c']);
      expect(ids(await backend.state.list(realm, 'a.'))).toEqual(['a.b']);
      // Case-sensitive.
      expect(ids(await backend.state.list(realm, 'A'))).toEqual(['A_b']);
    });

    test('realms are isolated', async () => {
      const r1 = await freshRealm('st-iso-1');
      const r2 = await freshRealm('st-iso-2');
      await backend.state.put(r1, item('shared', 'one'));
      await backend.state.put(r2, item('shared', 'two'));
      expect((await backend.state.get(r1, 'shared'))?.value).toBe('one');
      expect((await backend.state.get(r2, 'shared'))?.value).toBe('two');
      expect(await backend.state.delete(r1, 'shared')).toBe(true);
      expect((await backend.state.get(r2, 'shared'))?.value).toBe('two');
      expect(await backend.state.list(r1)).toEqual([]);
      expect(ids(await backend.state.list(r2))).toEqual(['shared']);
    });
  });
}
