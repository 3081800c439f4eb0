/**
 * One dedicated LISTEN connection per backend, shared by every long poll of every queue. A send
 * runs `pg_notify('lava_queue', '<schema>:<queue>')` in its own statement, so waiting receivers
 * wake as soon as the message is committed. Receivers also poll on a timer, so a lost connection
 * (server restart, network drop) only slows them down until it is re-established.
 */
import { EventEmitter } from 'node:events';
import pg from 'pg';

export const NOTIFY_CHANNEL = 'lava_queue';
/** A realm, job, connection or trigger changed: payload `<schema>`; cached config items are dropped. */
export const CONFIG_CHANNEL = 'lava_config';
/** Wakes every waiter: the connection was (re)established, so notifications may have been missed. */
const ALL = '*';
const HEARTBEAT_MS = 30_000;
const MAX_RECONNECT_MS = 2_000;

export class QueueNotifier {
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private readonly emitter = new EventEmitter().setMaxListeners(0);
  private readonly versions = new Map<string, number>();
  private epoch = 0;
  private started = false;
  private closed = false;
  private reconnectMs = 100;
  private readonly configListeners = new Set<() => void>();
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connectionString: string,
    private readonly schema: string,
  ) {}

  /** The payload a send to `queue` notifies with. */
  payload(queue: string): string {
    return `${this.schema}:${queue}`;
  }

  /** Changes whenever a notification for `queue` arrives or the connection is re-established. */
  version(queue: string): number {
    return this.epoch + (this.versions.get(queue) ?? 0);
  }

  get listening(): boolean {
    return this.client !== undefined;
  }

  /**
   * Call `fn` when the config of this schema changes, and whenever the LISTEN connection is lost or
   * (re)established (changes may have gone unseen meanwhile).
   */
  onConfigChange(fn: () => void): void {
    this.configListeners.add(fn);
  }

  private configChanged(): void {
    for (const fn of this.configListeners) fn();
  }

  /**
   * Start listening if not yet done. Resolves once LISTEN is active or the attempt failed (then a
   * reconnect is scheduled and receivers rely on polling meanwhile); never rejects.
   */
  ready(): Promise<void> {
    this.started = true;
    if (this.closed || this.client) return Promise.resolve();
    return (this.connecting ??= this.connect().finally(() => (this.connecting = undefined)));
  }

  /** Resolve after `ms`, on a notification for `queue`, or when `signal` aborts. */
  wait(queue: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted || ms <= 0) return resolve();
      const done = () => {
        clearTimeout(timer);
        this.emitter.off(queue, done);
        this.emitter.off(ALL, done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.emitter.on(queue, done);
      this.emitter.on(ALL, done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    this.emitter.emit(ALL);
    if (client) await client.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.connectionString,
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
      query_timeout: 10_000,
      fallback_application_name: `lava-listen:${this.schema}`,
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (n) =>
      n.channel === CONFIG_CHANNEL ? n.payload === this.schema && this.configChanged() : this.notified(n.payload),
    );
    try {
      await client.connect();
      await client.query(`LISTEN ${NOTIFY_CHANNEL}; LISTEN ${CONFIG_CHANNEL}`);
    } catch {
      client.end().catch(() => {});
      this.scheduleReconnect();
      return;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.reconnectMs = 100;
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      client.query('SELECT 1').catch(() => this.lost(client));
    }, HEARTBEAT_MS).unref();
    // Anything sent while we were not listening is found by the receivers' next look.
    this.epoch++;
    this.emitter.emit(ALL);
    this.configChanged();
  }

  private notified(payload: string | undefined): void {
    const prefix = `${this.schema}:`;
    if (!payload?.startsWith(prefix)) return;
    const queue = payload.slice(prefix.length);
    this.versions.set(queue, (this.versions.get(queue) ?? 0) + 1);
    this.emitter.emit(queue);
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.configChanged();
    clearInterval(this.heartbeatTimer);
    client.end().catch(() => {});
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || !this.started || this.reconnectTimer) return;
    const delay = this.reconnectMs;
    this.reconnectMs = Math.min(MAX_RECONNECT_MS, this.reconnectMs * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.ready();
    }, delay).unref();
  }
}
