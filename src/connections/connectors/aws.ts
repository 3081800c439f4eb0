/**
 * aws (upstream §6.3): credentials for AWS SDK clients.
 *
 * - `access_keys`: the name of a secret whose value is `key_id,secret` (upstream's SSM convention);
 * - `profile` (beyond upstream): a profile of the shared config and credentials files, which the SDK
 *   resolves itself (including `role_arn` + `source_profile` profiles);
 * - neither: the SDK's default credential chain.
 *
 * `role_arn` (with `external_id`, `duration`, `policy_arns`, `policy`, `tags`) needs STS AssumeRole,
 * and @aws-sdk/client-sts is not a dependency of Lava for TypeScript: a connection with `role_arn`
 * fails with a message that says so (use a shared-config profile with `role_arn` instead).
 */
import type * as SqsSdk from '@aws-sdk/client-sqs';
import { loadOptional } from '../../core/optional.js';
import { ConnectionError, redact } from '../errors.js';
import { awsSchema } from '../schemas.js';
import type { Connector, ResolvedConnection } from '../types.js';

export interface AwsClientConfig {
  region?: string;
  profile?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** Configuration for an SDK client (`new SNSClient(awsClientConfig(c))`). */
export function awsClientConfig(c: ResolvedConnection): AwsClientConfig {
  if (c.connector.type !== 'aws') throw new ConnectionError(`connection "${c.connId}" is of type ${c.type}, not aws`);
  const s = c.spec;
  if (s.role_arn !== undefined) {
    throw new ConnectionError(
      `aws connection "${c.connId}" has role_arn: assuming a role needs STS (@aws-sdk/client-sts), which Lava for TypeScript does not include; put the role in a profile of the shared AWS config (role_arn, source_profile, external_id) and set "profile" instead`,
    );
  }
  const out: AwsClientConfig = {};
  if (typeof s.region === 'string') out.region = s.region;
  if (typeof s.profile === 'string') out.profile = s.profile;
  const keys = c.secrets.access_keys;
  if (keys !== undefined) {
    const [id, secret, ...rest] = keys.split(',').map((x) => x.trim());
    if (!id || !secret || rest.length > 1) {
      throw new ConnectionError(
        `secret ${String(s.access_keys)} (access_keys of aws connection "${c.connId}") must hold "key_id,secret_key"`,
      );
    }
    out.credentials = { accessKeyId: id, secretAccessKey: secret, ...(rest[0] ? { sessionToken: rest[0] } : {}) };
  }
  return out;
}

export const awsConnector: Connector = {
  type: 'aws',
  aliases: [],
  dialect: 'generic',
  schema: awsSchema,
  required: [],
  secretFields: ['access_keys', 'external_id'],
  check(spec) {
    return spec.access_keys !== undefined && spec.profile !== undefined ? ['give access_keys or profile, not both'] : [];
  },
  async test(c) {
    const cfg = awsClientConfig(c);
    // Any client resolves credentials the same way; SQS is a dependency already.
    const { SQSClient } = await loadOptional<typeof SqsSdk>('@aws-sdk/client-sqs', 'testing an aws connection');
    const client = new SQSClient(cfg);
    try {
      const creds = await client.config.credentials();
      const region = await client.config.region().catch(() => undefined);
      const source = cfg.credentials ? 'access_keys' : cfg.profile ? `profile ${cfg.profile}` : 'the default credential chain';
      return `${c.connId} (aws): credentials from ${source} resolve (key id …${creds.accessKeyId.slice(-4)}${region ? `, region ${region}` : ''}); not checked with AWS: STS GetCallerIdentity needs @aws-sdk/client-sts, which is not installed`;
    } catch (err) {
      throw new ConnectionError(
        `aws connection "${c.connId}": credentials do not resolve: ${redact(err instanceof Error ? err.message : String(err), Object.values(c.secrets))}`,
      );
    } finally {
      client.destroy();
    }
  },
  writeCli(c) {
    return Promise.reject(
      new ConnectionError(
        `connection "${c.connId}" is of type aws: Lava for TypeScript has no CLI connector for aws connections yet; use the AWS CLI's own profiles`,
      ),
    );
  },
};
