/**
 * Connection lookup and resolution (upstream §6.1–6.2): read the spec from the realm's connections
 * table, check it is enabled and valid for its type, fill missing fields from `secret_id`, fetch the
 * secrets it names, and work out the session's application name (CONN_APP_NAME).
 */
import type { Backend } from '../backends/ports.js';
import { Config } from '../core/config.js';
import { processSetting } from '../core/settings.js';
import { formatIssues } from '../core/validate.js';
import { renderTemplate } from '../template/index.js';
import { ConnectionError } from './errors.js';
import { connectorFor, connectorTypeNames, UNSUPPORTED_TYPES } from './registry.js';
import { getSecret, type CacheSettings } from './secrets.js';
import type { Connector, ResolvedConnection } from './types.js';

export interface ResolveOptions {
  backend: Backend;
  realm: string;
  /** Worker configuration (PARAM_CACHE_*, CONN_APP_NAME); default: the realm's config. */
  config?: Config;
  /** For CONN_APP_NAME; default LAVA_JOB_ID from the environment. */
  jobId?: string;
  /** Overrides CONN_APP_NAME entirely. */
  applicationName?: string;
}

/** Secrets Manager-style fill-in map: JSON field of the `secret_id` secret → spec field (§6.2). */
const SECRET_ID_FIELDS: Record<string, string> = {
  username: 'user',
  password: 'password',
  host: 'host',
  port: 'port',
  dbname: 'database',
  dbClusterIdentifier: 'description',
  serviceName: 'service_name',
  sid: 'sid',
};

/** The stored spec, as is. Missing → a ConnectionError naming the conn id. */
export async function getConnectionSpec(
  connId: string,
  o: { backend: Backend; realm: string },
): Promise<Record<string, unknown>> {
  if (typeof connId !== 'string' || !connId) throw new ConnectionError('a connection id is required (a non-empty string)');
  const item = await o.backend.config.get(o.realm, 'connections', connId);
  if (!item) {
    throw new ConnectionError(
      `No such connection "${connId}" in realm "${o.realm}": check the id, or add it with \`lava conn put FILE\` (list them with \`lava conn ls\`)`,
    );
  }
  return item;
}

async function configFor(o: ResolveOptions): Promise<Config> {
  if (o.config) return o.config;
  const realm = await o.backend.config.getRealm(o.realm);
  return new Config(realm?.config ?? {});
}

/** CONN_APP_NAME rendered with realm, job_id and conn_id; quotes and backslashes removed. */
export function applicationName(template: string, vars: { realm: string; job_id: string; conn_id: string }): string {
  let name: string;
  try {
    name = renderTemplate(template, vars);
  } catch {
    name = `lv-${vars.realm}-${vars.job_id}`;
  }
  return name.replace(/["'\\`]/g, '').trim() || 'lava';
}

/** The stored spec checked: it has a known type, is enabled and is valid for its connector. */
function checkedSpec(
  connId: string,
  raw: Record<string, unknown>,
): { type: string; connector: Connector; spec: Record<string, unknown> } {
  const label = `connection "${connId}"`;
  if (typeof raw.type !== 'string' || !raw.type) {
    throw new ConnectionError(`${label} has no type: add "type", e.g. "postgres", "mysql", "sqlite3" or "generic"`);
  }
  const type = raw.type.toLowerCase();
  const connector = connectorFor(type);
  if (!connector) {
    const why = UNSUPPORTED_TYPES.includes(type) ? 'is not supported by Lava for TypeScript yet' : 'is not a connector type';
    throw new ConnectionError(`${label} has type "${raw.type}", which ${why}: use one of ${connectorTypeNames().join(', ')}`);
  }
  if (raw.enabled !== true) {
    throw new ConnectionError(
      `Connection not enabled: ${label} has enabled: ${JSON.stringify(raw.enabled ?? false)}; set "enabled": true in its spec`,
    );
  }
  const parsed = connector.schema.safeParse(raw);
  if (!parsed.success) {
    throw new ConnectionError(`bad ${label} (type ${type}):\n  ${formatIssues(parsed.error).join('\n  ')}`);
  }
  return { type, connector, spec: { ...(parsed.data as Record<string, unknown>) } };
}

/** Fill the spec's missing fields (and the password) from the JSON secret its `secret_id` names (§6.2). */
async function fillFromSecretId(
  o: ResolveOptions,
  spec: Record<string, unknown>,
  secretId: string,
  secrets: Record<string, string>,
  cache: CacheSettings,
  label: string,
): Promise<void> {
  const text = await getSecret(o.backend, o.realm, secretId, cache, `secret_id of ${label}`);
  let filled: unknown;
  try {
    filled = JSON.parse(text);
  } catch {
    throw new ConnectionError(
      `secret "${secretId}" (secret_id of ${label}) is not a JSON object: store e.g. {"username": …, "password": …}`,
    );
  }
  if (!filled || typeof filled !== 'object' || Array.isArray(filled)) {
    throw new ConnectionError(`secret "${secretId}" (secret_id of ${label}) is not a JSON object`);
  }
  for (const [from, to] of Object.entries(SECRET_ID_FIELDS)) {
    const v = (filled as Record<string, unknown>)[from];
    if (v === undefined || v === null) continue;
    if (to === 'password') {
      if (spec.password === undefined) secrets.password = String(v);
    } else if (spec[to] === undefined) {
      spec[to] = to === 'port' ? Number(v) : v;
    }
  }
}

export async function resolveConnection(connId: string, o: ResolveOptions): Promise<ResolvedConnection> {
  const { type, connector, spec } = checkedSpec(connId, await getConnectionSpec(connId, o));
  const label = `connection "${connId}"`;
  const config = await configFor(o);
  const cache: CacheSettings = { size: config.int('PARAM_CACHE_SIZE'), ttl: config.duration('PARAM_CACHE_TTL') };
  const secrets: Record<string, string> = {};

  if (typeof spec.secret_id === 'string') await fillFromSecretId(o, spec, spec.secret_id, secrets, cache, label);

  for (const field of connector.secretFields) {
    const name = spec[field];
    if (typeof name === 'string' && secrets[field] === undefined) {
      secrets[field] =
        (connector.secretRef?.(field, name) ?? true)
          ? await getSecret(o.backend, o.realm, name, cache, `field ${field} of ${label}`)
          : name;
    }
  }
  if (type === 'generic') {
    for (const [attr, v] of Object.entries((spec.attributes ?? {}) as Record<string, unknown>)) {
      if (v && typeof v === 'object' && (v as { type?: string }).type === 'ssm') {
        const name = (v as { parameter: string }).parameter;
        secrets[`attributes.${attr}`] = await getSecret(o.backend, o.realm, name, cache, `attribute ${attr} of ${label}`);
      }
    }
  }

  const missing = connector.required.filter((f) => (f === 'password' ? secrets.password === undefined : spec[f] === undefined));
  const problems = [
    ...missing.map((f) =>
      f === 'password'
        ? 'Password must be specified: set "password" to the name of a secret (lava secret put NAME -), or supply it via secret_id'
        : `${f} is required`,
    ),
    ...(connector.check?.(spec) ?? []),
  ];
  if (problems.length) throw new ConnectionError(`bad ${label} (type ${type}):\n  ${problems.join('\n  ')}`);

  const appName =
    o.applicationName ??
    applicationName(config.str('CONN_APP_NAME'), {
      realm: o.realm,
      job_id: o.jobId ?? processSetting('JOB_ID') ?? '',
      conn_id: connId,
    });
  return { connId, realm: o.realm, type, connector, spec, secrets, applicationName: appName, backendUrl: o.backend.url };
}
