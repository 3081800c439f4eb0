/**
 * Who is calling and what they may do. A realm with no tokens, served on a loopback address, is open
 * to whoever can reach it (the same people who can open its backend); once a token exists, or the
 * server listens beyond loopback, every API call needs `Authorization: Bearer <token>`.
 *
 * CSRF: credentials travel only in that header, never in cookies, so a page on another site cannot
 * make a browser send them. In open mode, requests must name a loopback Host (no DNS rebinding),
 * and a cross-origin Origin is refused on writes.
 */
import type { Context, MiddlewareHandler, Next } from 'hono';
import type { Backend } from '../backends/ports.js';
import { hasTokens, roleAllows, verifyToken, type Role, type TokenInfo } from './tokens.js';

export interface Caller {
  role: Role;
  /** False in open mode. */
  auth: boolean;
  token?: Pick<TokenInfo, 'id' | 'name'>;
}

/** How long token lookups are remembered (a revoked token stops working within this). */
const CACHE_MS = 2_000;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export class Auth {
  private tokensExist: { value: boolean; at: number } | undefined;
  private verified = new Map<string, { info: TokenInfo | undefined; at: number }>();

  constructor(
    private readonly backend: Backend,
    private readonly realm: string,
    /** The address the server listens on. */
    private readonly bindHost: string,
  ) {}

  /** Must every request carry a token? */
  async required(): Promise<boolean> {
    if (!isLoopback(this.bindHost)) return true;
    const now = Date.now();
    if (!this.tokensExist || now - this.tokensExist.at > CACHE_MS) {
      this.tokensExist = { value: await hasTokens(this.backend, this.realm), at: now };
    }
    return this.tokensExist.value;
  }

  forget(): void {
    this.tokensExist = undefined;
    this.verified.clear();
  }

  /** Refuse requests that could come through DNS rebinding or a cross-site form (open mode). */
  async checkHost(c: Context, next: Next): Promise<Response | void> {
    const host = hostName(c.req.header('host') ?? '');
    const origin = c.req.header('origin');
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && origin && origin !== 'null') {
      let originHost = '';
      try {
        originHost = new URL(origin).host;
      } catch {
        // fall through: an unparsable Origin is refused below
      }
      if (originHost !== (c.req.header('host') ?? ''))
        return forbidden(c, 'cross-origin request refused (Origin does not match Host)');
    }
    if (!(await this.required()) && !isLoopback(host)) {
      return forbidden(c, `Host "${host}" refused: without tokens the server answers only to localhost names`);
    }
    return next();
  }

  /** Middleware: the caller must have at least `role`. */
  require(role: Role): MiddlewareHandler {
    return async (c, next) => {
      const caller = await this.identify(c.req.header('authorization'));
      if (caller === 'bad' || (caller === undefined && (await this.required()))) {
        c.header('WWW-Authenticate', 'Bearer realm="lava"');
        return c.json(
          {
            error: {
              code: 'LAVA_UNAUTHORIZED',
              message: 'send Authorization: Bearer TOKEN (make one with `lava token create --role viewer`)',
            },
          },
          401,
        );
      }
      const who: Caller = caller ?? { role: 'admin', auth: false };
      if (!roleAllows(who.role, role)) {
        return c.json(
          { error: { code: 'LAVA_FORBIDDEN', message: `this needs the ${role} role; the token has ${who.role}` } },
          403,
        );
      }
      c.set('caller', who);
      return next();
    };
  }

  /** The caller of a request with this Authorization header: undefined without one, 'bad' for a wrong one. */
  private async identify(header: string | undefined): Promise<Caller | 'bad' | undefined> {
    if (!header) return undefined;
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) return 'bad';
    const token = m[1] as string;
    const now = Date.now();
    let hit = this.verified.get(token);
    if (!hit || now - hit.at > CACHE_MS) {
      hit = { info: await verifyToken(this.backend, this.realm, token), at: now };
      if (this.verified.size > 1000) this.verified.clear();
      this.verified.set(token, hit);
    }
    if (!hit.info) return 'bad';
    return { role: hit.info.role, auth: true, token: { id: hit.info.id, name: hit.info.name } };
  }
}

function hostName(hostHeader: string): string {
  return hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : (hostHeader.split(':')[0] ?? '');
}

function forbidden(c: Context, message: string): Response {
  return c.json({ error: { code: 'LAVA_FORBIDDEN', message } }, 403);
}
