/**
 * `lava triggers`: fire a realm's object triggers. Triggers whose bucket is a local directory (a
 * `file://` URI or an absolute path) are served by a directory watcher; the others (S3 buckets) by
 * the SQS queue S3 event notifications go to (S3TRIGGER_QUEUE). The triggers table is reread every
 * TRIGGER_SCAN_INTERVAL, so watching follows the triggers put and removed meanwhile. With EVENT_QUEUE set it
 * also takes events and dispatch helper messages from that SQS queue for the event rules. Any number of
 * replicas may run: each object event fires each trigger's jobs once (fireObjectEvent claims it).
 */
import type { Backend } from '../backends/ports.js';
import { Config, type ConfigFlags } from '../core/config.js';
import { NotFoundError, errorMessage } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { realmSchema } from '../core/schemas.js';
import { bucketDirectory, fireObjectEvent, type Firing } from '../events/object-triggers.js';
import type { ObjectEvent } from '../events/s3-notification.js';
import { DirectoryWatcher } from './file-watcher.js';
import { SqsSource } from './sqs-source.js';
import { pollEventQueue } from '../events/event-queue.js';

export interface TriggerDaemonOptions {
  backend: Backend;
  realm: string;
  logger?: Logger;
  /** Configuration flags (S3TRIGGER_QUEUE, TRIGGER_* …), over the environment and the realm's config. */
  flags?: ConfigFlags;
  /** Watch directories of file triggers (default true). */
  watch?: boolean;
  /** SQS long poll in seconds (default 20). */
  sqsWaitSeconds?: number;
}

export type TriggerDaemonState = 'created' | 'running' | 'stopping' | 'stopped';

export class TriggerDaemon {
  state: TriggerDaemonState = 'created';
  /** Firings by outcome since start. */
  readonly counts: Record<Firing['outcome'], number> = { dispatched: 0, duplicate: 0, skipped: 0, failed: 0, retry: 0, none: 0 };
  private readonly watchers = new Map<string, DirectoryWatcher>();
  private sqs: SqsSource | undefined;
  /** The event queue poller (EVENT_QUEUE), while it runs. */
  private events: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private readonly unserved = new Set<string>();
  private stopped: Promise<void> | undefined;

  private constructor(
    private readonly o: TriggerDaemonOptions,
    readonly config: Config,
    private readonly logger: Logger,
  ) {}

  static async create(o: TriggerDaemonOptions): Promise<TriggerDaemon> {
    const raw = await o.backend.config.getRealm(o.realm);
    if (!raw) throw new NotFoundError('realm', o.realm, 'create it with `lava init` or pass the right --realm');
    const config = new Config(realmSchema.parse(raw).config ?? {}, process.env, o.flags ?? {});
    // Read every key now, so a bad value stops the start, not the first event.
    config.duration('TRIGGER_SCAN_INTERVAL');
    config.duration('TRIGGER_SETTLE');
    config.duration('TRIGGER_FIRED_TTL');
    config.int('S3TRIGGER_DEDUP_CACHE_SIZE');
    config.duration('S3TRIGGER_DEDUP_TTL');
    const logger = (o.logger ?? silentLogger).child({ realm: o.realm, component: 'triggers' });
    return new TriggerDaemon(o, config, logger);
  }

  /** The directories being watched. */
  get watching(): string[] {
    return [...this.watchers.values()].map((w) => w.dir);
  }

  /** Fire an object event's triggers; false when it should be tried again. */
  readonly fire = async (event: ObjectEvent): Promise<boolean> => {
    const repeat = this.recentKey(event);
    if (repeat !== undefined && (this.recent.get(repeat) ?? 0) > Date.now()) {
      this.counts.duplicate++;
      this.logger.debug({ ...event.info }, 'object triggers: the same object event came within S3TRIGGER_DEDUP_TTL: dropped');
      return true;
    }
    const firings = await fireObjectEvent(this.o.backend, this.o.realm, event, { config: this.config, logger: this.logger });
    if (repeat !== undefined && !firings.some((f) => f.outcome === 'retry')) this.remember(repeat);
    for (const f of firings) this.counts[f.outcome]++;
    if (firings.length === 1 && firings[0]?.outcome === 'none') {
      this.logger.debug({ ...event.info }, 'object triggers: no trigger for this object');
    }
    return !firings.some((f) => f.outcome === 'retry');
  };

  /**
   * Upstream's s3trigger dedup: with S3TRIGGER_DEDUP_CACHE_SIZE above 0, an event of the same bucket,
   * key, event type and size within S3TRIGGER_DEDUP_TTL of one that fired is dropped.
   */
  private readonly recent = new Map<string, number>();

  private recentKey(event: ObjectEvent): string | undefined {
    if (this.config.int('S3TRIGGER_DEDUP_CACHE_SIZE') <= 0) return undefined;
    const { bucket, key, event_type, size } = event.info;
    return JSON.stringify([bucket, key, event_type, size]);
  }

  private remember(key: string): void {
    const now = Date.now();
    // One TTL for all, so entries expire in the order they were made.
    for (const [k, until] of this.recent) {
      if (until > now) break;
      this.recent.delete(k);
    }
    this.recent.delete(key);
    this.recent.set(key, now + this.config.duration('S3TRIGGER_DEDUP_TTL') * 1000);
    const max = this.config.int('S3TRIGGER_DEDUP_CACHE_SIZE');
    for (const k of this.recent.keys()) {
      if (this.recent.size <= max) break;
      this.recent.delete(k);
    }
  }

  async run(): Promise<void> {
    if (this.state !== 'created') throw new Error('a trigger daemon runs once');
    this.state = 'running';
    const queue = this.config.optStr('S3TRIGGER_QUEUE');
    if (queue) {
      this.sqs = new SqsSource({ queue, fire: this.fire, logger: this.logger, waitSeconds: this.o.sqsWaitSeconds });
      this.sqs.start();
    }
    const eventQueue = this.config.optStr('EVENT_QUEUE');
    if (eventQueue) {
      const { backend, realm } = this.o;
      const waitSeconds = this.o.sqsWaitSeconds;
      this.events = pollEventQueue({
        backend,
        realm,
        queueUrlOrName: eventQueue,
        logger: this.logger,
        signal: this.stopping.signal,
        ...(waitSeconds !== undefined ? { waitSeconds } : {}),
      });
    }
    const interval = this.config.duration('TRIGGER_SCAN_INTERVAL') * 1000;
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      await this.refresh().catch((err: unknown) =>
        this.logger.warn({ error: errorMessage(err) }, 'object triggers: reading the triggers table failed'),
      );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, interval);
        signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
    }
    await this.stopped;
  }

  /** Follow the triggers table: watch the directories of file triggers, and rescan them. */
  async refresh(): Promise<void> {
    const rows = await this.o.backend.config.list(this.o.realm, 'triggers');
    const buckets = new Set(
      rows.filter((r) => r.event_pattern === undefined && typeof r.bucket === 'string').map((r) => r.bucket as string),
    );
    const dirs = new Map<string, string>();
    for (const bucket of buckets) {
      let dir: string | undefined;
      try {
        dir = bucketDirectory(bucket);
      } catch {
        dir = undefined;
      }
      if (dir !== undefined) dirs.set(bucket, dir);
      else if (!this.sqs && !this.unserved.has(bucket)) {
        this.unserved.add(bucket);
        this.logger.warn(
          { bucket },
          'object triggers: this bucket is not a directory and S3TRIGGER_QUEUE is not set, so nothing fires its triggers here',
        );
      }
    }
    if (this.o.watch === false || this.stopping.signal.aborted) return;
    for (const [bucket, w] of this.watchers) {
      if (!dirs.has(bucket)) {
        this.watchers.delete(bucket);
        await w.stop();
        this.logger.info({ bucket }, 'object triggers: no trigger left on this directory: stopped watching');
      }
    }
    for (const [bucket, dir] of dirs) {
      let w = this.watchers.get(bucket);
      if (!w) {
        w = new DirectoryWatcher({
          bucket,
          dir,
          fire: this.fire,
          settleMs: this.config.duration('TRIGGER_SETTLE') * 1000,
          logger: this.logger,
        });
        if (!(await w.start())) continue;
        if (this.stopping.signal.aborted) return w.stop(); // stopped meanwhile
        this.watchers.set(bucket, w);
      } else {
        await w.scan();
      }
    }
  }

  /** Graceful stop: stop watching and receiving; firings under way finish. */
  stop(): Promise<void> {
    if (this.stopped) return this.stopped;
    this.state = 'stopping';
    this.stopping.abort();
    this.stopped = (async () => {
      await Promise.all([...[...this.watchers.values()].map((w) => w.stop()), this.sqs?.stop(), this.events]);
      this.state = 'stopped';
    })();
    return this.stopped;
  }

  status(): Record<string, unknown> {
    return {
      state: this.state,
      watching: this.watching,
      queue: this.sqs?.queue ?? null,
      received: this.sqs?.received ?? 0,
      firings: { ...this.counts },
    };
  }
}
