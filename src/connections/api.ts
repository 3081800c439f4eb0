/**
 * The connection API for TypeScript/JavaScript payloads and embedding code (upstream's
 * `lava.connection` module, §6.5):
 *
 *   const db = await getConnection(process.env.LAVA_CONNID_DB!);   // backend/realm from LAVA_BACKEND/LAVA_REALM
 *   const { rows } = await db.query('select * from t where id = ?', [42]);
 *   await db.close();
 *
 * See docs/connections-api.md.
 */
import fsp from 'node:fs/promises';
import type { Kysely } from 'kysely';
import { backendUrl, openBackend } from '../backends/index.js';
import type { Backend } from '../backends/ports.js';
import { realmName } from '../backends/realm.js';
import type { Config } from '../core/config.js';
import { secretValues } from './client.js';
import { lavaCommand, makeCliDir } from './cli-dir.js';
import { awsClientConfig, type AwsClientConfig } from './connectors/aws.js';
import { dockerConnect, type DockerConnection } from './connectors/docker.js';
import { emailer, type Emailer, type EmailerOptions } from './connectors/email.js';
import { genericAttributes } from './connectors/generic.js';
import { slackSender, type SlackSender } from './connectors/slack.js';
import { sshConnect, type SshConnectOptions, type SshConnection } from './connectors/ssh.js';
import { ConnectionError, redact } from './errors.js';
import { CONNECTIONS_FILE_VAR, writeConnectionsFile } from './python.js';
import { getConnectionSpec as lookupSpec, resolveConnection } from './resolve.js';
import type { DbClient, ResolvedConnection } from './types.js';

export interface ConnectionApiOptions {
  /** Default: opened from LAVA_BACKEND (and closed again once the connection is resolved). */
  backend?: Backend;
  /** Default: LAVA_REALM, else the only realm in the backend. */
  realm?: string;
  /** Default: the realm's configuration. */
  config?: Config;
  /** For the CONN_APP_NAME application name; default LAVA_JOB_ID. */
  jobId?: string;
  /** Use this application name instead of CONN_APP_NAME. */
  applicationName?: string;
}

async function withResolved<T>(connId: string, o: ConnectionApiOptions, fn: (c: ResolvedConnection) => Promise<T>): Promise<T> {
  return withResolvedBackend(o, async (backend, realm) => {
    const c = await resolveConnection(connId, {
      backend,
      realm,
      ...(o.config ? { config: o.config } : {}),
      ...(o.jobId ? { jobId: o.jobId } : {}),
      ...(o.applicationName ? { applicationName: o.applicationName } : {}),
    });
    return fn(c);
  });
}

/** Where a connection goes, for messages (never credentials). */
export function describeTarget(c: ResolvedConnection): string {
  const s = c.spec;
  if (c.connector.dialect === 'sqlite3') return String(s.host);
  return `${String(s.host)}:${String(s.port ?? '')}${s.database ? `/${String(s.database)}` : ''}`;
}

/** Open a resolved connection, turning driver failures into a ConnectionError without secrets. */
export async function openResolved(c: ResolvedConnection): Promise<DbClient> {
  if (!c.connector.open) {
    throw new ConnectionError(
      `connection "${c.connId}" is of type ${c.type}, not a database: use getGenericConnection or a CLI connector`,
    );
  }
  try {
    return await c.connector.open(c);
  } catch (err) {
    if (err instanceof ConnectionError) throw err;
    const msg = err instanceof Error ? err.message || String(err) : String(err);
    throw new ConnectionError(
      `cannot connect to ${c.type} connection "${c.connId}" (${describeTarget(c)} as ${String(c.spec.user ?? '-')}): ${redact(msg, secretValues(c))}`,
    );
  }
}

/** The stored spec of a connection (secret fields hold secret names, not values). */
export async function getConnectionSpec(connId: string, o: ConnectionApiOptions = {}): Promise<Record<string, unknown>> {
  return withResolvedBackend(o, (backend, realm) => lookupSpec(connId, { backend, realm }));
}

/** The backend (given, or opened from LAVA_BACKEND) and the realm: `{ realm }` > LAVA_REALM > the only realm. */
async function withResolvedBackend<T>(o: ConnectionApiOptions, fn: (b: Backend, realm: string) => Promise<T>): Promise<T> {
  const own = o.backend ? undefined : await openBackend(backendUrl());
  const backend = (o.backend ?? own) as Backend;
  try {
    const realm = await realmName(backend, { realm: o.realm, howToName: 'pass { realm } or set LAVA_REALM' });
    return await fn(backend, realm);
  } finally {
    await own?.close();
  }
}

/**
 * A connected database client with a uniform interface: `query(sql, params)` with `?` placeholders,
 * `stream`, `beginTransaction/commit/rollback`, `close`. `raw` is the driver's own connection.
 */
export async function getConnection(connId: string, o: ConnectionApiOptions = {}): Promise<DbClient> {
  return withResolved(connId, o, openResolved);
}

/** A Kysely instance with the connection's dialect (postgres, redshift, mysql, sqlite3, mssql). Call `destroy()` when done. */
export async function getKysely<DB>(connId: string, o: ConnectionApiOptions = {}): Promise<Kysely<DB>> {
  return withResolved(connId, o, async (c) => {
    if (!c.connector.kysely) {
      throw new ConnectionError(`connection "${c.connId}" is of type ${c.type}: Kysely has no dialect for it; use getConnection`);
    }
    const { Kysely } = await import('kysely');
    return new Kysely<DB>({ dialect: await c.connector.kysely(c) });
  });
}

/**
 * Write the connection's CLI connector (psql, mysql, sqlite3, generic attribute printer, or
 * `lava sql` for mssql/oracle) into a new private directory under `workdir`; returns its path.
 */
export async function getCliConnection(connId: string, workdir: string, o: ConnectionApiOptions = {}): Promise<string> {
  return withResolved(connId, o, async (c) => {
    const dir = await makeCliDir(workdir);
    return c.connector.writeCli(c, dir, { lavaCommand: lavaCommand() });
  });
}

/** A generic connection's attributes with secrets filled in. */
export async function getGenericConnection(
  connId: string,
  o: ConnectionApiOptions = {},
): Promise<Record<string, string | number | boolean>> {
  return withResolved(connId, o, async (c) => {
    if (c.connector.type !== 'generic') throw new ConnectionError(`connection "${connId}" is of type ${c.type}, not generic`);
    return genericAttributes(c);
  });
}

/** An email connection's sender (SMTP or SES): `send({to, subject, body, …})`, then `close()`. */
export async function getEmailConnection(connId: string, o: ConnectionApiOptions & EmailerOptions = {}): Promise<Emailer> {
  return withResolved(connId, o, async (c) => emailer(c, o));
}

/** A slack connection's sender: `send({message, subject, style, …})` posts to its webhook. */
export async function getSlackConnection(connId: string, o: ConnectionApiOptions = {}): Promise<SlackSender> {
  return withResolved(connId, o, async (c) => slackSender(c, { realm: c.realm }));
}

/** An aws connection as AWS SDK client configuration: `new S3Client(await getAwsConnection('aws'))`. */
export async function getAwsConnection(connId: string, o: ConnectionApiOptions = {}): Promise<AwsClientConfig> {
  return withResolved(connId, o, async (c) => awsClientConfig(c));
}

/**
 * A docker connection: a dockerode client for its daemon (checked with a ping) and the registry login
 * it pulls with (`client.pull(image, { authconfig: auth })`).
 */
export async function getDockerConnection(connId: string, o: ConnectionApiOptions = {}): Promise<DockerConnection> {
  return withResolved(connId, o, async (c) => {
    if (c.connector.type !== 'docker') throw new ConnectionError(`connection "${connId}" is of type ${c.type}, not docker`);
    return dockerConnect(c);
  });
}

/**
 * An ssh, scp or sftp connection (or git) as a connected ssh2 client: `exec(cmd)`, `sftp()`,
 * `put(local, remote)`, `get(remote, local)`, `close()`. The host key is checked (docs/connectors/ssh.md).
 */
export async function getSshConnection(connId: string, o: ConnectionApiOptions & SshConnectOptions = {}): Promise<SshConnection> {
  return withResolved(connId, o, async (c) => {
    if (c.connector.type !== 'ssh' && c.connector.type !== 'git') {
      throw new ConnectionError(`connection "${connId}" is of type ${c.type}, not ssh, scp, sftp or git`);
    }
    return sshConnect(c, {
      ...(o.host ? { host: o.host } : {}),
      ...(o.port ? { port: o.port } : {}),
      ...(o.user ? { user: o.user } : {}),
    });
  });
}

/** The CLI connectors of a job's `connections` parameter (exe, pkg). */
export interface JobConnections {
  /** LAVA_CONN_<LABEL> and LAVA_CONNID_<LABEL> for each label; LAVA_CONNECTIONS_FILE for the Python package. */
  env: Record<string, string>;
  dir: string | undefined;
  remove(): Promise<void>;
}

/**
 * Resolve every connection of a `connections: {label: conn_id}` parameter and write its CLI
 * connector under `scratch`; any failure fails the job before anything runs.
 */
export async function prepareJobConnections(
  param: unknown,
  o: { backend: Backend; realm: string; config: Config; jobId: string; scratch: string },
): Promise<JobConnections> {
  const none: JobConnections = { env: {}, dir: undefined, remove: async () => {} };
  if (param === undefined || param === null) return none;
  if (typeof param !== 'object' || Array.isArray(param)) {
    throw new ConnectionError('parameters.connections must be a map of LABEL: conn_id');
  }
  const entries = Object.entries(param as Record<string, unknown>);
  if (!entries.length) return none;
  for (const [label, id] of entries) {
    if (!/^\w+$/.test(label))
      throw new ConnectionError(`parameters.connections: bad label "${label}": use letters, digits and _ only`);
    if (typeof id !== 'string' || !id) throw new ConnectionError(`parameters.connections.${label} must be a conn_id string`);
  }
  const dir = await makeCliDir(o.scratch);
  const remove = () => fsp.rm(dir.path, { recursive: true, force: true });
  try {
    const env: Record<string, string> = {};
    const resolved: ResolvedConnection[] = [];
    for (const [label, id] of entries as [string, string][]) {
      const c = await resolveConnection(id, { backend: o.backend, realm: o.realm, config: o.config, jobId: o.jobId });
      const script = await c.connector.writeCli(c, dir, { lavaCommand: lavaCommand() });
      env[`LAVA_CONN_${label.toUpperCase()}`] = script;
      env[`LAVA_CONNID_${label.toUpperCase()}`] = id;
      resolved.push(c);
    }
    // The declared database and generic connections, for the Python package (0600, this run only).
    const file = await writeConnectionsFile(dir, { realm: o.realm, jobId: o.jobId }, resolved);
    if (file) env[CONNECTIONS_FILE_VAR] = file;
    return { env, dir: dir.path, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}
