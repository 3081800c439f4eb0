/**
 * Object events from a local directory: `fs.watch` (recursive) says where to look, a periodic scan
 * catches what it missed, and a file fires `ObjectCreated:Put` once its size and modification time
 * have held still for the settle time (so a file still being written does not fire half-done). A file
 * that goes away fires `ObjectRemoved:Delete`. Keys are paths relative to the directory, with `/`.
 * Files present when watching starts are taken as they are: they do not fire. Symbolic links are not
 * followed.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { encodeS3Key, type ObjectEvent } from '../events/s3-notification.js';

interface Seen {
  size: number;
  mtimeMs: number;
}

interface Pending extends Seen {
  /** When size and mtime were last seen to change. */
  since: number;
}

export interface DirectoryWatcherOptions {
  /** The trigger's bucket as written (a `file://` URI or a path): the events' bucket. */
  bucket: string;
  dir: string;
  /** Fire an event; false means "try again later" (the dispatch could not be made). */
  fire(event: ObjectEvent): Promise<boolean>;
  settleMs: number;
  logger: Logger;
}

export type FileEventType = 'ObjectCreated:Put' | 'ObjectRemoved:Delete';

/** The event of a watched file: info as an S3 notification's, and a record shaped like one. */
export function fileEvent(bucket: string, key: string, type: FileEventType, seen: Seen, at: Date): ObjectEvent {
  const created = type === 'ObjectCreated:Put';
  const eventTime = (created ? new Date(seen.mtimeMs) : at).toISOString();
  const version = `${seen.mtimeMs}:${seen.size}`;
  return {
    info: {
      bucket,
      key,
      size: created ? seen.size : null,
      source_ip: null,
      event_time: eventTime,
      event_type: type,
      aws_region: null,
    },
    record: {
      eventVersion: '2.1',
      eventSource: 'lava:file',
      eventTime,
      eventName: type,
      s3: {
        bucket: { name: bucket },
        object: { key: encodeS3Key(key), ...(created ? { size: seen.size } : {}), sequencer: version },
      },
    },
    version,
  };
}

export class DirectoryWatcher {
  private readonly known = new Map<string, Seen>();
  private readonly pending = new Map<string, Pending>();
  private readonly dirty = new Set<string>();
  private watcher: fs.FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Events fire one after another, in the order seen. */
  private chain: Promise<void> = Promise.resolve();
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private started = false;

  constructor(private readonly o: DirectoryWatcherOptions) {}

  get dir(): string {
    return this.o.dir;
  }

  /** Take the directory's files as they are (they do not fire) and start watching. False if it cannot be read yet. */
  async start(): Promise<boolean> {
    if (this.started) return true;
    let files: Map<string, Seen>;
    try {
      files = await this.walk();
    } catch (err) {
      this.o.logger.warn({ dir: this.o.dir, error: errorMessage(err) }, 'object triggers: cannot read the watched directory yet');
      return false;
    }
    for (const [rel, seen] of files) this.known.set(rel, seen);
    try {
      this.watcher = fs.watch(this.o.dir, { recursive: true }, (_type, name) => {
        if (name) this.dirty.add(toKey(String(name)));
      });
      this.watcher.on('error', (err) => {
        this.o.logger.warn(
          { dir: this.o.dir, error: errorMessage(err) },
          'object triggers: watching failed; the periodic scan goes on',
        );
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      this.o.logger.warn(
        { dir: this.o.dir, error: errorMessage(err) },
        'object triggers: cannot watch; relying on the periodic scan',
      );
    }
    const every = Math.max(50, Math.min(500, this.o.settleMs / 2));
    this.timer = setInterval(() => void this.tick(), every);
    this.started = true;
    this.o.logger.info({ dir: this.o.dir, bucket: this.o.bucket, files: files.size }, 'object triggers: watching directory');
    return true;
  }

  /** Compare the whole directory with what is known (catches events fs.watch missed). */
  async scan(): Promise<void> {
    if (!this.started || this.stopped) return;
    let files: Map<string, Seen>;
    try {
      files = await this.walk();
    } catch (err) {
      this.o.logger.warn({ dir: this.o.dir, error: errorMessage(err) }, 'object triggers: scan failed');
      return;
    }
    for (const [rel, seen] of files) {
      const k = this.known.get(rel);
      if (!this.pending.has(rel) && (!k || !same(k, seen))) this.dirty.add(rel);
    }
    for (const rel of this.known.keys()) if (!files.has(rel)) this.dirty.add(rel);
  }

  /** Stop watching; events already seen as settled finish firing. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    await this.chain;
  }

  private tick(): Promise<void> {
    if (this.ticking || this.stopped) return this.ticking ?? Promise.resolve();
    this.ticking = this.check()
      .catch((err: unknown) => this.o.logger.warn({ dir: this.o.dir, error: errorMessage(err) }, 'object triggers: check failed'))
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async check(): Promise<void> {
    const now = Date.now();
    const dirty = [...this.dirty];
    this.dirty.clear();
    for (const rel of dirty) await this.look(rel, now);
    for (const [rel, p] of this.pending) {
      if (now - p.since < this.o.settleMs) continue;
      const seen = await this.stat(rel);
      if (seen === 'dir' || seen === undefined) {
        this.pending.delete(rel);
        if (seen === undefined) this.removed(rel);
      } else if (!same(seen, p)) {
        this.pending.set(rel, { ...seen, since: now });
      } else {
        this.pending.delete(rel);
        this.known.set(rel, seen);
        this.emit(rel, 'ObjectCreated:Put', seen);
      }
    }
  }

  /** A path that may have changed. */
  private async look(rel: string, now: number): Promise<void> {
    const seen = await this.stat(rel);
    if (seen === undefined) {
      this.pending.delete(rel);
      this.removed(rel);
      // A directory that went away takes its files with it.
      for (const k of [...this.known.keys()]) if (k.startsWith(`${rel}/`)) this.removed(k);
      return;
    }
    if (seen === 'dir') {
      // A directory moved or made here: its files are new (fs.watch may not report each).
      const files = await this.walk(rel).catch(() => new Map<string, Seen>());
      for (const f of files.keys()) if (!this.known.has(f) && !this.pending.has(f)) this.dirty.add(f);
      return;
    }
    const k = this.known.get(rel);
    const p = this.pending.get(rel);
    if (k && same(k, seen) && !p) return;
    if (!p || !same(p, seen)) this.pending.set(rel, { ...seen, since: now });
  }

  private removed(rel: string): void {
    const k = this.known.get(rel);
    if (!k) return;
    this.known.delete(rel);
    this.emit(rel, 'ObjectRemoved:Delete', k);
  }

  private emit(rel: string, type: FileEventType, seen: Seen): void {
    const event = fileEvent(this.o.bucket, rel, type, seen, new Date());
    this.chain = this.chain.then(async () => {
      let done = false;
      try {
        done = await this.o.fire(event);
      } catch (err) {
        this.o.logger.warn({ ...event.info, error: errorMessage(err) }, 'object triggers: firing failed');
      }
      if (done) return;
      // Try again at the next scan: forget a created file, remember a deleted one.
      if (type === 'ObjectCreated:Put') this.known.delete(rel);
      else if (!this.known.has(rel)) this.known.set(rel, seen);
    });
  }

  private async stat(rel: string): Promise<Seen | 'dir' | undefined> {
    try {
      const st = await fsp.lstat(path.join(this.o.dir, ...rel.split('/')));
      if (st.isDirectory()) return 'dir';
      return st.isFile() ? { size: st.size, mtimeMs: st.mtimeMs } : undefined;
    } catch {
      return undefined;
    }
  }

  /** Regular files under the directory (or one of its subdirectories), by key. */
  private async walk(under = ''): Promise<Map<string, Seen>> {
    const out = new Map<string, Seen>();
    const visit = async (rel: string, top: boolean): Promise<void> => {
      let entries: fs.Dirent[];
      try {
        entries = await fsp.readdir(path.join(this.o.dir, ...(rel ? rel.split('/') : [])), { withFileTypes: true });
      } catch (err) {
        if (top) throw err;
        return; // gone meanwhile
      }
      for (const e of entries) {
        const key = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await visit(key, false);
        else if (e.isFile()) {
          const st = await this.stat(key);
          if (st && st !== 'dir') out.set(key, st);
        }
      }
    };
    await visit(under, under === '');
    return out;
  }
}

const same = (a: Seen, b: Seen) => a.size === b.size && a.mtimeMs === b.mtimeMs;

function toKey(name: string): string {
  return name.split(path.sep).join('/');
}
