import { randomUUID } from 'node:crypto';

/** Run ids are UUIDv4s made at dispatch time, so a redelivered message keeps its run id. */
export function newRunId(): string {
  return randomUUID();
}
