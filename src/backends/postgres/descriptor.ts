import type { BackendDescriptor } from '../descriptor.js';
import { parsePostgresUrl, redactUrl } from './db.js';
import { createPostgresBackend, isPostgresUrl, LATEST_VERSION, migratePostgres, postgresSchemaStatus } from './index.js';

export const postgresDescriptor: BackendDescriptor = {
  name: 'postgres',
  title: 'PostgreSQL',
  urlForm: 'postgres://USER@HOST:PORT/DB',
  matches: isPostgresUrl,
  canonicalUrl: (url) => parsePostgresUrl(url).url,
  open: (url) => createPostgresBackend(url),
  admin: {
    status: async (url) => ({ backend: redactUrl(url), ...(await postgresSchemaStatus(url)) }),
    migrate: async (url) => {
      const { before, applied } = await migratePostgres(url);
      return { schema: before.schema, before: before.current, latest: LATEST_VERSION, applied };
    },
  },
};
