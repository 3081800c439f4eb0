/**
 * docker (upstream §6.3): a Docker Engine API daemon, and optionally a registry to log in to.
 *
 * - `server`: the daemon's URL, `unix:///path/docker.sock`, `tcp://host:port`, `http://…` or `https://…`;
 *   absent: the environment (`DOCKER_HOST`), else the local socket;
 * - `tls` (default true): `tcp://` talks HTTPS, `false` plain HTTP (a unix socket ignores it);
 * - `timeout`: seconds for each API call (not the job's run time);
 * - `registry`: a registry host (`ghcr.io`, `registry.example.com:5000`) or `ecr` / `ecr:<account>[:…]`;
 *   absent: no login (Docker Hub and public images);
 * - `user` and `password` (the name of a secret): the registry login. `email` is passed along.
 *
 * Upstream logs in with `docker login --password-stdin`, which stores the credential in the worker's
 * ~/.docker/config.json for every later pull. Here the login is checked with the daemon (`POST /auth`)
 * and the credential is kept in memory and sent with each pull, so nothing is written to disk and no
 * command line carries it. ECR credentials come from ECR's GetAuthorizationToken through
 * @aws-sdk/client-ecr, an optional package.
 */
import type Dockerode from 'dockerode';
import { z } from 'zod';
import { isDuration, parseBool, parseDuration } from '../../core/units.js';
import { loadOptional } from '../../core/optional.js';
import { ConnectionError, redact } from '../errors.js';
import { baseConnectionFields } from '../schemas.js';
import type { Connector, ResolvedConnection } from '../types.js';

export const dockerSchema = z.looseObject({
  ...baseConnectionFields,
  server: z
    .string()
    .regex(/^(unix|tcp|http|https):\/\/\S+$/, 'server must be a daemon URL: unix:///var/run/docker.sock or tcp://host:2376')
    .optional(),
  tls: z
    .unknown()
    .refine((v) => {
      try {
        parseBool(v);
        return true;
      } catch {
        return false;
      }
    }, 'tls must be a boolean: true/false')
    .optional(),
  timeout: z.union([z.number(), z.string()]).refine(isDuration, 'bad duration: use seconds or e.g. "30s"').optional(),
  registry: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  password: z
    .string()
    .min(1)
    .refine((s) => !/\s/.test(s), 'must be the name of a secret (e.g. /lava/<realm>/registry/password), not the value itself')
    .optional(),
  email: z.string().optional(),
});

/** Registry credentials for the Engine API (X-Registry-Auth). */
export interface DockerAuth {
  username: string;
  password: string;
  serveraddress: string;
  email?: string;
}

/** A daemon client and the registry login it pulls with. */
export interface DockerConnection {
  readonly connId: string;
  /** The dockerode client (https://github.com/apocas/dockerode). */
  readonly client: Dockerode;
  /** The same daemon without the connection's API `timeout`: for calls that last as long as a container runs. */
  readonly untimed: Dockerode;
  /** The registry login, if the connection names a registry. */
  readonly auth: DockerAuth | undefined;
  /** Where the daemon is, for messages (no credentials). */
  readonly server: string;
  /** Secret values to keep out of messages. */
  readonly secrets: readonly string[];
}

function isEcr(registry: string): boolean {
  return registry === 'ecr' || registry.startsWith('ecr:');
}

/** dockerode options for the connection's `server`, `tls` and `timeout` ({} = the environment). */
export function daemonOptions(spec: Record<string, unknown>): { options: Dockerode.DockerOptions; server: string } {
  const options: Dockerode.DockerOptions = {};
  if (spec.timeout !== undefined) options.timeout = parseDuration(spec.timeout, 'timeout') * 1000;
  const server = typeof spec.server === 'string' ? spec.server : undefined;
  if (!server) return { options, server: process.env.DOCKER_HOST || 'the local docker socket' };
  const url = new URL(server);
  if (url.protocol === 'unix:') {
    // host: undefined, so that a tcp DOCKER_HOST in the environment does not win over the socket.
    return { options: { ...options, socketPath: decodeURIComponent(url.pathname), host: undefined }, server };
  }
  const tls = spec.tls === undefined ? true : parseBool(spec.tls, 'tls');
  const protocol = url.protocol === 'http:' ? 'http' : url.protocol === 'https:' ? 'https' : tls ? 'https' : 'http';
  const port = url.port || (protocol === 'https' ? '2376' : '2375');
  return { options: { ...options, host: url.hostname, port, protocol }, server };
}

interface EcrClientLike {
  send(cmd: unknown): Promise<{ authorizationData?: Array<{ authorizationToken?: string; proxyEndpoint?: string }> }>;
  destroy(): void;
}
interface EcrModule {
  ECRClient: new (cfg: Record<string, unknown>) => EcrClientLike;
  GetAuthorizationTokenCommand: new (input: { registryIds?: string[] }) => unknown;
}

/** ECR's registry login: GetAuthorizationToken for `ecr` (this account) or `ecr:<account>[:<account>…]`. */
async function ecrAuth(c: ResolvedConnection, registry: string): Promise<DockerAuth> {
  const ecr = await loadOptional<EcrModule>('@aws-sdk/client-ecr', `the ECR login of docker connection "${c.connId}"`);
  const ids = registry.split(':').slice(1).filter(Boolean);
  const client = new ecr.ECRClient({});
  try {
    const out = await client.send(new ecr.GetAuthorizationTokenCommand(ids.length ? { registryIds: ids } : {}));
    const data = out.authorizationData?.[0];
    const decoded = Buffer.from(data?.authorizationToken ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (!data?.proxyEndpoint || colon < 0) throw new ConnectionError(`docker connection "${c.connId}": ECR returned no token`);
    return {
      username: decoded.slice(0, colon),
      password: decoded.slice(colon + 1),
      serveraddress: data.proxyEndpoint.replace(/^https:\/\//, ''),
      ...(typeof c.spec.email === 'string' ? { email: c.spec.email } : {}),
    };
  } finally {
    client.destroy();
  }
}

/** The registry login of a resolved docker connection (undefined: no registry). */
async function registryAuth(c: ResolvedConnection): Promise<DockerAuth | undefined> {
  const registry = c.spec.registry;
  if (typeof registry !== 'string' || !registry) return undefined;
  if (isEcr(registry)) return ecrAuth(c, registry);
  if (typeof c.spec.user !== 'string' || c.secrets.password === undefined) {
    throw new ConnectionError(
      `docker connection "${c.connId}" names registry ${registry} but not both user and password: add "user" and "password" (the name of a secret)`,
    );
  }
  return {
    username: c.spec.user,
    password: c.secrets.password,
    serveraddress: registry,
    ...(typeof c.spec.email === 'string' ? { email: c.spec.email } : {}),
  };
}

/** An Engine API error as text: the daemon's message, else the transport's. */
export function dockerErrorText(err: unknown): string {
  const e = err as { json?: { message?: string }; reason?: string; message?: string; statusCode?: number };
  const msg = e?.json?.message ?? e?.message ?? String(err);
  return e?.statusCode ? `(HTTP ${e.statusCode}) ${msg}` : msg;
}

/**
 * Connect to the daemon (checked with a ping) and log in to the registry (checked by the daemon).
 * Failures are ConnectionErrors naming the connection, without secrets.
 */
export async function dockerConnect(c: ResolvedConnection | undefined): Promise<DockerConnection> {
  const { default: Docker } = await loadOptional<{ default: typeof Dockerode }>('dockerode', 'the docker job type');
  const connId = c?.connId ?? '(none)';
  const label = c ? `docker connection "${c.connId}"` : 'the local docker daemon';
  const secrets = c ? Object.values(c.secrets).filter((s) => s.length > 0) : [];
  const { options, server } = c
    ? daemonOptions(c.spec)
    : { options: {}, server: process.env.DOCKER_HOST || 'the local docker socket' };
  let client: Dockerode;
  try {
    client = new Docker(options);
    await client.ping();
  } catch (err) {
    throw new ConnectionError(`${label}: cannot reach the docker daemon at ${server}: ${redact(dockerErrorText(err), secrets)}`);
  }
  const auth = c ? await registryAuth(c) : undefined;
  if (auth) {
    secrets.push(auth.password);
    try {
      await client.checkAuth({ ...auth });
    } catch (err) {
      throw new ConnectionError(
        `${label}: Cannot login to registry ${auth.serveraddress}: ${redact(dockerErrorText(err), [...secrets])}`,
      );
    }
  }
  const untimed = options.timeout === undefined ? client : new Docker({ ...options, timeout: undefined });
  return { connId, client, untimed, auth, server, secrets };
}

export const dockerConnector: Connector = {
  type: 'docker',
  aliases: [],
  dialect: 'generic',
  schema: dockerSchema,
  required: [],
  secretFields: ['password'],
  check(spec) {
    const problems: string[] = [];
    const registry = typeof spec.registry === 'string' ? spec.registry : undefined;
    if (
      registry &&
      !isEcr(registry) &&
      (spec.user === undefined || (spec.password === undefined && spec.secret_id === undefined))
    ) {
      problems.push(`registry ${registry} needs "user" and "password" (the name of a secret) for the login`);
    }
    return problems;
  },
  async test(c) {
    const conn = await dockerConnect(c);
    const v = await conn.client.version();
    return `${c.connId} (docker): daemon at ${conn.server} answers (${v.Components?.[0]?.Name ?? 'Engine'} ${v.Version}, API ${v.ApiVersion})${conn.auth ? `; logged in to ${conn.auth.serveraddress} as ${conn.auth.username}` : ''}`;
  },
  writeCli(c) {
    return Promise.reject(
      new ConnectionError(
        `connection "${c.connId}" is of type docker: it is used by docker jobs (parameter "docker"), and has no CLI connector`,
      ),
    );
  },
};
