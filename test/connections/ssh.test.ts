/**
 * ssh, scp and sftp connections against a throwaway OpenSSH server (test/support/sshd.ts): the
 * TypeScript API (key and password auth, host key checks) and the CLI connectors of a real exe job
 * that uploads and downloads a file, with no secret in its command lines, environment, events,
 * outputs, log or leftover files.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSshConnection } from '../../src/connections/api.js';
import { ConnectionError } from '../../src/connections/errors.js';
import { resolveConnection } from '../../src/connections/resolve.js';
import type { Logger } from '../../src/core/logger.js';
import { makeRealm, type TestRealm } from '../helpers.js';
import { startThrowawaySshd, sshdSkipReason, type SshServer } from '../support/sshd.js';
import { captureLogger, readUri, runJob } from './helpers.js';

const PASSWORD = 'Ssh-Pass-3e7d1c';

let t: TestRealm;
let sshd: SshServer;
let logger: Logger;
let logLines: string[];
/** Distinctive parts of the secrets: the key's base64 lines and the password. */
let secretParts: string[];

function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.isFile() ? [p] : [];
  });
}

async function leaks(): Promise<string[]> {
  const found: string[] = [];
  const check = (where: string, text: string) => {
    for (const s of secretParts) if (text.includes(s)) found.push(`${where} contains a secret`);
  };
  check('event records', JSON.stringify(await t.backend.events.query('test', { limit: 10_000 })));
  check('worker log', logLines.join('\n'));
  for (const f of [...walk(fileURLToPath(t.realm.s3_temp)), ...walk(t.tmpRoot)]) check(f, fs.readFileSync(f, 'utf8'));
  return found;
}

describe.skipIf(sshdSkipReason)(`ssh connectors${sshdSkipReason ? ` (skipped: ${sshdSkipReason})` : ''}`, () => {
  beforeAll(async () => {
    sshd = await startThrowawaySshd({ password: PASSWORD });
    t = await makeRealm();
    ({ logger, lines: logLines } = captureLogger());
    secretParts = [
      PASSWORD,
      ...sshd.clientKey
        .split('\n')
        .filter((l) => l.length > 20 && !l.startsWith('-----'))
        .map((l) => l.slice(0, 40)),
    ];
    // Upstream stores keys with commas for newlines (one-line SSM values): store it that way.
    await t.backend.secrets.put('test', '/lava/test/ssh/key', sshd.clientKey.trim().split('\n').join(','));
    await t.backend.secrets.put('test', '/lava/test/ssh/password', PASSWORD);
    await t.backend.secrets.put('test', '/lava/test/ssh/wrong', 'Wrong-Pass-77');
    const put = (spec: Record<string, unknown>) =>
      t.backend.config.put('test', 'connections', {
        enabled: true,
        host: sshd.host,
        port: sshd.port,
        user: sshd.user,
        known_hosts: [sshd.knownHostsLine],
        ...spec,
      });
    await put({ conn_id: 'sftp-key', type: 'sftp', ssh_key: '/lava/test/ssh/key' });
    await put({ conn_id: 'scp-key', type: 'scp', ssh_key: '/lava/test/ssh/key' });
    await put({ conn_id: 'ssh-key', type: 'ssh', ssh_key: '/lava/test/ssh/key' });
    await put({ conn_id: 'ssh-pw', type: 'ssh', password: '/lava/test/ssh/password' });
    await put({ conn_id: 'ssh-badpw', type: 'ssh', password: '/lava/test/ssh/wrong' });
    await put({
      conn_id: 'ssh-wrong-hostkey',
      type: 'ssh',
      ssh_key: '/lava/test/ssh/key',
      known_hosts: [sshd.wrongKnownHostsLine],
    });
    // No known_hosts of their own: ssh's files and StrictHostKeyChecking decide.
    await t.backend.config.put('test', 'connections', {
      enabled: true,
      conn_id: 'ssh-unknown-host',
      type: 'ssh',
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      ssh_key: '/lava/test/ssh/key',
      ssh_options: ['UserKnownHostsFile=/dev/null'],
    });
    await t.backend.config.put('test', 'connections', {
      enabled: true,
      conn_id: 'ssh-nocheck',
      type: 'ssh',
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      ssh_key: '/lava/test/ssh/key',
      ssh_options: ['StrictHostKeyChecking=no', 'UserKnownHostsFile=/dev/null'],
    });
    await t.backend.config.put('test', 'connections', { enabled: true, conn_id: 'ssh-nokey', type: 'ssh', host: 'x' });
    // known_hosts as `ssh-keygen -H` writes it (host names hashed).
    const khFile = path.join(t.dir, 'known_hosts');
    fs.writeFileSync(khFile, `${sshd.knownHostsLine}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', khFile], { stdio: 'ignore' });
    const hashed = fs.readFileSync(khFile, 'utf8').trim();
    expect(hashed).toMatch(/^\|1\|/);
    await put({ conn_id: 'ssh-hashed', type: 'ssh', ssh_key: '/lava/test/ssh/key', known_hosts: hashed });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await sshd?.stop();
  });

  describe('getSshConnection', () => {
    it('authenticates with the key, runs a command, puts and gets a file over sftp', async () => {
      const conn = await getSshConnection('sftp-key', { backend: t.backend, realm: 'test' });
      try {
        expect(conn.target).toBe(`${sshd.user}@127.0.0.1:${sshd.port}`);
        const r = await conn.exec('id -un; echo err >&2; exit 3');
        expect(r).toEqual({ code: 3, stdout: `${sshd.user}\n`, stderr: 'err\n' });
        const local = path.join(t.dir, 'api-up.txt');
        fs.writeFileSync(local, 'over sftp\n');
        const remote = `${sshd.home}/api-${process.pid}.txt`;
        await conn.put(local, remote);
        expect(fs.readFileSync(remote, 'utf8')).toBe('over sftp\n');
        await conn.get(remote, path.join(t.dir, 'api-down.txt'));
        expect(fs.readFileSync(path.join(t.dir, 'api-down.txt'), 'utf8')).toBe('over sftp\n');
        fs.rmSync(remote);
      } finally {
        await conn.close();
      }
    });

    it('authenticates with a password', async () => {
      const conn = await getSshConnection('ssh-pw', { backend: t.backend, realm: 'test' });
      try {
        expect((await conn.exec('echo pw-ok')).stdout).toBe('pw-ok\n');
      } finally {
        await conn.close();
      }
      expect(sshd.log()).toMatch(/Accepted password for lavassh/);
    });

    it('a wrong password fails without the password in the message', async () => {
      const err = await getSshConnection('ssh-badpw', { backend: t.backend, realm: 'test' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionError);
      expect((err as Error).message).toMatch(
        /cannot connect to ssh connection "ssh-badpw" \(lavassh@127\.0\.0\.1:\d+\): All configured authentication methods failed/,
      );
      expect((err as Error).message).not.toContain('Wrong-Pass-77');
    });

    it('refuses a server whose host key differs from known_hosts, before authenticating', async () => {
      const accepted = () => (sshd.log().match(/Accepted /g) ?? []).length;
      const before = accepted();
      const err = await getSshConnection('ssh-wrong-hostkey', { backend: t.backend, realm: 'test' }).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(
        /REMOTE HOST IDENTIFICATION HAS CHANGED: the host key of 127\.0\.0\.1:\d+ does not match known_hosts of the connection/,
      );
      expect(accepted()).toBe(before);
    });

    it('refuses an unknown host unless StrictHostKeyChecking says otherwise', async () => {
      const err = await getSshConnection('ssh-unknown-host', { backend: t.backend, realm: 'test' }).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/Host key verification failed: 127\.0\.0\.1:\d+ is not in \/dev\/null/);
      const conn = await getSshConnection('ssh-nocheck', { backend: t.backend, realm: 'test' });
      expect((await conn.exec('echo unchecked')).stdout).toBe('unchecked\n');
      await conn.close();
    });

    it('understands hashed known_hosts entries', async () => {
      const conn = await getSshConnection('ssh-hashed', { backend: t.backend, realm: 'test' });
      expect((await conn.exec('echo hashed-ok')).stdout).toBe('hashed-ok\n');
      await conn.close();
    });

    it('lava conn test logs in and checks the host key', async () => {
      const ok = await resolveConnection('sftp-key', { backend: t.backend, realm: 'test' });
      expect(await ok.connector.test?.(ok)).toBe(
        `sftp-key (sftp): authenticated to lavassh@127.0.0.1:${sshd.port}, host key checked`,
      );
      const bad = await resolveConnection('ssh-wrong-hostkey', { backend: t.backend, realm: 'test' });
      await expect(bad.connector.test?.(bad)).rejects.toThrow(/REMOTE HOST IDENTIFICATION HAS CHANGED/);
    });

    it('needs a key or a password', async () => {
      const err = await getSshConnection('ssh-nokey', { backend: t.backend, realm: 'test' }).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/bad connection "ssh-nokey" \(type ssh\):\n {2}ssh_key is required/);
    });
  });

  describe('CLI connectors in an exe job', () => {
    it('uploads with sftp, downloads with scp, runs ssh with key and password; no secret anywhere', async () => {
      const name = `job-${Date.now()}.txt`;
      t.writePayload(
        'ssh/transfer.sh',
        `#!/bin/bash
set -euo pipefail
dest="$SSH_USER@127.0.0.1"
echo "uploaded by $LAVA_JOB_ID" > up.txt
printf 'put up.txt %s\\n' "$NAME" | "$LAVA_CONN_SFTP" -q -b - -P "$SSH_PORT" "$dest" >/dev/null
"$LAVA_CONN_SCP" -q -P "$SSH_PORT" "$dest:$NAME" down.txt
echo "down: $(cat down.txt)"
echo "remote: $("$LAVA_CONN_SSH" -p "$SSH_PORT" "$dest" cat "$NAME")"
echo "password: $("$LAVA_CONN_PW" -p "$SSH_PORT" "$dest" echo pw-ok)"
# While ssh runs, read its command line and environment from /proc.
"$LAVA_CONN_PW" -p "$SSH_PORT" "$dest" sleep 2 &
pid=$!
sleep 1
for p in $(pgrep -P "$pid") "$pid"; do
  echo "argv: $(tr '\\0' ' ' < /proc/$p/cmdline)"
  echo "environ: $(tr '\\0' ' ' < /proc/$p/environ)"
done
wait "$pid"
echo "self environ: $(tr '\\0' ' ' < /proc/self/environ)"
echo "modes: $(stat -c '%a %n' "$(dirname "$LAVA_CONN_SFTP")"/* | awk '{print $1}' | sort -u | tr '\\n' ' ')"
`,
        0o755,
      );
      const r = await runJob(t, logger, {
        job_id: 'ssh/transfer',
        type: 'exe',
        payload: 'ssh/transfer.sh',
        parameters: {
          connections: { sftp: 'sftp-key', scp: 'scp-key', ssh: 'ssh-key', pw: 'ssh-pw' },
          env: { SSH_PORT: String(sshd.port), SSH_USER: sshd.user, NAME: name },
        },
      });
      expect(r.statuses, JSON.stringify(r.last)).toEqual(['queued', 'starting', 'running', 'complete']);
      const out = readUri((r.last.output as { stdout: string }[])[0]?.stdout);
      const lines = out.split('\n');
      expect(lines.slice(0, 3)).toEqual([
        'down: uploaded by ssh/transfer',
        'remote: uploaded by ssh/transfer',
        'password: pw-ok',
      ]);
      expect(fs.readFileSync(path.join(sshd.home, name), 'utf8')).toBe('uploaded by ssh/transfer\n');
      fs.rmSync(path.join(sshd.home, name));
      // ssh was running, with the key as a file path and the password only in a file.
      const argv = lines.filter((l) => l.startsWith('argv: '));
      expect(argv.some((l) => /^argv: ssh .*-o NumberOfPasswordPrompts=1 -p \d+ lavassh@127\.0\.0\.1 sleep 2/.test(l))).toBe(
        true,
      );
      expect(out).toMatch(/environ: .*SSH_ASKPASS=\/.*\/conn\.[^/]+\/ssh-pw\.askpass/);
      expect(lines.find((l) => l.startsWith('self environ: '))).not.toContain('SSH_ASKPASS');
      // Scripts 0700, key, password and known_hosts files 0600.
      expect(lines.find((l) => l.startsWith('modes: '))?.trim()).toBe('modes: 600 700');
      for (const s of secretParts) expect(out).not.toContain(s);
      expect(await leaks()).toEqual([]);
      // The connector directory went with the job.
      expect(walk(t.tmpRoot).filter((f) => f.includes('/conn.'))).toEqual([]);
    });

    it('the scripts run ssh, scp and sftp with -i <key file>, as upstream', async () => {
      t.writePayload(
        'ssh/cat.sh',
        '#!/bin/sh\nfor f in "$LAVA_CONN_A" "$LAVA_CONN_B" "$LAVA_CONN_C"; do tail -n 1 "$f"; done\n',
        0o755,
      );
      const r = await runJob(t, logger, {
        job_id: 'ssh/cat',
        type: 'exe',
        payload: 'ssh/cat.sh',
        parameters: { connections: { a: 'ssh-key', b: 'scp-key', c: 'ssh-nocheck' } },
      });
      const out = readUri((r.last.output as { stdout: string }[])[0]?.stdout)
        .trim()
        .split('\n');
      expect(out[0]).toMatch(
        /^exec ssh -o UserKnownHostsFile=\/\S+\/ssh-key\.known_hosts -o StrictHostKeyChecking=yes -i \/\S+\/ssh-key\.ssh\.pem -o IdentitiesOnly=yes "\$@"$/,
      );
      expect(out[1]).toMatch(/^exec scp .* -i \/\S+\/scp-key\.ssh\.pem -o IdentitiesOnly=yes "\$@"$/);
      expect(out[2]).toMatch(
        /^exec ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=\/dev\/null -i \S+ -o IdentitiesOnly=yes "\$@"$/,
      );
    });

    it('a wrong host key is refused by the CLI connector too', async () => {
      t.writePayload('ssh/wrong.sh', '#!/bin/sh\n"$LAVA_CONN_S" -p "$SSH_PORT" "$SSH_USER@127.0.0.1" echo reached\n', 0o755);
      const r = await runJob(t, logger, {
        job_id: 'ssh/wrong',
        type: 'exe',
        payload: 'ssh/wrong.sh',
        parameters: {
          connections: { s: 'ssh-wrong-hostkey' },
          env: { SSH_PORT: String(sshd.port), SSH_USER: sshd.user },
        },
      });
      expect(r.statuses.at(-1)).toBe('failed');
      const data = r.last.error_data as { exit_status: number; output: unknown[] };
      expect(data.exit_status, JSON.stringify(r.last)).toBe(255);
      const [o] = data.output as { stdout?: string; stderr?: string }[];
      expect(readUri(o?.stderr)).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED[\s\S]*Host key verification failed/);
      expect(o?.stdout ? readUri(o.stdout) : '').not.toContain('reached');
    });
  });
});
