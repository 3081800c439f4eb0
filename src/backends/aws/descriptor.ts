import { LavaError } from '../../core/errors.js';
import { loadOptional } from '../../core/optional.js';
import type { BackendDescriptor } from '../descriptor.js';
import { isAwsUrl, parseAwsUrl } from './url.js';

/**
 * The AWS SDK packages the backend's modules import. They are optional packages (most users never
 * need them): the backend is loaded only after all of them are found, and a missing one is named.
 */
export const AWS_BACKEND_PACKAGES = [
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/lib-dynamodb',
  '@aws-sdk/client-sqs',
  '@aws-sdk/client-ssm',
] as const;

const FEATURE = 'the AWS backend (aws://)';

async function requireSdk(): Promise<void> {
  const results = await Promise.allSettled(AWS_BACKEND_PACKAGES.map((p) => loadOptional(p, FEATURE)));
  const missing: string[] = [];
  for (const [i, r] of results.entries()) {
    if (r.status === 'fulfilled') continue;
    if (r.reason instanceof LavaError && r.reason.code === 'LAVA_MISSING_PACKAGE') missing.push(AWS_BACKEND_PACKAGES[i] ?? '');
    else throw r.reason;
  }
  if (missing.length) {
    const all = AWS_BACKEND_PACKAGES.join(' ');
    throw new LavaError(
      'LAVA_MISSING_PACKAGE',
      `${FEATURE} needs the package${missing.length > 1 ? 's' : ''} ${missing.map((p) => `"${p}"`).join(', ')}, ` +
        `which ${missing.length > 1 ? 'are' : 'is'} not installed: run \`npm install ${all}\` where lava is installed ` +
        `(add @aws-sdk/client-s3 for s3:// payloads, and @aws-sdk/client-sns, client-sesv2, client-eventbridge for those actions)`,
    );
  }
}

// The backend itself is loaded on demand: the AWS SDK adds about half a second to every start, and
// it is an optional package.
const load = async () => {
  await requireSdk();
  return import('./index.js');
};

export const awsDescriptor: BackendDescriptor = {
  name: 'aws',
  title: 'AWS',
  urlForm: 'aws://',
  matches: isAwsUrl,
  canonicalUrl: (url) => parseAwsUrl(url).url,
  open: async (url) => (await load()).createAwsBackend(url),
  admin: {
    bootstrap: async (url, realm) => (await load()).bootstrapAws(url, realm),
  },
};
