/**
 * sharepoint (upstream §6.3): a SharePoint Online site through Microsoft Graph, as upstream's
 * `Sharepoint` class uses it.
 *
 * - Sign-in: OAuth 2.0 at `<login_url>/<tenant>/oauth2/v2.0/token` with upstream's grant: the
 *   delegated user's `user` and `password` plus the app's `client_id` and `client_secret`
 *   (`grant_type=password`); the token is refreshed (`grant_type=refresh_token`) when it is within
 *   five minutes of expiry, at most four times, as upstream does.
 * - The site: `GET /sites/<org_base_url>:/sites/<site_name>`.
 * - Document libraries are drives (`/sites/<id>/drives`), lists are `/sites/<id>/lists`; every
 *   listing follows `@odata.nextLink`.
 * - 429, 502, 503, 504 and 509 are retried up to 10 times after `Retry-After` + 10 s (+ 15 s per
 *   retry for ordinary requests), and fail when the wait would exceed 661 s; connection errors wait
 *   240 s (upstream's numbers).
 *
 * `client_secret` and `password` are secret names; their values and the access token are never put
 * in an error, a log line or a result. Beyond upstream: `login_url` and `graph_url` (national clouds).
 * Not here: `https_proxy` (Node's fetch has no proxy support without extra packages) and the
 * `lava-sharepoint` CLI connector.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { fnmatch } from '../../core/fnmatch.js';
import { formatCsvRow, parseCsv, pyStrValue, type CsvFormat } from '../csv.js';
import { ConnectionError, redact } from '../errors.js';
import { baseConnectionFields } from '../schemas.js';
import type { Connector, ResolvedConnection } from '../types.js';

export const MS_LOGIN_URL = 'https://login.microsoftonline.com';
export const MS_GRAPH_API_URL = 'https://graph.microsoft.com/v1.0';
const SCOPE = 'sites.readwrite.all Files.ReadWrite.All user.read openid profile offline_access';
export const THROTTLING_LIMIT = 10;
const THROTTLING_BACKOFF_SECONDS = 15;
const THROTTLING_MAX_DELAY = 661;
const HARD_ERROR_WAIT_SECONDS = 240;
const TOKEN_COUNT_THRESHOLD = 5;
const REQUEST_TIMEOUT_MS = 150_000;
/** Upload session fragment size (a multiple of 320 KiB, as Graph requires). */
export const UPLOAD_FRAGMENT_SIZE = 327_680;
/** Requests per JSON batch (Graph's limit is 20). */
export const BATCH_SIZE = 20;
export const RETRY_STATUS_CODES: readonly number[] = [429, 502, 503, 504, 509];

const text = (what: string) => z.string({ error: `${what} is required` }).min(1);

export const sharepointSchema = z.looseObject({
  ...baseConnectionFields,
  org_base_url: text('org_base_url (the organisation host, e.g. example.sharepoint.com)'),
  site_name: text('site_name'),
  tenant: text('tenant (the Azure AD tenant id or domain)'),
  client_id: text('client_id (the registered application id)'),
  client_secret: text('client_secret (the name of the secret holding the application secret)'),
  user: text('user (the delegated user)'),
  password: text("password (the name of the secret holding the user's password)"),
  https_proxy: z.string().optional(),
  login_url: z.url({ error: 'login_url must be a URL such as https://login.microsoftonline.com' }).optional(),
  graph_url: z.url({ error: 'graph_url must be a URL such as https://graph.microsoft.com/v1.0' }).optional(),
});

/** Seconds to wait for a Retry-After header (seconds or an HTTP date), + 10 as upstream; 15 without one. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number {
  if (header === null) return 15;
  if (/^\s*\d+\s*$/.test(header)) return Number(header) + 10;
  const t = Date.parse(header);
  return Number.isNaN(t) ? 15 : Math.round((t - now) / 1000) + 10;
}

export class SharepointError extends ConnectionError {}

export interface SharepointOptions {
  /** Waits between retries (seconds); tests record them instead of waiting. */
  sleep?: (seconds: number) => Promise<void>;
  /** Warnings (throttling); SP_LOGGING also sends every request line here. */
  log?: (message: string) => void;
  /** Log each request (method and URL, never headers or bodies): SP_LOGGING. */
  verbose?: boolean;
}

interface Column {
  type: 'standard' | 'ignore' | 'readonly' | 'hidden';
  ix: number;
  actual: string;
  dataType: string;
  required: boolean;
  lookup: boolean;
}

interface RequestOptions {
  headers?: Record<string, string>;
  body?: string | Buffer;
  ok?: readonly number[];
}

const sleepSeconds = (s: number) => new Promise<void>((r) => setTimeout(r, s * 1000));

/** Percent-encode each segment of an absolute drive path. */
function drivePath(p: string): string {
  return p
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

function absolute(p: string): void {
  if (!p.startsWith('/')) throw new SharepointError(`${p}: Absolute path required`);
}

/** An open SharePoint site. */
export class SharepointSite {
  private accessToken = '';
  private refreshToken = '';
  private tokenCount = 0;
  private tokenExpiry = 0;
  private siteId = '';
  private readonly secrets: string[];
  private readonly login: string;
  private readonly graph: string;
  private readonly sleep: (s: number) => Promise<void>;

  private constructor(
    private readonly c: ResolvedConnection,
    private readonly o: SharepointOptions,
  ) {
    const s = c.spec;
    this.login = String(s.login_url ?? MS_LOGIN_URL).replace(/\/+$/, '');
    this.graph = String(s.graph_url ?? MS_GRAPH_API_URL).replace(/\/+$/, '');
    this.secrets = Object.values(c.secrets);
    this.sleep = o.sleep ?? sleepSeconds;
  }

  /** Sign in and find the site. */
  static async open(c: ResolvedConnection, o: SharepointOptions = {}): Promise<SharepointSite> {
    if (c.connector.type !== 'sharepoint') {
      throw new SharepointError(`Must be of type "sharepoint" not "${c.type}"`);
    }
    const site = new SharepointSite(c, o);
    await site.getToken();
    const s = c.spec;
    const res = await site.request(
      `${site.graph}/sites/${String(s.org_base_url)}:/sites/${encodeURIComponent(String(s.site_name))}`,
      'GET',
      `Unable to find SharePoint site_name "${String(s.site_name)}"`,
    );
    site.siteId = String(res?.id);
    return site;
  }

  /** Nothing to release (kept for symmetry with the other connections, as upstream). */
  close(): Promise<void> {
    return Promise.resolve();
  }

  private clean(t: string): string {
    return redact(t, [...this.secrets, this.accessToken, this.refreshToken].filter(Boolean));
  }

  private async tokenRequest(url: string, form: Record<string, string>, failure: string): Promise<void> {
    let r: Response;
    try {
      r = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams(form).toString(),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      throw new SharepointError(this.clean(`${failure}: ${err instanceof Error ? err.message : String(err)}`));
    }
    const body = await r.text();
    if (r.status !== 200) throw new SharepointError(this.clean(`${failure}: Status ${r.status} "${body.slice(0, 500)}"`));
    let tok: { token_type?: string; access_token?: string; refresh_token?: string; expires_in?: number };
    try {
      tok = JSON.parse(body) as typeof tok;
    } catch {
      throw new SharepointError(`${failure}: the token endpoint did not answer JSON`);
    }
    if (tok.token_type !== 'Bearer') throw new SharepointError('Invalid token_type returned. Needs to be "Bearer"');
    this.accessToken = String(tok.access_token ?? '');
    this.refreshToken = String(tok.refresh_token ?? '');
    this.tokenExpiry = Date.now() + Math.max(Number(tok.expires_in ?? 0) - 300, 0) * 1000;
  }

  private async getToken(): Promise<void> {
    const s = this.c.spec;
    this.tokenCount = 1;
    await this.tokenRequest(
      `${this.login}/${encodeURIComponent(String(s.tenant))}/oauth2/v2.0/token`,
      {
        client_id: String(s.client_id),
        client_secret: this.c.secrets.client_secret ?? '',
        username: String(s.user),
        password: this.c.secrets.password ?? '',
        grant_type: 'password',
        scope: SCOPE,
      },
      'Invalid logon credentials',
    );
  }

  private async checkRefresh(): Promise<void> {
    if (this.tokenExpiry >= Date.now() || this.tokenCount >= TOKEN_COUNT_THRESHOLD) return;
    this.tokenCount++;
    await this.tokenRequest(
      `${this.login}/common/oauth2/v2.0/token`,
      {
        client_id: String(this.c.spec.client_id),
        client_secret: this.c.secrets.client_secret ?? '',
        refresh_token: this.refreshToken,
        grant_type: 'refresh_token',
        scope: SCOPE,
      },
      'Invalid logon credentials supplied',
    );
  }

  /**
   * One Graph request with upstream's retries. Returns the parsed JSON (null for 204, and for a
   * DELETE or PATCH answered 403/404, as upstream). `raw` returns the Response for downloads.
   */
  private async send(
    url: string,
    method: string,
    baseError: string,
    o: RequestOptions & { auth?: boolean; backoff?: boolean },
  ): Promise<Response> {
    const ok = o.ok ?? (method === 'DELETE' ? [200, 204] : method === 'GET' ? [200] : [200, 201]);
    let count = 0;
    while (count <= THROTTLING_LIMIT) {
      if (o.auth !== false) await this.checkRefresh();
      const headers: Record<string, string> = {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        ...(o.auth !== false ? { Authorization: `Bearer ${this.accessToken}` } : {}),
        ...o.headers,
      };
      if (this.o.verbose) this.o.log?.(`SharePoint: ${method} ${url.split('?')[0] as string}`);
      let r: Response;
      try {
        r = await fetch(url, {
          method,
          headers,
          ...(o.body !== undefined ? { body: o.body } : {}),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } catch (err) {
        count++;
        this.o.log?.(
          this.clean(
            `SharePoint: connection failed for the ${count} time and waiting ${HARD_ERROR_WAIT_SECONDS} seconds (${err instanceof Error ? err.message : String(err)}). base_error: ${baseError}`,
          ),
        );
        await this.sleep(HARD_ERROR_WAIT_SECONDS);
        continue;
      }
      if (ok.includes(r.status)) return r;
      if ((method === 'DELETE' || method === 'PATCH') && (r.status === 404 || r.status === 403)) return r;
      const body = await r.text().catch(() => '');
      if (RETRY_STATUS_CODES.includes(r.status)) {
        count++;
        let wait = retryAfterSeconds(r.headers.get('retry-after'));
        if (o.backoff !== false) wait += count * THROTTLING_BACKOFF_SECONDS;
        if (wait > THROTTLING_MAX_DELAY) {
          throw new SharepointError(`${baseError}: MS Graph API Throttling delay was more than ${THROTTLING_MAX_DELAY} seconds`);
        }
        this.o.log?.(
          `SharePoint: Throttled for the ${count} time and waiting ${wait} seconds. Status ${r.status}. base_error: ${baseError}`,
        );
        await this.sleep(wait);
        continue;
      }
      throw new SharepointError(this.clean(`${baseError}: Status ${r.status}: ${body.slice(0, 500)}`));
    }
    throw new SharepointError(`${baseError}: MS Graph API Throttling limit of ${THROTTLING_LIMIT} has been reached`);
  }

  private async request(
    url: string,
    method: string,
    baseError: string,
    o: RequestOptions = {},
  ): Promise<Record<string, unknown> | null> {
    const r = await this.send(url, method, baseError, o);
    if (r.status === 204 || !r.ok) return null;
    const t = await r.text();
    if (!t) return null;
    try {
      return JSON.parse(t) as Record<string, unknown>;
    } catch {
      throw new SharepointError(`${baseError}: Graph answered status ${r.status} without JSON`);
    }
  }

  /** Every `value` entry of a listing, following `@odata.nextLink`. */
  private async *pages(url: string, baseError: string): AsyncGenerator<Record<string, unknown>[]> {
    let next: string | undefined = url;
    while (next) {
      const res = await this.request(next, 'GET', baseError);
      yield (res?.value as Record<string, unknown>[] | undefined) ?? [];
      next = typeof res?.['@odata.nextLink'] === 'string' ? res['@odata.nextLink'] : undefined;
    }
  }

  private async findId(url: string, match: (v: Record<string, unknown>) => boolean, error: string): Promise<string> {
    for await (const page of this.pages(url, error)) {
      const hit = page.find(match);
      if (hit) return String(hit.id);
    }
    throw new SharepointError(error);
  }

  /** The drive id of a document library. */
  async driveId(library: string): Promise<string> {
    return this.findId(
      `${this.graph}/sites/${this.siteId}/drives`,
      (v) => v.driveType === 'documentLibrary' && v.name === library,
      `Unable to find SharePoint documentLibrary "${library}"`,
    );
  }

  /** The id of a list (generic lists, and issue tracking ones when `tracking`). */
  async listId(name: string, tracking: boolean): Promise<string> {
    const templates = tracking ? ['genericList', 'issueTracking'] : ['genericList'];
    return this.findId(
      `${this.graph}/sites/${this.siteId}/lists`,
      (v) => v.name === name && templates.includes(String((v.list as Record<string, unknown> | undefined)?.template)),
      `Unable to find SharePoint list "${name}"`,
    );
  }

  private async download(driveId: string, itemId: string, outFile: string): Promise<void> {
    const r = await this.send(`${this.graph}/drives/${driveId}/items/${itemId}/content`, 'GET', 'Download failed', {
      headers: { 'Content-Type': 'application/octet-stream', Accept: 'application/octet-stream' },
      backoff: false,
    });
    if (!r.body) throw new SharepointError('Download failed: no content');
    await pipeline(Readable.fromWeb(r.body), fs.createWriteStream(outFile));
  }

  /** Download a document; returns its Title (undefined when it has none). */
  async getDoc(library: string, docPath: string, outFile: string): Promise<string | undefined> {
    absolute(docPath);
    const drive = await this.driveId(library);
    const item = await this.request(`${this.graph}/drives/${drive}/root:${drivePath(docPath)}`, 'GET', 'Download failed');
    const id = String(item?.id);
    await this.download(drive, id, outFile);
    const fields = await this.request(`${this.graph}/drives/${drive}/items/${id}/listitem/fields`, 'GET', 'Download failed');
    const title = fields?.Title;
    return typeof title === 'string' ? title : undefined;
  }

  /** Download the files (not folders) of a folder whose lower-cased names match `glob` (lower-cased). */
  async getMultiDoc(library: string, folder: string, outDir: string, glob?: string): Promise<string[]> {
    absolute(folder);
    const drive = await this.driveId(library);
    const p = folder === '/' ? folder : folder.replace(/\/+$/, '') || '/';
    const url = p === '/' ? `${this.graph}/drives/${drive}/root` : `${this.graph}/drives/${drive}/root:${drivePath(p)}`;
    const item = await this.request(url, 'GET', `Path "${p}" in Sharepoint documentLibrary "${library}" does not exist`);
    if (!item || !('folder' in item)) {
      throw new SharepointError(`Path "${p}" in Sharepoint documentLibrary "${library}" is not a folder`);
    }
    const files: string[] = [];
    const g = glob?.toLowerCase();
    const children = `${this.graph}/drives/${drive}/items/${String(item.id)}/children`;
    for await (const page of this.pages(children, `Unable to list drive items with id "${drive}" and path "${p}"`)) {
      for (const x of page) {
        const name = String(x.name);
        if ('folder' in x) continue;
        if (g !== undefined && !fnmatch(name.toLowerCase(), g)) continue;
        if (name !== path.basename(name) || name === '..' || name === '.') {
          throw new SharepointError(`Download failed: unsafe file name ${JSON.stringify(name)} in "${p}"`);
        }
        await this.download(drive, String(x.id), path.join(outDir, name));
        files.push(name);
      }
    }
    return files;
  }

  /** Upload a document through an upload session (any size); then set its Title if given. */
  async putDoc(library: string, docPath: string, srcFile: string, title?: string): Promise<void> {
    absolute(docPath);
    const size = (await fsp.stat(srcFile)).size;
    const drive = await this.driveId(library);
    let itemId: string;
    if (size === 0) {
      // An upload session needs at least one byte: an empty file is a simple upload.
      const r = await this.request(`${this.graph}/drives/${drive}/root:${drivePath(docPath)}:/content`, 'PUT', 'Upload failed', {
        headers: { 'Content-Type': 'application/octet-stream' },
        body: Buffer.alloc(0),
      });
      itemId = String(r?.id);
    } else {
      const session = await this.request(
        `${this.graph}/drives/${drive}/root:${drivePath(docPath)}:/createUploadSession`,
        'POST',
        'Upload failed',
        { body: JSON.stringify({ item: { '@microsoft.graph.conflictBehavior': 'replace' } }) },
      );
      const uploadUrl = String(session?.uploadUrl);
      const fh = await fsp.open(srcFile, 'r');
      let last: Record<string, unknown> | null = null;
      try {
        for (let start = 0; start < size; start += UPLOAD_FRAGMENT_SIZE) {
          const buf = Buffer.alloc(Math.min(UPLOAD_FRAGMENT_SIZE, size - start));
          await fh.read(buf, 0, buf.length, start);
          // The upload URL carries its own authorisation: no Authorization header (Graph's rule).
          const r = await this.send(uploadUrl, 'PUT', 'Upload failed', {
            auth: false,
            backoff: false,
            ok: [200, 201, 202],
            headers: {
              'Content-Type': 'application/octet-stream',
              'Content-Range': `bytes ${start}-${start + buf.length - 1}/${size}`,
            },
            body: buf,
          });
          const t = await r.text();
          last = t ? (JSON.parse(t) as Record<string, unknown>) : null;
        }
      } finally {
        await fh.close();
      }
      itemId = String(last?.id);
    }
    if (title) {
      await this.request(`${this.graph}/drives/${drive}/items/${itemId}/listitem/fields`, 'PATCH', 'Upload failed', {
        body: JSON.stringify({ Title: title }),
      });
    }
  }

  /** A list's columns by lower-cased name (person/group columns also as `<name>lookupid`). */
  private async columns(listId: string, baseError: string): Promise<Map<string, Column>> {
    const res = await this.request(`${this.graph}/sites/${this.siteId}/lists/${listId}?$expand=columns`, 'GET', baseError);
    const out = new Map<string, Column>();
    ((res?.columns as Record<string, unknown>[] | undefined) ?? []).forEach((x, ix) => {
      const name = String(x.name);
      const type: Column['type'] =
        (x.columnGroup ?? 'N') === '_Hidden' || name === 'Attachments'
          ? 'ignore'
          : (x.readOnly ?? true)
            ? 'readonly'
            : (x.hidden ?? true)
              ? 'hidden'
              : 'standard';
      let dataType = 'notype';
      for (const [k, v] of Object.entries(x)) {
        if (v && typeof v === 'object' && !Array.isArray(v) && k.toLowerCase() !== 'defaultvalue') dataType = k.toLowerCase();
      }
      const lookup = dataType.startsWith('personorgroup');
      const col = { type, ix, actual: name, dataType, required: x.required === true, lookup };
      out.set(name.toLowerCase(), col);
      if (lookup) out.set(`${name.toLowerCase()}lookupid`, { ...col, actual: `${name}LookupId` });
    });
    return out;
  }

  /** Write a list as CSV; returns the number of rows plus one (upstream counts the header line, written or not). */
  async getList(
    name: string,
    outFile: string,
    o: { systemColumns?: string; dataColumns?: string; header: boolean; format: CsvFormat },
  ): Promise<number> {
    const uniq = (xs: string[]) => xs.filter((x, i) => xs.indexOf(x) === i);
    const sys = o.systemColumns
      ? uniq(
          o.systemColumns
            .toLowerCase()
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean)
            .map((x) => (x === 'id' ? 'ID' : x)),
        )
      : [];
    const listId = await this.listId(name, true);
    const ft = await this.columns(listId, `Unable to list items on SharePoint list '${name}'`);
    const usable = (x: string) => {
      const f = ft.get(x);
      return !!f && f.type === 'standard' && (x.endsWith('lookupid') ? f.lookup : true);
    };
    let data = o.dataColumns
      ? uniq(
          o.dataColumns
            .toLowerCase()
            .split(',')
            .map((x) => x.trim())
            .filter((x) => x && ft.has(x)),
        ).filter(usable)
      : [];
    if (!data.length) data = [...ft.keys()].filter(usable);
    const cols = [...data, ...sys.filter((x) => x === 'ID' || ['readonly', 'hidden'].includes(ft.get(x)?.type ?? ''))].map((x) =>
      x === 'ID' ? x : (ft.get(x) as Column).actual,
    );
    const base = `Unable to list items on SharePoint list "${name}"`;
    const url = `${this.graph}/sites/${this.siteId}/lists/${listId}/items?$expand=fields($select=${cols.join(',')})`;
    const out = fs.createWriteStream(outFile, { encoding: 'utf8' });
    let rows = 0;
    try {
      if (o.header) out.write(formatCsvRow(cols, o.format));
      for await (const page of this.pages(url, base)) {
        for (const item of page) {
          const fields = (item.fields ?? {}) as Record<string, unknown>;
          const row = cols.map((c) =>
            c.toLowerCase() === 'id' ? String(item.id) : fields[c] === null ? 'None' : pyStrValue(fields[c]),
          );
          out.write(formatCsvRow(row, o.format));
          rows++;
        }
      }
    } finally {
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    }
    return rows + 1;
  }

  /** Run requests as JSON batches of 20, retrying throttled ones; returns the failures. */
  private async batch(requests: Array<Record<string, unknown>>, baseError: string): Promise<string[]> {
    const errors: string[] = [];
    for (let i = 0; i < requests.length; i += BATCH_SIZE) {
      let pending = requests.slice(i, i + BATCH_SIZE);
      let count = 0;
      while (pending.length) {
        const res = await this.request(`${this.graph}/$batch`, 'POST', baseError, {
          body: JSON.stringify({ requests: pending }),
        });
        const responses =
          (res?.responses as Array<{ id: string; status: number; headers?: Record<string, string>; body?: unknown }>) ?? [];
        const retry: typeof pending = [];
        let wait = 0;
        for (const r of responses) {
          if (RETRY_STATUS_CODES.includes(r.status)) {
            const req = pending.find((p) => p.id === r.id);
            if (req) retry.push(req);
            const h = r.headers ?? {};
            wait = Math.max(wait, retryAfterSeconds(h['Retry-After'] ?? h['retry-after'] ?? null));
          } else if (
            r.status >= 400 &&
            !((r.status === 404 || r.status === 403) && pending.find((p) => p.id === r.id)?.method === 'DELETE')
          ) {
            errors.push(this.clean(`request ${r.id}: Status ${r.status}: ${JSON.stringify(r.body ?? null).slice(0, 300)}`));
          }
        }
        if (!retry.length) break;
        count++;
        if (count > THROTTLING_LIMIT)
          throw new SharepointError(`${baseError}: MS Graph API Throttling limit of ${THROTTLING_LIMIT} has been reached`);
        wait += count * THROTTLING_BACKOFF_SECONDS;
        if (wait > THROTTLING_MAX_DELAY) {
          throw new SharepointError(`${baseError}: MS Graph API Throttling delay was more than ${THROTTLING_MAX_DELAY} seconds`);
        }
        this.o.log?.(`SharePoint: Throttled batch for the ${count} time and waiting ${wait} seconds. base_error: ${baseError}`);
        await this.sleep(wait);
        pending = retry;
      }
    }
    return errors;
  }

  /** Write a CSV file (with a header) to a list; returns the number of data rows. */
  async putList(
    name: string,
    srcFile: string,
    o: { mode: string; errorMissing: boolean; dataColumns?: string; format: CsvFormat },
  ): Promise<number> {
    const mode = o.mode;
    if (!['append', 'replace', 'update', 'delete'].includes(mode)) throw new SharepointError(`Invalid mode: ${mode}`);
    const listId = await this.listId(name, false);
    const ft = await this.columns(listId, `Unable to list items on SharePoint list "${name}"`);
    const usable = (x: string) => {
      const f = ft.get(x);
      return !!f && f.type === 'standard' && (x.endsWith('lookupid') ? f.lookup : !f.lookup);
    };
    let data = o.dataColumns
      ? o.dataColumns
          .toLowerCase()
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x && usable(x))
      : [];
    if (!data.length) data = [...ft.keys()].filter(usable);
    const records = parseCsv(await fsp.readFile(srcFile, 'utf8'), o.format);
    const first = records.next();
    if (first.done) throw new SharepointError(`${srcFile}: empty file: a header line is required`);
    const header = first.value;
    const idCol = header.findIndex((h) => h.toLowerCase() === 'id');
    const mapped = header
      .map((h, i) => ({ i, src: h.toLowerCase(), f: ft.get(h.toLowerCase()) }))
      .filter((m): m is { i: number; src: string; f: Column } => !!m.f)
      .sort((a, b) => a.f.ix - b.f.ix || a.i - b.i);
    const lower = header.map((h) => h.toLowerCase());
    const missing = [...ft.entries()]
      .filter(([x, f]) => f.type === 'standard' && f.required && (x.endsWith('lookupid') ? f.lookup : true))
      .map(([x]) => x)
      .filter((x) => !lower.includes(x));
    if (missing.length && (mode === 'append' || mode === 'replace')) {
      throw new SharepointError(`Missing required column: ${missing.join(', ')} must be present in header`);
    }
    const nonExisting = header.filter((h) => !ft.has(h.toLowerCase()));
    if (nonExisting.length && o.errorMissing) {
      throw new SharepointError(`Columns present in file but not in SharePoint list: ${nonExisting.join(', ')}`);
    }
    if (nonExisting.length) this.o.log?.(`SharePoint: columns not in list "${name}" are ignored: ${nonExisting.join(', ')}`);
    if ((mode === 'update' || mode === 'delete') && idCol === -1) {
      throw new SharepointError(`Missing column: Mode ${mode} requires ID column to be present in header`);
    }
    if (mode === 'replace') await this.deleteAllItems(listId, name);
    const site = `/sites/${this.siteId}/lists/${listId}`;
    const requests: Array<Record<string, unknown>> = [];
    let n = 0;
    for (const r of records) {
      const id = String(n);
      if (mode === 'append' || mode === 'replace') {
        const fields: Record<string, unknown> = {};
        for (const m of mapped) {
          if (!data.includes(m.src)) continue;
          const raw = r[m.i] ?? '';
          if (raw.trim() === '') continue;
          let v: unknown = raw;
          const c = raw.trim().toLowerCase()[0] ?? '';
          if (m.f.dataType === 'boolean') v = '0nf'.includes(c) ? false : '1yt'.includes(c) ? true : raw;
          fields[m.f.actual] = v;
        }
        requests.push({
          id,
          method: 'POST',
          url: `${site}/items`,
          body: { fields },
          headers: { 'Content-Type': 'application/json' },
        });
      } else if (mode === 'delete') {
        requests.push({ id, method: 'DELETE', url: `${site}/items/${encodeURIComponent(r[idCol] ?? '')}` });
      } else {
        const body: Record<string, unknown> = {};
        for (const m of mapped) {
          if (!data.includes(m.src)) continue;
          const raw = r[m.i] ?? '';
          body[m.f.actual] = raw.trim() === '' ? null : raw;
        }
        requests.push({
          id,
          method: 'PATCH',
          url: `${site}/items/${encodeURIComponent(r[idCol] ?? '')}/fields`,
          body,
          headers: { 'Content-Type': 'application/json' },
        });
      }
      n++;
    }
    const errors = await this.batch(requests, `Write to list ${name}`);
    if (errors.length) {
      throw new SharepointError(`Unable to write to list "${name}" as mode "${mode}". Batch errors: ${errors.join('; ')}`);
    }
    return n;
  }

  /** Delete every item of a list (in batches). */
  async deleteAllItems(listId: string, name: string): Promise<void> {
    const ids: string[] = [];
    for await (const page of this.pages(
      `${this.graph}/sites/${this.siteId}/lists/${listId}/items`,
      `Unable to list items on SharePoint list "${name}"`,
    )) {
      for (const v of page) ids.push(String(v.id));
    }
    const errors = await this.batch(
      ids.map((id, i) => ({ id: String(i), method: 'DELETE', url: `/sites/${this.siteId}/lists/${listId}/items/${id}` })),
      `Unable to delete all items on SharePoint list "${name}"`,
    );
    if (errors.length) throw new SharepointError(`Unable to delete all items on SharePoint list "${name}": ${errors.join('; ')}`);
  }
}

export const sharepointConnector: Connector = {
  type: 'sharepoint',
  aliases: [],
  dialect: 'generic',
  schema: sharepointSchema,
  required: ['org_base_url', 'site_name', 'tenant', 'client_id', 'client_secret', 'user', 'password'],
  secretFields: ['client_secret', 'password'],
  check(spec) {
    return spec.https_proxy !== undefined
      ? [
          'https_proxy is not supported by Lava for TypeScript (no proxy support in its HTTP client): remove it, or reach Graph directly',
        ]
      : [];
  },
  async test(c) {
    const site = await SharepointSite.open(c);
    await site.close();
    return `${c.connId} (sharepoint): signed in as ${String(c.spec.user)} and found site ${String(c.spec.site_name)}`;
  },
  writeCli(c) {
    return Promise.reject(
      new ConnectionError(
        `sharepoint connection "${c.connId}": the lava-sharepoint CLI connector is not in this build: use the sharepoint_* job types`,
      ),
    );
  },
};
