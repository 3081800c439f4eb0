import { LavaError, ValidationError } from '../../core/errors.js';
import { payloadKeyProblem } from '../../core/paths.js';
import type { BlobStore } from '../ports.js';
import { FileBlobStore } from './file.js';
import { S3BlobStore } from './s3.js';

const file = new FileBlobStore();
const s3 = new S3BlobStore();

/**
 * The blob store for a URI's scheme. `s3Key` (a realm's `s3_key`) encrypts S3 uploads with SSE-KMS
 * under that key; without it they use `LAVA_S3_KEY`, else SSE-S3.
 */
export function blobStoreFor(uri: string, opts: { s3Key?: string } = {}): BlobStore {
  if (uri.startsWith('file://')) return file;
  if (uri.startsWith('s3://')) return opts.s3Key ? new S3BlobStore({ kmsKeyId: opts.s3Key }) : s3;
  throw new LavaError(
    'LAVA_BLOB_SCHEME',
    `unsupported storage location ${JSON.stringify(uri)}: use a file:///absolute/path or s3://bucket/prefix URI for s3_payloads and s3_temp`,
  );
}

/**
 * Join a base URI and relative keys with exactly one `/`. A part with a `.` or `..` segment,
 * a backslash or a control character is refused: URI parsing would resolve it above the base.
 */
export function joinUri(base: string, ...parts: string[]): string {
  let out = base.replace(/\/+$/, '');
  for (const part of parts) {
    const problem = part === '' ? undefined : payloadKeyProblem(part);
    if (problem) throw new ValidationError(`storage key ${JSON.stringify(part.slice(0, 200))} ${problem}`);
    const p = part.replace(/^\/+/, '');
    if (p) out += '/' + p;
  }
  return out;
}
