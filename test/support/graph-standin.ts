/**
 * A stand-in for Microsoft Graph and its token endpoint, on 127.0.0.1 with a random port.
 *
 * It is a stand-in because no SharePoint can run here. It speaks the documented routes the
 * sharepoint connector uses, with their documented shapes:
 *
 * - `POST /<tenant>/oauth2/v2.0/token` and `/common/oauth2/v2.0/token` (form-encoded password and
 *   refresh_token grants; 400 with an AAD-style error body for bad credentials);
 * - `GET /v1.0/sites/<host>:/sites/<name>`, `/sites/<id>/drives`, `/sites/<id>/lists`,
 *   `/sites/<id>/lists/<id>?$expand=columns`, `/sites/<id>/lists/<id>/items[?$expand=fields(...)]`;
 * - `GET /v1.0/drives/<id>/root[:<path>]`, `/items/<id>/children`, `/items/<id>/content` (a 302 to a
 *   pre-authenticated download URL, as Graph answers), `GET`/`PATCH /items/<id>/listitem/fields`;
 * - `POST /v1.0/drives/<id>/root:<path>:/createUploadSession` and `PUT <uploadUrl>` with
 *   Content-Range (202 until the last fragment, then 201 with the item), `PUT …/root:<path>:/content`;
 * - `POST /v1.0/$batch` (JSON batching of item POST, PATCH …/fields and DELETE).
 *
 * Listings are paged (`pageSize` entries, then `@odata.nextLink`). `throttle(n, retryAfter)` answers
 * the next n Graph requests with 429 and Retry-After. Every request is recorded.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  url: string;
  authorization?: string | undefined;
  contentRange?: string | undefined;
  body: string;
}

export interface DriveItem {
  id: string;
  name: string;
  content?: Buffer;
  folder?: boolean;
  title?: string;
}

export interface ListColumn {
  name: string;
  readOnly?: boolean;
  hidden?: boolean;
  required?: boolean;
  columnGroup?: string;
  /** e.g. { text: {} }, { boolean: {} }, { personOrGroup: {} } */
  facet?: Record<string, unknown>;
}

export interface SpList {
  id: string;
  name: string;
  template: string;
  columns: ListColumn[];
  items: Map<string, Record<string, unknown>>;
}

export interface GraphStandin {
  /** The login base URL (connection `login_url`). */
  loginUrl: string;
  /** The Graph base URL (connection `graph_url`). */
  graphUrl: string;
  requests: Recorded[];
  /** Drives by name: items by absolute path ('/' is the root folder). */
  drives: Map<string, { id: string; items: Map<string, DriveItem> }>;
  lists: Map<string, SpList>;
  pageSize: number;
  tokensIssued: number;
  /** `expires_in` of issued tokens (seconds); under 300 makes the client refresh before each request. */
  expiresIn: number;
  throttle(n: number, retryAfter: string): void;
  close(): Promise<void>;
}

export const CREDENTIALS = {
  tenant: 'contoso.onmicrosoft.com',
  client_id: 'app-1234',
  client_secret: 'Sp-Client-Secret-4b7e',
  user: 'svc@contoso.com',
  password: 'Sp-User-Password-9c2d',
};

export async function startGraphStandin(): Promise<GraphStandin> {
  let nextId = 100;
  const tokens = new Set<string>();
  const refresh = new Set<string>();
  const sessions = new Map<string, { drive: string; path: string; size: number; parts: Buffer[]; received: number }>();
  let throttleLeft = 0;
  let throttleAfter = '1';
  const s: GraphStandin = {
    loginUrl: '',
    graphUrl: '',
    requests: [],
    drives: new Map(),
    lists: new Map(),
    pageSize: 2,
    tokensIssued: 0,
    expiresIn: 3599,
    throttle(n, retryAfter) {
      throttleLeft = n;
      throttleAfter = retryAfter;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const notFound = (res: http.ServerResponse, what: string) =>
    json(res, 404, { error: { code: 'itemNotFound', message: `${what} not found` } });

  /** One page of `all`, from `skip`, with a nextLink when more remain. */
  const page = (url: URL, all: unknown[]) => {
    const skip = Number(url.searchParams.get('$skiptoken') ?? 0);
    const value = all.slice(skip, skip + s.pageSize);
    const out: Record<string, unknown> = { value };
    if (skip + s.pageSize < all.length) {
      const next = new URL(url.toString());
      next.searchParams.set('$skiptoken', String(skip + s.pageSize));
      out['@odata.nextLink'] = next.toString();
    }
    return out;
  };

  const driveById = (id: string) => [...s.drives.values()].find((d) => d.id === id);
  const itemById = (d: { items: Map<string, DriveItem> }, id: string) => [...d.items.entries()].find(([, i]) => i.id === id);
  const itemJson = (p: string, i: DriveItem) => ({
    id: i.id,
    name: i.name,
    size: i.content?.length ?? 0,
    lastModifiedDateTime: '2024-05-01T00:00:00Z',
    lastModifiedBy: { user: { email: CREDENTIALS.user } },
    ...(i.folder ? { folder: { childCount: 0 } } : { file: { mimeType: 'application/octet-stream' } }),
    parentReference: { path: p },
  });
  const listItemJson = (id: string, fields: Record<string, unknown>, select?: string[]) => ({
    id,
    fields: select ? Object.fromEntries(Object.entries(fields).filter(([k]) => select.includes(k))) : fields,
  });

  /** The list operations $batch and direct requests share. */
  function listOp(method: string, p: string, body: unknown): { status: number; body?: unknown } {
    const m = /^\/sites\/site-1\/lists\/([^/]+)\/items(?:\/([^/]+))?(\/fields)?$/.exec(p);
    const list = m ? [...s.lists.values()].find((l) => l.id === m[1]) : undefined;
    if (!m || !list) return { status: 404, body: { error: { code: 'itemNotFound', message: 'list not found' } } };
    const [, , itemId, fields] = m;
    if (method === 'POST' && !itemId) {
      const id = String(nextId++);
      const f = (body as { fields?: Record<string, unknown> }).fields ?? {};
      list.items.set(id, { ...f });
      return { status: 201, body: listItemJson(id, f) };
    }
    if (!itemId || !list.items.has(itemId))
      return { status: 404, body: { error: { code: 'itemNotFound', message: 'item not found' } } };
    if (method === 'DELETE' && !fields) {
      list.items.delete(itemId);
      return { status: 204 };
    }
    if (method === 'PATCH' && fields) {
      const cur = list.items.get(itemId) as Record<string, unknown>;
      for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
        if (v === null) delete cur[k];
        else cur[k] = v;
      }
      return { status: 200, body: cur };
    }
    return { status: 400, body: { error: { code: 'invalidRequest', message: `${method} ${p}` } } };
  }

  function graph(req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: Buffer): void {
    const p = decodeURIComponent(url.pathname.slice('/v1.0'.length));
    const m = (re: RegExp) => re.exec(p);
    let r: RegExpExecArray | null;
    if (req.method === 'GET' && (r = m(/^\/sites\/([^/:]+):\/sites\/([^/]+)$/))) {
      return r[2] === 'Finance' ? json(res, 200, { id: 'site-1', name: r[2] }) : notFound(res, 'site');
    }
    if (req.method === 'GET' && p === '/sites/site-1/drives') {
      return json(
        res,
        200,
        page(url, [
          { id: 'other', name: 'Other', driveType: 'documentLibrary' },
          ...[...s.drives.entries()].map(([name, d]) => ({ id: d.id, name, driveType: 'documentLibrary' })),
        ]),
      );
    }
    if (req.method === 'GET' && p === '/sites/site-1/lists') {
      return json(
        res,
        200,
        page(
          url,
          [...s.lists.values()].map((l) => ({ id: l.id, name: l.name, list: { template: l.template } })),
        ),
      );
    }
    if (req.method === 'GET' && (r = m(/^\/sites\/site-1\/lists\/([^/]+)$/))) {
      const list = [...s.lists.values()].find((l) => l.id === r?.[1]);
      if (!list) return notFound(res, 'list');
      return json(res, 200, {
        id: list.id,
        name: list.name,
        columns: list.columns.map((c) => ({
          name: c.name,
          readOnly: c.readOnly ?? false,
          hidden: c.hidden ?? false,
          required: c.required ?? false,
          ...(c.columnGroup ? { columnGroup: c.columnGroup } : {}),
          ...(c.facet ?? { text: {} }),
        })),
      });
    }
    if (req.method === 'GET' && (r = m(/^\/sites\/site-1\/lists\/([^/]+)\/items$/))) {
      const list = [...s.lists.values()].find((l) => l.id === r?.[1]);
      if (!list) return notFound(res, 'list');
      const sel = /^fields\(\$select=(.*)\)$/.exec(url.searchParams.get('$expand') ?? '')?.[1]?.split(',');
      return json(
        res,
        200,
        page(
          url,
          [...list.items.entries()].map(([id, f]) => listItemJson(id, f, sel)),
        ),
      );
    }
    if (req.method === 'POST' && p === '/$batch') {
      const { requests } = JSON.parse(body.toString()) as {
        requests: Array<{ id: string; method: string; url: string; body?: unknown }>;
      };
      if (requests.length > 20) return json(res, 400, { error: { code: 'invalidRequest', message: 'more than 20 requests' } });
      return json(res, 200, { responses: requests.map((q) => ({ id: q.id, ...listOp(q.method, q.url, q.body) })) });
    }
    if ((r = m(/^\/drives\/([^/]+)\/root(?::(.*?))?(?::\/(content|createUploadSession))?$/))) {
      const d = driveById(r[1] as string);
      if (!d) return notFound(res, 'drive');
      const ip = r[2] ?? '/';
      if (req.method === 'GET' && !r[3]) {
        const item = d.items.get(ip);
        return item ? json(res, 200, itemJson(ip, item)) : notFound(res, `item ${ip}`);
      }
      if (req.method === 'POST' && r[3] === 'createUploadSession') {
        const sid = `s${nextId++}`;
        sessions.set(sid, { drive: d.id, path: ip, size: -1, parts: [], received: 0 });
        return json(res, 200, {
          uploadUrl: `${s.loginUrl}/upload/${sid}?tempauth=x`,
          expirationDateTime: '2030-01-01T00:00:00Z',
        });
      }
      if (req.method === 'PUT' && r[3] === 'content') {
        const item: DriveItem = { id: String(nextId++), name: ip.split('/').pop() as string, content: body };
        d.items.set(ip, item);
        return json(res, 201, itemJson(ip, item));
      }
    }
    if ((r = m(/^\/drives\/([^/]+)\/items\/([^/]+)\/(children|content|listitem\/fields)$/))) {
      const d = driveById(r[1] as string);
      const hit = d && itemById(d, r[2] as string);
      if (!d || !hit) return notFound(res, 'item');
      const [ip, item] = hit;
      if (req.method === 'GET' && r[3] === 'children') {
        const kids = [...d.items.entries()].filter(([k]) => k !== ip && k.slice(0, k.lastIndexOf('/') || 1) === ip);
        return json(
          res,
          200,
          page(
            url,
            kids.map(([k, i]) => itemJson(k, i)),
          ),
        );
      }
      if (req.method === 'GET' && r[3] === 'content') {
        res.writeHead(302, { Location: `${s.loginUrl}/download/${d.id}/${item.id}` });
        return void res.end();
      }
      if (req.method === 'GET' && r[3] === 'listitem/fields') return json(res, 200, item.title ? { Title: item.title } : {});
      if (req.method === 'PATCH' && r[3] === 'listitem/fields') {
        item.title = (JSON.parse(body.toString()) as { Title?: string }).Title;
        return json(res, 200, { Title: item.title });
      }
    }
    return json(res, 400, { error: { code: 'invalidRequest', message: `no route ${req.method} ${p}` } });
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', s.loginUrl);
      s.requests.push({
        method: req.method ?? '',
        url: url.pathname + url.search,
        authorization: req.headers.authorization,
        contentRange: req.headers['content-range'],
        body: body.toString('latin1'),
      });
      const tok = /^\/(.+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
      if (req.method === 'POST' && tok) {
        const f = new URLSearchParams(body.toString());
        const ok =
          f.get('client_id') === CREDENTIALS.client_id &&
          f.get('client_secret') === CREDENTIALS.client_secret &&
          (f.get('grant_type') === 'password'
            ? tok[1] === CREDENTIALS.tenant &&
              f.get('username') === CREDENTIALS.user &&
              f.get('password') === CREDENTIALS.password
            : f.get('grant_type') === 'refresh_token' && tok[1] === 'common' && refresh.has(f.get('refresh_token') ?? ''));
        if (!ok)
          return json(res, 400, {
            error: 'invalid_grant',
            error_description: 'AADSTS50126: Error validating credentials due to invalid username or password.',
          });
        const access = `at-${nextId++}`;
        const rt = `rt-${nextId++}`;
        tokens.add(access);
        refresh.add(rt);
        s.tokensIssued++;
        return json(res, 200, {
          token_type: 'Bearer',
          access_token: access,
          refresh_token: rt,
          expires_in: s.expiresIn,
          scope: f.get('scope'),
        });
      }
      const dl = /^\/download\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'GET' && dl) {
        const d = driveById(dl[1] as string);
        const hit = d && itemById(d, dl[2] as string);
        if (!hit) return notFound(res, 'download');
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        return void res.end(hit[1].content ?? Buffer.alloc(0));
      }
      const up = /^\/upload\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'PUT' && up) {
        // Graph: the upload URL is pre-authenticated and rejects an Authorization header.
        if (req.headers.authorization)
          return json(res, 401, { error: { code: 'unauthenticated', message: 'Authorization header not allowed' } });
        const sess = sessions.get(up[1] as string);
        const cr = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(req.headers['content-range']));
        if (!sess || !cr || Number(cr[1]) !== sess.received || Number(cr[2]) - Number(cr[1]) + 1 !== body.length) {
          return json(res, 416, { error: { code: 'invalidRange', message: 'bad Content-Range' } });
        }
        sess.parts.push(body);
        sess.received += body.length;
        if (sess.received < Number(cr[3])) return json(res, 202, { nextExpectedRanges: [`${sess.received}-`] });
        const d = driveById(sess.drive);
        const item: DriveItem = {
          id: String(nextId++),
          name: sess.path.split('/').pop() as string,
          content: Buffer.concat(sess.parts),
        };
        d?.items.set(sess.path, item);
        sessions.delete(up[1] as string);
        return json(res, 201, itemJson(sess.path, item));
      }
      if (url.pathname.startsWith('/v1.0/')) {
        const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
        if (!auth || !tokens.has(auth[1] as string))
          return json(res, 401, { error: { code: 'InvalidAuthenticationToken', message: 'Access token is empty.' } });
        if (throttleLeft > 0) {
          throttleLeft--;
          return json(
            res,
            429,
            { error: { code: 'TooManyRequests', message: 'Too many requests' } },
            { 'Retry-After': throttleAfter },
          );
        }
        return graph(req, res, url, body);
      }
      return notFound(res, url.pathname);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  s.loginUrl = `http://127.0.0.1:${port}`;
  s.graphUrl = `http://127.0.0.1:${port}/v1.0`;
  return s;
}
