/**
 * smb_get, smb_put and the smb connector against a real Samba server (test/support/samba.ts: smbd
 * with its own configuration, passdb and share under a temporary directory), through real jobs on
 * the embedded backend and Samba's smbclient as the workers run it.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { smbConnector, smbPath } from '../../src/connections/connectors/smb.js';
import { resolveConnection } from '../../src/connections/resolve.js';
import { checkJobType } from '../../src/handlers/registry.js';
import { checkSpec } from '../../src/core/validate.js';
import { makeRealm, type TestRealm } from '../helpers.js';
import { sambaSkipReason, startSamba, SMBCLIENT_BIN, type SambaServer } from '../support/samba.js';

const PASSWORD_SECRET = '/lava/test/smb/password';

describe('smb parameters and paths (no server needed)', () => {
  it('turns POSIX share paths into smbclient paths and refuses what cannot be quoted or escapes', () => {
    expect(smbPath('/Interesting/Data/x.csv', 'parameters.path')).toBe('Interesting\\Data\\x.csv');
    expect(smbPath('a b/c.csv', 'parameters.path')).toBe('a b\\c.csv');
    expect(() => smbPath('/a/../../etc/passwd', 'parameters.path')).toThrow(
      'parameters.path "/a/../../etc/passwd" has a "." or ".." part: give the path from the share root',
    );
    expect(() => smbPath('/a/x"; rm y', 'parameters.path')).toThrow(/contains " or ;, which smbclient commands cannot quote/);
    expect(() => smbPath('a\\b', 'parameters.path')).toThrow(/contains a backslash: use \/ between parts/);
    expect(() => smbPath('a\nb', 'parameters.path')).toThrow(/control character/);
    expect(() => smbPath('/dir/', 'parameters.path')).toThrow(/ends with \/: give the file name/);
    expect(() => smbPath('', 'parameters.path')).toThrow(/is empty/);
  });

  it('lava check takes the upstream parameters (all optional ones, unlike upstream smb_get) and refuses others', () => {
    const spec = {
      job_id: 's/1',
      type: 'smb_get',
      worker: 'core',
      owner: 'o',
      description: 'd',
      enabled: true,
      payload: '--',
      parameters: {
        conn_id: 'fs',
        share_name: 'Public',
        path: '/a.csv',
        file: 's3://b/a.csv',
        kms_key_id: 'alias/data',
        basedir: 'x',
        jinja: false,
        timeout: '1m',
        vars: {},
      },
    };
    expect(checkSpec('job', spec).errors).toEqual([]);
    expect(checkJobType(spec)).toEqual({ errors: [], warnings: [] });
    expect(checkJobType({ ...spec, parameters: { ...spec.parameters, create_dirs: true } }).errors.join('\n')).toMatch(
      /smb_get jobs do not take create_dirs/,
    );
    const put = {
      ...spec,
      type: 'smb_put',
      parameters: { conn_id: 'fs', share_name: 'P', path: '/a', file: 'a', create_dirs: true },
    };
    expect(checkJobType(put)).toEqual({ errors: [], warnings: [] });
    expect(checkJobType({ ...put, parameters: { conn_id: 'fs' } }).warnings.join('\n')).toMatch(
      /parameters\.share_name: missing/,
    );
  });
});

describe.skipIf(sambaSkipReason)(`smb jobs against a real smbd${sambaSkipReason ? ` (skipped: ${sambaSkipReason})` : ''}`, () => {
  let smb: SambaServer;
  let t: TestRealm;

  beforeAll(async () => {
    smb = await startSamba();
  }, 60_000);
  afterAll(async () => {
    await smb?.stop();
  }, 30_000);

  beforeEach(async () => {
    t = await makeRealm();
    await t.backend.secrets.put('test', PASSWORD_SECRET, smb.password);
    await t.backend.config.put('test', 'connections', {
      conn_id: 'fs',
      type: 'smb',
      enabled: true,
      host: smb.host,
      port: smb.port,
      is_direct_tcp: true,
      remote_name: smb.netbiosName,
      user: smb.user,
      password: PASSWORD_SECRET,
    });
  });
  afterEach(async () => {
    await t.close();
  });

  const temp = (rel: string) => `${t.realm.s3_temp}/${rel}`;
  const readUri = (uri: unknown) => fs.readFileSync(fileURLToPath(String(uri)), 'utf8');
  const onShare = (rel: string) => path.join(smb.shareDir, rel);
  /** Staging directories (`.smb-*`) still under the scratch root. */
  const leftovers = (dir: string): string[] =>
    fs.existsSync(dir)
      ? fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => path.basename(f).startsWith('.smb-'))
      : [];

  it('smb_get copies a file from the share to the realm area, rendering path and file; smbclient output is stored', async () => {
    fs.mkdirSync(onShare('Data'), { recursive: true });
    fs.writeFileSync(onShare('Data/2024-01-02 sales.csv'), 'a,b\n1,2\n');
    const ran = await t.runOnce({
      job_id: 's/get',
      type: 'smb_get',
      payload: '--',
      parameters: {
        conn_id: 'fs',
        share_name: 'Public',
        path: '/Data/{{ vars.day }} sales.csv',
        file: `${t.realm.s3_temp}/got/{{ vars.day }}.csv`,
        vars: { day: '2024-01-02' },
      },
    });
    expect(ran.statuses).toEqual(['queued', 'starting', 'running', 'complete']);
    expect(ran.last).toEqual({
      exit_status: 0,
      error: null,
      source: 'Public:/Data/2024-01-02 sales.csv',
      destination: temp('got/2024-01-02.csv'),
    });
    expect(readUri(temp('got/2024-01-02.csv'))).toBe('a,b\n1,2\n');
    // smbclient's own report ("getting file …", which it writes to stderr) is stored as the run's output.
    const stderr = temp(`s/get/${ran.runId}/stderr`);
    expect(readUri(stderr)).toMatch(/getting file \\Data\\2024-01-02 sales\.csv of size 8/);
    // Nothing is left in the scratch dir (staging, the authentication file).
    expect(leftovers(t.tmpRoot)).toEqual([]);
  }, 60_000);

  it('smb_put copies from the realm area to the share; create_dirs makes the directories, without it a missing one fails', async () => {
    fs.mkdirSync(fileURLToPath(temp('src')), { recursive: true });
    fs.writeFileSync(fileURLToPath(temp('src/x.csv')), 'x\n1\n');
    const ok = await t.runOnce({
      job_id: 's/put',
      type: 'smb_put',
      payload: '--',
      parameters: { conn_id: 'fs', share_name: 'Public', path: '/out/2024/01/x.csv', file: temp('src/x.csv'), create_dirs: true },
    });
    expect(ok.last).toEqual({ exit_status: 0, error: null, source: temp('src/x.csv'), destination: 'Public:/out/2024/01/x.csv' });
    expect(fs.readFileSync(onShare('out/2024/01/x.csv'), 'utf8')).toBe('x\n1\n');
    // Again: the directories exist now, which is fine.
    const again = await t.runOnce({
      job_id: 's/put',
      type: 'smb_put',
      payload: '--',
      parameters: {
        conn_id: 'fs',
        share_name: 'Public',
        path: '/out/2024/01/x.csv',
        file: temp('src/x.csv'),
        create_dirs: 'yes',
      },
    });
    expect(again.statuses.at(-1)).toBe('complete');

    const missing = await t.runOnce({
      job_id: 's/put-nodir',
      type: 'smb_put',
      payload: '--',
      parameters: { conn_id: 'fs', share_name: 'Public', path: '/nowhere/x.csv', file: temp('src/x.csv') },
    });
    expect(missing.statuses.at(-1)).toBe('failed');
    expect(missing.last).toMatchObject({
      error: 'Failed with exit status 1',
      error_data: {
        exit_status: 1,
        error: expect.stringContaining('NT_STATUS_OBJECT_PATH_NOT_FOUND') as unknown,
        // smbclient reports this one on stdout.
        output: [{ exit_status: 1, stdout: expect.stringMatching(/\/stdout$/) as unknown }],
      },
    });
    expect(fs.existsSync(onShare('nowhere'))).toBe(false);

    const noSource = await t.runOnce({
      job_id: 's/put-nosrc',
      type: 'smb_put',
      payload: '--',
      parameters: { conn_id: 'fs', share_name: 'Public', path: '/x.csv', file: temp('src/none.csv') },
    });
    expect((noSource.last as { error: string }).error).toBe(
      `Cannot read ${temp('src/none.csv')} (parameters.file): no such object`,
    );
  }, 60_000);

  it('local files are relative to basedir inside the scratch dir (a chain shares it); a missing remote file fails', async () => {
    fs.writeFileSync(onShare('in.txt'), 'local round trip\n');
    await t.putJob({
      job_id: 's/c-get',
      type: 'smb_get',
      payload: '--',
      parameters: { conn_id: 'fs', share_name: 'Public', path: 'in.txt', file: 'work/in.txt' },
    });
    await t.putJob({
      job_id: 's/c-put',
      type: 'smb_put',
      payload: '--',
      parameters: {
        conn_id: 'fs',
        share_name: 'Public',
        path: '/copies/in.txt',
        file: 'in.txt',
        basedir: 'work',
        create_dirs: true,
      },
    });
    const chain = await t.runOnce({ job_id: 's/chain', type: 'chain', payload: 's/c-get, s/c-put' });
    expect(chain.statuses.at(-1)).toBe('complete');
    expect(fs.readFileSync(onShare('copies/in.txt'), 'utf8')).toBe('local round trip\n');
    const get = (await t.backend.events.get('test', 's/c-get', chain.runId))?.log.at(-1)?.info as { destination: string };
    expect(get.destination).toMatch(new RegExp(`^${t.tmpRoot}/test/.+/work/in\\.txt$`));

    const gone = await t.runOnce({
      job_id: 's/get-missing',
      type: 'smb_get',
      payload: '--',
      parameters: { conn_id: 'fs', share_name: 'Public', path: '/no/such.csv', file: temp('x.csv') },
    });
    expect(gone.last).toMatchObject({
      error: 'Failed with exit status 1',
      error_data: { exit_status: 1, error: expect.stringMatching(/NT_STATUS_OBJECT_(PATH|NAME)_NOT_FOUND/) as unknown },
    });
    expect(fs.existsSync(fileURLToPath(temp('x.csv')))).toBe(false);
  }, 60_000);

  it('refuses paths that leave the share root or the scratch dir, or cannot be quoted, before running smbclient', async () => {
    const cases: Array<[Record<string, unknown>, string | RegExp]> = [
      [
        { path: '/a/../../../etc/passwd', file: 'x' },
        'parameters.path "/a/../../../etc/passwd" has a "." or ".." part: give the path from the share root',
      ],
      [{ path: '/a"; !id; "', file: 'x' }, /^parameters\.path .* contains " or ;, which smbclient commands cannot quote/],
      [
        { path: '/a.csv', file: '../../../../../../../../etc/shadow' },
        /^parameters\.file "(\.\.\/)+etc\/shadow" is \/etc\/shadow, outside the run's scratch directory \S+: local files must be inside it \(or use an s3:\/\/ or file:\/\/ URI\)$/,
      ],
      [
        { path: '/a.csv', file: '/etc/shadow' },
        /^parameters\.file "\/etc\/shadow" is \/etc\/shadow, outside the run's scratch directory/,
      ],
      [
        { path: '/a.csv', file: 'x', basedir: '/etc' },
        /^parameters\.basedir "\/etc" is \/etc, outside the run's scratch directory/,
      ],
      [
        { path: '/a.csv', file: 'shadow', basedir: '../..' },
        /^parameters\.basedir "\.\.\/\.\." is \S+, outside the run's scratch directory/,
      ],
      [
        { path: '/a.csv', file: 'http://example.com/x' },
        'parameters.file "http://example.com/x": use an s3:// or file:// URI, or a local path',
      ],
      [
        { path: '/a.csv', file: 'file:///etc/shadow' },
        /^parameters\.file "file:\/\/\/etc\/shadow" is outside the realm's areas \(file:\/\/\S+\/temp, file:\/\/\S+\/payloads\): use a URI inside s3_temp or s3_payloads/,
      ],
      [{ path: '/a.csv', file: 'x', share_name: 'Pub/lic' }, 'parameters.share_name "Pub/lic" contains one of / \\ " \' ; %'],
    ];
    for (const [params, message] of cases) {
      const ran = await t.runOnce({
        job_id: 's/bad',
        type: 'smb_put',
        payload: '--',
        parameters: { conn_id: 'fs', share_name: 'Public', ...params },
      });
      expect(ran.statuses.at(-1), JSON.stringify(params)).toBe('failed');
      const error = (ran.last as { error: string }).error;
      if (typeof message === 'string') expect(error).toBe(message);
      else expect(error).toMatch(message);
    }
    expect(fs.readdirSync(smb.shareDir).filter((f) => f.startsWith('a'))).toEqual([]);
  }, 60_000);

  it("a missing share and a wrong password fail with smbclient's reason; a connection of another type is refused", async () => {
    const noShare = await t.runOnce({
      job_id: 's/noshare',
      type: 'smb_get',
      payload: '--',
      parameters: { conn_id: 'fs', share_name: 'Nope', path: '/x', file: temp('x') },
    });
    expect(noShare.last).toMatchObject({
      error: 'Failed with exit status 1',
      error_data: { exit_status: 1, error: 'tree connect failed: NT_STATUS_BAD_NETWORK_NAME' },
    });
    // Its own secret name: workers cache secrets for PARAM_CACHE_TTL, process-wide.
    await t.backend.secrets.put('test', '/lava/test/smb/wrong', 'not-the-password');
    await t.backend.config.put('test', 'connections', {
      conn_id: 'fs-wrong',
      type: 'smb',
      enabled: true,
      host: smb.host,
      port: smb.port,
      is_direct_tcp: true,
      remote_name: smb.netbiosName,
      user: smb.user,
      password: '/lava/test/smb/wrong',
    });
    const ran = await t.runOnce({
      job_id: 's/badpw',
      type: 'smb_get',
      payload: '--',
      parameters: { conn_id: 'fs-wrong', share_name: 'Public', path: '/x', file: temp('x') },
    });
    expect(ran.last).toMatchObject({
      error: 'Failed with exit status 1',
      error_data: { exit_status: 1, error: 'session setup failed: NT_STATUS_LOGON_FAILURE' },
    });
    await t.backend.config.put('test', 'connections', { conn_id: 'gen', type: 'generic', enabled: true, attributes: { a: 1 } });
    const wrong = await t.runOnce({
      job_id: 's/wrongtype',
      type: 'smb_get',
      payload: '--',
      parameters: { conn_id: 'gen', share_name: 'Public', path: '/x', file: temp('x') },
    });
    expect((wrong.last as { error: string }).error).toBe(
      'connection "gen" (parameters.conn_id) is of type generic: it must be of type "smb"',
    );
  }, 60_000);

  it('the password reaches smbclient only in a 0600 file, removed after the run: never argv, env, events or outputs', async () => {
    // A wrapper named smbclient first on PATH: records what it was given, then runs the real one.
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-smbwrap-'));
    const record = path.join(bin, 'record');
    fs.writeFileSync(
      path.join(bin, 'smbclient'),
      [
        '#!/bin/bash',
        'ARGS=("$@")',
        '{ printf "%s\\n" "$@"; echo ---env; env; echo ---auth',
        '  while [ $# -gt 0 ]; do',
        '    if [ "$1" = -A ]; then stat -c "%a %U" "$2"; stat -c "%a" "$(dirname "$2")"; echo "$2"; fi; shift',
        `  done; } > ${record}`,
        `exec ${SMBCLIENT_BIN} "\${ARGS[@]}"`,
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    fs.writeFileSync(onShare('secret-test.txt'), 'data\n');
    const savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${savedPath ?? ''}`;
    process.env.PASSWD = 'worker-env-password-not-for-smbclient';
    try {
      const ran = await t.runOnce({
        job_id: 's/secret',
        type: 'smb_get',
        payload: '--',
        parameters: { conn_id: 'fs', share_name: 'Public', path: 'secret-test.txt', file: temp('secret.txt') },
      });
      expect(ran.statuses.at(-1)).toBe('complete');
      const rec = fs.readFileSync(record, 'utf8');
      const [argv, rest] = rec.split('---env\n') as [string, string];
      const [env, auth] = rest.split('---auth\n') as [string, string];
      expect(argv).toContain('-A\n');
      expect(argv).toContain(`//${smb.netbiosName}/Public\n`);
      expect(argv).not.toContain(smb.password);
      expect(env).not.toContain(smb.password);
      expect(env).not.toContain('worker-env-password-not-for-smbclient');
      const [fileMode, dirMode, authFile] = auth.trim().split('\n');
      expect(fileMode).toBe('600 root');
      expect(dirMode).toBe('700');
      expect(authFile?.startsWith(path.join(t.tmpRoot, 'test'))).toBe(true);
      expect(fs.existsSync(authFile as string)).toBe(false);
      const events = JSON.stringify(await t.events(ran.runId));
      expect(events).not.toContain(smb.password);
      const outputs = fs.readdirSync(fileURLToPath(temp(`s/secret/${ran.runId}`)));
      expect(outputs).toEqual(['stderr']);
      for (const o of outputs) expect(readUri(temp(`s/secret/${ran.runId}/${o}`))).not.toContain(smb.password);
    } finally {
      process.env.PATH = savedPath;
      delete process.env.PASSWD;
      fs.rmSync(bin, { recursive: true, force: true });
    }
  }, 60_000);

  it('times out with exit status 28 against a server that never answers; without smbclient the job names the package', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      await t.backend.config.put('test', 'connections', {
        conn_id: 'mute',
        type: 'smb',
        enabled: true,
        host: '127.0.0.1',
        port,
        remote_name: 'MUTE',
        user: 'u',
        password: PASSWORD_SECRET,
      });
      const started = Date.now();
      const ran = await t.runOnce({
        job_id: 's/slow',
        type: 'smb_get',
        payload: '--',
        parameters: { conn_id: 'mute', share_name: 'Public', path: '/x', file: temp('x'), timeout: '1s' },
      });
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(ran.last).toMatchObject({ error: 'Timed out after 1.0 seconds', error_data: { exit_status: 28 } });
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }

    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-nobin-'));
    const savedPath = process.env.PATH;
    process.env.PATH = empty;
    try {
      const ran = await t.runOnce({
        job_id: 's/nobin',
        type: 'smb_get',
        payload: '--',
        parameters: { conn_id: 'fs', share_name: 'Public', path: '/x', file: temp('x') },
      });
      expect((ran.last as { error: string }).error).toBe(
        'smbclient is not installed (or not on PATH): the smb connector runs it; install the Debian package smbclient (apt-get install smbclient)',
      );
    } finally {
      process.env.PATH = savedPath;
      fs.rmSync(empty, { recursive: true, force: true });
    }
  }, 60_000);

  it('lava conn test logs in and lists the shares; the CLI connector runs smbclient on a share', async () => {
    const c = await resolveConnection('fs', { backend: t.backend, realm: 'test' });
    expect(await smbConnector.test!(c)).toBe(`fs (smb): logged in to ${smb.host} as ${smb.user}; shares: Public`);
    fs.writeFileSync(onShare('cli.txt'), 'via the CLI connector\n');
    t.writePayload(
      'smb-cli.sh',
      '#!/bin/bash\nset -e\n$LAVA_CONN_FS Public -c \'get "cli.txt" got.txt\' >/dev/null\ncat got.txt\n',
      0o755,
    );
    const ran = await t.runOnce({
      job_id: 's/cli',
      type: 'exe',
      payload: 'smb-cli.sh',
      parameters: { connections: { fs: 'fs' } },
    });
    expect(ran.statuses.at(-1)).toBe('complete');
    const out = (ran.last as { output: Array<{ stdout: string }> }).output[0]!.stdout;
    expect(readUri(out)).toBe('via the CLI connector\n');
  }, 60_000);

  it('runs the examples of docs/job-types/smb_get.md and smb_put.md (examples/docs/smb.yaml) as the pages say', async () => {
    const specs = YAML.parse(fs.readFileSync('examples/docs/smb.yaml', 'utf8')) as Record<string, unknown>[];
    for (const s of specs) expect(checkSpec('job', s).errors, String(s.job_id)).toEqual([]);
    const byId = new Map(specs.map((s) => [String(s.job_id), { ...s, worker: 'w' }]));
    await t.backend.config.put('test', 'connections', {
      conn_id: 'smb-conn-01',
      type: 'smb',
      enabled: true,
      host: smb.host,
      port: smb.port,
      is_direct_tcp: true,
      remote_name: smb.netbiosName,
      user: smb.user,
      password: PASSWORD_SECRET,
    });
    fs.mkdirSync(onShare('Interesting/Data'), { recursive: true });
    fs.writeFileSync(onShare('Interesting/Data/x.csv'), 'x\n');
    const get = await t.runOnce(byId.get('docs/smb/get')!);
    expect(get.last).toEqual({
      exit_status: 0,
      error: null,
      source: 'Public:/Interesting/Data/x.csv',
      destination: temp('smb/x.csv'),
    });
    expect(readUri(temp('smb/x.csv'))).toBe('x\n');
    const put = await t.runOnce(byId.get('docs/smb/put-dated')!);
    expect(put.statuses.at(-1)).toBe('complete');
    const dated = (put.last as { destination: string }).destination;
    expect(dated).toMatch(/^Public:\/Interesting\/Data\/\d{4}\/\d{2}\/\d{2}\/data\.csv$/);
    expect(fs.readFileSync(onShare(dated.slice('Public:/'.length)), 'utf8')).toBe('x\n');
  }, 60_000);
});
