/**
 * A run's scratch directory on the real file system: made on first use, private, and removed at the
 * run's end, at once when it holds the usual few files and an empty TMPDIR, in the background when it
 * holds more.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Scratch } from '../../src/run/scratch.js';

describe('Scratch', () => {
  let root: string;
  beforeEach(async () => {
    root = await fsp.mkdtemp(path.join(os.tmpdir(), 'lava-scratch-'));
  });
  afterEach(async () => {
    await fsp.rm(root, { recursive: true, force: true });
  });

  it('is made on first use only, and not made at all when unused', () => {
    const s = new Scratch(root, 'run-1');
    expect(fs.existsSync(s.dir)).toBe(false);
    s.remove();
    expect(fs.existsSync(s.dir)).toBe(false);
    expect(s.path).toBe(path.join(root, 'run-1'));
    expect(fs.statSync(s.dir).isDirectory()).toBe(true);
  });

  it('the usual content (output files, an empty TMPDIR, a symlink) is gone when remove returns', () => {
    const s = new Scratch(root, 'run-2');
    fs.writeFileSync(path.join(s.path, '.lava-out-x.stdout'), 'out');
    fs.writeFileSync(path.join(s.path, '.lava-out-x.stderr'), '');
    fs.mkdirSync(path.join(s.path, '.lava.tmp-1'));
    fs.symlinkSync('/etc/hostname', path.join(s.path, 'link'));
    s.remove();
    expect(fs.existsSync(s.dir)).toBe(false);
    // The symlink's target is untouched.
    expect(fs.existsSync('/etc/hostname')).toBe(true);
  });

  it('a directory holding more (a non-empty subdirectory, many files) is removed in the background', async () => {
    const s = new Scratch(root, 'run-3');
    fs.mkdirSync(path.join(s.path, '.lava.tmp-1', 'deep'), { recursive: true });
    fs.writeFileSync(path.join(s.path, '.lava.tmp-1', 'deep', 'f'), 'x');
    for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(s.path, `f${i}`), 'x');
    s.remove();
    await Scratch.settle();
    expect(fs.existsSync(s.dir)).toBe(false);
  });

  it('a run id that would leave the root fails on first use and removes nothing', () => {
    fs.writeFileSync(path.join(root, 'keep'), 'x');
    const s = new Scratch(path.join(root, 'sub'), '../keep');
    expect(() => s.path).toThrow();
    s.remove();
    expect(fs.existsSync(path.join(root, 'keep'))).toBe(true);
  });
});
