/**
 * Realm files are private to their owner whatever the umask: the database and its WAL files, the
 * payload and temp areas, run outputs, uploaded payloads and run scratch dirs. LAVA_FILE_MODE
 * opens them up on purpose.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openBackend } from '../../src/backends/index.js';
import { initEmbeddedRealm } from '../../src/cli/init.js';
import { uploadPayload } from '../../src/cli/payload.js';
import { ConfigError } from '../../src/core/errors.js';
import { fileModes } from '../../src/core/paths.js';
import { lava, cleanEnv } from '../e2e/cli-helpers.js';
import { makeRealm } from '../helpers.js';

const modeOf = (p: string): number => fs.statSync(p).mode & 0o777;
const octal = (m: number): string => m.toString(8).padStart(3, '0');

/** Every file and directory under dir (dir itself included), with its mode in octal. */
function modesUnder(dir: string): Record<string, string> {
  const out: Record<string, string> = { '.': octal(modeOf(dir)) };
  for (const rel of fs.readdirSync(dir, { recursive: true }) as string[]) out[rel] = octal(modeOf(path.join(dir, rel)));
  return out;
}

let oldUmask: number;
let work: string;
const savedMode = process.env.LAVA_FILE_MODE;

beforeEach(() => {
  // The usual permissive umask: without explicit modes everything would be 0644/0755.
  oldUmask = process.umask(0o022);
  delete process.env.LAVA_FILE_MODE;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-perm-'));
});
afterEach(() => {
  process.umask(oldUmask);
  if (savedMode === undefined) delete process.env.LAVA_FILE_MODE;
  else process.env.LAVA_FILE_MODE = savedMode;
  fs.rmSync(work, { recursive: true, force: true });
});

describe('realm files under umask 022', () => {
  test('init makes the realm dir, payloads and temp 0700 and the database and its WAL files 0600', async () => {
    const dir = path.join(work, 'realm');
    const init = await initEmbeddedRealm(dir, 'r');
    const backend = await openBackend(init.backendUrl);
    try {
      // A write, so the WAL and shared-memory files exist; a secret, so the key file does.
      await backend.config.put('r', 'jobs', { job_id: 'a', type: 'log', worker: 'w', payload: 'x' });
      await backend.secrets.encrypt('r', 'secret');
      expect(modesUnder(dir)).toEqual({
        '.': '700',
        payloads: '700',
        temp: '700',
        'lava.db': '600',
        'lava.db-wal': '600',
        'lava.db-shm': '600',
        'lava.db.key': '600',
      });
    } finally {
      await backend.close();
    }
  });

  test('run outputs, their directories and the run scratch dir are private', async () => {
    const t = await makeRealm();
    try {
      // The job reports its own scratch dir's mode, as it sees it while running.
      await t.putJob({ job_id: 'demo/perm', type: 'cmd', payload: 'sh -c "stat -c %a . && echo note >&2"' });
      const runId = await t.dispatch('demo/perm');
      await t.drain();
      expect(await t.statuses(runId, 'demo/perm')).toContain('complete');
      const runDir = path.join(t.dir, 'temp', 'demo', 'perm', runId);
      expect(fs.readFileSync(path.join(runDir, 'stdout'), 'utf8').trim()).toBe('700');
      expect(modesUnder(path.join(t.dir, 'temp'))).toEqual({
        '.': '700',
        demo: '700',
        'demo/perm': '700',
        [`demo/perm/${runId}`]: '700',
        [`demo/perm/${runId}/stdout`]: '600',
        [`demo/perm/${runId}/stderr`]: '600',
      });
    } finally {
      await t.close();
    }
  });

  test('uploaded payloads keep the owner execute bit and lose group and world access', async () => {
    const src = path.join(work, 'src');
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(src, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
    fs.writeFileSync(path.join(src, 'sub', 'data.txt'), 'x', { mode: 0o644 });
    const area = path.join(work, 'payloads');
    fs.mkdirSync(area, { mode: 0o700 });
    await uploadPayload(`file://${area}`, src, 'demo');
    expect(modesUnder(area)).toEqual({
      '.': '700',
      demo: '700',
      'demo/run.sh': '700',
      'demo/sub': '700',
      'demo/sub/data.txt': '600',
    });
  });
});

describe('LAVA_FILE_MODE', () => {
  test('640 lets the group read: files 0640, directories and executables 0750', async () => {
    process.env.LAVA_FILE_MODE = '640';
    const src = path.join(work, 'src');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'run.sh'), '#!/bin/sh\n', { mode: 0o700 });
    fs.writeFileSync(path.join(src, 'notes.txt'), 'x', { mode: 0o600 });
    const area = path.join(work, 'payloads');
    fs.mkdirSync(area);
    await uploadPayload(`file://${area}`, src, 'demo');
    expect(modesUnder(path.join(area, 'demo'))).toEqual({ '.': '750', 'run.sh': '750', 'notes.txt': '640' });
  });

  test('a mode without owner read/write, with execute bits or not octal is refused with the fix', () => {
    for (const bad of ['644x', '400', '755', '0o600', '6400']) {
      expect(() => fileModes({ LAVA_FILE_MODE: bad }), bad).toThrow(ConfigError);
    }
    expect(() => fileModes({ LAVA_FILE_MODE: '755' })).toThrow(/LAVA_FILE_MODE "755".*e\.g\. 600 or 640/);
    expect(fileModes({})).toEqual({ file: 0o600, dir: 0o700 });
    expect(fileModes({ LAVA_FILE_MODE: '0660' })).toEqual({ file: 0o660, dir: 0o770 });
  });
});

describe('lava init and lava payload put (CLI)', () => {
  test('a realm made and filled by the CLI under umask 022 is private', async () => {
    const dir = path.join(work, 'cli-realm');
    const env = cleanEnv({ LAVA_BACKEND: `sqlite:${path.join(dir, 'lava.db')}` });
    const init = await lava(['init', '--dir', dir], { env, cwd: work });
    expect(init.code, init.stderr).toBe(0);
    const file = path.join(work, 'hello.sh');
    fs.writeFileSync(file, '#!/bin/sh\necho hi\n', { mode: 0o755 });
    const put = await lava(['payload', 'put', file, 'demo/'], { env, cwd: work });
    expect(put.code, put.stderr).toBe(0);
    const modes = modesUnder(dir);
    expect(modes).toMatchObject({ '.': '700', payloads: '700', temp: '700', 'lava.db': '600', 'payloads/demo': '700' });
    expect(modes['payloads/demo/hello.sh']).toBe('700');
    for (const [name, mode] of Object.entries(modes)) expect(parseInt(mode, 8) & 0o077, `${name} ${mode}`).toBe(0);
  });
});
