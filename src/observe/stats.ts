/** Runs ended per status over recent hours, in time buckets, for the dashboard's overview. */
import type { Backend } from '../backends/ports.js';
import { FINAL_STATUSES, entryTime } from './runs.js';

export interface RunStats {
  bucket_seconds: number;
  buckets: { start: string; counts: Record<string, number> }[];
  totals: Record<string, number>;
  /** True when more runs ended in the window than were read (the figures are a lower bound). */
  truncated: boolean;
}

/** The most records one overview reads. */
const MAX_RECORDS = 50_000;

export async function runStats(backend: Backend, realm: string, hours: number, now = new Date()): Promise<RunStats> {
  const bucketSeconds = hours <= 6 ? 900 : 3600;
  const bucketMs = bucketSeconds * 1000;
  const end = Math.ceil(now.getTime() / bucketMs) * bucketMs;
  const start = end - Math.ceil((hours * 3600_000) / bucketMs) * bucketMs;
  const records = await backend.events.query(realm, { since: new Date(start), limit: MAX_RECORDS });
  const buckets: RunStats['buckets'] = Array.from({ length: (end - start) / bucketMs }, (_, i) => ({
    start: new Date(start + i * bucketMs).toISOString(),
    counts: {},
  }));
  const totals: Record<string, number> = {};
  for (const r of records) {
    if (!FINAL_STATUSES.has(r.status)) continue;
    const last = r.log[r.log.length - 1];
    const t = last ? entryTime(last).getTime() : NaN;
    const bucket = buckets[Math.floor((t - start) / bucketMs)];
    if (!bucket) continue;
    bucket.counts[r.status] = (bucket.counts[r.status] ?? 0) + 1;
    totals[r.status] = (totals[r.status] ?? 0) + 1;
  }
  return { bucket_seconds: bucketSeconds, buckets, totals, truncated: records.length >= MAX_RECORDS };
}
