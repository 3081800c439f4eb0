/** Every conformance suite against the embedded backend: a fresh SQLite file in a temp dir per suite. */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { openBackend } from '../../src/backends/index.js';
import { FileBlobStore } from '../../src/backends/blob/file.js';
import type { Backend } from '../../src/backends/ports.js';
import { runBlobStoreConformance } from '../conformance/blob-store.case.js';
import { runBackendConformance } from '../conformance/backend.js';

async function makeSqlite(): Promise<{ backend: Backend; cleanup: () => Promise<void> }> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lava-sqlite-'));
  const backend = await openBackend(`sqlite:${path.join(dir, 'lava.db')}`);
  return {
    backend,
    cleanup: async () => {
      await backend.close();
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}

runBackendConformance({ name: 'sqlite', make: makeSqlite });

runBlobStoreConformance({
  name: 'file',
  make: async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lava-blob-'));
    return {
      store: new FileBlobStore(),
      baseUri: pathToFileURL(dir).href,
      cleanup: () => fsp.rm(dir, { recursive: true, force: true }),
    };
  },
});

describe('SQLite backend specifics', () => {
  let dir: string;
  const open: Backend[] = [];
  const savedKey = process.env.LAVA_SECRET_KEY;

  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lava-sqlite-specific-'));
  });
  afterEach(async () => {
    for (const b of open.splice(0)) await b.close();
    if (savedKey === undefined) delete process.env.LAVA_SECRET_KEY;
    else process.env.LAVA_SECRET_KEY = savedKey;
  });
  afterAll(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  async function openAt(url: string): Promise<Backend> {
    const b = await openBackend(url);
    open.push(b);
    return b;
  }
  const realm = { realm: 'r', s3_payloads: 'file:///tmp/p', s3_temp: 'file:///tmp/t' };

  it('opens sqlite:PATH, sqlite:///PATH, relative paths and bare .db paths, reporting an absolute url', async () => {
    const abs = path.join(dir, 'forms.db');
    const a = await openAt(`sqlite:${abs}`);
    expect(a.url).toBe(`sqlite:${abs}`);
    await a.config.putRealm(realm);
    const b = await openAt(`sqlite://${abs}`);
    expect(b.url).toBe(`sqlite:${abs}`);
    const c = await openAt(`sqlite:${path.relative(process.cwd(), abs)}`);
    expect(c.url).toBe(`sqlite:${abs}`);
    const d = await openAt(path.relative(process.cwd(), abs));
    expect(d.url).toBe(`sqlite:${abs}`);
    for (const x of [b, c, d]) expect(await x.config.getRealm('r')).toEqual(realm);
  });

  it('rejects unknown backends and missing directories with a ConfigError', async () => {
    await expect(openBackend('postgres://localhost/lava')).rejects.toThrow(ConfigError);
    await expect(openBackend('nonsense')).rejects.toThrow(ConfigError);
    await expect(openBackend(`sqlite:${path.join(dir, 'no', 'such', 'dir', 'x.db')}`)).rejects.toThrow(ConfigError);
  });

  it('data persists across close and reopen (migrations run once)', async () => {
    const file = path.join(dir, 'reopen.db');
    const a = await openBackend(`sqlite:${file}`);
    await a.config.putRealm(realm);
    await a.state.put('r', { state_id: 's', type: 'json', value: 1, timestamp: 't', ttl: 0 });
    await a.queue('r', 'w').send('kept');
    await a.close();
    const b = await openAt(`sqlite:${file}`);
    expect(await b.config.getRealm('r')).toEqual(realm);
    expect((await b.state.get('r', 's'))?.value).toBe(1);
    expect((await b.queue('r', 'w').receive({ max: 10, visibilitySeconds: 30, waitSeconds: 0 })).map((m) => m.body)).toEqual([
      'kept',
    ]);
  });

  it('two instances on one file share data, queue leases and the secret key file', async () => {
    const file = path.join(dir, 'shared.db');
    const a = await openAt(`sqlite:${file}`);
    const b = await openAt(`sqlite:${file}`);
    await a.secrets.put('r', 'pw', 'hunter2');
    expect(await b.secrets.get('r', 'pw')).toBe('hunter2');
    expect(await b.secrets.decrypt('r', await a.secrets.encrypt('r', 'x'))).toBe('x');
    const st = await fsp.stat(`${file}.key`);
    expect(st.mode & 0o777).toBe(0o600);

    expect(await a.runs.claim('r', 'run', 'a', 60)).toEqual({ outcome: 'claimed', attempt: 1 });
    expect(await b.runs.claim('r', 'run', 'b', 60)).toMatchObject({ outcome: 'busy', owner: 'a' });

    const qa = a.queue('r', 'w');
    const qb = b.queue('r', 'w');
    await qa.send('m');
    const [got] = await qb.receive({ max: 10, visibilitySeconds: 30, waitSeconds: 0 });
    expect(got?.body).toBe('m');
    expect(await qa.receive({ max: 10, visibilitySeconds: 30, waitSeconds: 0 })).toEqual([]);
    expect(await qa.delete(got?.receipt ?? '')).toBe(true);
    expect(await qb.counts()).toEqual({ visible: 0, inflight: 0, delayed: 0 });
  });

  it('a long poll in one instance sees a send from another instance promptly', async () => {
    const file = path.join(dir, 'poll.db');
    const a = await openAt(`sqlite:${file}`);
    const b = await openAt(`sqlite:${file}`);
    const start = Date.now();
    const pending = a.queue('r', 'w').receive({ max: 10, visibilitySeconds: 30, waitSeconds: 5 });
    await new Promise((r) => setTimeout(r, 200));
    await b.queue('r', 'w').send('cross');
    const got = await pending;
    expect(got.map((m) => m.body)).toEqual(['cross']);
    expect(Date.now() - start).toBeLessThan(1_500);
  });

  it('a database with another key file cannot decrypt the secrets', async () => {
    delete process.env.LAVA_SECRET_KEY;
    const one = await openAt(`sqlite:${path.join(dir, 'key-one.db')}`);
    const two = await openAt(`sqlite:${path.join(dir, 'key-two.db')}`);
    const c = await one.secrets.encrypt('r', 'secret');
    await expect(two.secrets.decrypt('r', c)).rejects.toThrow(/LAVA_SECRET/);
  });

  it('LAVA_SECRET_KEY replaces the key file and must be 32 bytes', async () => {
    process.env.LAVA_SECRET_KEY = Buffer.alloc(32, 7).toString('base64');
    const one = await openAt(`sqlite:${path.join(dir, 'env-one.db')}`);
    const two = await openAt(`sqlite:${path.join(dir, 'env-two.db')}`);
    expect(await two.secrets.decrypt('r', await one.secrets.encrypt('r', 'shared key'))).toBe('shared key');
    expect(fs.existsSync(path.join(dir, 'env-one.db.key'))).toBe(false);

    process.env.LAVA_SECRET_KEY = Buffer.alloc(16, 7).toString('base64');
    const bad = await openAt(`sqlite:${path.join(dir, 'env-bad.db')}`);
    await expect(bad.secrets.put('r', 'x', 'y')).rejects.toThrow(ConfigError);
  });
});
