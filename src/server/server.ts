/** `lava serve`: the HTTP API, dashboard and metrics of one realm, until stopped. */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Backend } from '../backends/ports.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { RealmSpec } from '../core/schemas.js';
import { createApp } from './app.js';
import { Auth, isLoopback } from './auth.js';
import { Metrics } from './metrics.js';
import { hasTokens } from './tokens.js';

export interface ServerOptions {
  backend: Backend;
  realm: RealmSpec;
  host: string;
  /** 0 picks a free port. */
  port: number;
  tz: string;
  logger: Logger;
}

export class Server {
  private http: ServerType | undefined;
  private readonly metrics: Metrics;
  private closed: Promise<void> | undefined;
  private onClosed: () => void = () => undefined;

  constructor(private readonly o: ServerOptions) {
    this.metrics = new Metrics(o.backend, o.realm.realm, o.logger);
  }

  /** Listen; resolves with the URL once the port is open. */
  async start(): Promise<string> {
    const { o } = this;
    if (!isLoopback(o.host) && !(await hasTokens(o.backend, o.realm.realm))) {
      throw new ConfigError(
        `refusing to listen on ${o.host} without authentication: make a token first (\`lava token create --role admin\`), or listen on 127.0.0.1`,
      );
    }
    const app = createApp({ ...o, auth: new Auth(o.backend, o.realm.realm, o.host), metrics: this.metrics });
    this.closed = new Promise((resolve) => (this.onClosed = resolve));
    const address = await new Promise<AddressInfo>((resolve, reject) => {
      const server = serve({ fetch: app.fetch, hostname: o.host, port: o.port }, (info) => resolve(info));
      server.once('error', reject);
      this.http = server;
    });
    this.metrics.start();
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}/`;
    o.logger.info({ url, realm: o.realm.realm }, 'serving the API and dashboard');
    return url;
  }

  /** Resolves when the server has stopped. */
  run(): Promise<void> {
    return this.closed ?? Promise.resolve();
  }

  /** Stop listening and let requests in progress finish (live tails poll, so none is held open). */
  async stop(): Promise<void> {
    const http = this.http;
    this.http = undefined;
    await this.metrics.stop();
    if (http) {
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        (http as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      });
    }
    this.onClosed();
  }

  kill(): void {
    (this.http as { closeAllConnections?: () => void } | undefined)?.closeAllConnections?.();
    void this.stop();
  }
}
