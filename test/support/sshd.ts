/**
 * A throwaway OpenSSH server for tests: its own sshd_config on 127.0.0.1 and a free port, a temporary
 * ed25519 host key, a test user with a password and an authorized client key. Needs root (sshd's
 * privilege separation, creating the user) and /usr/sbin/sshd (apt-get install openssh-server).
 *
 * The temporary directory is 0755 because sshd reads authorized_keys as the target user, and
 * StrictModes is off because the keys live under /tmp. UsePAM is off (no PAM stack in containers).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const SSHD = '/usr/sbin/sshd';

/** Why sshd tests cannot run here, or undefined when they can. */
export const sshdSkipReason: string | undefined = (() => {
  if (!fs.existsSync(SSHD)) return `${SSHD} is missing: apt-get install openssh-server openssh-client`;
  if (!fs.existsSync('/usr/bin/ssh')) return '/usr/bin/ssh is missing: apt-get install openssh-client';
  if (process.getuid?.() !== 0) return 'sshd with its own users needs root (privilege separation, useradd)';
  return undefined;
})();

export interface SshServer {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The authorized client private key (OpenSSH format, no passphrase). */
  clientKey: string;
  /** The server's host key as a known_hosts line for `[127.0.0.1]:<port>`. */
  knownHostsLine: string;
  /** A known_hosts line with a different key for the same address (a wrong host key). */
  wrongKnownHostsLine: string;
  /** The test user's home directory (files the tests put and get). */
  home: string;
  /** The server's log (auth failures, sftp requests). */
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

function keygen(file: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lava-test', '-f', file], { stdio: 'ignore' });
}

/** Start sshd; `stop()` in afterAll. */
export async function startThrowawaySshd(o: { user?: string; password?: string } = {}): Promise<SshServer> {
  const user = o.user ?? 'lavassh';
  const password = o.password ?? 'Ssh-Pass-3e7d1c';
  try {
    execFileSync('id', [user], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['-m', '-s', '/bin/bash', user], { stdio: 'ignore' });
  }
  execFileSync('chpasswd', { input: `${user}:${password}\n` });
  const home = execFileSync('getent', ['passwd', user], { encoding: 'utf8' }).split(':')[5] as string;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-sshd-'));
  fs.chmodSync(dir, 0o755);
  keygen(path.join(dir, 'hostkey'));
  keygen(path.join(dir, 'otherkey'));
  keygen(path.join(dir, 'client_key'));
  fs.copyFileSync(path.join(dir, 'client_key.pub'), path.join(dir, 'authorized_keys'));
  fs.chmodSync(path.join(dir, 'authorized_keys'), 0o644);
  fs.mkdirSync('/run/sshd', { recursive: true });
  const port = await freePort();
  const logFile = path.join(dir, 'sshd.log');
  fs.writeFileSync(
    path.join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${dir}/hostkey`,
      `PidFile ${dir}/sshd.pid`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin no',
      `AllowUsers ${user}`,
      'Subsystem sftp internal-sftp',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  // -D: stays in the foreground as our child, so it dies with a kill of its pid.
  const child = spawn(SSHD, ['-D', '-f', path.join(dir, 'sshd_config'), '-E', logFile], { stdio: 'ignore' });
  let exited = false;
  child.on('exit', () => (exited = true));
  for (let i = 0; ; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (exited || i > 200) {
      const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`sshd did not start on port ${port}:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  // If the test process dies without afterAll, take sshd with it.
  const watcher = spawn(
    'bash',
    [
      '-c',
      'while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill "$2" 2>/dev/null; rm -rf "$3"',
      'sshd-watch',
      String(process.pid),
      String(child.pid),
      dir,
    ],
    { detached: true, stdio: 'ignore' },
  );
  watcher.unref();
  const pub = (name: string) =>
    fs
      .readFileSync(path.join(dir, `${name}.pub`), 'utf8')
      .trim()
      .split(/\s+/)
      .slice(0, 2)
      .join(' ');
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    clientKey: fs.readFileSync(path.join(dir, 'client_key'), 'utf8'),
    knownHostsLine: `[127.0.0.1]:${port} ${pub('hostkey')}`,
    wrongKnownHostsLine: `[127.0.0.1]:${port} ${pub('otherkey')}`,
    home,
    log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''),
    stop: async () => {
      if (!exited) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill();
        await done;
      }
      try {
        if (watcher.pid) process.kill(watcher.pid);
      } catch {
        // already gone
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
