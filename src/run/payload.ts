/**
 * Payload download (upstream's "v2" downloader): each payload item is a key prefix relative to the
 * realm's s3_payloads; every object directly under it is downloaded, sorted, into a private dir.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { blobStoreFor, joinUri } from '../backends/blob/index.js';
import type { ConfigKey } from '../core/config.js';
import { JobError } from '../core/errors.js';
import { confine, payloadKeyProblem } from '../core/paths.js';
import type { HandlerContext } from './handler.js';

export interface DownloadedItem {
  /** The payload item as written in the spec. */
  item: string;
  files: string[];
}

export async function downloadPayload(opts: {
  payloadRoot: string;
  items: readonly string[];
  scratch: string;
  maxSize: number;
}): Promise<DownloadedItem[]> {
  // Every item is checked before anything is downloaded, so a bad one leaves no trace.
  for (const item of opts.items) checkItem(item);
  const out: DownloadedItem[] = [];
  for (const [n, item] of opts.items.entries()) {
    const uri = joinUri(opts.payloadRoot, item) + (item.endsWith('/') ? '/' : '');
    const store = blobStoreFor(uri);
    const objects = (await store.list(uri)).filter((o) => !o.name.endsWith('/'));
    if (!objects.length) {
      throw new JobError(
        `No payload files downloaded for payload "${item}": it is a path relative to s3_payloads (${opts.payloadRoot}); upload it with \`lava payload put\``,
      );
    }
    const dir = await fsp.mkdtemp(path.join(opts.scratch, `pld-${n}-`));
    const files: string[] = [];
    for (const obj of objects) {
      if (obj.size > opts.maxSize) {
        throw new JobError(
          `payload file ${obj.uri} is ${obj.size} bytes, over the limit of ${opts.maxSize}: raise the *_MAX_PAYLOAD_SIZE config`,
        );
      }
      const local = confine(dir, obj.name, 'payload file name');
      await store.download(obj.uri, local);
      files.push(local);
    }
    out.push({ item, files });
  }
  return out;
}

/** A payload item is a key under s3_payloads: one that could point outside it fails the run. */
function checkItem(item: string): void {
  const problem = payloadKeyProblem(item);
  if (problem) {
    throw new JobError(
      `payload ${JSON.stringify(item.slice(0, 200))} ${problem}: use a path relative to s3_payloads, e.g. "demo/run.sh"`,
    );
  }
}

/** A payload field that must be one string or a list of strings. */
export function payloadItems(payload: unknown, type: string): string[] {
  const items = typeof payload === 'string' ? [payload] : payload;
  if (!Array.isArray(items) || !items.length || !items.every((p) => typeof p === 'string' && p.trim())) {
    throw new JobError(`${type} job payload must be a path (or list of paths) relative to s3_payloads, e.g. "demo/run.sh"`);
  }
  return items.map((p: string) => p.trim());
}

/** Download a job's payload items into its scratch dir, with the size cap of its type. */
export function downloadJobPayload(ctx: HandlerContext, items: readonly string[], maxSize: ConfigKey): Promise<DownloadedItem[]> {
  return downloadPayload({ payloadRoot: ctx.realm.s3_payloads, items, scratch: ctx.scratch, maxSize: ctx.config.size(maxSize) });
}
