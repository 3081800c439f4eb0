/**
 * The `aws://` backend URL and its options. Kept apart from the SDK clients so that recognising the
 * URL (every `lava` start does) does not load the AWS SDK.
 */
import { ConfigError } from '../../core/errors.js';

export type ExpireMode = 'auto' | 'scan' | 'ttl';

/** What an `aws://` backend URL says. */
export interface AwsUrl {
  /** The URL, normalised (what child processes get in LAVA_BACKEND). */
  url: string;
  region?: string;
  /** Create a missing table the first time it is used (tests, local emulators); default off. */
  autoCreate: boolean;
  /** How EventStore.expire deletes old records (see docs/backends/aws.md). */
  expire: ExpireMode;
  /** KMS key for the SecureString parameters (`{realm}` is replaced); default: the account's aws/ssm key. */
  ssmKeyId?: string;
}

const PARAMS = ['region', 'autocreate', 'expire', 'ssm_key'] as const;

export function isAwsUrl(url: string): boolean {
  return /^aws:\/\//i.test(url) || /^aws:$/i.test(url);
}

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off', ''];

export function parseAwsUrl(url: string): AwsUrl {
  if (!isAwsUrl(url)) throw new ConfigError(`not an AWS backend URL: ${url} (use aws:// or aws://?region=eu-west-1)`);
  const q = url.indexOf('?');
  const rest = url.slice(url.indexOf(':') + 1, q < 0 ? undefined : q).replace(/^\/\//, '');
  if (rest && rest !== '/') {
    throw new ConfigError(
      `bad AWS backend URL ${url}: it takes no host or path, only options (aws://?region=eu-west-1&autocreate=true)`,
    );
  }
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  for (const key of params.keys()) {
    if (!(PARAMS as readonly string[]).includes(key)) {
      throw new ConfigError(`unknown option "${key}" in backend URL ${url}: the options are ${PARAMS.join(', ')}`);
    }
  }
  const region = params.get('region') || undefined;
  const auto = (params.get('autocreate') ?? '').toLowerCase();
  if (!TRUE.includes(auto) && !FALSE.includes(auto)) throw new ConfigError(`bad autocreate=${auto} in ${url}: use true or false`);
  const expire = (params.get('expire') || 'auto').toLowerCase();
  if (expire !== 'auto' && expire !== 'scan' && expire !== 'ttl') {
    throw new ConfigError(`bad expire=${expire} in ${url}: use auto, scan or ttl`);
  }
  const ssmKeyId = params.get('ssm_key') || undefined;
  const norm = new URLSearchParams();
  if (region) norm.set('region', region);
  if (TRUE.includes(auto)) norm.set('autocreate', 'true');
  if (expire !== 'auto') norm.set('expire', expire);
  if (ssmKeyId) norm.set('ssm_key', ssmKeyId);
  const query = norm.toString();
  return {
    url: `aws://${query ? `?${query}` : ''}`,
    ...(region ? { region } : {}),
    autoCreate: TRUE.includes(auto),
    expire,
    ...(ssmKeyId ? { ssmKeyId } : {}),
  };
}
