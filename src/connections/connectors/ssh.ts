/**
 * ssh, scp, sftp (upstream §6.3): the SSH family of clients with a key (and, beyond upstream, a
 * password) that only Lava handles.
 *
 * - CLI connector: `<ssh|scp|sftp> -o OPTION… -i <0600 key file> "$@"`, as upstream. A password is
 *   given to ssh by an askpass helper that reads a 0600 file (SSH_ASKPASS, set only inside the
 *   wrapper), and `known_hosts` lines are written to a file ssh checks strictly. Secret values are
 *   never on a command line or in the job's environment.
 * - TypeScript API: `sshConnect(c)` → an ssh2 client with `exec`, `sftp`, `put`, `get`, `close`,
 *   checking the server's host key as OpenSSH does (see `hostKeyPolicy`).
 *
 * The git connector (./git.ts) shares the fields and the option handling.
 */
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as Ssh2 from 'ssh2';
import type { Client, ClientChannel, ConnectConfig, SFTPWrapper } from 'ssh2';
import { z } from 'zod';
import { loadOptional } from '../../core/optional.js';
import { sq, shScript } from '../cli-dir.js';
import { ConnectionError, redact } from '../errors.js';
import { baseConnectionFields } from '../schemas.js';
import type { CliDir, Connector, ResolvedConnection } from '../types.js';

const secretName = z
  .string()
  .min(1)
  .refine((s) => !/\s/.test(s), 'must be the name of a secret (e.g. /lava/<realm>/ssh/key), not the value itself');

const sshOption = z
  .string()
  .min(1)
  .refine(
    (s) => /^\s*[A-Za-z][A-Za-z0-9]*\s*[= ]/.test(s) && !/[\r\n]/.test(s),
    'each ssh option is "Name=value" as in ssh_config(5)',
  );

/** Fields of ssh, scp, sftp and git connections. */
export const sshSchema = z.looseObject({
  ...baseConnectionFields,
  /** The name of a secret holding the private key (no passphrase); commas stand for newlines, as upstream. */
  ssh_key: secretName.optional(),
  ssh_options: z.array(sshOption, { error: 'ssh_options must be a list of strings' }).optional(),
  /** Beyond upstream: a password secret, the server (for the TypeScript API) and pinned host keys. */
  password: secretName.optional(),
  host: z.string().min(1).optional(),
  port: z
    .union([z.number().int().positive(), z.string().regex(/^\s*\d+\s*$/, 'must be a port number')])
    .transform((v) => Number(v))
    .optional(),
  user: z.string().min(1).optional(),
  known_hosts: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
  /** Connect timeout (seconds) of the TypeScript API. */
  timeout: z.number().positive().optional(),
});

export const SSH_SECRET_FIELDS = ['ssh_key', 'password'] as const;

/** The private key as stored, with upstream's commas turned back into newlines and a final newline. */
export function privateKeyText(c: ResolvedConnection): string | undefined {
  const key = c.secrets.ssh_key;
  if (key === undefined) return undefined;
  const text = key.replace(/,/g, '\n').replace(/\r\n/g, '\n').trimEnd();
  return `${text}\n`;
}

/** ssh_options as name (lower-cased) → value; the first occurrence wins, as in ssh. */
export function sshOptions(c: ResolvedConnection): { list: string[]; byName: Map<string, string> } {
  const list = ((c.spec.ssh_options as string[] | undefined) ?? []).map((o) => o.trim());
  const byName = new Map<string, string>();
  for (const o of list) {
    const m = /^([A-Za-z][A-Za-z0-9]*)\s*(?:=|\s)\s*(.*)$/.exec(o);
    if (m && !byName.has((m[1] as string).toLowerCase())) byName.set((m[1] as string).toLowerCase(), (m[2] as string).trim());
  }
  return { list, byName };
}

export function knownHostsLines(c: ResolvedConnection): string[] {
  const k = c.spec.known_hosts;
  const lines = k === undefined ? [] : Array.isArray(k) ? (k as string[]) : String(k).split('\n');
  return lines.map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

/**
 * The ssh command line (without the program name) and the lines the wrapper sets first: key and
 * known-hosts files, the askpass helper for a password. Files go into `dir` (0600, scripts 0700).
 */
export async function sshArgs(c: ResolvedConnection, dir: CliDir): Promise<{ args: string[]; env: string[] }> {
  const base = c.connId.replace(/[^\w.-]/g, '_');
  const args: string[] = [];
  const env: string[] = [];
  // The connection's own options first: for ssh the first value of an option wins.
  for (const o of sshOptions(c).list) args.push('-o', o);
  const kh = knownHostsLines(c);
  if (kh.length) {
    const file = await dir.writePrivate(`${base}.known_hosts`, `${kh.join('\n')}\n`);
    args.push('-o', `UserKnownHostsFile=${file}`, '-o', 'StrictHostKeyChecking=yes');
  }
  const key = privateKeyText(c);
  if (key !== undefined) {
    const file = await dir.writePrivate(`${base}.ssh.pem`, key);
    args.push('-i', file);
    if (c.secrets.password === undefined) args.push('-o', 'IdentitiesOnly=yes');
  }
  if (c.secrets.password !== undefined) {
    const pw = await dir.writePrivate(`${base}.ssh.password`, `${c.secrets.password}\n`);
    const askpass = await dir.writeScript(`${base}.askpass`, shScript([`exec cat ${sq(pw)}`]));
    env.push(`SSH_ASKPASS=${sq(askpass)}`, 'SSH_ASKPASS_REQUIRE=force', 'export SSH_ASKPASS SSH_ASKPASS_REQUIRE');
    args.push('-o', 'NumberOfPasswordPrompts=1');
  }
  return { args, env };
}

async function writeSshCli(c: ResolvedConnection, dir: CliDir): Promise<string> {
  const program = c.type === 'scp' || c.type === 'sftp' ? c.type : 'ssh';
  const { args, env } = await sshArgs(c, dir);
  return dir.writeScript(
    `${c.connId.replace(/[^\w.-]/g, '_')}.${program}`,
    shScript([...env, `exec ${program} ${args.map(sq).join(' ')} "$@"`]),
  );
}

// ---------------------------------------------------------------------------------------------
// Host keys, as OpenSSH checks them

interface KnownHost {
  marker: string | undefined;
  patterns: string;
  keyType: string;
  key: Buffer;
}

function parseKnownHosts(text: string): KnownHost[] {
  const out: KnownHost[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const parts = line.split(/\s+/);
    const marker = parts[0]?.startsWith('@') ? parts.shift() : undefined;
    const [patterns, keyType, b64] = parts;
    if (!patterns || !keyType || !b64) continue;
    out.push({ marker, patterns, keyType, key: Buffer.from(b64, 'base64') });
  }
  return out;
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(name);
}

/** Whether a known_hosts host field matches `name` (`host` or `[host]:port`), hashed entries included. */
function hostMatches(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) {
    const [, , salt, hash] = patterns.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const p of patterns.split(',')) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) matched = true;
  }
  return matched;
}

export interface HostKeyPolicy {
  /** 'yes' refuses unknown hosts; 'accept-new' and 'no' accept them. A changed key is always refused. */
  strict: 'yes' | 'accept-new' | 'no';
  /** The known_hosts entries for this host and port. */
  entries: KnownHost[];
  /** Where the entries came from, for messages. */
  sources: string[];
}

function expandHome(p: string): string {
  return p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p;
}

/**
 * How the server's host key is checked: `known_hosts` of the connection if given, else the files
 * of `UserKnownHostsFile` (default ~/.ssh/known_hosts) and `GlobalKnownHostsFile` (default
 * /etc/ssh/ssh_known_hosts); `StrictHostKeyChecking` from ssh_options (default: yes).
 */
export function hostKeyPolicy(c: ResolvedConnection, host: string, port: number): HostKeyPolicy {
  const opts = sshOptions(c).byName;
  const s = (opts.get('stricthostkeychecking') ?? 'yes').toLowerCase();
  const strict = s === 'no' || s === 'off' ? 'no' : s === 'accept-new' ? 'accept-new' : 'yes';
  const name = port === 22 ? host : `[${host}]:${port}`;
  let text = '';
  const sources: string[] = [];
  const kh = knownHostsLines(c);
  if (kh.length) {
    text = kh.join('\n');
    sources.push('known_hosts of the connection');
  } else {
    const files = [
      ...(opts.get('userknownhostsfile') ?? '~/.ssh/known_hosts').split(/\s+/),
      ...(opts.get('globalknownhostsfile') ?? '/etc/ssh/ssh_known_hosts').split(/\s+/),
    ].map(expandHome);
    for (const f of files) {
      try {
        text += `${fs.readFileSync(f, 'utf8')}\n`;
        sources.push(f);
      } catch {
        // a missing file has no entries, as in ssh
      }
    }
  }
  const entries = parseKnownHosts(text).filter((e) => e.marker !== '@cert-authority' && hostMatches(e.patterns, name));
  return { strict, entries, sources };
}

/** Check a presented host key (the raw public key blob) against the policy; a reason when refused. */
export function checkHostKey(policy: HostKeyPolicy, key: Buffer, target: string): string | undefined {
  if (policy.entries.some((e) => e.marker === '@revoked' && e.key.equals(key))) return `the host key of ${target} is revoked`;
  const known = policy.entries.filter((e) => e.marker === undefined);
  if (known.some((e) => e.key.equals(key))) return undefined;
  const where = policy.sources.length ? policy.sources.join(', ') : 'no known_hosts file';
  if (known.length) {
    return `REMOTE HOST IDENTIFICATION HAS CHANGED: the host key of ${target} does not match ${where}; if the server's key really changed, update known_hosts`;
  }
  if (policy.strict === 'yes') {
    return `Host key verification failed: ${target} is not in ${where}; add its key to "known_hosts" of the connection (ssh-keyscan), or set ssh_options: [StrictHostKeyChecking=accept-new]`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The TypeScript API

export interface SshExecResult {
  /** Exit status; null when the command was killed by a signal. */
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

export interface SshConnection {
  /** The connected ssh2 client. */
  readonly client: Client;
  /** Where it is connected: `user@host:port`. */
  readonly target: string;
  /** Run a command; its output is collected (up to 16 MiB per stream). */
  exec(command: string): Promise<SshExecResult>;
  /** An SFTP session (ssh2's SFTPWrapper); opened once and shared. */
  sftp(): Promise<SFTPWrapper>;
  /** Upload a local file. */
  put(localPath: string, remotePath: string): Promise<void>;
  /** Download a remote file. */
  get(remotePath: string, localPath: string): Promise<void>;
  close(): Promise<void>;
}

export interface SshConnectOptions {
  host?: string;
  port?: number;
  user?: string;
}

type Ssh2Module = typeof Ssh2;

const MAX_EXEC_OUTPUT = 16 * 1024 * 1024;

/** Connect with ssh2: the connection's key and/or password, the host key checked. */
export async function sshConnect(c: ResolvedConnection, o: SshConnectOptions = {}): Promise<SshConnection> {
  const opts = sshOptions(c).byName;
  const host = o.host ?? (c.spec.host as string | undefined) ?? opts.get('hostname');
  if (!host) {
    throw new ConnectionError(`${c.type} connection "${c.connId}" has no host: add "host" to the connection (or pass { host })`);
  }
  const port = o.port ?? (c.spec.port as number | undefined) ?? (opts.has('port') ? Number(opts.get('port')) : 22);
  const user = o.user ?? (c.spec.user as string | undefined) ?? opts.get('user') ?? os.userInfo().username;
  const target = `${user}@${host}:${port}`;
  const policy = hostKeyPolicy(c, host, port);
  const secrets = Object.values(c.secrets);
  const mod = await loadOptional<Ssh2Module & { default?: Ssh2Module }>('ssh2', 'the ssh connector');
  const { Client: ClientClass } = mod.default ?? mod;
  const client = new ClientClass();
  let refused: string | undefined;
  const config: ConnectConfig = {
    host,
    port,
    username: user,
    readyTimeout: ((c.spec.timeout as number | undefined) ?? 20) * 1000,
    hostVerifier: (key: Buffer) => {
      refused = checkHostKey(policy, key, `${host}:${port}`);
      return refused === undefined;
    },
  };
  const key = privateKeyText(c);
  if (key !== undefined) config.privateKey = key;
  if (c.secrets.password !== undefined) config.password = c.secrets.password;
  // Offer the host key types known_hosts has for this host, so a server with several keys shows a known one.
  const types = [...new Set(policy.entries.filter((e) => !e.marker).map((e) => e.keyType))];
  if (types.length) config.algorithms = { serverHostKey: types as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] };
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => {
      client.removeAllListeners('ready');
      const why = refused ?? redact(err.message || String(err), secrets);
      reject(new ConnectionError(`cannot connect to ${c.type} connection "${c.connId}" (${target}): ${why}`));
    };
    client.once('ready', () => {
      client.removeListener('error', fail);
      client.on('error', () => {});
      resolve();
    });
    client.once('error', fail);
    try {
      client.connect(config);
    } catch (err) {
      fail(err instanceof Error ? err : new Error(String(err)));
    }
  });
  let sftp: Promise<SFTPWrapper> | undefined;
  const getSftp = () =>
    (sftp ??= new Promise<SFTPWrapper>((resolve, reject) =>
      client.sftp((err, s) => (err ? reject(new ConnectionError(`sftp on ${target}: ${err.message}`)) : resolve(s))),
    ));
  return {
    client,
    target,
    exec: (command) =>
      new Promise<SshExecResult>((resolve, reject) => {
        client.exec(command, (err: Error | undefined, ch: ClientChannel) => {
          if (err) return reject(new ConnectionError(`ssh exec on ${target}: ${err.message}`));
          const out: Buffer[] = [];
          const errs: Buffer[] = [];
          let size = 0;
          const keep = (into: Buffer[]) => (d: Buffer) => {
            size += d.length;
            if (size <= MAX_EXEC_OUTPUT) into.push(d);
          };
          ch.on('data', keep(out));
          ch.stderr.on('data', keep(errs));
          ch.on('close', (code: number | null, signal?: string) =>
            resolve({
              code: code ?? null,
              ...(signal ? { signal } : {}),
              stdout: Buffer.concat(out).toString('utf8'),
              stderr: Buffer.concat(errs).toString('utf8'),
            }),
          );
        });
      }),
    sftp: getSftp,
    put: async (local, remote) => {
      const s = await getSftp();
      await new Promise<void>((resolve, reject) =>
        s.fastPut(local, remote, (err) =>
          err ? reject(new ConnectionError(`sftp put ${remote} on ${target}: ${err.message}`)) : resolve(),
        ),
      );
    },
    get: async (remote, local) => {
      const s = await getSftp();
      await new Promise<void>((resolve, reject) =>
        s.fastGet(remote, local, (err) =>
          err ? reject(new ConnectionError(`sftp get ${remote} on ${target}: ${err.message}`)) : resolve(),
        ),
      );
    },
    close: async () => {
      await new Promise<void>((resolve) => {
        client.once('close', () => resolve());
        client.end();
      });
    },
  };
}

/** An ssh, scp, sftp or git connection needs a key or a password. */
export function sshCheck(spec: Record<string, unknown>): string[] {
  return spec.ssh_key === undefined && spec.password === undefined
    ? ['ssh_key is required: the name of a secret holding the private key (or give "password", a secret name)']
    : [];
}

export async function testSsh(c: ResolvedConnection): Promise<string> {
  const conn = await sshConnect(c);
  await conn.close();
  return `${c.connId} (${c.type}): authenticated to ${conn.target}, host key checked`;
}

export const sshConnector: Connector = {
  type: 'ssh',
  aliases: ['scp', 'sftp'],
  dialect: 'generic',
  schema: sshSchema,
  required: [],
  secretFields: [...SSH_SECRET_FIELDS],
  check: sshCheck,
  test: testSsh,
  writeCli: (c, dir) => writeSshCli(c, dir),
};
