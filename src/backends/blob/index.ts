import { LavaError } from '../../core/errors.js';
import type { BlobStore } from '../ports.js';
import { FileBlobStore } from './file.js';

const file = new FileBlobStore();

/** The blob store for a URI's scheme. */
export function blobStoreFor(uri: string): BlobStore {
  if (uri.startsWith('file://')) return file;
  throw new LavaError(
    'LAVA_BLOB_SCHEME',
    `unsupported storage location ${JSON.stringify(uri)}: use a file:///absolute/path URI for s3_payloads and s3_temp`,
  );
}

/** Join a base URI and a relative key with exactly one `/`. */
export function joinUri(base: string, ...parts: string[]): string {
  let out = base.replace(/\/+$/, '');
  for (const part of parts) {
    const p = part.replace(/^\/+/, '');
    if (p) out += '/' + p;
  }
  return out;
}
