/**
 * smb (upstream §6.3): SMB file shares, through Samba's `smbclient` (Debian package smbclient) run
 * as a child process. Upstream talks SMB from Python (pysmb or smbprotocol); no maintained SMB2/3
 * client exists for Node.js, so both subtypes map to smbclient here.
 *
 * The user, domain and password reach smbclient only through a 0600 authentication file (`-A FILE`),
 * never its command line or environment. The server is `-I host` (and `-p port`); `remote_name` is
 * the NetBIOS name in `//remote_name/share`, `my_name` this side's (`-n`, default `lava-<realm>`,
 * first 15 characters).
 *
 * - Job types smb_get and smb_put (src/handlers/smb) run `smbclient … -c 'get …'` / `put`.
 * - CLI connector: `$LAVA_CONN_<LABEL> SHARE [smbclient options…]`, e.g. `-c 'get "a\b.csv" b.csv'`.
 * - `lava conn test`: lists the server's shares (`smbclient -L`).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { JobError } from '../../core/errors.js';
import { parseBool } from '../../core/units.js';
import { sq, shScript } from '../cli-dir.js';
import { ConnectionError, redact } from '../errors.js';
import { baseConnectionFields } from '../schemas.js';
import type { CliDir, Connector, ResolvedConnection } from '../types.js';

/** The program and the Debian package it comes from. */
export const SMBCLIENT = 'smbclient';
export const SMBCLIENT_PACKAGE = 'smbclient';

const bool = z.unknown().transform((v, ctx) => {
  try {
    return parseBool(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a boolean: true/false, yes/no, or 1/0' });
    return z.NEVER;
  }
});

const secretName = z
  .string()
  .min(1)
  .refine((s) => !/\s/.test(s), 'must be the name of a secret (e.g. /lava/<realm>/smb/password), not the value itself');

// A NetBIOS/DNS-style name: it goes into `//name/share` and `-n name`.
const netbiosName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be a host or NetBIOS name: letters, digits, ".", "_" and "-"');

export const smbSchema = z.looseObject({
  ...baseConnectionFields,
  host: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9.:_-]*$/, 'must be a DNS name or IP address')
    .optional(),
  remote_name: netbiosName.optional(),
  user: z
    .string()
    .min(1)
    .refine((s) => !/[\r\n]/.test(s) && !s.includes('\0'), 'must be one line')
    .optional(),
  password: secretName.optional(),
  domain: z
    .string()
    .refine((s) => !/[\r\n]/.test(s) && !s.includes('\0'), 'must be one line')
    .optional(),
  port: z
    .union([z.number().int().positive().max(65535), z.string().regex(/^\s*\d+\s*$/, 'must be a port number')])
    .transform((v) => Number(v))
    .optional(),
  is_direct_tcp: bool.optional(),
  my_name: z.string().min(1).optional(),
  use_ntlm_v2: bool.optional(),
  encrypt: bool.optional(),
  subtype: z.enum(['pysmb', 'smbprotocol'], { error: 'subtype must be pysmb or smbprotocol' }).optional(),
});

/** The absolute path of smbclient on PATH, or undefined. */
export function findSmbclient(envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(':')) {
    if (!dir) continue;
    const p = path.join(dir, SMBCLIENT);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** What to say when smbclient is missing: the package to install. */
export const SMBCLIENT_MISSING = `${SMBCLIENT} is not installed (or not on PATH): the smb connector runs it; install the Debian package ${SMBCLIENT_PACKAGE} (apt-get install ${SMBCLIENT_PACKAGE})`;

/**
 * Why a share name cannot be used, or undefined. It is a separate argument (`//name/share`), but
 * must not hold path separators or characters smbclient gives meaning to.
 */
export function shareNameProblem(share: string): string | undefined {
  if (!share) return 'is empty';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(share)) return 'contains a control character';
  if (/[/\\"';%]/.test(share)) return 'contains one of / \\ " \' ; %';
  if (share.length > 80) return 'is over 80 characters long';
  return undefined;
}

/**
 * A POSIX-style path on a share (`/a/b.csv` or `a/b.csv`) as smbclient wants it (`\a\b.csv`), or
 * an error. smbclient's `-c` splits commands at `;` and words at spaces outside double quotes, and
 * has no escape for a `"`: paths holding `"`, `;`, a backslash or a control character cannot be
 * quoted safely and are refused; so are `.`/`..` segments and empty names.
 */
export function smbPath(p: string, field: string): string {
  const fail = (why: string): never => {
    throw new JobError(`${field} ${JSON.stringify(p.slice(0, 200))} ${why}`);
  };
  if (!p) fail('is empty: give a path on the share such as /reports/x.csv');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(p)) fail('contains a control character (such as a newline)');
  if (p.includes('"') || p.includes(';')) fail('contains " or ;, which smbclient commands cannot quote: rename the file');
  if (p.includes('\\')) fail('contains a backslash: use / between parts (POSIX style), as Lava does');
  if (p.length > 1024) fail('is over 1024 characters long');
  if (p.endsWith('/')) fail('ends with /: give the file name');
  const parts = p.replace(/^\/+/, '').split('/');
  if (parts.some((s) => s === '')) fail('has an empty part (//)');
  if (parts.some((s) => s === '.' || s === '..')) fail('has a "." or ".." part: give the path from the share root');
  return parts.join('\\');
}

/** A word for smbclient's `-c`: always double-quoted (smbPath refused what cannot be). */
export function smbWord(s: string): string {
  return `"${s}"`;
}

/** The 0600 authentication file's text (smbclient -A). Refuses values that would break its lines. */
export function authFileText(c: ResolvedConnection): string {
  const user = String(c.spec.user ?? '');
  const password = c.secrets.password ?? '';
  const domain = c.spec.domain === undefined ? '' : String(c.spec.domain);
  if (/[\r\n]/.test(password)) {
    throw new ConnectionError(`smb connection "${c.connId}": the password secret holds a line break: store it on one line`);
  }
  const lines = [`username = ${user}`, `password = ${password}`];
  if (domain) lines.push(`domain = ${domain}`);
  return lines.join('\n') + '\n';
}

/** The server part of the argument list: `//remote_name/share -I host -p port -n my_name [-options]`. */
export function smbclientArgs(c: ResolvedConnection, share: string, authFile: string): string[] {
  const problem = shareNameProblem(share);
  if (problem) throw new ConnectionError(`share_name ${JSON.stringify(share.slice(0, 200))} ${problem}`);
  const s = c.spec;
  const direct = s.is_direct_tcp === true;
  const port = typeof s.port === 'number' ? s.port : direct ? 445 : 139;
  const myName = String(s.my_name ?? `lava-${c.realm}`)
    .slice(0, 15)
    .replace(/[^A-Za-z0-9._-]/g, '-');
  const args = [`//${String(s.remote_name)}/${share}`, '-I', String(s.host), '-p', String(port), '-n', myName, '-A', authFile];
  if (s.use_ntlm_v2 === false) args.push('--option=client ntlmv2 auth=no');
  if (s.encrypt === true) args.push('--option=client smb encrypt=required');
  return args;
}

/** A private (0700) directory with the authentication file in it; remove it with `fsp.rm`. */
export async function writeAuthFile(c: ResolvedConnection, parent: string): Promise<{ dir: string; file: string }> {
  const text = authFileText(c);
  const dir = await fsp.mkdtemp(path.join(parent, '.smb-auth-'));
  await fsp.chmod(dir, 0o700);
  const file = path.join(dir, 'auth');
  await fsp.writeFile(file, text, { mode: 0o600, flag: 'wx' });
  return { dir, file };
}

async function writeSmbCli(c: ResolvedConnection, dir: CliDir): Promise<string> {
  const auth = await dir.writePrivate(`${c.connId.replace(/[^\w.-]/g, '_')}.smbauth`, authFileText(c));
  // The share is the first argument; the rest are smbclient's.
  const fixed = smbclientArgs(c, 'SHARE', auth).slice(1).map(sq).join(' ');
  return dir.writeScript(
    `${c.connId.replace(/[^\w.-]/g, '_')}.smb`,
    shScript([
      'if [ $# -lt 1 ]; then echo "usage: $0 SHARE [smbclient options...]" >&2; exit 2; fi',
      'share=$1; shift',
      `exec ${SMBCLIENT} ${sq(`//${String(c.spec.remote_name)}/`)}"$share" ${fixed} "$@"`,
    ]),
  );
}

/** `lava conn test`: log in and list the shares (nothing is changed). */
async function testSmb(c: ResolvedConnection): Promise<string> {
  const bin = findSmbclient();
  if (!bin) throw new ConnectionError(SMBCLIENT_MISSING);
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'lava-smb-'));
  try {
    const { file } = await writeAuthFile(c, tmp);
    const args = smbclientArgs(c, 'IPC$', file);
    const listArgs = ['-L', `//${String(c.spec.remote_name)}`, '-g', ...args.slice(1)];
    const out = await new Promise<string>((resolve, reject) => {
      execFile(bin, listArgs, { timeout: 30_000, cwd: tmp, env: smbclientEnv(tmp) }, (err, stdout, stderr) => {
        if (err) {
          const why = `${stderr}\n${stdout}`.trim().split('\n').slice(-3).join('; ') || err.message;
          reject(new ConnectionError(`smb connection "${c.connId}": ${redact(why, Object.values(c.secrets))}`));
        } else resolve(stdout);
      });
    });
    const shares = out
      .split('\n')
      .filter((l) => l.startsWith('Disk|'))
      .map((l) => l.split('|')[1]);
    return `${c.connId} (smb): logged in to ${String(c.spec.host)} as ${String(c.spec.user)}; shares: ${shares.join(', ') || 'none'}`;
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

/**
 * The environment smbclient runs with: PATH and a private HOME/TMPDIR only. smbclient reads a
 * password from PASSWD, PASSWD_FD and USER (`user%password`), so the worker's are not passed on.
 */
export function smbclientEnv(home: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, TMPDIR: home, LANG: 'C.UTF-8' };
}

export const smbConnector: Connector = {
  type: 'smb',
  aliases: [],
  dialect: 'generic',
  schema: smbSchema,
  required: ['host', 'remote_name', 'user', 'password'],
  secretFields: ['password'],
  test: testSmb,
  writeCli: (c, dir) => writeSmbCli(c, dir),
};
