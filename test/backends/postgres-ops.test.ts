/**
 * PostgreSQL operations: migrations (automatic, concurrent, refused with migrate=false, `lava db`),
 * and surviving failures: connections killed under the backend, and a server restart mid-use.
 */
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Db, parsePostgresUrl } from '../../src/backends/postgres/db.js';
import { PostgresEventStore } from '../../src/backends/postgres/event-store.js';
import { createPostgresBackend, LATEST_VERSION } from '../../src/backends/postgres/index.js';
import type { Backend, QueueMessage } from '../../src/backends/ports.js';
import type { GlobalOptions } from '../../src/cli/context.js';
import { registerDb } from '../../src/cli/db.js';
import { ConfigError } from '../../src/core/errors.js';
import {
  adminQuery,
  backendUrl,
  dropSchema,
  pgSkipReason,
  schemaName,
  startTcpProxy,
  startThrowawayPostgres,
  type PgServer,
} from '../support/pg.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NOW = { max: 10, visibilitySeconds: 30, waitSeconds: 0 } as const;

/** Run `lava db ARGS --backend URL`; returns stdout. */
async function lavaDb(url: string, ...args: string[]): Promise<{ out: string; exitCode: number | undefined }> {
  const program = new Command('lava').option('--backend <url>').exitOverride();
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  registerDb(program, g);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync(['node', 'lava', 'db', ...args, '--backend', url]);
    return { out, exitCode: process.exitCode as number | undefined };
  } finally {
    spy.mockRestore();
    process.exitCode = saved;
  }
}

if (pgSkipReason) {
  describe.skip(`PostgreSQL operations [skipped: ${pgSkipReason}]`, () => {
    it('migrations, killed connections, server restart', () => {});
  });
} else {
  describe('PostgreSQL operations', () => {
    let server: PgServer;
    const open: Backend[] = [];
    const schemas: string[] = [];

    beforeAll(async () => {
      server = await startThrowawayPostgres();
    }, 120_000);
    afterEach(async () => {
      for (const b of open.splice(0)) await b.close();
      for (const s of schemas.splice(0)) await dropSchema(server, s);
    });
    afterAll(async () => {
      await server?.stop();
    }, 60_000);

    function fresh(): string {
      const s = schemaName();
      schemas.push(s);
      return s;
    }
    async function openAt(url: string): Promise<Backend> {
      const b = await createPostgresBackend(url);
      open.push(b);
      return b;
    }
    const realm = { realm: 'r', s3_payloads: 'file:///tmp/p', s3_temp: 'file:///tmp/t' };

    it('migrate=false refuses a schema that is behind and says to run `lava db migrate`; after it, it opens', async () => {
      const url = backendUrl(server, fresh(), { migrate: 'false' });
      const err = await createPostgresBackend(url).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect(String(err)).toMatch(/version 0 .*needs version \d+.*migrate=false.*lava db migrate/);

      const before = await lavaDb(url, 'status', '--check');
      expect(before.out).toMatch(/current version +0\n/);
      expect(before.out).toMatch(new RegExp(`latest version +${LATEST_VERSION}\\n`));
      expect(before.out).toMatch(/pending: run `lava db migrate`/);
      expect(before.exitCode).toBe(1);

      expect((await lavaDb(url, 'migrate')).out).toMatch(new RegExp(`from version 0 to ${LATEST_VERSION}`));
      expect((await lavaDb(url, 'migrate')).out).toMatch(/is up to date/);
      const after = await lavaDb(url, 'status', '--check', '--json');
      expect(JSON.parse(after.out)).toMatchObject({ current: LATEST_VERSION, latest: LATEST_VERSION, pending: 0 });
      expect(after.exitCode).toBeUndefined();

      const b = await openAt(url);
      await b.config.putRealm(realm);
      expect(await b.config.getRealm('r')).toEqual(realm);
    });

    it('the option migrate: false overrides the URL', async () => {
      const url = backendUrl(server, fresh());
      await expect(createPostgresBackend(url, { migrate: false })).rejects.toThrow(/lava db migrate/);
      await openAt(url);
      await expect(createPostgresBackend(url, { migrate: false }).then((b) => b.close())).resolves.toBeUndefined();
    });

    it('backends starting at once on an empty schema migrate it exactly once', async () => {
      const schema = fresh();
      const url = backendUrl(server, schema);
      const bs = await Promise.all(Array.from({ length: 4 }, () => createPostgresBackend(url)));
      open.push(...bs);
      const meta = await adminQuery<{ version: number }>(server, `SELECT version FROM "${schema}".meta ORDER BY version`);
      expect(meta.map((m) => m.version)).toEqual(Array.from({ length: LATEST_VERSION }, (_, i) => i + 1));
      await (bs[0] as Backend).config.putRealm(realm);
      for (const b of bs) expect(await b.config.getRealm('r')).toEqual(realm);
    });

    it('survives a network drop: statements in flight are retried, the LISTEN connection comes back', async () => {
      const proxy = await startTcpProxy(server);
      try {
        const a = await openAt(proxy.via(backendUrl(server, fresh())));
        await a.config.putRealm(realm);
        const q = a.queue('r', 'w');
        const pending = q.receive({ max: 1, visibilitySeconds: 30, waitSeconds: 15 });
        await sleep(200);
        // Cut every connection while statements are on the wire.
        const inFlight = Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            a.state.put('r', { state_id: `s${i}`, type: 'json', value: i, timestamp: 't', ttl: 0 }),
          ),
        );
        await sleep(1);
        expect(proxy.cut()).toBeGreaterThanOrEqual(2);
        await inFlight;
        expect((await a.state.list('r')).map((s) => s.value).sort((x, y) => Number(x) - Number(y))).toEqual(
          Array.from({ length: 20 }, (_, i) => i),
        );
        // Every port keeps working on fresh connections.
        expect(await a.config.getRealm('r')).toEqual(realm);
        await a.events.record('r', { job_id: 'j', run_id: 'x', status: 'complete', info: null, at: new Date() });
        expect((await a.events.get('r', 'j', 'x'))?.status).toBe('complete');
        expect(await a.runs.claim('r', 'run', 'me', 60)).toEqual({ outcome: 'claimed', attempt: 1 });
        // The waiting receive survived, and the LISTEN connection is back: a send wakes it promptly.
        await sleep(500);
        const t0 = Date.now();
        await q.send('after the drop');
        expect((await pending).map((m) => m.body)).toEqual(['after the drop']);
        expect(Date.now() - t0).toBeLessThan(200);
      } finally {
        await proxy.close();
      }
    }, 20_000);

    it('an event whose commit was not acknowledged is appended once when the retry repeats it', async () => {
      const url = backendUrl(server, fresh());
      await openAt(url); // migrates the schema
      const db = new Db(parsePostgresUrl(url));
      try {
        const events = new PostgresEventStore(db);
        // The server commits the first attempt, then the answer is lost as when a connection drops
        // after COMMIT: the driver sees ECONNRESET. (Injected at the driver boundary; the server is real.)
        const real = db.pool.query.bind(db.pool) as (...a: unknown[]) => Promise<unknown>;
        let lost = 0;
        (db.pool as { query: unknown }).query = async (...args: unknown[]) => {
          const res = await real(...args);
          if (lost++ === 0) throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
          return res;
        };
        await events.record('r', { job_id: 'j', run_id: 'x', status: 'starting', info: null, at: new Date() });
        await events.record('r', { job_id: 'j', run_id: 'x', status: 'complete', info: { exit_status: 0 }, at: new Date() });
        expect(lost).toBe(3); // the first call was sent twice
        const record = await events.get('r', 'j', 'x');
        expect(record?.log.map((e) => e.status)).toEqual(['starting', 'complete']);
      } finally {
        await db.close();
      }
    });

    it('a worker that dies holding leases (kill -9, host lost) loses them when they expire', async () => {
      const url = backendUrl(server, fresh());
      const proxy = await startTcpProxy(server);
      try {
        const dead = await createPostgresBackend(proxy.via(url));
        const alive = await openAt(url);
        await alive.queue('r', 'w').send('job');
        const [msg] = await dead.queue('r', 'w').receive({ max: 1, visibilitySeconds: 1, waitSeconds: 0 });
        expect(await dead.runs.claim('r', 'run', 'dead-worker', 1)).toEqual({ outcome: 'claimed', attempt: 1 });
        // Its connections vanish without a goodbye, and it never comes back.
        await proxy.close();
        void dead.close().catch(() => {});
        expect(await alive.queue('r', 'w').receive(NOW)).toEqual([]);
        expect(await alive.runs.claim('r', 'run', 'new-worker', 60)).toMatchObject({ outcome: 'busy', owner: 'dead-worker' });
        const again = await alive.queue('r', 'w').receive({ max: 1, visibilitySeconds: 30, waitSeconds: 5 });
        expect(again.map((m) => [m.id, m.receiveCount])).toEqual([[(msg as QueueMessage).id, 2]]);
        expect(await alive.runs.claim('r', 'run', 'new-worker', 60)).toEqual({ outcome: 'claimed', attempt: 2 });
      } finally {
        await proxy.close();
      }
    }, 20_000);

    it('survives a server restart mid-use: waiting receives, sends during the outage, every port afterwards', async (ctx) => {
      if (!server.restart) {
        ctx.skip(server.restartSkipReason);
        return;
      }
      const url = backendUrl(server, fresh());
      const a = await openAt(url);
      const b = await openAt(url);
      await a.config.putRealm(realm);
      const qa = a.queue('r', 'w');
      const waiting = qa.receive({ max: 1, visibilitySeconds: 30, waitSeconds: 20 });
      await sleep(200);

      const restarting = server.restart();
      // Wait until the server is down, then issue statements: they are retried until it is back.
      for (let i = 0; i < 500; i++) {
        if (
          await adminQuery(server, 'SELECT 1').then(
            () => false,
            () => true,
          )
        )
          break;
        await sleep(5);
      }
      const during = Promise.all([
        b.queue('r', 'other').send('sent during the restart'),
        b.state.put('r', { state_id: 's', type: 'json', value: 1, timestamp: 't', ttl: 0 }),
      ]);
      await restarting;
      await during;

      expect(await a.config.getRealm('r')).toEqual(realm);
      expect((await a.state.get('r', 's'))?.value).toBe(1);
      const t0 = Date.now();
      await b.queue('r', 'w').send('after the restart');
      expect((await waiting).map((m) => m.body)).toEqual(['after the restart']);
      expect(Date.now() - t0).toBeLessThan(2_000);
      const other = await a.queue('r', 'other').receive(NOW);
      expect(other.map((m) => m.body)).toEqual(['sent during the restart']);
      expect(await a.runs.claim('r', 'run', 'me', 60)).toEqual({ outcome: 'claimed', attempt: 1 });
      await a.secrets.put('r', 'k', 'v');
      expect(await b.secrets.get('r', 'k')).toBe('v');

      // NOTIFY works again on both backends.
      const pending = b.queue('r', 'w').receive({ max: 1, visibilitySeconds: 30, waitSeconds: 10 });
      await sleep(300);
      const t1 = Date.now();
      await qa.send('notify after restart');
      expect((await pending).map((m) => m.body)).toEqual(['notify after restart']);
      expect(Date.now() - t1).toBeLessThan(200);
    }, 40_000);
  });
}
