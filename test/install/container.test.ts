/**
 * SLOW (about 1.5 minutes; 4 more the first time, for the base image): the container image is built
 * with podman from the Containerfile and runs a job. No registry is reachable here, so the base image is made locally from Debian packages
 * (scripts/container-base.sh: debootstrap, cached under .cache/) with this host's node, standing in for
 * node:20-bookworm-slim. lava's dependencies are installed on the host (--host-install), or taken from
 * LAVA_IMAGE_APP (the folder scripts/pack-check.sh installed, so CI compiles better-sqlite3 once).
 * The Containerfile's own npm-install stage is not run here: it needs the registry inside the build.
 *
 * podman needs runc and default_ulimits here (see docs/deploy.md); the test passes its own
 * containers.conf and never touches the host's configuration.
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/core/version.js';
import { REPO_ROOT } from '../e2e/cli-helpers.js';

const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const why =
  process.getuid?.() !== 0
    ? 'building the base image needs root (debootstrap)'
    : !has('podman')
      ? 'podman is not installed (apt-get install podman runc)'
      : !has('runc')
        ? 'runc is not installed'
        : !has('debootstrap') && !fs.existsSync(path.join(REPO_ROOT, '.cache/container-base/rootfs.tar'))
          ? 'debootstrap is not installed and no cached base rootfs'
          : '';

const IMAGE = 'localhost/lava-test:image-test';
let dir: string;
let env: NodeJS.ProcessEnv;

/**
 * Run a command without blocking the event loop (a long synchronous call starves vitest's worker RPC).
 * Resolves with the exit status and output; never rejects for a non-zero exit.
 */
function run(cmd: string, args: string[], timeout: number): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = (err as { code?: unknown } | null)?.code;
      resolve({
        status: err ? (typeof code === 'number' ? code : -1) : 0,
        stdout,
        stderr: err && typeof code !== 'number' ? `${stderr}\n${err.message}` : stderr,
      });
    });
  });
}
const podman = (...args: string[]) => run('podman', args, 300_000);

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-container-'));
  fs.writeFileSync(
    path.join(dir, 'containers.conf'),
    '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nruntime = "runc"\n',
  );
  env = { ...process.env, CONTAINERS_CONF: path.join(dir, 'containers.conf') };
});
afterAll(async () => {
  if (!why) await podman('rmi', '-f', IMAGE);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('container image (slow: builds an image)', () => {
  it.skipIf(!!why)(
    `builds, and runs lava quickstart with psql, mysql and sqlite3 on board${why ? ` (skipped: ${why})` : ''}`,
    async () => {
      const made = await run('bash', [path.join(REPO_ROOT, 'scripts/container-base.sh')], 900_000);
      expect(made.status, made.stderr).toBe(0);
      const base = made.stdout.trim().split('\n').at(-1) ?? '';
      const app = process.env.LAVA_IMAGE_APP;
      const install = app ? ['--app', app] : ['--host-install'];
      const script = path.join(REPO_ROOT, 'scripts/container-build.sh');
      const built = await run(
        'bash',
        [script, '--tag', IMAGE, '--base', base, ...install, '--', '--network=none', '--layers=false'],
        900_000,
      );
      expect(built.status, built.stderr.slice(-4000)).toBe(0);
      expect(built.stdout.trim().split('\n').at(-1)).toBe(IMAGE);

      const version = await podman('run', '--rm', '--network=none', IMAGE, '--version');
      expect(version.stderr).toBe('');
      expect(version.stdout.trim()).toMatch(new RegExp(`^${VERSION.replace(/\./g, '\\.')} \\(commit [0-9a-f]{12}`));

      const clients = await podman(
        'run',
        '--rm',
        '--network=none',
        '--entrypoint',
        'sh',
        IMAGE,
        '-c',
        'psql --version; mysql --version; sqlite3 --version; id -un',
      );
      expect(clients.status, clients.stderr).toBe(0);
      expect(clients.stdout).toMatch(/psql \(PostgreSQL\) \d+/);
      expect(clients.stdout).toMatch(/mysql +(Ver|from)/i);
      expect(clients.stdout).toMatch(/^3\.\d+\.\d+/m);
      expect(clients.stdout.trim().split('\n').at(-1)).toBe('lava');

      // A job run in the container: the quick start's realm in the image's volume, a worker, the events.
      const demo = await podman('run', '--rm', '--network=none', '--init', IMAGE, 'quickstart', '--dir', '/var/lib/lava/demo');
      expect(demo.status, `${demo.stdout}\n${demo.stderr}`).toBe(0);
      expect(demo.stdout).toMatch(/demo\/hello +[0-9a-f-]{36} +complete/);
      expect(demo.stdout).toMatch(/demo\/package +[0-9a-f-]{36} +complete/);
    },
    1_800_000,
  );
});
