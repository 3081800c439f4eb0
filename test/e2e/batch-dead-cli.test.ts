/**
 * `lava batch dead ls/retry/discard`, `lava batch tasks` and `lava batch status --watch` through the
 * built CLI on an embedded realm. Tasks are made dead with the store's transition from this process
 * (admission's retries are covered elsewhere), as a worker would leave them.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBackend } from '../../src/backends/index.js';
import type { Backend } from '../../src/backends/ports.js';
import { LAVA_BIN, ensureBuilt, killSpawned, makeCliRealm, tableRows, waitExit, waitFor, type CliRealm } from './cli-helpers.js';

/** util-linux `script` runs a command on a pseudo-terminal (Debian's bsdutils, always installed there). */
const SCRIPT = '/usr/bin/script';
const scriptSkip = fs.existsSync(SCRIPT) ? undefined : `${SCRIPT} (util-linux) is not installed: no pseudo-terminal to test with`;

describe('lava batch dead, tasks and status --watch', () => {
  let realm: CliRealm;
  let backend: Backend;
  let name: string;

  const kill = async (id: string, keys: string[], attempt = 3) => {
    for (const key of keys) {
      const moved = await backend.batches.transition(name, id, key, ['pending'], 'dead', {
        attempt,
        run_id: `run-${key}`,
        run_status: 'failed',
        error: `disk full\non ${key}`,
        died_at: '2026-03-04T10:00:00.000Z',
      });
      expect(moved).toBe(true);
    }
  };

  beforeAll(async () => {
    ensureBuilt();
    realm = await makeCliRealm({}, 'lava-batch-dead-cli-');
    const spec = realm.write(
      'report.json',
      JSON.stringify({ job_id: 'report', type: 'cmd', worker: 'core', payload: 'echo hi', enabled: true }),
    );
    await realm.lavaOk(['job', 'put', spec]);
    backend = await openBackend(realm.backendUrl);
    name = (await backend.config.listRealms())[0]!.realm;
    await realm.lavaOk(['batch', 'submit', 'report', '--id', 'b1', '--attr', 'store=a,b,c,d,e', '--isolate', 'stores']);
  }, 120_000);
  afterAll(async () => {
    killSpawned();
    await backend?.close();
    realm?.cleanup();
  });

  it('lists dead tasks, retries some by key and discards the rest', async () => {
    const keys = (await backend.batches.listTasks(name, 'b1', 'pending')).tasks.map((t) => t.key);
    expect(keys).toHaveLength(5);
    await kill('b1', keys.slice(0, 3));
    await backend.batches.update(name, 'b1', { state: 'finished', task_count: 5 });

    const ls = await realm.lavaOk(['batch', 'dead', 'ls', 'b1']);
    const rows = tableRows(ls.stdout, 'KEY');
    expect(rows.map((r) => r[0])).toEqual(keys.slice(0, 3));
    expect(rows[0]).toEqual([keys[0], '3', expect.any(String), `run-${keys[0]}`, 'failed', `disk full on ${keys[0]}`]);
    const json = JSON.parse((await realm.lavaOk(['batch', 'dead', 'ls', 'b1', '--json', '--limit', '2'])).stdout) as {
      tasks: unknown[];
      cursor?: string;
    };
    expect(json.tasks).toHaveLength(2);
    expect(json.cursor).toBe(keys[1]);

    const none = await realm.lava(['batch', 'dead', 'retry', 'b1']);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/name the task keys to retry .*or --all/);
    const both = await realm.lava(['batch', 'dead', 'retry', 'b1', keys[0]!, '--all']);
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(/not both/);

    const retry = await realm.lava(['batch', 'dead', 'retry', 'b1', keys[0]!, keys[3]!, 'no-such-key']);
    expect(retry.stdout).toBe('b1\t1 retried\n');
    expect(retry.stderr).toContain(`not dead (already retried or discarded?): ${keys[3]}`);
    expect(retry.stderr).toContain('not tasks of batch b1: no-such-key');
    expect(retry.code).toBe(1);
    expect(await backend.batches.get(name, 'b1')).toMatchObject({ state: 'submitted' });
    expect((await backend.batches.getTask(name, 'b1', keys[0]!))?.info).toMatchObject({ attempts_from: 3, error: null });

    expect((await realm.lavaOk(['batch', 'dead', 'discard', 'b1', '--all'])).stdout).toBe('b1\t2 discarded\n');
    expect((await realm.lavaOk(['batch', 'dead', 'discard', 'b1', '--all'])).stdout).toBe('b1\t0 discarded\n');
    const missing = await realm.lava(['batch', 'dead', 'ls', 'nope']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/batch "nope" not found: list batches with `lava batch ls`/);
  }, 120_000);

  it('lists closed tasks with their outcome, by state', async () => {
    await realm.lavaOk(['batch', 'submit', 'report', '--id', 'b2', '--attr', 'store=a,b,c', '--isolate', 'stores']);
    const keys = (await backend.batches.listTasks(name, 'b2', 'pending')).tasks.map((t) => t.key);
    await backend.batches.transition(name, 'b2', keys[0]!, ['pending'], 'complete', {
      run_id: 'r0',
      attempt: 1,
      run_status: 'complete',
    });
    await kill('b2', [keys[1]!], 2);
    const all = tableRows((await realm.lavaOk(['batch', 'tasks', 'b2'])).stdout, 'KEY');
    expect(all).toEqual([
      [keys[0], 'complete', '1', 'r0', expect.any(String), 'complete'],
      [keys[1], 'dead', '2', `run-${keys[1]}`, expect.any(String), `disk full on ${keys[1]}`],
    ]);
    const pending = JSON.parse((await realm.lavaOk(['batch', 'tasks', 'b2', '--state', 'pending', '--json'])).stdout) as {
      tasks: { key: string; state: string }[];
    };
    expect(pending.tasks).toEqual([expect.objectContaining({ key: keys[2], state: 'pending' })]);
    const paged = await realm.lavaOk(['batch', 'tasks', 'b2', '--limit', '1']);
    expect(tableRows(paged.stdout, 'KEY')).toHaveLength(1);
    const cursor = /--cursor (\S+)/.exec(paged.stderr)?.[1];
    expect(cursor).toBeTruthy();
    const next = await realm.lavaOk(['batch', 'tasks', 'b2', '--limit', '1', '--cursor', cursor!]);
    expect(tableRows(next.stdout, 'KEY')[0]?.[0]).toBe(keys[1]);
    const bad = await realm.lava(['batch', 'tasks', 'b2', '--state', 'done']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--state "done" is not a task state: use one of pending, queued/);
  }, 120_000);

  it('status --watch prints a line per change and ends when the batch is finished', async () => {
    await realm.lavaOk(['batch', 'submit', 'report', '--id', 'b3', '--attr', 'store=a,b', '--isolate', 'stores']);
    const keys = (await backend.batches.listTasks(name, 'b3', 'pending')).tasks.map((t) => t.key);
    const watch = realm.spawn(['batch', 'status', 'b3', '--watch', '--every', '0.1s']);
    await waitFor(() => watch.stdout().includes('0/2 done'), 20_000, 'the first status line');
    await backend.batches.transition(name, 'b3', keys[0]!, ['pending'], 'complete');
    await waitFor(() => watch.stdout().includes('1/2 done (50%)'), 20_000, 'the line after a task completed');
    expect(watch.running()).toBe(true);
    await backend.batches.transition(name, 'b3', keys[1]!, ['pending'], 'dead', { error: 'x' });
    const end = await waitExit(watch, 20_000);
    expect(end.code).toBe(0);
    const lines = watch.stdout().trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\S+Z {2}submitted {2}0\/2 done \(0%\) {2}pending 2$/);
    expect(lines[2]).toMatch(/2\/2 done \(100%\) {2}complete 1, dead 1$/);
    const both = await realm.lava(['batch', 'status', 'b3', '--watch', '--json']);
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(/--watch and --json/);
  }, 120_000);

  it.skipIf(scriptSkip)(
    `status --watch on a terminal redraws the table and bar in place${scriptSkip ? ` [skipped: ${scriptSkip}]` : ''}`,
    async () => {
      await realm.lavaOk(['batch', 'submit', 'report', '--id', 'b4', '--attr', 'store=a,b', '--isolate', 'stores']);
      const keys = (await backend.batches.listTasks(name, 'b4', 'pending')).tasks.map((t) => t.key);
      // The command line is fixed text (no input from outside), as `script -c` wants one.
      const command = `'${process.execPath}' '${LAVA_BIN}' batch status b4 --watch --every 0.1s`;
      const child = spawn(SCRIPT, ['-qec', command, '/dev/null'], {
        env: realm.env,
        cwd: realm.dir,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        await waitFor(() => out.includes('0/2 done (0%)'), 20_000, 'the first drawing');
        expect(out).toContain(`[${'.'.repeat(40)}] 0/2 done (0%)`);
        await backend.batches.transition(name, 'b4', keys[0]!, ['pending'], 'complete');
        await backend.batches.transition(name, 'b4', keys[1]!, ['pending'], 'discarded');
        expect(await exited).toBe(0);
      } finally {
        child.kill('SIGKILL');
      }
      // Ten lines (the batch, the header, seven states, the bar), each redraw moving up over them and clearing.
      expect(out).toContain('\x1b[10A\x1b[J');
      expect(out).toMatch(/discarded +1/);
      expect(out).toContain(`[${'#'.repeat(40)}] 2/2 done (100%)`);
    },
    60_000,
  );
});
