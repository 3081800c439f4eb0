import { isoLocal, isoUtcNaive } from '../core/time.js';
import type { EventEntry, NewEvent } from './ports.js';

/** The log entries one `record` call appends, oldest first: `before`, then the event itself. */
export function logEntries(e: NewEvent): EventEntry[] {
  return [...(e.before ?? []), e].map((x) => ({
    ts_event: isoLocal(x.at),
    tu_event: isoUtcNaive(x.at),
    status: x.status,
    info: x.info ?? null,
  }));
}
