/**
 * Health gates (src/batch/health.ts, docs/health-gates.md) against real sources: a local HTTP server
 * whose metric changes, real `sh` commands, a SQLite file connection and a throwaway PostgreSQL.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  allowedInFlight,
  DEFAULT_FACTORS,
  HealthMonitor,
  levelOf,
  parseGates,
  type HealthGate,
  type HealthLevel,
  type HealthReading,
} from '../../src/batch/health.js';
import { ValidationError } from '../../src/core/errors.js';
import { createLogger, type Logger } from '../../src/core/logger.js';
import { alive, makeRealm, type TestRealm } from '../helpers.js';
import { adminQuery, pgSkipReason, startThrowawayPostgres, type PgServer } from '../support/pg.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const lower = (thresholds: HealthGate['thresholds']): HealthGate => ({
  name: 'g',
  source: { command: 'echo 0' },
  direction: 'lower_is_better',
  thresholds,
});
const higher = (thresholds: HealthGate['thresholds']): HealthGate => ({ ...lower(thresholds), direction: 'higher_is_better' });

/** The issues of the ValidationError `fn` throws. */
function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return [...(err as ValidationError).issues];
  }
  throw new Error('expected a ValidationError');
}

function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    json: true,
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    }),
  });
  return { logger, lines };
}

/** A clock tests move by hand. */
function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('levelOf', () => {
  it('lower_is_better: the highest level whose threshold the value is at or under; past the worst is 0', () => {
    const g = lower({ 4: 50, 3: 70, 2: 85, 1: 95 });
    const table: [number, HealthLevel][] = [
      [-5, 4],
      [10, 4],
      [50, 4],
      [50.01, 3],
      [70, 3],
      [71, 2],
      [85, 2],
      [90, 1],
      [95, 1],
      [95.5, 0],
      [1e9, 0],
    ];
    for (const [value, level] of table) expect([value, levelOf(g, value)]).toEqual([value, level]);
  });

  it('higher_is_better works (sosw could not pass validation with ge/gt and positive thresholds)', () => {
    const g = higher({ 4: 1000, 3: 500, 2: 200, 1: 100 });
    const table: [number, HealthLevel][] = [
      [5000, 4],
      [1000, 4],
      [999, 3],
      [500, 3],
      [200, 2],
      [150, 1],
      [100, 1],
      [99, 0],
      [0, 0],
      [-1, 0],
    ];
    for (const [value, level] of table) expect([value, levelOf(g, value)]).toEqual([value, level]);
    // It passes validation too.
    expect(parseGates([{ ...g, name: 'free' }])[0]).toEqual({ ...g, name: 'free' });
  });

  it('negative thresholds, levels left out, and values that are not numbers', () => {
    const temp = higher({ 4: -10, 2: -30 });
    expect([levelOf(temp, -5), levelOf(temp, -20), levelOf(temp, -30), levelOf(temp, -31)]).toEqual([4, 2, 2, 0]);
    const sparse = lower({ 3: 10, 1: 20 });
    expect([levelOf(sparse, 0), levelOf(sparse, 15), levelOf(sparse, 21)]).toEqual([3, 1, 0]);
    expect(levelOf(lower({ 4: 50 }), NaN)).toBe(0);
    expect(levelOf(higher({ 4: 50 }), Infinity)).toBe(0);
  });
});

describe('allowedInFlight', () => {
  const reading = (level: HealthLevel, factor = DEFAULT_FACTORS[level]): HealthReading => ({ level, factor, gates: [] });
  it('is floor(cap × factor) with the default factors', () => {
    expect(DEFAULT_FACTORS).toEqual({ 0: 0, 1: 0, 2: 0.5, 3: 0.75, 4: 1 });
    expect(([4, 3, 2, 1, 0] as const).map((l) => allowedInFlight(10, reading(l)))).toEqual([10, 7, 5, 0, 0]);
    expect(allowedInFlight(7, reading(3))).toBe(5);
    expect(allowedInFlight(1, reading(2))).toBe(0);
    expect(allowedInFlight(100, reading(3, 0.29))).toBe(29); // 0.29 × 100 is 28.999… in floating point
    expect(allowedInFlight(0, reading(4))).toBe(0);
  });
  it('a monitor with its own factors', async () => {
    const t = await makeRealm();
    try {
      const m = new HealthMonitor({ realm: 'test', backend: t.backend, factors: { 1: 0.25, 3: 0.5 } });
      const r = await m.read([{ ...lower({ 4: 10, 3: 20, 1: 40 }), source: { command: 'echo 35' } }]);
      expect([r.level, r.factor, allowedInFlight(8, r)]).toEqual([1, 0.25, 2]);
      expect((await m.read([])).level).toBe(4);
      await m.close();
      expect(() => new HealthMonitor({ realm: 'test', backend: t.backend, factors: { 2: 1.5 } })).toThrow(
        /factors\.2: must be a number from 0 to 1/,
      );
    } finally {
      await t.close();
    }
  });
});

describe('parseGates', () => {
  const good = {
    name: 'cpu',
    source: { http: { url: 'http://127.0.0.1:1/m', field: 'data.cpu' } },
    direction: 'lower_is_better',
    thresholds: { 4: 50, 3: 70, 2: 85, 1: 95 },
  };

  it('accepts a valid list, and none', () => {
    expect(parseGates(undefined)).toEqual([]);
    expect(parseGates(null)).toEqual([]);
    expect(parseGates([good, { ...good, name: 'cpu2', on_no_data: 'closed', hold_seconds: 0, timeout: 2.5 }])).toEqual([
      { ...good, thresholds: { 1: 95, 2: 85, 3: 70, 4: 50 } },
      { ...good, name: 'cpu2', on_no_data: 'closed', hold_seconds: 0, timeout: 2.5 },
    ]);
  });

  it('refuses non-monotone thresholds, naming the path, in both directions', () => {
    const issues = issuesOf(() => parseGates([good, { ...good, name: 'b', thresholds: { 4: 50, 3: 90, 2: 85 } }]));
    expect(issues).toEqual([
      expect.stringMatching(
        /^health\[1\]\.thresholds\.3: 90 must be lower than level 2's 85, because the direction is lower_is_better/,
      ),
    ]);
    const up = issuesOf(() =>
      parseGates([{ ...good, direction: 'higher_is_better', thresholds: { 4: 100, 3: 200 } }], 'job.health'),
    );
    expect(up).toEqual([expect.stringMatching(/^job\.health\[0\]\.thresholds\.4: 100 must be higher than level 3's 200/)]);
    // Equal thresholds make the lower level unreachable.
    expect(issuesOf(() => parseGates([{ ...good, thresholds: { 4: 50, 3: 50 } }]))[0]).toMatch(
      /^health\[0\]\.thresholds\.4: 50 must be lower/,
    );
  });

  it('names every problem with its path and the fix', () => {
    const issues = issuesOf(() =>
      parseGates([
        { ...good, direction: 'le' },
        { ...good, name: 'cpu', thresholds: { 0: 1, 5: 2, 3: 'x' } },
        { name: '', source: { cloudwatch: {} }, direction: 'up', thresholds: {}, onNoData: 'open' },
        { ...good, name: 'two', source: { command: 'echo 1', http: { url: 'http://x/' } } },
        { ...good, name: 'bad-url', source: { http: { url: 'ftp://host/x', field: 'a..b', extra: 1 } } },
        { ...good, name: 'np', on_no_data: 'maybe', hold_seconds: -1, timeout: 0 },
        { ...good, name: 'sql', source: { sql: { connection: '', query: 7 } } },
        'not a map',
      ]),
    );
    const expected = [
      /^health\[0\]\.direction: "le" is not a direction: use lower_is_better$/,
      /^health\[1\]\.thresholds\.0: not a level: use 1 \(Poor\)/,
      /^health\[1\]\.thresholds\.5: not a level/,
      /^health\[1\]\.thresholds\.3: must be a finite number, not "x"/,
      /^health\[1\]\.name: "cpu" is also the name of health\[0\]/,
      /^health\[2\]\.onNoData: unknown field: use on_no_data/,
      /^health\[2\]\.name: must be a non-empty string/,
      /^health\[2\]\.source: unknown source cloudwatch \(CloudWatch is not a source/,
      /^health\[2\]\.direction: "up" is not a direction: use lower_is_better \(CPU/,
      /^health\[2\]\.thresholds: must be a map of level \(1 to 4\) to threshold/,
      /^health\[3\]\.source: has command and http: give exactly one of sql/,
      /^health\[4\]\.source\.http: unknown field\(s\) extra/,
      /^health\[4\]\.source\.http\.url: the scheme is ftp: use http or https/,
      /^health\[4\]\.source\.http\.field: must be a dotted path/,
      /^health\[5\]\.on_no_data: "maybe" is not a policy: use hold, open or closed/,
      /^health\[5\]\.hold_seconds: must be a number of seconds, from 0/,
      /^health\[5\]\.timeout: must be a number of seconds, more than 0/,
      /^health\[6\]\.source\.sql\.connection: must be a connection id/,
      /^health\[6\]\.source\.sql\.query: must be a query/,
      /^health\[7\]: must be a map/,
    ];
    for (const re of expected)
      expect(
        issues.some((i) => re.test(i)),
        `${re} in\n${issues.join('\n')}`,
      ).toBe(true);
    expect(issues).toHaveLength(expected.length);
    expect(issuesOf(() => parseGates({ a: 1 }))).toEqual([expect.stringMatching(/^health: must be a list of gates/)]);
  });

  it('never echoes a header value or URL userinfo', () => {
    const issues = issuesOf(() =>
      parseGates([
        {
          ...good,
          source: { http: { url: 'http://u:Pw-Secret-91@[bad', headers: { 'X-Token': 'Hdr-Secret-77\n', 'bad name': 'v' } } },
        },
      ]),
    );
    const text = issues.join('\n');
    expect(text).toMatch(/health\[0\]\.source\.http\.url: .* is not a URL/);
    expect(text).toMatch(/health\[0\]\.source\.http\.headers\.X-Token: the value may not contain CR, LF or NUL/);
    expect(text).toMatch(/"bad name" is not a header name/);
    expect(text).not.toMatch(/Pw-Secret-91|Hdr-Secret-77/);
  });
});

describe('docs/health-gates.md', () => {
  it('the worked example parses, and its table holds', () => {
    const page = fs.readFileSync(path.join(ROOT, 'docs/health-gates.md'), 'utf8');
    const example = page.slice(page.indexOf('### Worked example'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(example)?.[1];
    expect(yaml).toBeTruthy();
    const gates = parseGates((parseYaml(yaml as string) as { health: unknown }).health);
    expect(gates.map((g) => g.name)).toEqual(['replica-lag', 'free-disk-gb', 'api-p95-ms']);
    const rows = [...example.matchAll(/^\| ([\w-]+) \| ([\d.]+) \| (\d) \|$/gm)];
    expect(rows).toHaveLength(3);
    let min = 4;
    for (const [, name, value, level] of rows) {
      const gate = gates.find((g) => g.name === name) as HealthGate;
      expect([name, levelOf(gate, Number(value))]).toEqual([name, Number(level)]);
      min = Math.min(min, Number(level));
    }
    const cap = Number(/a cap of (\d+) admits (\d+) tasks/.exec(example)?.[1]);
    const admits = Number(/a cap of (\d+) admits (\d+) tasks/.exec(example)?.[2]);
    expect(allowedInFlight(cap, { level: min as HealthLevel, factor: DEFAULT_FACTORS[min as HealthLevel], gates: [] })).toBe(
      admits,
    );
  });
});

/** A metric server: `metric` is served at /bare (text) and /json (`{data: {cpu}}`); every path's hits are counted. */
class MetricServer {
  metric: number | 'fail' = 10;
  hits = new Map<string, number>();
  lastHeaders: http.IncomingHttpHeaders = {};
  private server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    this.hits.set(url.pathname, (this.hits.get(url.pathname) ?? 0) + 1);
    this.lastHeaders = req.headers;
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (this.metric === 'fail') return send(503, 'down');
    switch (url.pathname) {
      case '/bare':
        return send(200, `${this.metric}\n`, 'text/plain');
      case '/json':
        return send(200, JSON.stringify({ data: { cpu: this.metric, note: 'x' } }));
      case '/slow':
        return void setTimeout(() => send(200, '1'), 3000).unref();
      case '/auth':
        return req.headers['x-token'] === 'Hdr-Secret-77' ? send(200, '3') : send(401, 'no');
      case '/basic':
        return req.headers.authorization === `Basic ${Buffer.from('user:Pw-Secret-91').toString('base64')}`
          ? send(200, '4')
          : send(401, 'no');
      case '/big':
        res.writeHead(200, { 'content-type': 'text/plain' });
        // Streamed without a content-length: the reader must stop on its own.
        for (let i = 0; i < 40; i++) res.write('0'.repeat(64 * 1024));
        return void res.end('1');
      case '/redirect':
        res.writeHead(302, { location: '/bare' });
        return void res.end();
      case '/notjson':
        return send(200, '{"data": {"cpu": "high"}}');
      default:
        return send(404, 'no');
    }
  });
  url = '';
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('HealthMonitor', () => {
  let t: TestRealm;
  let srv: MetricServer;
  const monitors: HealthMonitor[] = [];
  const monitor = (o: Partial<ConstructorParameters<typeof HealthMonitor>[0]> = {}) => {
    const m = new HealthMonitor({ realm: 'test', backend: t.backend, ...o });
    monitors.push(m);
    return m;
  };
  beforeAll(async () => {
    t = await makeRealm();
    srv = new MetricServer();
    await srv.start();
  });
  afterAll(async () => {
    await srv.stop();
    await t.close();
  });
  beforeEach(() => {
    srv.metric = 10;
    srv.hits.clear();
  });
  afterEach(async () => {
    await Promise.all(monitors.splice(0).map((m) => m.close()));
  });

  const cpu = (over: Partial<HealthGate> = {}): HealthGate => ({
    name: 'cpu',
    source: { http: { url: `${srv.url}/json`, field: 'data.cpu' } },
    direction: 'lower_is_better',
    thresholds: { 4: 50, 3: 70, 2: 85, 1: 95 },
    ...over,
  });

  describe('HTTP', () => {
    it('levels follow a metric that changes over time (4 → 2 → 0 → 4), JSON field and bare number', async () => {
      const c = clock();
      const m = monitor({ now: c.now, cacheMs: 1000 });
      const gates = [cpu(), cpu({ name: 'bare', source: { http: { url: `${srv.url}/bare` } } })];
      const seen: [HealthLevel, (number | null)[]][] = [];
      for (const v of [10, 80, 99, 20]) {
        srv.metric = v;
        c.t += 1000;
        const r = await m.read(gates);
        seen.push([r.level, r.gates.map((g) => g.value)]);
        expect(r.gates.every((g) => g.error === undefined)).toBe(true);
      }
      expect(seen).toEqual([
        [4, [10, 10]],
        [2, [80, 80]],
        [0, [99, 99]],
        [4, [20, 20]],
      ]);
      expect([srv.hits.get('/json'), srv.hits.get('/bare')]).toEqual([4, 4]);
      const r = await m.read([cpu()]);
      expect(r).toEqual({ level: 4, factor: 1, gates: [{ name: 'cpu', value: 20, level: 4 }] });
    });

    it('a slow server hits the timeout: no data, within the timeout', async () => {
      const m = monitor();
      const started = Date.now();
      const r = await m.read([cpu({ source: { http: { url: `${srv.url}/slow` } }, timeout: 0.3, on_no_data: 'closed' })]);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(r.gates[0]).toEqual({
        name: 'cpu',
        value: null,
        level: 0,
        error: expect.stringMatching(/\/slow: no answer within 0\.3 s$/),
      });
    });

    it('bad bodies, statuses, redirects and bodies over 1 MiB are no data with a reason', async () => {
      const m = monitor();
      const gate = (name: string, p: string, field?: string) =>
        cpu({ name, on_no_data: 'closed', source: { http: { url: `${srv.url}${p}`, ...(field ? { field } : {}) } } });
      const r = await m.read([
        gate('big', '/big'),
        gate('redirect', '/redirect'),
        gate('missing', '/nope'),
        gate('json-bare', '/json'),
        gate('no-field', '/json', 'data.mem'),
        gate('not-number', '/notjson', 'data.cpu'),
      ]);
      const errors = Object.fromEntries(r.gates.map((g) => [g.name, g.error]));
      expect(errors).toEqual({
        big: expect.stringMatching(/body is more than the 1048576 bytes/),
        redirect: expect.stringMatching(/redirected \(HTTP 302\).*use the final URL/),
        missing: expect.stringMatching(/\/nope: HTTP 404$/),
        'json-bare': expect.stringMatching(/not a bare number: set "field"/),
        'no-field': expect.stringMatching(/has no field "data\.mem"/),
        'not-number': expect.stringMatching(/field "data\.cpu" is not a number/),
      });
      expect(r.level).toBe(0);
      expect(r.gates.every((g) => g.value === null && g.level === 0)).toBe(true);
    });

    it('headers and URL userinfo are sent, and never appear in errors or logs', async () => {
      const { logger, lines } = captureLogger();
      const m = monitor({ logger });
      const ok = await m.read([
        cpu({ name: 'hdr', source: { http: { url: `${srv.url}/auth`, headers: { 'X-Token': 'Hdr-Secret-77' } } } }),
        cpu({
          name: 'basic',
          source: { http: { url: srv.url.replace('//', '//user:Pw-Secret-91@') + '/basic?key=Query-Secret-3' } },
        }),
      ]);
      expect(ok.gates.map((g) => [g.value, g.error])).toEqual([
        [3, undefined],
        [4, undefined],
      ]);
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const closedPort = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const bad = await m.read([
        cpu({ name: 'hdr', source: { http: { url: `${srv.url}/auth`, headers: { 'X-Token': 'Hdr-Secret-78' } } } }),
        cpu({
          name: 'basic',
          source: { http: { url: srv.url.replace('//', '//user:Pw-Secret-92@') + '/basic?key=Query-Secret-3' } },
        }),
        cpu({
          name: 'refused',
          source: {
            http: { url: `http://user:Pw-Secret-93@127.0.0.1:${closedPort}/x`, headers: { 'X-Token': 'Hdr-Secret-79' } },
          },
        }),
      ]);
      expect(bad.gates.map((g) => g.error)).toEqual([
        expect.stringMatching(/\/auth: HTTP 401$/),
        expect.stringMatching(/^GET http:\/\/\*\*\*@127\.0\.0\.1:\d+\/basic\?…: HTTP 401$/),
        expect.stringMatching(/^GET http:\/\/\*\*\*@127\.0\.0\.1:\d+\/x: ECONNREFUSED$/),
      ]);
      const all = JSON.stringify(bad) + lines.join('\n');
      expect(lines.some((l) => /no data/.test(l))).toBe(true);
      expect(all).not.toMatch(/Secret/);
    });
  });

  describe('no data', () => {
    it('hold keeps the last value while younger than hold_seconds, then closes; open and closed', async () => {
      const c = clock();
      const { logger, lines } = captureLogger();
      const m = monitor({ now: c.now, cacheMs: 1000, logger });
      const gates = [
        cpu({ name: 'hold', hold_seconds: 60 }),
        cpu({ name: 'open', on_no_data: 'open' }),
        cpu({ name: 'closed', on_no_data: 'closed' }),
      ];
      srv.metric = 65;
      let r = await m.read(gates);
      expect(r.gates.map((g) => [g.name, g.level, g.value])).toEqual([
        ['hold', 3, 65],
        ['open', 3, 65],
        ['closed', 3, 65],
      ]);
      srv.metric = 'fail';
      c.t += 30_000;
      r = await m.read(gates);
      const error = expect.stringMatching(/\/json: HTTP 503$/);
      expect(r.gates).toEqual([
        { name: 'hold', value: 65, level: 3, held: true, error },
        { name: 'open', value: null, level: 4, error },
        { name: 'closed', value: null, level: 0, error },
      ]);
      expect(r.level).toBe(0);
      c.t += 30_000; // 60 s after the last value: still held
      expect((await m.read([gates[0] as HealthGate])).gates[0]).toMatchObject({ level: 3, held: true });
      c.t += 1_001;
      expect((await m.read([gates[0] as HealthGate])).gates[0]).toEqual({ name: 'hold', value: null, level: 0, error });
      // Data again: the level follows the new value.
      srv.metric = 40;
      c.t += 1_000;
      expect((await m.read(gates)).gates.map((g) => g.level)).toEqual([4, 4, 4]);
      // The failure was logged once per gate (not on every read), and the recovery too.
      expect(lines.filter((l) => /"gate":"hold".*no data/.test(l))).toHaveLength(1);
      expect(lines.filter((l) => /"gate":"hold".*data again/.test(l))).toHaveLength(1);
    });

    it('hold with no value yet is closed; the default hold is 300 seconds', async () => {
      const c = clock();
      const m = monitor({ now: c.now, cacheMs: 0 });
      srv.metric = 'fail';
      expect((await m.read([cpu()])).gates[0]).toMatchObject({ level: 0, value: null });
      srv.metric = 10;
      expect((await m.read([cpu()])).gates[0]).toMatchObject({ level: 4, value: 10 });
      srv.metric = 'fail';
      c.t += 300_000;
      expect((await m.read([cpu()])).gates[0]).toMatchObject({ level: 4, held: true });
      c.t += 1;
      expect((await m.read([cpu()])).gates[0]).toMatchObject({ level: 0, value: null });
    });
  });

  describe('caching', () => {
    it('gates sharing a source fetch it once per tick, whatever the key order; concurrent reads share a fetch', async () => {
      const c = clock();
      const m = monitor({ now: c.now, cacheMs: 5000 });
      const a = cpu({ name: 'a' });
      const b: HealthGate = {
        name: 'b',
        // The same source, keys in another order.
        source: { http: { field: 'data.cpu', url: `${srv.url}/json` } },
        direction: 'higher_is_better',
        thresholds: { 4: 5 },
      };
      const r = await m.read([a, b]);
      expect(r.gates.map((g) => [g.name, g.level])).toEqual([
        ['a', 4],
        ['b', 4],
      ]);
      expect(srv.hits.get('/json')).toBe(1);
      await Promise.all([m.read([a]), m.read([b]), m.read([a, b])]);
      expect(srv.hits.get('/json')).toBe(1);
      c.t += 5000;
      srv.metric = 90;
      const [r1, r2] = await Promise.all([m.read([a]), m.read([b])]);
      expect([r1.gates[0]?.level, r2.gates[0]?.level, srv.hits.get('/json')]).toEqual([1, 4, 2]);
    });
  });

  describe('command', () => {
    const cmd = (command: string, over: Partial<HealthGate> = {}): HealthGate =>
      cpu({ name: 'cmd', source: { command }, on_no_data: 'closed', ...over });

    it('reads the last number printed on stdout', async () => {
      const m = monitor({ cacheMs: 0 });
      expect((await m.read([cmd('echo 72')])).gates[0]).toEqual({ name: 'cmd', value: 72, level: 2 });
      expect((await m.read([cmd('echo "load 1.5 at 12:00, queue -3.25e1"')])).gates[0]?.value).toBe(-32.5);
    });

    it('a failing command is no data with its status and stderr, never its text', async () => {
      const m = monitor({ cacheMs: 0 });
      const r = await m.read([cmd('echo Cmd-Secret-5 >/dev/null; echo oops >&2; exit 3'), cmd('echo none', { name: 'none' })]);
      expect(r.gates.map((g) => g.error)).toEqual([
        'the command exited with status 3: oops',
        'the command printed no number on stdout',
      ]);
      expect(JSON.stringify(r)).not.toMatch(/Cmd-Secret/);
    });

    it('a command that sleeps past its timeout is killed with its process group', async () => {
      const pidFile = path.join(t.dir, 'sleeper.pid');
      const m = monitor({ cacheMs: 0 });
      const started = Date.now();
      const r = await m.read([cmd(`sleep 30 & echo $! > ${pidFile}; wait`, { timeout: 0.5 })]);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(r.gates[0]?.error).toBe('the command did not finish within 0.5 s, so it was killed');
      const pid = Number(fs.readFileSync(pidFile, 'utf8'));
      expect(pid).toBeGreaterThan(0);
      for (let i = 0; i < 50 && alive(pid); i++) await new Promise((res) => setTimeout(res, 20));
      expect(alive(pid)).toBe(false);
    });

    it('stdout over 64 KiB kills the command', async () => {
      const m = monitor({ cacheMs: 0 });
      const r = await m.read([cmd('yes 1 | head -c 200000; sleep 20', { timeout: 10 })]);
      expect(r.gates[0]?.error).toMatch(/printed more than 65536 bytes, so it was killed/);
    });

    it("runs with PATH, HOME and LANG only, not the dispatcher's environment", async () => {
      process.env.HEALTH_TEST_SECRET = 'Env-Secret-1';
      try {
        const m = monitor({ cacheMs: 0 });
        const r = await m.read([
          cmd('if [ -n "$HEALTH_TEST_SECRET" ]; then echo 1; else echo 0; fi', { name: 'secret' }),
          cmd('env | grep -cv -e ^PATH= -e ^HOME= -e ^LANG= -e ^PWD= -e ^SHLVL= -e ^_= || true', { name: 'others' }),
          cmd('[ -n "$PATH" ] && [ -n "$HOME" ] && [ -n "$LANG" ] && echo 1', { name: 'has' }),
        ]);
        expect(r.gates.map((g) => [g.name, g.value ?? g.error])).toEqual([
          ['secret', 0],
          ['others', 0],
          ['has', 1],
        ]);
      } finally {
        delete process.env.HEALTH_TEST_SECRET;
      }
    });
  });

  describe('SQL on a SQLite file connection', () => {
    it('reads the first column of the first row; failures are no data', async () => {
      const file = path.join(t.dir, 'metrics.db');
      const db = new Database(file);
      db.exec('create table q (id integer); insert into q values (1), (2), (3)');
      await t.backend.config.put('test', 'connections', { conn_id: 'lite', type: 'sqlite3', host: file, enabled: true });
      const c = clock();
      const m = monitor({ now: c.now, cacheMs: 1000 });
      const depth = cpu({
        name: 'depth',
        source: { sql: { connection: 'lite', query: 'select count(*) from q' } },
        thresholds: { 4: 5, 3: 10, 2: 20 },
      });
      expect((await m.read([depth])).gates[0]).toEqual({ name: 'depth', value: 3, level: 4 });
      db.exec(`insert into q values ${Array.from({ length: 12 }, (_, i) => `(${i + 4})`).join(', ')}`);
      c.t += 1000;
      expect((await m.read([depth])).gates[0]).toEqual({ name: 'depth', value: 15, level: 2 });
      db.close();
      const failing = (name: string, connection: string, query: string): HealthGate =>
        cpu({ name, on_no_data: 'closed', source: { sql: { connection, query } } });
      const r = await m.read([
        failing('bad-sql', 'lite', 'select nope from q'),
        failing('no-rows', 'lite', 'select id from q where id < 0'),
        failing('null', 'lite', 'select null'),
        failing('text', 'lite', "select 'abc'"),
        failing('numeric-text', 'lite', "select ' 12.5 '"),
        failing('no-conn', 'missing', 'select 1'),
      ]);
      expect(Object.fromEntries(r.gates.map((g) => [g.name, g.value ?? g.error]))).toEqual({
        'bad-sql': expect.stringMatching(/^connection "lite": .*no such column: nope/),
        'no-rows': 'connection "lite": the query returned no rows',
        null: `connection "lite": the query's first value is NULL`,
        text: `connection "lite": the query's first value is not a number (it is string)`,
        'numeric-text': 12.5,
        'no-conn': expect.stringMatching(/No such connection "missing" in realm "test"/),
      });
    });
  });
});

describe.skipIf(pgSkipReason)(`SQL on PostgreSQL${pgSkipReason ? ` (skipped: ${pgSkipReason})` : ''}`, () => {
  const PASSWORD = 'Pg-Health-Secret-4c1';
  let server: PgServer;
  let t: TestRealm;
  let port: number;
  beforeAll(async () => {
    server = await startThrowawayPostgres();
    port = Number(new URL(server.url).port);
    await adminQuery(server, 'DROP ROLE IF EXISTS lava_health');
    await adminQuery(server, `CREATE ROLE lava_health LOGIN PASSWORD '${PASSWORD}'`);
    t = await makeRealm();
    await t.backend.secrets.put('test', '/lava/test/health/password', PASSWORD);
    await t.backend.secrets.put('test', '/lava/test/health/wrong', `${PASSWORD}-wrong`);
    const spec = { type: 'postgres', host: '127.0.0.1', port, database: 'postgres', user: 'lava_health', enabled: true };
    await t.backend.config.put('test', 'connections', { conn_id: 'pg', ...spec, password: '/lava/test/health/password' });
    await t.backend.config.put('test', 'connections', {
      conn_id: 'pg-gone',
      ...spec,
      database: 'no_such_db',
      password: '/lava/test/health/password',
    });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await server?.stop();
  });

  const gate = (name: string, query: string, over: Partial<HealthGate> = {}): HealthGate => ({
    name,
    source: { sql: { connection: 'pg', query } },
    direction: 'higher_is_better',
    thresholds: { 4: 100, 3: 50, 2: 10 },
    on_no_data: 'closed',
    ...over,
  });
  const sessions = async () =>
    Number(
      (
        await adminQuery<{ n: string }>(
          server,
          "select count(*) as n from pg_stat_activity where application_name = 'lava-health-test'",
        )
      )[0]?.n,
    );

  it('reads numerics and bigints, keeps one client per source across reads, and close() closes them', async () => {
    const m = new HealthMonitor({ realm: 'test', backend: t.backend, cacheMs: 0 });
    const gates = [
      gate('numeric', 'select 42.5::numeric'),
      gate('bigint', 'select 120::bigint, 1'),
      gate('rows', 'select g from generate_series(60, 1000) g'),
    ];
    try {
      const r = await m.read(gates);
      expect(r.gates.map((g) => [g.name, g.value, g.level])).toEqual([
        ['numeric', 42.5, 2],
        ['bigint', 120, 4],
        ['rows', 60, 3],
      ]);
      expect(await sessions()).toBe(3);
      await m.read(gates);
      await m.read(gates);
      expect(await sessions()).toBe(3);
    } finally {
      await m.close();
    }
    for (let i = 0; i < 50 && (await sessions()) > 0; i++) await new Promise((res) => setTimeout(res, 20));
    expect(await sessions()).toBe(0);
  });

  it('a slow query times out as no data; errors never hold the password', async () => {
    const { logger, lines } = captureLogger();
    const m = new HealthMonitor({ realm: 'test', backend: t.backend, cacheMs: 0, logger });
    try {
      const started = Date.now();
      const r = await m.read([
        gate('slow', 'select pg_sleep(5)', { timeout: 0.5 }),
        gate('gone', 'select 1', { source: { sql: { connection: 'pg-gone', query: 'select 1' } } }),
        gate('bad', 'select nope'),
      ]);
      expect(Date.now() - started).toBeLessThan(4000);
      expect(Object.fromEntries(r.gates.map((g) => [g.name, g.error]))).toEqual({
        slow: 'connection "pg": no answer within 0.5 s',
        gone: expect.stringMatching(/cannot connect to postgres connection "pg-gone" .*no_such_db/),
        bad: expect.stringMatching(/^connection "pg": .*column "nope" does not exist/),
      });
      // The timed-out client was dropped: the next read opens a fresh one and works.
      expect((await m.read([gate('after', 'select 77')])).gates[0]).toMatchObject({ value: 77, level: 3 });
      expect(JSON.stringify(r) + lines.join('\n')).not.toContain(PASSWORD);
    } finally {
      await m.close();
    }
  });
});
