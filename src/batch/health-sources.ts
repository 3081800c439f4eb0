/**
 * Where health gates get their numbers (docs/health-gates.md, "Sources"): an SQL query on a Lava
 * connection, an HTTP GET, or a shell command. Each fetch is bounded in time and in what it reads,
 * and fails with a `SourceError` whose message holds no secret: no password, no URL userinfo or
 * query string, no header value, no command text.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { openResolved } from '../connections/api.js';
import { secretValues } from '../connections/client.js';
import { redact } from '../connections/errors.js';
import { resolveConnection } from '../connections/resolve.js';
import type { DbClient } from '../connections/types.js';
import type { Backend } from '../backends/ports.js';
import { errorMessage } from '../core/errors.js';

/** Most bytes of a command's stdout read; more fails the fetch. */
export const COMMAND_STDOUT_LIMIT = 64 * 1024;
/** Most bytes of an HTTP body read; more fails the fetch. */
export const HTTP_BODY_LIMIT = 1024 * 1024;
/** Most characters of a command's stderr kept for the error message. */
const STDERR_EXCERPT = 200;

/** A source that gave no number. The message is safe to log and to show. */
export class SourceError extends Error {}

/** `{a: 1, b: [..]}` with keys sorted at every depth: the same source always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A URL fit for messages: userinfo replaced by `***`, the query string and fragment left out. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    const auth = u.username || u.password ? '***@' : '';
    return `${u.protocol}//${auth}${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '(a malformed URL)';
  }
}

/** A number from a value a source produced: numbers, numeric strings and bigints. */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Wait for `p` at most `ms`; on timeout, call `onTimeout` and fail with `message`. */
async function within<T>(p: Promise<T>, ms: number, message: string, onTimeout: () => void = () => {}): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new SourceError(message));
    }, ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- HTTP

/** The number at a dotted path (`data.cpu`, `items.0.value`) of a parsed JSON body. */
function atPath(body: unknown, field: string): unknown {
  let v: unknown = body;
  for (const part of field.split('.')) {
    if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** Read at most `limit` bytes of a response body; more cancels the read and fails. */
async function readCapped(res: Response, limit: number, where: string): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel().catch(() => {});
    throw new SourceError(`${where}: the body is ${declared} bytes, more than the ${limit} a health source may return`);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new SourceError(`${where}: the body is more than the ${limit} bytes a health source may return`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The number an HTTP body holds: bare (`42`, or JSON `42`), or at `field` of a JSON body. */
export function numberFromBody(text: string, field: string | undefined, where: string): number {
  const trimmed = text.trim();
  if (field === undefined) {
    const n = toNumber(trimmed);
    if (n !== undefined) return n;
    throw new SourceError(`${where}: the body is not a bare number: set "field" to the dotted path of the number in a JSON body`);
  }
  let body: unknown;
  try {
    body = JSON.parse(trimmed);
  } catch {
    throw new SourceError(`${where}: the body is not JSON, so field "${field}" cannot be read`);
  }
  const v = atPath(body, field);
  if (v === undefined) throw new SourceError(`${where}: the JSON body has no field "${field}"`);
  if (v === null) throw new SourceError(`${where}: field "${field}" is null`);
  const n = toNumber(v);
  if (n === undefined) throw new SourceError(`${where}: field "${field}" is not a number (it is ${typeof v})`);
  return n;
}

/** GET the URL and read its number. Redirects are not followed (they could carry headers elsewhere). */
export async function fetchHttp(
  source: { url: string; field?: string; headers?: Record<string, string> },
  timeoutS: number,
): Promise<number> {
  const where = `GET ${safeUrl(source.url)}`;
  const secrets = Object.values(source.headers ?? {});
  const u = new URL(source.url);
  if (u.username) secrets.push(decodeURIComponent(u.username));
  if (u.password) secrets.push(decodeURIComponent(u.password));
  const headers: Record<string, string> = { ...source.headers };
  const has = (name: string) => Object.keys(headers).some((h) => h.toLowerCase() === name);
  if (!has('accept')) headers.accept = 'application/json, text/plain;q=0.9';
  // fetch() refuses URLs with userinfo: send it as Basic authentication instead.
  if ((u.username || u.password) && !has('authorization')) {
    const basic = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
    headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
    secrets.push(headers.authorization);
  }
  u.username = '';
  u.password = '';
  try {
    const res = await fetch(u, { headers, redirect: 'manual', signal: AbortSignal.timeout(timeoutS * 1000) });
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => {});
      throw new SourceError(
        `${where}: redirected (HTTP ${res.status}), and health sources do not follow redirects: use the final URL`,
      );
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new SourceError(`${where}: HTTP ${res.status}`);
    }
    return numberFromBody(await readCapped(res, HTTP_BODY_LIMIT, where), source.field, where);
  } catch (err) {
    if (err instanceof SourceError) throw err;
    const e = err as { name?: string; cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new SourceError(`${where}: no answer within ${timeoutS} s`);
    const why = e.cause?.code ?? e.cause?.message ?? errorMessage(err);
    throw new SourceError(redact(`${where}: ${why}`, secrets));
  }
}

// ---------------------------------------------------------------- command

/** The environment a command runs with: PATH, HOME and LANG only, never the dispatcher's own. */
export function commandEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH || '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME || os.tmpdir(),
    LANG: process.env.LANG || 'C.UTF-8',
  };
}

/** The last number in a text (`load: 0.42 at 12:00` → 0). */
export function lastNumber(text: string): number | undefined {
  const all = text.match(/[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?/g);
  return all ? toNumber(all.at(-1)) : undefined;
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * Run `sh -c command` in a process group of its own, with `commandEnv()`, and read the last number
 * it prints on stdout. At `timeoutS`, or past COMMAND_STDOUT_LIMIT bytes of stdout, the whole group
 * is killed. The command's text never appears in an error (it may hold a credential).
 */
export function runCommand(command: string, timeoutS: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], {
      cwd: os.tmpdir(),
      env: commandEnv(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let settled = false;
    const finish = (e: SourceError | undefined, n?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Also kills what the command left behind in its group.
      killGroup(child.pid);
      child.stdout.destroy();
      child.stderr.destroy();
      if (e) reject(e);
      else resolve(n as number);
    };
    const timer = setTimeout(
      () => finish(new SourceError(`the command did not finish within ${timeoutS} s, so it was killed`)),
      timeoutS * 1000,
    );
    child.stdout.on('data', (b: Buffer) => {
      outBytes += b.length;
      if (outBytes > COMMAND_STDOUT_LIMIT) {
        finish(
          new SourceError(`the command printed more than ${COMMAND_STDOUT_LIMIT} bytes, so it was killed: print just the number`),
        );
        return;
      }
      out.push(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      err = (err + b.toString('utf8')).slice(-4 * STDERR_EXCERPT);
    });
    child.on('error', (e) => finish(new SourceError(`cannot run sh: ${e.message}`)));
    child.on('close', (code, signal) => {
      const tail = err.trim().split('\n').at(-1)?.slice(-STDERR_EXCERPT) ?? '';
      const said = tail ? `: ${tail}` : '';
      if (code !== 0) {
        finish(new SourceError(`the command ${signal ? `was killed by ${signal}` : `exited with status ${code}`}${said}`));
        return;
      }
      const n = lastNumber(Buffer.concat(out).toString('utf8'));
      if (n === undefined) finish(new SourceError(`the command printed no number on stdout${said}`));
      else finish(undefined, n);
    });
  });
}

// ---------------------------------------------------------------- SQL

interface OpenClient {
  client: DbClient;
  secrets: string[];
}

/**
 * SQL sources of one realm: one client per source (connection id and query), opened on first use
 * and kept for later reads, so a slow query holds up no other gate's; a client whose query failed
 * or timed out is closed and opened afresh next time.
 */
export class SqlSources {
  private readonly clients = new Map<string, Promise<OpenClient>>();

  constructor(
    private readonly backend: Backend,
    private readonly realm: string,
  ) {}

  private open(key: string, connId: string): Promise<OpenClient> {
    let p = this.clients.get(key);
    if (!p) {
      p = (async () => {
        const c = await resolveConnection(connId, {
          backend: this.backend,
          realm: this.realm,
          jobId: 'health',
          applicationName: `lava-health-${this.realm}`,
        });
        return { client: await openResolved(c), secrets: secretValues(c) };
      })();
      this.clients.set(key, p);
      p.catch(() => this.clients.get(key) === p && this.clients.delete(key));
    }
    return p;
  }

  private drop(key: string, p: Promise<OpenClient>): void {
    if (this.clients.get(key) !== p) return;
    this.clients.delete(key);
    void p.then(({ client }) => client.close()).catch(() => {});
  }

  /** The first column of the first row of `query`, as a number. Rows after the first are not kept. */
  async read(source: { connection: string; query: string }, timeoutS: number): Promise<number> {
    const where = `connection "${source.connection}"`;
    const key = canonicalJson([source.connection, source.query]);
    const p = this.open(key, source.connection);
    let secrets: string[] = [];
    try {
      return await within(
        (async () => {
          const open = await p;
          secrets = open.secrets;
          let first: unknown[] | undefined;
          const res = await open.client.stream(source.query, [], {
            columns: () => {},
            row: (values) => {
              first ??= values;
            },
          });
          if (res.columns === null) throw new SourceError(`${where}: the query returned no result set: use a SELECT`);
          if (!first) throw new SourceError(`${where}: the query returned no rows`);
          const v = first[0];
          if (v === null || v === undefined) throw new SourceError(`${where}: the query's first value is NULL`);
          const n = toNumber(v);
          if (n === undefined) throw new SourceError(`${where}: the query's first value is not a number (it is ${typeof v})`);
          return n;
        })(),
        timeoutS * 1000,
        `${where}: no answer within ${timeoutS} s`,
        () => this.drop(key, p),
      );
    } catch (err) {
      if (!(err instanceof SourceError) || /no answer within/.test(err.message)) this.drop(key, p);
      if (err instanceof SourceError) throw err;
      throw new SourceError(redact(`${where}: ${errorMessage(err)}`, secrets));
    }
  }

  async close(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.allSettled(all.map(async (p) => (await p).client.close()));
  }
}
