/**
 * Every backend conformance suite against PostgreSQL (a throwaway server for this file; each suite in
 * a schema of its own), then what is specific to the PostgreSQL backend: URLs and options, the secret
 * key, schedule claims, schema isolation and closing.
 *
 * The BlobStore suite is not run here: blob stores are chosen by URI scheme (file://, s3://), not by
 * backend, and test/backends/sqlite.test.ts already runs it for file://.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openBackend } from '../../src/backends/index.js';
import { Db } from '../../src/backends/postgres/db.js';
import { createPostgresBackend, parsePostgresUrl, redactUrl } from '../../src/backends/postgres/index.js';
import type { Backend } from '../../src/backends/ports.js';
import { ConfigError } from '../../src/core/errors.js';
import { runBackendConformance } from '../conformance/backend.js';
import {
  adminQuery,
  backendUrl,
  dropSchema,
  makeBackend,
  pgSkipReason,
  schemaName,
  startThrowawayPostgres,
  type PgServer,
} from '../support/pg.js';

if (pgSkipReason) {
  describe.skip(`PostgreSQL backend [skipped: ${pgSkipReason}]`, () => {
    it('conformance suites and PostgreSQL specifics', () => {});
  });
} else {
  let server: PgServer;
  beforeAll(async () => {
    server = await startThrowawayPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  }, 60_000);

  runBackendConformance({ name: 'postgres', make: () => makeBackend(server) });

  describe('PostgreSQL backend specifics', () => {
    const open: Backend[] = [];
    const schemas: string[] = [];
    const savedKey = process.env.LAVA_SECRET_KEY;
    let dir: string;

    beforeAll(async () => {
      dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lava-pg-specific-'));
    });
    afterEach(async () => {
      for (const b of open.splice(0)) await b.close();
      for (const s of schemas.splice(0)) await dropSchema(server, s);
      if (savedKey === undefined) delete process.env.LAVA_SECRET_KEY;
      else process.env.LAVA_SECRET_KEY = savedKey;
    });
    afterAll(async () => {
      await fsp.rm(dir, { recursive: true, force: true });
    });

    function fresh(): string {
      const s = schemaName();
      schemas.push(s);
      return s;
    }
    async function openAt(url: string): Promise<Backend> {
      const b = await openBackend(url);
      open.push(b);
      return b;
    }
    const realm = { realm: 'r', s3_payloads: 'file:///tmp/p', s3_temp: 'file:///tmp/t' };

    it('parses the URL: schema, pool, statement_timeout, migrate, keyfile; pg gets the rest', () => {
      const p = parsePostgresUrl(
        'postgres://u:pw@db.example:5433/lava?sslmode=require&schema=prod&pool=3&statement_timeout=500&migrate=false&keyfile=k/lava.key',
      );
      expect(p).toMatchObject({
        schema: 'prod',
        poolSize: 3,
        statementTimeoutMs: 500,
        migrate: false,
        keyFile: path.resolve('k/lava.key'),
      });
      expect(p.connectionString).toBe('postgres://u:pw@db.example:5433/lava?sslmode=require');
      expect(p.url).toContain(`keyfile=${encodeURIComponent(path.resolve('k/lava.key'))}`);
      const d = parsePostgresUrl('postgresql://localhost/lava');
      expect(d).toMatchObject({
        schema: 'lava',
        poolSize: 10,
        statementTimeoutMs: 30_000,
        migrate: true,
        url: 'postgresql://localhost/lava',
      });
      expect(d.keyFile).toBeUndefined();
      expect(d.connectionString).toBe('postgresql://localhost/lava');
      for (const bad of ['schema=a-b', 'schema=1x', 'pool=0', 'pool=x', 'statement_timeout=-1', 'migrate=maybe']) {
        expect(() => parsePostgresUrl(`postgres://h/db?${bad}`), bad).toThrow(ConfigError);
      }
      expect(redactUrl('postgres://u:secret@h/db')).toBe('postgres://u:***@h/db');
      expect(redactUrl('postgres://h/db?password=secret&x=1')).toBe('postgres://h/db?password=***&x=1');
    });

    it('openBackend opens postgres:// and postgresql:// URLs; url keeps the options', async () => {
      const schema = fresh();
      const url = backendUrl(server, schema);
      const a = await openAt(url);
      expect(a.url).toBe(url);
      await a.config.putRealm(realm);
      const b = await openAt(url.replace(/^postgres:/, 'postgresql:'));
      expect(await b.config.getRealm('r')).toEqual(realm);
    });

    it('every table lives in the schema of the URL: two schemas on one server share nothing', async () => {
      const s1 = fresh();
      const s2 = fresh();
      const a = await openAt(backendUrl(server, s1));
      const b = await openAt(backendUrl(server, s2));
      await a.config.putRealm(realm);
      await a.queue('r', 'w').send('only in s1');
      expect(await b.config.getRealm('r')).toBeUndefined();
      expect(await b.queue('r', 'w').receive({ max: 10, visibilitySeconds: 30, waitSeconds: 0 })).toEqual([]);
      const tables = await adminQuery<{ table_name: string }>(
        server,
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
        [s1],
      );
      expect(tables.map((t) => t.table_name)).toEqual([
        'batch_tasks',
        'batches',
        'directory',
        'events',
        'items',
        'messages',
        'meta',
        'realms',
        'run_claims',
        'schedule_marks',
        'schedule_ticks',
        'secrets',
        'state',
      ]);
    });

    it('opens without a secret key; using a secret without one says how to set it', async () => {
      delete process.env.LAVA_SECRET_KEY;
      const b = await openAt(`${server.url}?schema=${fresh()}`);
      const err = await b.secrets.put('r', 'pw', 'x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect(String(err)).toMatch(/LAVA_SECRET_KEY/);
      expect(String(err)).toMatch(/keyfile=/);
      expect(await b.secrets.list('r')).toEqual([]);
    });

    it('creates a missing key file 0600; every host with the same file or LAVA_SECRET_KEY reads the secrets', async () => {
      delete process.env.LAVA_SECRET_KEY;
      const schema = fresh();
      const keyfile = path.join(dir, 'fleet.key');
      const a = await openAt(backendUrl(server, schema, { keyfile }));
      await a.secrets.put('r', 'pw', 'hunter2');
      expect(fs.statSync(keyfile).mode & 0o777).toBe(0o600);
      const b = await openAt(backendUrl(server, schema, { keyfile }));
      expect(await b.secrets.get('r', 'pw')).toBe('hunter2');

      // Another key cannot decrypt.
      const c = await openAt(backendUrl(server, schema, { keyfile: path.join(dir, 'other.key') }));
      await expect(c.secrets.get('r', 'pw')).rejects.toThrow(/LAVA_SECRET/);

      // LAVA_SECRET_KEY holding the file's key works without any key file.
      process.env.LAVA_SECRET_KEY = fs.readFileSync(keyfile, 'utf8').trim();
      const d = await openAt(`${server.url}?schema=${schema}`);
      expect(await d.secrets.get('r', 'pw')).toBe('hunter2');

      process.env.LAVA_SECRET_KEY = Buffer.alloc(16, 1).toString('base64');
      const e = await openAt(`${server.url}?schema=${schema}`);
      await expect(e.secrets.get('r', 'pw')).rejects.toThrow(/32 bytes/);
    });

    it('secrets are stored encrypted in the same format as the embedded backend', async () => {
      const schema = fresh();
      const a = await openAt(backendUrl(server, schema));
      await a.secrets.put('r', 'token', 'plain-value');
      const rows = await adminQuery<{ value: string }>(server, `SELECT value FROM "${schema}".secrets`);
      expect(rows[0]?.value).toMatch(/^v1:/);
      expect(rows[0]?.value).not.toContain('plain-value');
    });

    it('a server that refuses fails with a ConfigError naming the URL without its password', async () => {
      const url = server.url.replace('postgres://postgres@', 'postgres://postgres:pw@').replace(/\/postgres$/, '/no_such_db');
      const err = await createPostgresBackend(`${url}?schema=x`, { keyFile: path.join(dir, 'k') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect(String(err)).toMatch(/cannot open the PostgreSQL backend postgres:\/\/postgres:\*\*\*@.*no_such_db/);
      expect(String(err)).toMatch(/does not exist/);
    });

    it('NUL characters: kept in state, config and queue bodies; replaced by U+FFFD in event logs (jsonb)', async () => {
      const b = await openAt(backendUrl(server, fresh()));
      const nul = 'a\u0000b';
      await b.state.put('r', { state_id: 's', type: 'raw', value: nul, timestamp: 't', ttl: 0 });
      expect((await b.state.get('r', 's'))?.value).toBe(nul);
      await b.config.put('r', 'jobs', { job_id: 'j', payload: nul });
      expect((await b.config.get('r', 'jobs', 'j'))?.payload).toBe(nul);
      await b.queue('r', 'w').send(JSON.stringify({ x: nul }));
      const [m] = await b.queue('r', 'w').receive({ max: 1, visibilitySeconds: 30, waitSeconds: 0 });
      expect(JSON.parse(m?.body ?? '{}')).toEqual({ x: nul });
      await b.events.record('r', { job_id: 'j', run_id: 'x', status: 'failed', info: { stderr: nul }, at: new Date() });
      expect((await b.events.get('r', 'j', 'x'))?.log[0]?.info).toEqual({ stderr: 'a\uFFFDb' });
    });

    it('each pooled connection gets statement_timeout; the pool size comes from ?pool', async () => {
      const db = new Db(parsePostgresUrl(backendUrl(server, fresh(), { statement_timeout: '300', pool: '2' })));
      try {
        expect(db.pool.options.max).toBe(2);
        const shown = await Promise.all([1, 2, 3].map(() => db.query<{ statement_timeout: string }>('SHOW statement_timeout')));
        expect(shown.map((r) => r.rows[0]?.statement_timeout)).toEqual(['300ms', '300ms', '300ms']);
        await expect(db.query('SELECT pg_sleep(2)')).rejects.toMatchObject({ code: '57014' });
      } finally {
        await db.close();
      }
    });

    it('schedule claims: each tick once, marks only move forward, stale and prune', async () => {
      const b = await openAt(backendUrl(server, fresh()));
      const fire = new Date(Date.UTC(2026, 0, 15, 10, 0, 0, 123));
      const tick = { jobId: 'j', fireTime: fire, runId: 'run-1' };
      const results = await Promise.all(
        ['a', 'b', 'c', 'd'].map((o) => b.schedules.claim('r', 'main', { ...tick, runId: `run-${o}` }, o)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      // Another dispatcher name or realm is a different tick.
      expect(await b.schedules.claim('r', 'other', tick, 'a')).toBe(true);
      expect(await b.schedules.claim('r2', 'main', tick, 'a')).toBe(true);

      const stale = await b.schedules.stale('r', 'main', new Date(Date.now() + 60_000));
      expect(stale).toHaveLength(1);
      expect(stale[0]?.fireTime.getTime()).toBe(fire.getTime());
      expect(stale[0]?.jobId).toBe('j');
      expect(await b.schedules.stale('r', 'main', new Date(Date.now() - 60_000))).toEqual([]);
      await b.schedules.markDispatched('r', 'main', 'j', fire);
      expect(await b.schedules.stale('r', 'main', new Date(Date.now() + 60_000))).toEqual([]);

      expect(await b.schedules.getMark('r', 'main')).toBeUndefined();
      await b.schedules.setMark('r', 'main', new Date(fire.getTime() + 5000));
      await b.schedules.setMark('r', 'main', fire); // backwards: ignored
      expect((await b.schedules.getMark('r', 'main'))?.getTime()).toBe(fire.getTime() + 5000);

      // Prune removes dispatched ticks older than the cut-off only.
      expect(await b.schedules.prune('r', new Date(fire.getTime() + 1))).toBe(1);
      expect(await b.schedules.prune('r', new Date(fire.getTime() + 1))).toBe(0);
      expect(await b.schedules.stale('r', 'other', new Date(Date.now() + 60_000))).toHaveLength(1);
    });

    it('close ends the pool and the LISTEN connection and stops waiting receives', async () => {
      const schema = fresh();
      const listeners = async () =>
        Number(
          (
            await adminQuery<{ n: string }>(
              server,
              'SELECT count(*)::text AS n FROM pg_stat_activity WHERE application_name = $1',
              [`lava-listen:${schema}`],
            )
          )[0]?.n,
        );
      const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
      const socketsBefore = sockets();
      const b = await openBackend(backendUrl(server, schema));
      // Many long polls on several queues share one LISTEN connection.
      const pending = ['w1', 'w2', 'w3'].flatMap((w) =>
        [1, 2, 3].map(() => b.queue('r', w).receive({ max: 1, visibilitySeconds: 30, waitSeconds: 20 })),
      );
      await new Promise((r) => setTimeout(r, 300));
      expect(await listeners()).toBe(1);
      expect(sockets()).toBeGreaterThan(socketsBefore);
      const started = Date.now();
      await b.close();
      expect(await Promise.all(pending)).toEqual(pending.map(() => []));
      expect(Date.now() - started).toBeLessThan(2_000);
      await b.close(); // twice is fine
      for (let i = 0; i < 20 && (await listeners()) > 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await listeners()).toBe(0);
      // Nothing of the backend keeps the process alive: no socket is left open.
      for (let i = 0; i < 20 && sockets() > socketsBefore; i++) await new Promise((r) => setTimeout(r, 50));
      expect(sockets()).toBeLessThanOrEqual(socketsBefore);
    });
  });
}
