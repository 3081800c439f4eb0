/** `lava state put/get/ls/rm`, driven through commander in-process. */
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerState } from '../../src/cli/state.js';
import { getState } from '../../src/state/state.js';
import { makeRealm, type TestRealm } from '../helpers.js';

let t: TestRealm;
beforeEach(async () => {
  t = await makeRealm();
  vi.stubEnv('LAVA_JOB_ID', '');
});
afterEach(async () => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  await t.close();
});

/** Run `lava state ARGS…` and return what it printed. */
async function lava(...args: string[]): Promise<string> {
  const program = new Command('lava').exitOverride();
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerState(program, () => ({ backend: t.backendUrl, realm: 'test' }));
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'lava', 'state', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe('lava state put / get', () => {
  it('stores a string with -v and prints it with the default template', async () => {
    expect(await lava('put', 'orders/cutoff', '-v', '2026-11-01')).toMatch(/^stored state item orders\/cutoff \(json, expires /);
    expect(await lava('get', 'orders/cutoff')).toBe('2026-11-01\n');
    const item = await t.backend.state.get('test', 'orders/cutoff');
    expect(item?.value).toBe('"2026-11-01"');
    expect(item?.publisher).toBe('lava-state CLI');
  });

  it('builds a map of strings from -p pairs, nesting dotted names', async () => {
    await lava('put', 'limits', '-p', 'max.rows=1000', '-p', 'max.bytes=10M', '-p', 'name=a=b');
    expect((await getState(t.backend, 'test', 'limits')).value).toEqual({ max: { rows: '1000', bytes: '10M' }, name: 'a=b' });
    expect(await lava('get', 'limits', '{{ state.max.rows }}/{{ s.value.max.bytes }}')).toBe('1000/10M\n');
  });

  it('exposes the item as s: publisher, type, timestamp', async () => {
    await lava('put', 'who', '-v', 'x', '--publisher', 'ops', '--type', 'raw');
    expect(await lava('get', 'who', '{{ s.publisher }} {{ s.type }} {{ s.state_id }}')).toBe('ops raw who\n');
  });

  it('uses LAVA_JOB_ID as the default publisher', async () => {
    vi.stubEnv('LAVA_JOB_ID', 'etl/nightly');
    await lava('put', 'p', '-v', '1');
    expect((await t.backend.state.get('test', 'p'))?.publisher).toBe('etl/nightly');
  });

  it('stores secure values encrypted, prints them on get, and never in ls', async () => {
    await lava('put', 'db/creds', '--type', 'secure', '-p', 'user=etl', '-p', 'password=hunter2-secret');
    expect(String((await t.backend.state.get('test', 'db/creds'))?.value)).not.toContain('hunter2-secret');
    expect(await lava('get', 'db/creds', '{{ state.password }}')).toBe('hunter2-secret\n');
    const table = await lava('ls');
    expect(table).toContain('<secure>');
    expect(table).not.toContain('hunter2');
    const json = JSON.parse(await lava('ls', '--json')) as { state_id: string; value: unknown }[];
    expect(json).toEqual([expect.objectContaining({ state_id: 'db/creds', type: 'secure', value: '<secure>' })]);
  });

  it('refuses a --ttl over STATE_MAX_TTL, naming the limit; takes one up to it', async () => {
    const before = Date.now() / 1000;
    await expect(lava('put', 'too-long', '-v', 'x', '--ttl', '1000d')).rejects.toThrow(
      /ttl "1000d" is longer than STATE_MAX_TTL \(366d\): use a shorter ttl, or raise STATE_MAX_TTL/,
    );
    expect(await t.backend.state.get('test', 'too-long')).toBeUndefined();
    await lava('put', 'long', '-v', 'x', '--ttl', '366d');
    await lava('put', 'short', '-v', 'x', '--ttl', '10m');
    const long = await t.backend.state.get('test', 'long');
    const short = await t.backend.state.get('test', 'short');
    expect(long!.ttl - before).toBeGreaterThan(366 * 86400 - 10);
    expect(long!.ttl - before).toBeLessThanOrEqual(366 * 86400 + 1);
    expect(short!.ttl - before).toBeGreaterThan(590);
    expect(short!.ttl - before).toBeLessThanOrEqual(601);
  });

  it('rejects reserved ids, bad types, a missing value, -v with -p, and --kms-key without secure', async () => {
    await expect(lava('put', 'lava-x', '-v', '1')).rejects.toThrow(/reserved/);
    await expect(lava('put', 'LAVA', '-v', '1')).rejects.toThrow(/reserved/);
    await expect(lava('put', 'x', '-v', '1', '--type', 'yaml')).rejects.toThrow(/use json, raw or secure/);
    await expect(lava('put', 'x')).rejects.toThrow(/no value/);
    await expect(lava('put', 'x', '-v', '1', '-p', 'a=b')).rejects.toThrow(/not both/);
    await expect(lava('put', 'x', '-p', 'novalue')).rejects.toThrow(/expected name=value/);
    await expect(lava('put', 'x', '-v', '1', '--kms-key', 'alias/k')).rejects.toThrow(/only applies to --type secure/);
    await expect(lava('put', 'x', '-v', '1', '--ttl', 'forever')).rejects.toThrow(/bad duration/);
    expect(await t.backend.state.list('test')).toEqual([]);
    await lava('put', 'x', '-v', '1', '--type', 'secure', '--kms-key', 'alias/k');
    expect(await lava('get', 'x')).toBe('1\n');
  });

  it('fails on a missing item unless -i is given', async () => {
    await expect(lava('get', 'nothing')).rejects.toThrow(/state item "nothing" not found.*-i/);
    expect(await lava('get', '-i', 'nothing')).toBe('\n');
  });

  it('treats an expired item as missing', async () => {
    await t.backend.state.put('test', {
      state_id: 'old',
      type: 'json',
      value: '"stale"',
      timestamp: '2020-01-01T00:00:00+00:00',
      ttl: Math.floor(Date.now() / 1000) - 60,
    });
    await expect(lava('get', 'old')).rejects.toThrow(/not found/);
    expect(await lava('ls', '--json')).toBe('[]\n');
  });
});

describe('lava state ls / rm', () => {
  it('lists items by prefix with decoded json values', async () => {
    await lava('put', 'a/one', '-v', 'first');
    await lava('put', 'a/two', '-p', 'k=v', '--type', 'raw');
    await lava('put', 'b/three', '-v', 'third');
    const all = JSON.parse(await lava('ls', '--json')) as { state_id: string; value: unknown }[];
    expect(all.map((i) => i.state_id)).toEqual(['a/one', 'a/two', 'b/three']);
    const some = JSON.parse(await lava('ls', 'a/', '--json')) as { state_id: string; value: unknown; publisher: string }[];
    expect(some.map((i) => [i.state_id, i.value])).toEqual([
      ['a/one', 'first'],
      ['a/two', { k: 'v' }],
    ]);
    const table = (await lava('ls', 'a/')).split('\n');
    expect(table[0]).toMatch(/^STATE_ID\s+TYPE\s+PUBLISHER\s+TIMESTAMP\s+EXPIRES\s+VALUE$/);
    expect(table[1]).toMatch(/^a\/one\s+json\s+lava-state CLI\s+.*first$/);
    expect(table[2]).toMatch(/^a\/two\s+raw\s+.*\{"k":"v"\}$/);
  });

  it('removes items and fails on a missing one', async () => {
    await lava('put', 'gone', '-v', '1');
    expect(await lava('rm', 'gone')).toBe('deleted state item gone\n');
    expect(await t.backend.state.get('test', 'gone')).toBeUndefined();
    await expect(lava('rm', 'gone')).rejects.toThrow(/state item "gone" not found/);
  });
});
