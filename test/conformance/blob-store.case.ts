/**
 * BlobStore conformance: objects addressed by URI with S3's prefix semantics.
 * Backend-agnostic: every test works under its own unique prefix of the base URI.
 */
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { BlobStore } from '../../src/backends/ports.js';
import { type ConformanceOptions, skippableTest, useSubject } from './harness.js';

/** `make` gives a store and a base URI (e.g. file:///tmp/x or s3://bucket/prefix) under which tests may write. */
export type BlobStoreConformanceOptions = ConformanceOptions<{ store: BlobStore; baseUri: string }>;

export function runBlobStoreConformance(opts: BlobStoreConformanceOptions): void {
  const test = skippableTest(opts.name, opts.skip);

  describe(`BlobStore conformance: ${opts.name}`, () => {
    let store!: BlobStore;
    let baseUri!: string;
    let localDir: string;

    useSubject(opts.make, (made) => {
      store = made.store;
      baseUri = made.baseUri.replace(/\/+$/, '');
    });
    beforeAll(async () => {
      localDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lava-blob-local-'));
    });
    afterAll(async () => {
      if (localDir) await fsp.rm(localDir, { recursive: true, force: true });
    });

    /** A unique prefix (no trailing slash) for one test. */
    const area = (label: string) => `${baseUri}/${label}-${randomBytes(4).toString('hex')}`;
    const names = (infos: { name: string }[]) => infos.map((i) => i.name);
    const uris = (infos: { uri: string }[]) => infos.map((i) => i.uri);

    /** Lay out: dir/x.sh, dir/x.sh.bak, dir/y.txt, dir/sub/z.txt, dir/sub/deeper/w.txt, dir2/other.txt. */
    async function layout(root: string) {
      const files: Record<string, string> = {
        'dir/x.sh': 'echo x\n',
        'dir/x.sh.bak': 'echo old x\n',
        'dir/y.txt': 'why',
        'dir/sub/z.txt': 'zed',
        'dir/sub/deeper/w.txt': 'double-u',
        'dir2/other.txt': 'other',
      };
      for (const [key, body] of Object.entries(files)) await store.write(`${root}/${key}`, body);
      return files;
    }

    test('write/read/head', async () => {
      const root = area('rw');
      const uri = `${root}/a/b/file.txt`;
      expect(await store.head(uri)).toBeUndefined();
      await store.write(uri, 'hello ünïcødé ✓');
      const data = await store.read(uri);
      expect(Buffer.isBuffer(data)).toBe(true);
      expect(data.toString('utf8')).toBe('hello ünïcødé ✓');

      const before = Date.now();
      const info = await store.head(uri);
      expect(info).toBeDefined();
      expect(info?.uri).toBe(uri);
      expect(info?.name).toBe('file.txt');
      expect(info?.size).toBe(Buffer.byteLength('hello ünïcødé ✓'));
      expect(info?.modified).toBeInstanceOf(Date);
      expect(Math.abs((info?.modified.getTime() ?? 0) - before)).toBeLessThan(60_000);

      const bin = Buffer.from([0, 1, 2, 255, 254, 10, 13, 0]);
      await store.write(`${root}/bin.dat`, bin);
      expect((await store.read(`${root}/bin.dat`)).equals(bin)).toBe(true);
      expect((await store.head(`${root}/bin.dat`))?.size).toBe(bin.length);

      await store.write(`${root}/empty`, '');
      expect((await store.read(`${root}/empty`)).length).toBe(0);
      expect((await store.head(`${root}/empty`))?.size).toBe(0);
    });

    test('write replaces an object', async () => {
      const root = area('replace');
      await store.write(`${root}/f`, 'a much longer first version');
      await store.write(`${root}/f`, 'short');
      expect((await store.read(`${root}/f`)).toString()).toBe('short');
      expect((await store.head(`${root}/f`))?.size).toBe(5);
    });

    test('head of a prefix that only holds other objects is undefined', async () => {
      const root = area('head-dir');
      await store.write(`${root}/dir/file`, 'x');
      expect(await store.head(`${root}/dir`)).toBeUndefined();
      expect(await store.head(`${root}/di`)).toBeUndefined();
      expect(await store.head(`${root}/dir/file/more`)).toBeUndefined();
    });

    test('read of a missing object fails', async () => {
      const root = area('read-missing');
      await expect(store.read(`${root}/nope.txt`)).rejects.toThrow();
    });

    test('list is non-recursive with prefix semantics, sorted', async () => {
      const root = area('list');
      await layout(root);
      // A prefix naming a file also matches longer names.
      expect(names(await store.list(`${root}/dir/x.sh`))).toEqual(['x.sh', 'x.sh.bak']);
      expect(uris(await store.list(`${root}/dir/x.sh`))).toEqual([`${root}/dir/x.sh`, `${root}/dir/x.sh.bak`]);
      expect(names(await store.list(`${root}/dir/x`))).toEqual(['x.sh', 'x.sh.bak']);
      // A prefix ending in / lists the directory; sub-directories are not objects.
      const dir = await store.list(`${root}/dir/`);
      expect(names(dir)).toEqual(['x.sh', 'x.sh.bak', 'y.txt']);
      expect(dir.map((i) => i.size)).toEqual([7, 11, 3]);
      expect(dir.every((i) => i.modified instanceof Date)).toBe(true);
      expect(names(await store.list(`${root}/dir/sub/`))).toEqual(['z.txt']);
      expect(names(await store.list(`${root}/dir/s`))).toEqual([]);
      expect(names(await store.list(`${root}/dir/y.txt`))).toEqual(['y.txt']);
      expect(names(await store.list(`${root}/dir/nothing`))).toEqual([]);
      expect(names(await store.list(`${root}/missing/`))).toEqual([]);
      expect(names(await store.list(`${root}/missing/deeper/prefix`))).toEqual([]);
      // dir and dir2 are directories (common prefixes), not objects, so nothing is listed here.
      expect(await store.list(`${root}/`)).toEqual([]);
      expect(await store.list(`${root}/dir`)).toEqual([]);
    });

    test('listRecursive returns every object under the prefix, sorted', async () => {
      const root = area('listrec');
      await layout(root);
      expect(uris(await store.listRecursive(`${root}/dir/`))).toEqual([
        `${root}/dir/sub/deeper/w.txt`,
        `${root}/dir/sub/z.txt`,
        `${root}/dir/x.sh`,
        `${root}/dir/x.sh.bak`,
        `${root}/dir/y.txt`,
      ]);
      // Without the slash, `dir` also matches `dir2`.
      expect(uris(await store.listRecursive(`${root}/dir`))).toEqual([
        `${root}/dir/sub/deeper/w.txt`,
        `${root}/dir/sub/z.txt`,
        `${root}/dir/x.sh`,
        `${root}/dir/x.sh.bak`,
        `${root}/dir/y.txt`,
        `${root}/dir2/other.txt`,
      ]);
      expect(uris(await store.listRecursive(`${root}/dir/x`))).toEqual([`${root}/dir/x.sh`, `${root}/dir/x.sh.bak`]);
      expect(uris(await store.listRecursive(`${root}/dir/s`))).toEqual([`${root}/dir/sub/deeper/w.txt`, `${root}/dir/sub/z.txt`]);
      expect(names(await store.listRecursive(`${root}/dir/sub/`))).toEqual(['w.txt', 'z.txt']);
      expect(await store.listRecursive(`${root}/missing/`)).toEqual([]);
      expect(await store.listRecursive(`${root}/missing/deeper/x`)).toEqual([]);
      const all = await store.listRecursive(`${root}/`);
      expect(all).toHaveLength(6);
      expect(all.find((i) => i.name === 'w.txt')?.size).toBe(8);
    });

    test('download copies an object to a local file', async () => {
      const root = area('download');
      const body = Buffer.concat([Buffer.from('payload '), randomBytes(4096)]);
      await store.write(`${root}/pkg/payload.bin`, body);
      const local = path.join(localDir, `dl-${randomBytes(4).toString('hex')}.bin`);
      await store.download(`${root}/pkg/payload.bin`, local);
      expect((await fsp.readFile(local)).equals(body)).toBe(true);
      await expect(store.download(`${root}/pkg/missing.bin`, path.join(localDir, 'never.bin'))).rejects.toThrow();
    });

    test('upload copies a local file to an object', async () => {
      const root = area('upload');
      const local = path.join(localDir, `up-${randomBytes(4).toString('hex')}.txt`);
      await fsp.writeFile(local, 'uploaded content\n');
      const uri = `${root}/deep/er/out.txt`;
      await store.upload(local, uri);
      expect((await store.read(uri)).toString()).toBe('uploaded content\n');
      expect((await store.head(uri))?.size).toBe(17);
      expect(names(await store.list(`${root}/deep/er/`))).toEqual(['out.txt']);
      // Upload replaces.
      await fsp.writeFile(local, 'v2');
      await store.upload(local, uri);
      expect((await store.read(uri)).toString()).toBe('v2');
    });

    test('delete removes an object', async () => {
      const root = area('delete');
      await store.write(`${root}/a.txt`, 'a');
      await store.write(`${root}/a.txt.keep`, 'keep');
      expect(await store.delete(`${root}/a.txt`)).toBe(true);
      expect(await store.head(`${root}/a.txt`)).toBeUndefined();
      await expect(store.read(`${root}/a.txt`)).rejects.toThrow();
      expect(names(await store.list(`${root}/`))).toEqual(['a.txt.keep']);
      expect(await store.delete(`${root}/a.txt`)).toBe(false);
      expect(await store.delete(`${root}/never-there`)).toBe(false);
    });
  });
}
