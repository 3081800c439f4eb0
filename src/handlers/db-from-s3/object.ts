/** The object to load: its URI from bucket + key, names taken from its key, and its bytes. */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { joinUri } from '../../backends/blob/index.js';
import { JobError, errorMessage } from '../../core/errors.js';

/** The object a bucket + key names (see the module comment). */
export function objectUri(bucket: string, key: string): string {
  if (/^[a-z][\w+.-]*:\/\//i.test(bucket)) return joinUri(bucket, key);
  return `s3://${bucket.replace(/^\/+|\/+$/g, '')}/${key.replace(/^\/+/, '')}`;
}

/** Schema/table names given as `/regex`: capture group 1 of the regex searched in the key without suffixes. */
export function nameFromKey(value: string, key: string, what: string): string {
  if (!value.startsWith('/')) return value;
  const slash = key.lastIndexOf('/');
  const base = key.slice(slash + 1);
  const stem = key.slice(0, slash + 1) + (base.includes('.') ? base.slice(0, base.indexOf('.')) : base);
  let re: RegExp;
  try {
    re = new RegExp(value.slice(1));
  } catch (err) {
    throw new JobError(`Bad ${what} regex ${JSON.stringify(value.slice(1))}: ${errorMessage(err)}`);
  }
  const m = re.exec(stem);
  if (!m || m[1] === undefined) {
    throw new JobError(
      `${what} regex ${JSON.stringify(value.slice(1))} does not match "${stem}" (the key without suffixes) with a group 1`,
    );
  }
  return m[1];
}

async function isGzip(file: string): Promise<boolean> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** The file's bytes, gunzipped when GZIP is given or the file starts with the gzip magic number. */
export async function openData(file: string, gzip: boolean): Promise<Readable> {
  const raw = fs.createReadStream(file);
  return gzip || (await isGzip(file)) ? raw.pipe(zlib.createGunzip()) : raw;
}

export async function readText(file: string, gzip: boolean): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await openData(file, gzip)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
