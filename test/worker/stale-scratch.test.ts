import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { processMarker, removeDeadWorkerDirs } from '../../src/worker/stale-scratch.js';

let root: string;
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$']);
  return Number(r.stdout.toString().trim());
}

function workerDir(name: string, info?: Record<string, unknown>): string {
  const dir = path.join(root, name);
  fs.mkdirSync(path.join(dir, 'some-run'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'some-run', 'conn.secret'), 'password');
  if (info) fs.writeFileSync(path.join(dir, 'worker.json'), JSON.stringify(info));
  return dir;
}

describe('removeDeadWorkerDirs', () => {
  it('removes the scratch dirs of dead workers of this host and keeps live, foreign and unknown ones', async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-stale-'));
    const host = os.hostname();
    const dead = deadPid();
    const me = process.pid;
    const marker = processMarker(me);
    const gone = workerDir(`w.${dead}`, { pid: dead, host, pid_start: 'x:1' });
    const goneNoInfo = workerDir(`other.${dead}`);
    const live = workerDir(`w.${me}`, { pid: me, host, pid_start: marker });
    const liveOld = workerDir(`old.${me}`, { pid: me }); // written before markers: trusted as alive
    const liveNoInfo = workerDir(`starting.${me}`);
    const foreign = workerDir(`far.${dead}`, { pid: dead, host: `not-${host}` });
    const mine = workerDir(`self.${dead}`, { pid: dead, host });
    const notAWorker = workerDir('notes');

    const removed = await removeDeadWorkerDirs(root, host, mine);
    expect(removed.sort()).toEqual([gone, goneNoInfo].sort());
    for (const dir of [live, liveOld, liveNoInfo, foreign, mine, notAWorker]) expect(fs.existsSync(dir), dir).toBe(true);
    for (const dir of [gone, goneNoInfo]) expect(fs.existsSync(dir), dir).toBe(false);
  });

  it.skipIf(processMarker(process.pid) === undefined)(
    'removes a dir whose pid now belongs to another process (the start marker differs) (needs /proc)',
    async () => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-stale-'));
      const reused = workerDir(`w.${process.pid}`, {
        pid: process.pid,
        host: os.hostname(),
        pid_start: `${processMarker(process.pid)}0`,
      });
      expect(await removeDeadWorkerDirs(root, os.hostname(), '')).toEqual([reused]);
      expect(fs.existsSync(reused)).toBe(false);
    },
  );

  it('finds nothing to do in a missing dir', async () => {
    root = path.join(os.tmpdir(), `lava-stale-missing-${process.pid}`);
    expect(await removeDeadWorkerDirs(root, os.hostname(), '')).toEqual([]);
  });
});
