/**
 * A throwaway Samba server for tests: smbd in the foreground with its own smb.conf on 127.0.0.1 and
 * a free port, every private, lock, state and cache directory under a temporary directory, one
 * share on a temporary directory, and one user in its own passdb (`tdbsam:<dir>/passdb.tdb`, added
 * with `smbpasswd -a` reading the password from stdin). Nothing outside the temporary directory is
 * changed. Needs root (smbd) and the Debian packages samba and smbclient.
 *
 * The SMB user is root (smbd maps SMB users to Unix users; root exists everywhere, so no Unix user
 * is created); the password is only the one in the private passdb.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const SMBD = '/usr/sbin/smbd';
export const SMBPASSWD = '/usr/bin/smbpasswd';
export const SMBCLIENT_BIN = '/usr/bin/smbclient';

/** Why samba tests cannot run here, or undefined when they can. */
export const sambaSkipReason: string | undefined = (() => {
  if (!fs.existsSync(SMBD)) return `${SMBD} is missing: apt-get install samba smbclient`;
  if (!fs.existsSync(SMBPASSWD)) return `${SMBPASSWD} is missing: apt-get install samba-common-bin`;
  if (!fs.existsSync(SMBCLIENT_BIN)) return `${SMBCLIENT_BIN} is missing: apt-get install smbclient`;
  if (process.getuid?.() !== 0) return 'smbd needs root (it switches to the SMB user)';
  return undefined;
})();

export interface SambaServer {
  host: string;
  port: number;
  /** The server's NetBIOS name (connection field remote_name). */
  netbiosName: string;
  share: string;
  /** The directory the share serves. */
  shareDir: string;
  user: string;
  password: string;
  log(): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * smbd's process group, and the helpers smbd starts on demand (samba-dcerpcd and its rpcd_* workers,
 * for share listing), which leave the group: found by this server's own configuration path.
 */
function killAll(pid: number | undefined, dir: string, signal: NodeJS.Signals): void {
  if (pid) killQuietly(-pid, signal);
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes(`${dir}/smb.conf`)) killQuietly(Number(p), signal);
  }
}

/** Start smbd; `stop()` in afterAll. */
export async function startSamba(o: { password?: string } = {}): Promise<SambaServer> {
  const password = o.password ?? 'Smb-Pa55 w0rd-7f3a';
  const user = 'root';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-samba-'));
  for (const d of ['private', 'lock', 'state', 'cache', 'pid', 'ncalrpc', 'log', 'share']) fs.mkdirSync(path.join(dir, d));
  const shareDir = path.join(dir, 'share');
  const port = await freePort();
  const conf = path.join(dir, 'smb.conf');
  fs.writeFileSync(
    conf,
    [
      '[global]',
      '  netbios name = LAVATEST',
      '  workgroup = WORKGROUP',
      '  server role = standalone server',
      `  smb ports = ${port}`,
      '  disable netbios = yes',
      '  interfaces = 127.0.0.1',
      '  bind interfaces only = yes',
      `  private dir = ${dir}/private`,
      `  lock directory = ${dir}/lock`,
      `  state directory = ${dir}/state`,
      `  cache directory = ${dir}/cache`,
      `  pid directory = ${dir}/pid`,
      `  ncalrpc dir = ${dir}/ncalrpc`,
      `  log file = ${dir}/log/smbd.log`,
      '  log level = 1',
      `  passdb backend = tdbsam:${dir}/passdb.tdb`,
      '  map to guest = never',
      '  load printers = no',
      '  printing = bsd',
      '  printcap name = /dev/null',
      '  disable spoolss = yes',
      '',
      '[Public]',
      `  path = ${shareDir}`,
      '  read only = no',
      '',
    ].join('\n'),
  );
  execFileSync(SMBPASSWD, ['-c', conf, '-s', '-a', user], {
    input: `${password}\n${password}\n`,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  // Its own process group (detached: setsid): on shutdown smbd signals its whole group, which
  // without this would be the test runner's.
  const child = spawn(SMBD, ['--foreground', '--no-process-group', '-s', conf], { stdio: 'ignore', detached: true });
  let exited = false;
  child.on('exit', () => (exited = true));
  const logFile = path.join(dir, 'log', 'smbd.log');
  const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
  for (let i = 0; ; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (exited || i > 400) {
      const text = log();
      killAll(child.pid, dir, 'SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`smbd did not start on port ${port}:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  // If the test process dies without afterAll, take smbd with it.
  const watcher = spawn(
    'bash',
    [
      '-c',
      'while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -- -"$2" 2>/dev/null; sleep 1; rm -rf "$3"',
      'smbd-watch',
      String(process.pid),
      String(child.pid),
      dir,
    ],
    { detached: true, stdio: 'ignore' },
  );
  watcher.unref();
  return {
    host: '127.0.0.1',
    port,
    netbiosName: 'LAVATEST',
    share: 'Public',
    shareDir,
    user,
    password,
    log,
    async stop() {
      const gone = exited ? Promise.resolve() : new Promise((r) => child.once('exit', r));
      killAll(child.pid, dir, 'SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      killAll(child.pid, dir, 'SIGKILL');
      if (watcher.pid) killQuietly(watcher.pid, 'SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
