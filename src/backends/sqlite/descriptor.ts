import path from 'node:path';
import type { BackendDescriptor, SelfMigrating } from '../descriptor.js';
import { createSqliteBackend } from './index.js';

const SELF: SelfMigrating = {
  selfMigrating: 'the embedded (SQLite) backend upgrades its schema itself whenever it is opened',
};

/** `sqlite:PATH` (also `sqlite:///abs/path`), or a bare path ending in `.db`. */
function fileOf(url: string): string {
  if (url.startsWith('sqlite:')) return url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  return url;
}

export const sqliteDescriptor: BackendDescriptor = {
  name: 'sqlite',
  title: 'embedded (SQLite)',
  urlForm: 'sqlite:PATH',
  matches: (url) => url.startsWith('sqlite:') || (url.endsWith('.db') && !url.includes('://')),
  canonicalUrl: (url) => `sqlite:${path.resolve(fileOf(url))}`,
  open: async (url) => createSqliteBackend(path.resolve(fileOf(url))),
  admin: {
    status: async () => SELF,
    // Opening is migrating; it also checks that the file can be opened.
    migrate: async (url) => {
      await createSqliteBackend(path.resolve(fileOf(url))).close();
      return SELF;
    },
  },
};
