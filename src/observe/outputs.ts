/** A run's output files (stdout, stderr and what handlers store) under `<s3_temp>/<job_id>/<run_id>/`. */
import { blobStoreFor, joinUri } from '../backends/blob/index.js';
import type { RealmSpec } from '../core/schemas.js';
import { NotFoundError } from '../core/errors.js';
import { checkJobId, checkRunId } from '../core/paths.js';

export interface OutputInfo {
  job_id: string;
  name: string;
  size: number;
  modified: string;
}

function prefixOf(realm: RealmSpec, jobId: string, runId: string): string {
  checkJobId(jobId, 'job id');
  checkRunId(runId, 'run id');
  return joinUri(realm.s3_temp, jobId, runId) + '/';
}

export async function listOutputs(realm: RealmSpec, jobId: string, runId: string): Promise<OutputInfo[]> {
  const prefix = prefixOf(realm, jobId, runId);
  const blobs = await blobStoreFor(prefix, s3Key(realm)).listRecursive(prefix);
  return blobs.map((b) => ({
    job_id: jobId,
    name: b.uri.slice(prefix.length),
    size: b.size,
    modified: b.modified.toISOString(),
  }));
}

/** The most one read returns: a live tail asks again from where it got to. */
export const MAX_OUTPUT_READ = 1024 * 1024;

/** Bytes of an output from `offset` (at most MAX_OUTPUT_READ) and the file's current size. */
export async function readOutput(
  realm: RealmSpec,
  jobId: string,
  runId: string,
  name: string,
  offset = 0,
): Promise<{ data: Buffer; size: number }> {
  const prefix = prefixOf(realm, jobId, runId);
  // Names are what listOutputs returned: relative paths below the run's prefix, never climbing out.
  if (!name || name.split('/').some((p) => p === '' || p === '.' || p === '..') || name.includes('\\')) {
    throw new NotFoundError('output', name, "use a name from the run's outputs list");
  }
  const uri = prefix + name;
  const store = blobStoreFor(uri, s3Key(realm));
  if (!(await store.head(uri))) throw new NotFoundError('output', name, "use a name from the run's outputs list");
  const all = await store.read(uri);
  const from = Math.min(Math.max(0, Math.floor(offset)), all.length);
  return { data: all.subarray(from, from + MAX_OUTPUT_READ), size: all.length };
}

function s3Key(realm: RealmSpec): { s3Key?: string } {
  return realm.s3_key ? { s3Key: realm.s3_key } : {};
}
