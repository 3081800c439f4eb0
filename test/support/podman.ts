/**
 * A container engine for tests: Debian's podman (with runc) serving the Docker Engine API on a private
 * socket, with its own storage, run and config directories under a temp dir, so nothing touches the
 * machine's podman state and concurrent test files do not meet. No registry is reachable here, so the
 * one image, `localhost/lava-test-busybox:latest` (also tagged `busybox:latest`), is made by `podman import` of a rootfs holding
 * /bin/busybox and its applet links.
 *
 * Settings, each needed on this kind of machine (see the podman notes of the CI recipe):
 * runc, not crun (crun refuses hybrid cgroups); small default ulimits (root may lack
 * CAP_SYS_RESOURCE); cgroupfs and file events (no systemd); no network namespace set-up; vfs storage
 * (works on any file system, and the image is tiny); k8s-file logs (no journald).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TEST_IMAGE = 'localhost/lava-test-busybox:latest';
export const BUSYBOX_IMAGE = 'docker.io/library/busybox:latest';
const APPLETS = ['sh', 'echo', 'cat', 'ls', 'true', 'false', 'sleep', 'id', 'hostname', 'env', 'pwd', 'touch', 'printf'];

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = path.join(dir, cmd);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

/** Why container tests cannot run here, or undefined when they can. */
export const podmanSkipReason: string | undefined = (() => {
  const missing = ['podman', 'runc'].filter((c) => !which(c));
  if (!fs.existsSync('/bin/busybox')) missing.push('busybox-static (/bin/busybox)');
  if (missing.length) return `needs ${missing.join(', ')}: apt-get install podman runc busybox-static`;
  return undefined;
})();

export interface PodmanService {
  /** The Docker-compatible API socket. */
  socket: string;
  /** `unix://<socket>`: a docker connection's `server`, or DOCKER_HOST. */
  url: string;
  image: string;
  /** Run a podman command against this service's storage; resolves with stdout. */
  podman(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

async function waitForSocket(socket: string, service: ChildProcess, log: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    if (fs.existsSync(socket)) return;
    if (service.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`podman system service did not come up on ${socket}:\n${fs.readFileSync(log, 'utf8')}`);
}

/** Start a throwaway podman API service with the test image imported: in beforeAll; stop() in afterAll. */
export async function startPodman(): Promise<PodmanService> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-podman-'));
  const conf = path.join(dir, 'containers.conf');
  fs.writeFileSync(
    conf,
    [
      '[containers]',
      'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
      'log_driver = "k8s-file"',
      'netns = "none"',
      '[engine]',
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `tmp_dir = "${dir}/libpod"`,
      `volume_path = "${dir}/volumes"`,
      `static_dir = "${dir}/static"`,
      '',
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, CONTAINERS_CONF: conf };
  delete env.DOCKER_HOST;
  const base = ['--root', path.join(dir, 'root'), '--runroot', path.join(dir, 'runroot'), '--storage-driver', 'vfs'];
  const podman = (args: string[]) => exec('podman', [...base, ...args], env);

  // The image: busybox and its applet links, imported from a tar (no registry needed).
  const rootfs = path.join(dir, 'rootfs');
  for (const d of ['bin', 'tmp', 'etc', 'proc', 'sys', 'dev']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  for (const a of APPLETS) fs.symlinkSync('busybox', path.join(rootfs, 'bin', a));
  const tar = path.join(dir, 'rootfs.tar');
  await exec('tar', ['-C', rootfs, '-cf', tar, '.'], env);
  await podman(['import', '-q', tar, TEST_IMAGE]);
  // The documentation's examples name busybox: the same image under that name.
  await podman(['tag', TEST_IMAGE, BUSYBOX_IMAGE]);

  const socket = path.join(dir, 'podman.sock');
  const log = path.join(dir, 'service.log');
  const out = fs.openSync(log, 'w');
  const service = spawn('podman', [...base, 'system', 'service', '--time=0', `unix://${socket}`], {
    env,
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  await waitForSocket(socket, service, log);

  return {
    socket,
    url: `unix://${socket}`,
    image: TEST_IMAGE,
    podman,
    async stop() {
      // Remove what a failed test left, then end the service (it started no other long-lived process).
      await podman(['rm', '-a', '-f', '-t', '0']).catch(() => undefined);
      if (service.exitCode === null) {
        const exited = new Promise((r) => service.once('exit', r));
        service.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (service.exitCode === null) service.kill('SIGKILL');
      }
      // vfs layers can hold read-only directories: make them writable before removing.
      await exec('chmod', ['-R', 'u+w', dir], env).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
