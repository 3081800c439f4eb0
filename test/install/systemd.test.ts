/**
 * deploy/systemd: the units pass `systemd-analyze verify` (no error, no warning) for both backends'
 * environment files, in a scratch root that holds the system's own units, the units under test and an
 * executable at the ExecStart path. The command lines they start are real lava commands and options.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBackend } from '../../src/backends/index.js';
import { buildProgram } from '../../src/cli/index.js';
import { commandTree } from '../../src/cli/completion.js';
import { REPO_ROOT } from '../e2e/cli-helpers.js';

const UNITS_DIR = path.join(REPO_ROOT, 'deploy/systemd');
const units = fs.readdirSync(UNITS_DIR).filter((f) => f.endsWith('.service'));
const SYSTEM_UNITS = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) =>
  fs.existsSync(path.join(d, 'sysinit.target')),
);
const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;
const why = !analyze
  ? 'systemd-analyze is not installed (apt-get install systemd)'
  : !SYSTEM_UNITS
    ? "the system's units (sysinit.target) are not in /usr/lib/systemd/system"
    : '';

/** The instance each template unit is verified as. */
const instanceOf = (unit: string) =>
  unit.replace('@.service', unit.startsWith('lava-worker') ? '@core.service' : '@main.service');

let root: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-systemd-'));
  if (why) return;
  fs.mkdirSync(path.join(root, 'usr/lib/systemd'), { recursive: true });
  fs.cpSync(SYSTEM_UNITS ?? '', path.join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  fs.mkdirSync(path.join(root, 'usr/local/bin'), { recursive: true });
  fs.writeFileSync(path.join(root, 'usr/local/bin/lava'), '#!/bin/sh\n', { mode: 0o755 });
  fs.mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
  fs.mkdirSync(path.join(root, 'etc/lava'), { recursive: true });
  for (const u of units) fs.copyFileSync(path.join(UNITS_DIR, u), path.join(root, 'etc/systemd/system', u));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function verify(...names: string[]): { status: number | null; output: string } {
  const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, '--man=no', '--generators=no', ...names], {
    encoding: 'utf8',
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

/** KEY=value lines of an environment file. */
function envFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m?.[1]) out[m[1]] = m[2] ?? '';
  }
  return out;
}

describe('systemd units', () => {
  it('are the worker, dispatcher and server units', () => {
    expect(units.sort()).toEqual(['lava-dispatcher@.service', 'lava-server.service', 'lava-worker@.service']);
  });

  it('start real lava commands with real options', () => {
    const tree = commandTree(buildProgram());
    for (const u of units) {
      const exec = /^ExecStart=\/usr\/local\/bin\/lava (.*)$/m.exec(fs.readFileSync(path.join(UNITS_DIR, u), 'utf8'))?.[1];
      expect(exec, u).toBeDefined();
      const [command, ...args] = (exec ?? '').split(' ');
      const node = tree.find((n) => n.path === command);
      expect(node, `${u}: lava ${command}`).toBeDefined();
      const flags = node?.options.flatMap((o) => o.flags) ?? [];
      for (const a of args.filter((x) => x.startsWith('-'))) expect(flags, `${u}: ${a}`).toContain(a);
    }
  });

  for (const variant of ['embedded', 'postgres']) {
    it.skipIf(!!why)(`verify cleanly with lava.env.${variant}${why ? ` (skipped: ${why})` : ''}`, () => {
      const env = path.join(UNITS_DIR, `lava.env.${variant}`);
      const vars = envFile(env);
      expect(findBackend(vars.LAVA_BACKEND ?? '')?.name).toBe(variant === 'embedded' ? 'sqlite' : 'postgres');
      fs.copyFileSync(env, path.join(root, 'etc/lava/lava.env'));
      const r = verify(...units.map(instanceOf));
      expect(r.output).toBe('');
      expect(r.status).toBe(0);
    });
  }

  it.skipIf(!!why)(`the check fails on a broken unit${why ? ` (skipped: ${why})` : ''}`, () => {
    const broken = path.join(root, 'etc/systemd/system/lava-broken.service');
    fs.writeFileSync(broken, '[Service]\nExecStart=/usr/local/bin/lava-missing serve\nRestart=sometimes\n');
    try {
      const r = verify('lava-broken.service');
      expect(r.output).toMatch(/lava-missing|Restart/);
    } finally {
      fs.rmSync(broken);
    }
  });
});
