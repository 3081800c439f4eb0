/**
 * Live processes in the realm's directory: workers and dispatchers put an entry every beat with a
 * lifetime of three beats, so an entry outlives a missed beat or two but not a dead process.
 */
import os from 'node:os';
import type { Backend, DirectoryEntry } from '../backends/ports.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/** Directory kinds of live processes. */
export const WORKER_KIND = 'worker';
export const DISPATCHER_KIND = 'dispatcher';

const instances = new Map<string, number>();

/** `<hostname>:<pid>:<name>:<n>`: unique per daemon object, also for several in one process. */
export function instanceId(kind: string, name: string): string {
  const n = (instances.get(kind) ?? 0) + 1;
  instances.set(kind, n);
  return `${os.hostname()}:${process.pid}:${name}:${n}`;
}

export interface BeatOptions {
  backend: Backend;
  realm: string;
  kind: string;
  id: string;
  /** Seconds between beats; the entry lives three of them. */
  everySeconds: number;
  /** The entry's data, made fresh for each beat. */
  data: () => Record<string, unknown>;
  logger: Logger;
  /** Called after each put (a worker reads stop requests here); a failure is logged like a failed put. */
  after?: () => Promise<void>;
}

/**
 * Puts the entry now and every `everySeconds` until stopped; `stop()` deletes it. A beat that fails
 * is logged at warn and never stops the daemon; beats never overlap.
 */
export class Beat {
  private timer?: NodeJS.Timeout;
  private current: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: BeatOptions) {}

  /** The first beat, awaited; later ones on a timer. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      this.current = this.current.then(() => this.beat());
    }, this.o.everySeconds * 1000);
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    const { backend, realm, kind, id, everySeconds } = this.o;
    try {
      await backend.directory.put(realm, { kind, id, data: this.o.data(), ttlSeconds: Math.ceil(3 * everySeconds) });
    } catch (err) {
      this.o.logger.warn({ err: errorMessage(err), kind, id }, 'could not write the directory entry');
    }
    try {
      await this.o.after?.();
    } catch (err) {
      this.o.logger.warn({ err: errorMessage(err) }, 'directory beat failed');
    }
  }

  /** Stop beating and delete the entry (a graceful stop: the process is gone at once, not after its ttl). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.current;
    try {
      await this.o.backend.directory.delete(this.o.realm, this.o.kind, this.o.id);
    } catch (err) {
      this.o.logger.warn({ err: errorMessage(err) }, 'could not delete the directory entry');
    }
  }
}

/** The live workers of a fleet (`worker` entries whose data names it). */
export async function liveWorkers(backend: Backend, realm: string, worker: string): Promise<DirectoryEntry[]> {
  return (await backend.directory.list(realm, WORKER_KIND)).filter((e) => e.data.worker === worker);
}
