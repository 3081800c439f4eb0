/**
 * git connections: an exe job clones a bare repository made by the test through `$LAVA_CONN_<LABEL>`,
 * by file path and over ssh from a throwaway sshd (key and password), with no secret in its output,
 * the events or the files left behind.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/core/logger.js';
import { makeRealm, type TestRealm } from '../helpers.js';
import { startThrowawaySshd, sshdSkipReason, type SshServer } from '../support/sshd.js';
import { captureLogger, readUri, runJob } from './helpers.js';

const PASSWORD = 'Git-Pass-8c2f4a';

let t: TestRealm;
let sshd: SshServer;
let logger: Logger;
let logLines: string[];
let repoRoot: string;
let repo: string;
/** A copy owned by the ssh user: git refuses repositories of other users (safe.directory). */
let sshRepo: string;

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Lava Test', '-c', 'user.email=lava@example.com', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });

describe.skipIf(sshdSkipReason)(`git connector${sshdSkipReason ? ` (skipped: ${sshdSkipReason})` : ''}`, () => {
  beforeAll(async () => {
    // A user of its own: test files run in parallel, and the ssh tests set another password for theirs.
    sshd = await startThrowawaySshd({ user: 'lavagit', password: PASSWORD });
    t = await makeRealm();
    ({ logger, lines: logLines } = captureLogger());
    // A bare repository with one commit.
    repoRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-git-'));
    fs.chmodSync(repoRoot, 0o755);
    repo = path.join(repoRoot, 'app.git');
    git(repoRoot, 'init', '-q', '--bare', repo);
    const work = path.join(repoRoot, 'work');
    git(repoRoot, 'init', '-q', work);
    fs.writeFileSync(path.join(work, 'README'), 'hello from git\n');
    git(work, 'add', 'README');
    git(work, 'commit', '-q', '-m', 'first');
    git(work, 'push', '-q', repo, 'HEAD:refs/heads/main');
    git(repo, 'symbolic-ref', 'HEAD', 'refs/heads/main');
    sshRepo = path.join(repoRoot, 'app-ssh.git');
    execFileSync('cp', ['-a', repo, sshRepo]);
    execFileSync('chown', ['-R', `${sshd.user}:`, sshRepo]);

    await t.backend.secrets.put('test', '/lava/test/git/key', sshd.clientKey);
    await t.backend.secrets.put('test', '/lava/test/git/password', PASSWORD);
    const put = (spec: Record<string, unknown>) =>
      t.backend.config.put('test', 'connections', { enabled: true, type: 'git', known_hosts: sshd.knownHostsLine, ...spec });
    await put({ conn_id: 'git-key', ssh_key: '/lava/test/git/key' });
    await put({ conn_id: 'git-pw', password: '/lava/test/git/password' });
    await put({ conn_id: 'git-wrong', ssh_key: '/lava/test/git/key', known_hosts: sshd.wrongKnownHostsLine });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await sshd?.stop();
    if (repoRoot) fs.rmSync(repoRoot, { recursive: true, force: true });
  });

  it('clones by file path and over ssh with a key or a password', async () => {
    t.writePayload(
      'git/clone.sh',
      `#!/bin/sh
set -e
"$LAVA_CONN_GIT" clone -q "$REPO" byfile
echo "file: $(cat byfile/README)"
"$LAVA_CONN_GIT" clone -q "ssh://$SSH_USER@127.0.0.1:$SSH_PORT$SSH_REPO" byssh
echo "ssh: $(cat byssh/README) $(git -C byssh log --format=%s)"
"$LAVA_CONN_PW" clone -q "ssh://$SSH_USER@127.0.0.1:$SSH_PORT$SSH_REPO" bypw
echo "password: $(cat bypw/README)"
grep -c -e '^GIT_CONFIG_NOSYSTEM=1$' -e '^GIT_TERMINAL_PROMPT=0$' -e '^exec git "\\$@"$' "$LAVA_CONN_GIT"
`,
      0o755,
    );
    const r = await runJob(t, logger, {
      job_id: 'git/clone',
      type: 'exe',
      payload: 'git/clone.sh',
      parameters: {
        connections: { git: 'git-key', pw: 'git-pw' },
        env: { REPO: repo, SSH_REPO: sshRepo, SSH_USER: sshd.user, SSH_PORT: String(sshd.port) },
      },
    });
    expect(r.statuses, JSON.stringify(r.last)).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(readUri((r.last.output as { stdout: string }[])[0]?.stdout)).toBe(
      'file: hello from git\nssh: hello from git first\npassword: hello from git\n3\n',
    );
    expect(sshd.log()).toMatch(/Accepted publickey for lavagit/);
    expect(sshd.log()).toMatch(/Accepted password for lavagit/);
    const events = JSON.stringify(await t.backend.events.query('test', { limit: 1000 }));
    const keyLine = sshd.clientKey.split('\n')[1] as string;
    for (const text of [events, logLines.join('\n')]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(keyLine);
    }
  });

  it('a wrong host key stops the clone', async () => {
    t.writePayload(
      'git/wrong.sh',
      '#!/bin/sh\n"$LAVA_CONN_GIT" clone -q "ssh://$SSH_USER@127.0.0.1:$SSH_PORT$SSH_REPO" x && echo cloned\n',
      0o755,
    );
    const r = await runJob(t, logger, {
      job_id: 'git/wrong',
      type: 'exe',
      payload: 'git/wrong.sh',
      parameters: {
        connections: { git: 'git-wrong' },
        env: { REPO: repo, SSH_REPO: sshRepo, SSH_USER: sshd.user, SSH_PORT: String(sshd.port) },
      },
    });
    expect(r.statuses.at(-1)).toBe('failed');
    const data = r.last.error_data as { output: { stdout?: string; stderr?: string }[] };
    expect(readUri(data.output[0]?.stderr)).toMatch(
      /REMOTE HOST IDENTIFICATION HAS CHANGED[\s\S]*Could not read from remote repository/,
    );
    expect(data.output[0]?.stdout).toBeUndefined();
  });

  it('needs ssh_key (or password), as upstream', async () => {
    await t.backend.config.put('test', 'connections', { enabled: true, conn_id: 'git-none', type: 'git' });
    t.writePayload('git/none.sh', '#!/bin/sh\necho ran\n', 0o755);
    const r = await runJob(t, logger, {
      job_id: 'git/none',
      type: 'exe',
      payload: 'git/none.sh',
      parameters: { connections: { git: 'git-none' } },
    });
    expect(r.statuses.at(-1)).toBe('failed');
    expect(String(r.last.error)).toMatch(/^bad connection "git-none" \(type git\):\n {2}ssh_key is required/);
  });
});
