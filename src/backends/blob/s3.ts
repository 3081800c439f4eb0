/**
 * `s3://bucket/key` blobs on Amazon S3 (or anything speaking its API), with the same prefix semantics
 * as the file store. Region, credentials and endpoint come from the SDK's standard sources
 * (`AWS_REGION`, the default credential chain, `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`); path-style
 * addressing is used when an endpoint is set or `AWS_S3_FORCE_PATH_STYLE=true`.
 *
 * Uploads are single PutObject requests (a file stream with its length), so one object is at most
 * 5 GiB: multipart upload needs @aws-sdk/lib-storage, which this build does not ship. They are
 * encrypted with SSE-KMS under the realm's `s3_key` when there is one, else SSE-S3 (AES256).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { PutObjectCommandInput, S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { LavaError, NotFoundError, ValidationError } from '../../core/errors.js';
import { loadOptional } from '../../core/optional.js';
import { processSetting } from '../../core/settings.js';
import type { BlobInfo, BlobStore } from '../ports.js';

/** PutObject's limit for one request. */
export const MAX_PUT_BYTES = 5 * 1024 ** 3;
/** Files up to this size are sent from memory (no stream, so retries can resend them). */
const IN_MEMORY_BYTES = 8 * 1024 ** 2;

export interface S3Location {
  bucket: string;
  key: string;
}

/** `s3://bucket/some/key` → bucket and key (the key may be empty or end in `/`). */
export function parseS3Uri(uri: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m?.[1]) throw new LavaError('LAVA_BLOB_SCHEME', `bad S3 location ${JSON.stringify(uri)}: use s3://bucket/key`);
  return { bucket: m[1], key: m[2] ?? '' };
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** The S3 client settings from the environment (exported for tests and `lava aws`). */
export function s3ClientConfig(env: NodeJS.ProcessEnv = process.env): S3ClientConfig {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  const forcePathStyle = /^(true|1|yes)$/i.test(env.AWS_S3_FORCE_PATH_STYLE ?? '') || Boolean(endpoint);
  return {
    forcePathStyle,
    followRegionRedirects: true,
    // Checksums only where S3 requires them: S3-compatible servers (and s3rver) store the
    // aws-chunked framing of a checksummed stream upload as object data.
    requestChecksumCalculation: 'WHEN_REQUIRED',
  };
}

/** The SDK loads on first use (an optional package; it adds a tenth of a second to every start otherwise). */
const sdk = () => loadOptional<typeof S3Sdk>('@aws-sdk/client-s3', 's3:// payloads and outputs');

const ENV_KEYS = ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL', 'AWS_S3_FORCE_PATH_STYLE', 'AWS_REGION', 'AWS_PROFILE'];
let shared: { fingerprint: string; client: S3Client } | undefined;

/** One client per process, made again if the environment it was made from changed (tests). */
async function client(): Promise<S3Client> {
  const { S3Client } = await sdk();
  const fingerprint = ENV_KEYS.map((k) => process.env[k] ?? '').join('\0');
  if (!shared || shared.fingerprint !== fingerprint) {
    shared?.client.destroy();
    shared = { fingerprint, client: new S3Client(s3ClientConfig()) };
  }
  return shared.client;
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

export interface S3BlobStoreOptions {
  /** KMS key (id, ARN or alias) for SSE-KMS; default `LAVA_S3_KEY`, else SSE-S3 (AES256). */
  kmsKeyId?: string;
  /** A client to use instead of the shared one. */
  client?: S3Client;
  /** Keys per ListObjectsV2 page (default S3's 1000; tests page with less). */
  pageSize?: number;
}

export class S3BlobStore implements BlobStore {
  constructor(private readonly opts: S3BlobStoreOptions = {}) {}

  private async s3(): Promise<S3Client> {
    return this.opts.client ?? client();
  }

  private encryption(): Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId'> {
    const key = this.opts.kmsKeyId ?? processSetting('S3_KEY');
    return key ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key } : { ServerSideEncryption: 'AES256' };
  }

  async list(prefixUri: string): Promise<BlobInfo[]> {
    const { bucket, key } = parseS3Uri(prefixUri);
    // With Delimiter '/', S3 returns only the objects directly under the prefix's "directory".
    return this.listing(bucket, key, '/');
  }

  async listRecursive(prefixUri: string): Promise<BlobInfo[]> {
    const { bucket, key } = parseS3Uri(prefixUri);
    return this.listing(bucket, key);
  }

  private async listing(bucket: string, prefix: string, delimiter?: string): Promise<BlobInfo[]> {
    const out: BlobInfo[] = [];
    let token: string | undefined;
    const [s3, { ListObjectsV2Command }] = await Promise.all([this.s3(), sdk()]);
    do {
      const r = await s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          ...(delimiter ? { Delimiter: delimiter } : {}),
          ...(this.opts.pageSize ? { MaxKeys: this.opts.pageSize } : {}),
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const o of r.Contents ?? []) {
        if (!o.Key || o.Key.endsWith('/')) continue; // "folder" marker objects are not files
        out.push({
          uri: s3Uri(bucket, o.Key),
          name: o.Key.slice(o.Key.lastIndexOf('/') + 1),
          size: o.Size ?? 0,
          modified: o.LastModified ?? new Date(0),
        });
      }
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }

  async head(uri: string): Promise<BlobInfo | undefined> {
    const { bucket, key } = parseS3Uri(uri);
    if (!key || key.endsWith('/')) return undefined;
    const [s3, { HeadObjectCommand }] = await Promise.all([this.s3(), sdk()]);
    try {
      const r = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return {
        uri: s3Uri(bucket, key),
        name: key.slice(key.lastIndexOf('/') + 1),
        size: r.ContentLength ?? 0,
        modified: r.LastModified ?? new Date(0),
      };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async get(uri: string) {
    const { bucket, key } = parseS3Uri(uri);
    const [s3, { GetObjectCommand }] = await Promise.all([this.s3(), sdk()]);
    try {
      return await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError('S3 object', uri, 'check the bucket and key (and that it was uploaded)');
      throw err;
    }
  }

  async read(uri: string): Promise<Buffer> {
    const r = await this.get(uri);
    return Buffer.from((await r.Body?.transformToByteArray()) ?? []);
  }

  async download(uri: string, localPath: string): Promise<void> {
    const r = await this.get(uri);
    try {
      await pipeline(r.Body as Readable, fs.createWriteStream(localPath));
    } catch (err) {
      await fsp.rm(localPath, { force: true });
      throw err;
    }
  }

  async write(uri: string, data: Buffer | string): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const [s3, { PutObjectCommand }] = await Promise.all([this.s3(), sdk()]);
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length, ...this.encryption() }),
    );
  }

  async upload(localPath: string, uri: string): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    const { size } = await fsp.stat(localPath);
    if (size > MAX_PUT_BYTES) {
      throw new ValidationError(
        `${localPath} is ${size} bytes: one S3 PutObject takes at most 5 GiB (multipart upload is not supported); split the file`,
      );
    }
    const body = size <= IN_MEMORY_BYTES ? await fsp.readFile(localPath) : fs.createReadStream(localPath);
    const [s3, { PutObjectCommand }] = await Promise.all([this.s3(), sdk()]);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: size, ...this.encryption() }));
  }

  async delete(uri: string): Promise<boolean> {
    // S3 deletes a missing key without complaint: look first, to report whether there was one.
    if (!(await this.head(uri))) return false;
    const { bucket, key } = parseS3Uri(uri);
    const [s3, { DeleteObjectCommand }] = await Promise.all([this.s3(), sdk()]);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  }
}
