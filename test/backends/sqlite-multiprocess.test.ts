/**
 * SQLite-specific: several OS processes share one realm database file. Three child processes
 * receive and delete from the same queue at once; every message must be deleted exactly once.
 *
 * Children cannot import TypeScript, so they load the compiled backend from dist/ (built here
 * when missing or older than the sources).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBackend } from '../../src/backends/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const distIndex = path.resolve(repoRoot, 'dist/backends/index.js');

const MESSAGES = 300;
const PROCESSES = 3;

/** The child: open the shared file, say ready, wait for "go", then receive+delete until the queue stays empty. */
const RECEIVER = `
const [distUrl, dbPath, realm, worker] = process.argv.slice(2);
const { openBackend } = await import(distUrl);
const backend = await openBackend('sqlite:' + dbPath);
const queue = backend.queue(realm, worker);
const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\\n');
say({ ready: true, pid: process.pid });
await new Promise((resolve) => process.stdin.once('data', resolve));
process.stdin.destroy(); // an open pipe would keep the process alive
const received = [];
let maxBatch = 0;
let empty = 0;
while (empty < 3) {
  const batch = await queue.receive({ max: 5, visibilitySeconds: 30, waitSeconds: 0.2 });
  if (batch.length === 0) { empty++; continue; }
  empty = 0;
  maxBatch = Math.max(maxBatch, batch.length);
  for (const m of batch) {
    received.push({ id: m.id, receiveCount: m.receiveCount });
    if (await queue.delete(m.receipt)) say({ deleted: m.id });
  }
  // A little "work" between batches so the processes interleave.
  await new Promise((resolve) => setTimeout(resolve, 2));
}
await backend.close();
say({ done: true, received, maxBatch });
`;

interface ChildReport {
  deleted: string[];
  received: { id: string; receiveCount: number }[];
  maxBatch: number;
  code: number | null;
  stderr: string;
}

function newerThan(file: string, dirs: string[]): boolean {
  const built = fs.statSync(file).mtimeMs;
  const walk = (dir: string): boolean =>
    fs.readdirSync(dir, { withFileTypes: true }).some((e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return walk(p);
      return e.name.endsWith('.ts') && fs.statSync(p).mtimeMs > built;
    });
  return dirs.some((d) => fs.existsSync(d) && walk(d));
}

describe('SQLite backend shared by several processes', () => {
  let dir: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    const srcDirs = [path.join(repoRoot, 'src/backends'), path.join(repoRoot, 'src/core')];
    if (!fs.existsSync(distIndex) || newerThan(distIndex, srcDirs)) {
      try {
        execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: repoRoot, stdio: 'pipe' });
      } catch (err) {
        // tsc still emits when unrelated files have type errors; only a missing output is fatal.
        if (!fs.existsSync(distIndex)) throw err;
      }
    }
    expect(fs.existsSync(distIndex)).toBe(true);
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lava-mp-'));
    await fsp.writeFile(path.join(dir, 'receiver.mjs'), RECEIVER);
  }, 180_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid);
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  it(`${PROCESSES} processes receive and delete ${MESSAGES} messages, each exactly once`, async () => {
    const dbPath = path.join(dir, 'lava.db');
    const realm = 'mp';
    const worker = 'core';
    const backend = await openBackend(`sqlite:${dbPath}`);
    try {
      const q = backend.queue(realm, worker);
      const sent = new Set<string>();
      for (let i = 0; i < MESSAGES; i++) sent.add(await q.send(JSON.stringify({ n: i })));
      expect(sent.size).toBe(MESSAGES);
      expect(await q.counts()).toMatchObject({ visible: MESSAGES, inflight: 0, delayed: 0 });

      const ready: Promise<void>[] = [];
      const reports: Promise<ChildReport>[] = [];
      for (let i = 0; i < PROCESSES; i++) {
        const child = spawn(
          process.execPath,
          [path.join(dir, 'receiver.mjs'), pathToFileURL(distIndex).href, dbPath, realm, worker],
          { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] },
        );
        children.push(child);
        const report: ChildReport = { deleted: [], received: [], maxBatch: 0, code: null, stderr: '' };
        child.stderr?.on('data', (d: Buffer) => (report.stderr += d.toString()));
        let onReady!: () => void;
        let notReady!: (err: Error) => void;
        ready.push(
          new Promise<void>((resolve, reject) => {
            onReady = resolve;
            notReady = reject;
          }),
        );
        // A hung receiver must fail the test, not hang it.
        setTimeout(() => child.kill(), 40_000).unref();
        const lines = readline.createInterface({ input: child.stdout });
        lines.on('line', (line) => {
          const msg = JSON.parse(line) as {
            ready?: boolean;
            deleted?: string;
            done?: boolean;
            received?: ChildReport['received'];
            maxBatch?: number;
          };
          if (msg.ready) onReady();
          if (msg.deleted !== undefined) report.deleted.push(msg.deleted);
          if (msg.done) {
            report.received = msg.received ?? [];
            report.maxBatch = msg.maxBatch ?? 0;
          }
        });
        reports.push(
          new Promise<ChildReport>((resolve, reject) => {
            child.on('error', reject);
            child.on('close', (code) => {
              report.code = code;
              notReady(new Error(`receiver exited (${code}) before it was ready:\n${report.stderr}`));
              resolve(report);
            });
          }),
        );
      }

      // Start all receivers together so they really compete.
      await Promise.all(ready);
      for (const c of children) c.stdin?.end('go\n');
      const results = await Promise.all(reports);

      for (const r of results) {
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.maxBatch).toBeGreaterThan(0);
        expect(r.maxBatch).toBeLessThanOrEqual(5);
      }
      const deleted = results.flatMap((r) => r.deleted);
      const received = results.flatMap((r) => r.received);
      // Every message deleted exactly once across the processes...
      expect(deleted).toHaveLength(MESSAGES);
      expect(new Set(deleted)).toEqual(sent);
      // ...and, with a 30 s lease, never handed to two processes.
      expect(received).toHaveLength(MESSAGES);
      expect(received.every((m) => m.receiveCount === 1)).toBe(true);
      // The work really was shared.
      expect(results.filter((r) => r.deleted.length > 0).length).toBeGreaterThanOrEqual(2);

      expect(await q.counts()).toEqual({ visible: 0, inflight: 0, delayed: 0 });
      expect(await q.receive({ max: 10, visibilitySeconds: 30, waitSeconds: 0 })).toEqual([]);
    } finally {
      await backend.close();
    }
  }, 60_000);
});
