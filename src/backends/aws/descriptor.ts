import type { BackendDescriptor } from '../descriptor.js';
import { isAwsUrl, parseAwsUrl } from './url.js';

// The backend itself is loaded on demand: the AWS SDK adds about half a second to every start.
const load = () => import('./index.js');

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
