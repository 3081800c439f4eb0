/**
 * ConfigStore conformance: realms and the jobs/connections/triggers tables of a realm.
 * Backend-agnostic: every test uses its own realm names, so suites may share one backend.
 */
import { describe, expect } from 'vitest';
import type { RealmSpec } from '../../src/core/schemas.js';
import type { Backend, ConfigTable, Item } from '../../src/backends/ports.js';
import { type ConformanceOptions, skippableTest, uniqueRealm, useBackend } from './harness.js';

export type ConfigStoreConformanceOptions = ConformanceOptions;

/** A short realm name unique to this run, valid as part of an SQS queue or table name. */

function realmSpec(realm: string, extra: Partial<RealmSpec> = {}): RealmSpec {
  return { realm, s3_payloads: `file:///tmp/${realm}/payloads`, s3_temp: `file:///tmp/${realm}/temp`, ...extra };
}

const KEYS: Record<ConfigTable, string> = { jobs: 'job_id', connections: 'conn_id', triggers: 'trigger_id' };

function sampleItem(table: ConfigTable, id: string, extra: Item = {}): Item {
  switch (table) {
    case 'jobs':
      return { job_id: id, type: 'cmd', worker: 'core', payload: 'echo hi', ...extra };
    case 'connections':
      return { conn_id: id, type: 'generic', description: `conn ${id}`, ...extra };
    case 'triggers':
      return { trigger_id: id, bucket: 'b', prefix: 'in/', job_id: 'j', enabled: true, ...extra };
  }
}

export function runConfigStoreConformance(opts: ConfigStoreConformanceOptions): void {
  const test = skippableTest(opts.name, opts.skip);

  describe(`ConfigStore conformance: ${opts.name}`, () => {
    let backend!: Backend;
    const { freshRealm } = useBackend(
      opts.make,
      (b) => (backend = b),
      (realm) => realmSpec(realm),
    );

    test('realm put/get/list/delete', async () => {
      const a = uniqueRealm('realm-a');
      const b = uniqueRealm('realm-b');
      const [first, second] = [a, b].sort() as [string, string];
      expect(await backend.config.getRealm(a)).toBeUndefined();

      const specA = realmSpec(a, { config: { owner: 'alice', nested: { n: 1, list: [1, 'two'] } } });
      await backend.config.putRealm(specA);
      await backend.config.putRealm(realmSpec(b));
      expect(await backend.config.getRealm(a)).toEqual(specA);

      const listed = (await backend.config.listRealms()).filter((r) => r.realm === a || r.realm === b);
      expect(listed.map((r) => r.realm)).toEqual([first, second]);
      expect(listed.find((r) => r.realm === a)).toEqual(specA);

      expect(await backend.config.deleteRealm(a)).toBe(true);
      expect(await backend.config.getRealm(a)).toBeUndefined();
      expect(await backend.config.deleteRealm(a)).toBe(false);
      const after = (await backend.config.listRealms()).map((r) => r.realm);
      expect(after).not.toContain(a);
      expect(after).toContain(b);
      await backend.config.deleteRealm(b);
    });

    test('listRealms is sorted by realm', async () => {
      const base = uniqueRealm('sorted');
      const names = [`${base}-c`, `${base}-a`, `${base}-b`];
      for (const n of names) await backend.config.putRealm(realmSpec(n));
      const listed = (await backend.config.listRealms()).map((r) => r.realm);
      const all = listed.filter((r) => r.startsWith(base));
      expect(all).toEqual([...names].sort());
      expect(listed).toEqual([...listed].sort());
      for (const n of names) await backend.config.deleteRealm(n);
    });

    test('putRealm replaces the whole spec', async () => {
      const realm = uniqueRealm('realm-replace');
      await backend.config.putRealm(realmSpec(realm, { s3_key: 'old-key', docker: 'img:1' }));
      const replacement = realmSpec(realm, { s3_key: 'new-key' });
      await backend.config.putRealm(replacement);
      const got = await backend.config.getRealm(realm);
      expect(got).toEqual(replacement);
      expect(got).not.toHaveProperty('docker');
      expect((await backend.config.listRealms()).filter((r) => r.realm === realm)).toHaveLength(1);
      await backend.config.deleteRealm(realm);
    });

    for (const table of Object.keys(KEYS) as ConfigTable[]) {
      const key = KEYS[table];

      test(`${table}: put/get/delete`, async () => {
        const realm = await freshRealm(`${table}-crud`);
        expect(await backend.config.get(realm, table, 'x/one')).toBeUndefined();
        const item = sampleItem(table, 'x/one', { 'x-note': 'ünïcødé ✓', nested: { a: [1, 2, { b: null }] } });
        await backend.config.put(realm, table, item);
        expect(await backend.config.get(realm, table, 'x/one')).toEqual(item);
        expect(await backend.config.delete(realm, table, 'x/one')).toBe(true);
        expect(await backend.config.get(realm, table, 'x/one')).toBeUndefined();
        expect(await backend.config.delete(realm, table, 'x/one')).toBe(false);
        expect(await backend.config.list(realm, table)).toEqual([]);
      });

      test(`${table}: list is sorted by ${key}`, async () => {
        const realm = await freshRealm(`${table}-list`);
        expect(await backend.config.list(realm, table)).toEqual([]);
        const ids = ['m/job', 'b', 'z', 'a/b/c', 'a'];
        for (const id of ids) await backend.config.put(realm, table, sampleItem(table, id));
        const listed = await backend.config.list(realm, table);
        expect(listed.map((i) => i[key])).toEqual([...ids].sort());
        expect(listed.find((i) => i[key] === 'b')).toEqual(sampleItem(table, 'b'));
      });

      test(`${table}: put replaces the item`, async () => {
        const realm = await freshRealm(`${table}-replace`);
        await backend.config.put(realm, table, sampleItem(table, 'r', { description: 'old', owner: 'someone' }));
        const replacement = sampleItem(table, 'r', { description: 'new' });
        await backend.config.put(realm, table, replacement);
        const got = await backend.config.get(realm, table, 'r');
        expect(got).toEqual(replacement);
        expect(got).not.toHaveProperty('owner');
        expect(await backend.config.list(realm, table)).toHaveLength(1);
      });
    }

    test('list with a where filter matches top-level string fields exactly', async () => {
      const realm = await freshRealm('where');
      await backend.config.put(realm, 'jobs', sampleItem('jobs', 'j3', { dispatcher: 'd1', worker: 'w2' }));
      await backend.config.put(realm, 'jobs', sampleItem('jobs', 'j1', { dispatcher: 'd1', worker: 'w1' }));
      await backend.config.put(realm, 'jobs', sampleItem('jobs', 'j2', { dispatcher: 'd2', worker: 'w1' }));
      await backend.config.put(realm, 'jobs', sampleItem('jobs', 'j4', { worker: 'w1' })); // no dispatcher
      await backend.config.put(realm, 'jobs', sampleItem('jobs', 'j5', { dispatcher: 'd1x', worker: 'w1' }));

      const ids = async (where: Record<string, string>) => (await backend.config.list(realm, 'jobs', where)).map((j) => j.job_id);
      expect(await ids({ dispatcher: 'd1' })).toEqual(['j1', 'j3']);
      expect(await ids({ dispatcher: 'd2' })).toEqual(['j2']);
      expect(await ids({ dispatcher: 'nope' })).toEqual([]);
      expect(await ids({ dispatcher: 'd1', worker: 'w2' })).toEqual(['j3']);
      expect(await ids({ worker: 'w1' })).toEqual(['j1', 'j2', 'j4', 'j5']);
      expect(await ids({})).toEqual(['j1', 'j2', 'j3', 'j4', 'j5']);
      const full = await backend.config.list(realm, 'jobs', { dispatcher: 'd2' });
      expect(full).toEqual([sampleItem('jobs', 'j2', { dispatcher: 'd2', worker: 'w1' })]);
    });

    test('tables are separate within a realm', async () => {
      const realm = await freshRealm('tables');
      await backend.config.put(realm, 'jobs', sampleItem('jobs', 'same'));
      await backend.config.put(realm, 'connections', sampleItem('connections', 'same'));
      expect(await backend.config.get(realm, 'triggers', 'same')).toBeUndefined();
      expect(await backend.config.get(realm, 'jobs', 'same')).toEqual(sampleItem('jobs', 'same'));
      expect(await backend.config.get(realm, 'connections', 'same')).toEqual(sampleItem('connections', 'same'));
      expect(await backend.config.delete(realm, 'jobs', 'same')).toBe(true);
      expect(await backend.config.get(realm, 'connections', 'same')).toEqual(sampleItem('connections', 'same'));
      expect(await backend.config.list(realm, 'triggers')).toEqual([]);
    });

    test('realms are isolated: same job id in two realms', async () => {
      const r1 = await freshRealm('iso-1');
      const r2 = await freshRealm('iso-2');
      const j1 = sampleItem('jobs', 'shared/job', { worker: 'w-one' });
      const j2 = sampleItem('jobs', 'shared/job', { worker: 'w-two' });
      await backend.config.put(r1, 'jobs', j1);
      await backend.config.put(r2, 'jobs', j2);
      await backend.config.put(r2, 'jobs', sampleItem('jobs', 'only/r2'));
      expect(await backend.config.get(r1, 'jobs', 'shared/job')).toEqual(j1);
      expect(await backend.config.get(r2, 'jobs', 'shared/job')).toEqual(j2);
      expect((await backend.config.list(r1, 'jobs')).map((j) => j.job_id)).toEqual(['shared/job']);
      expect((await backend.config.list(r2, 'jobs')).map((j) => j.job_id)).toEqual(['only/r2', 'shared/job']);
      expect(await backend.config.get(r1, 'jobs', 'only/r2')).toBeUndefined();

      expect(await backend.config.delete(r1, 'jobs', 'shared/job')).toBe(true);
      expect(await backend.config.get(r1, 'jobs', 'shared/job')).toBeUndefined();
      expect(await backend.config.get(r2, 'jobs', 'shared/job')).toEqual(j2);
    });

    test('put rejects an item without its key field', async () => {
      const realm = await freshRealm('nokey');
      await expect(backend.config.put(realm, 'jobs', { type: 'cmd', worker: 'core', payload: null })).rejects.toThrow();
      await expect(backend.config.put(realm, 'connections', { conn_id: '', type: 'generic' })).rejects.toThrow();
      expect(await backend.config.list(realm, 'jobs')).toEqual([]);
      expect(await backend.config.list(realm, 'connections')).toEqual([]);
    });
  });
}
