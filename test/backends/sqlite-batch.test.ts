/**
 * The embedded backend's group commit (src/backends/sqlite/batch.ts) on a real SQLite file: writes of
 * one event-loop turn commit together, and a failing write, even one that fails after its first
 * statement, leaves nothing behind and fails alone. Also the indexes `lava events` filters read.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WriteBatcher } from '../../src/backends/sqlite/batch.js';
import { migrate } from '../../src/backends/sqlite/schema.js';

describe('SQLite write batcher', () => {
  let dir: string;
  let db: Database.Database;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lava-batch-'));
    db = new Database(path.join(dir, 'lava.db'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
  });
  afterEach(async () => {
    db.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  const count = () => (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
  const keys = () => (db.prepare('SELECT k FROM t ORDER BY k').all() as { k: string }[]).map((r) => r.k);

  it('writes issued in one turn share one commit and each settles with its own result', async () => {
    const batch = new WriteBatcher(db);
    const ins = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const commits: number[] = [];
    // The data version changes once per commit seen from another connection.
    const other = new Database(path.join(dir, 'lava.db'));
    const version = () => other.pragma('data_version', { simple: true }) as number;
    const before = version();
    const got = await Promise.all(['a', 'b', 'c'].map((k, i) => batch.run(() => ins.run(k, i).changes)));
    commits.push(version() - before);
    other.close();
    expect(got).toEqual([1, 1, 1]);
    expect(keys()).toEqual(['a', 'b', 'c']);
    expect(commits).toEqual([1]);
  });

  it('a write that fails after its first statement leaves nothing and fails alone; the others commit', async () => {
    const batch = new WriteBatcher(db);
    const ins = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    db.prepare("INSERT INTO t (k, v) VALUES ('taken', 0)").run();
    const results = await Promise.allSettled([
      batch.run(() => ins.run('first', 1)),
      // Two statements: the first succeeds, the second breaks the primary key.
      batch.run(() => {
        ins.run('half', 2);
        ins.run('taken', 3);
      }),
      batch.run(() => ins.run('last', 4)),
      // A single statement that fails (NOT NULL).
      batch.run(() => ins.run('null', null)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/UNIQUE constraint/);
    expect(String((results[3] as PromiseRejectedResult).reason)).toMatch(/NOT NULL constraint/);
    expect(keys()).toEqual(['first', 'last', 'taken']);
    expect(count()).toBe(3);
  });

  it('a write that fails in a batch of its own rejects, and the batcher keeps working', async () => {
    const batch = new WriteBatcher(db);
    const ins = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    await expect(batch.run(() => ins.run('x', null))).rejects.toThrow(/NOT NULL/);
    await expect(batch.run(() => ins.run('y', 1).changes)).resolves.toBe(1);
    expect(keys()).toEqual(['y']);
  });
});

describe('SQLite event filters', () => {
  it('job filters (with a status or a time too) read the job index in time order, not every record', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lava-idx-'));
    const db = new Database(path.join(dir, 'lava.db'));
    try {
      migrate(db);
      const plan = (where: string) =>
        (
          db
            .prepare(`EXPLAIN QUERY PLAN SELECT * FROM events WHERE ${where} ORDER BY tu_event DESC, rowid DESC LIMIT 100`)
            .all(...['r', 'x', 'y'].slice(0, where.split('?').length - 1)) as { detail: string }[]
        )
          .map((r) => r.detail)
          .join('; ');
      expect(plan('realm = ? AND job_id = ?')).toMatch(/USING INDEX events_by_job \(realm=\? AND job_id=\?\)$/);
      expect(plan('realm = ? AND job_id = ? AND status = ?')).toMatch(/USING INDEX events_by_job /);
      expect(plan('realm = ? AND job_id = ? AND tu_event >= ?')).toMatch(
        /USING INDEX events_by_job \(realm=\? AND job_id=\? AND tu_event>\?\)$/,
      );
    } finally {
      db.close();
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});
