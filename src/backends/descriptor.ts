/**
 * What a backend tells the rest of lava about itself: which URLs it takes, how to open one, and the
 * admin verbs it offers. The CLI reaches backends only through these, never through their modules.
 */
import type { Backend } from './ports.js';

/** `lava db status`: the schema versions of a backend whose schema is migrated by command. */
export interface SchemaVersions {
  /** The backend URL with any password hidden. */
  backend: string;
  schema: string;
  /** 0 when the schema does not exist yet. */
  current: number;
  latest: number;
  applied: { version: number; name: string; appliedAt: Date }[];
}

/** `lava db migrate`: the version before and the migrations applied. */
export interface MigrationResult {
  schema: string;
  before: number;
  latest: number;
  applied: number[];
}

/** Said by a backend that upgrades its schema itself whenever it is opened. */
export interface SelfMigrating {
  selfMigrating: string;
}

/** One resource (a table) that `bootstrap` made or found. */
export interface BootstrapOutcome {
  table: string;
  created: boolean;
  /** The TTL setting of the table: 'none' when it has no TTL. */
  ttl: string;
}

/** Optional admin verbs; the CLI calls them by name (see `backendAdmin`). */
export interface BackendAdmin {
  status?(url: string): Promise<SchemaVersions | SelfMigrating>;
  migrate?(url: string): Promise<MigrationResult | SelfMigrating>;
  /** Create what a realm needs in the backend (idempotent). */
  bootstrap?(url: string, realm: string): Promise<BootstrapOutcome[]>;
}

export type AdminVerb = keyof BackendAdmin;

export interface BackendDescriptor {
  /** Short name, also the scheme: 'sqlite', 'postgres', 'aws'. */
  name: string;
  /** For messages: 'embedded (SQLite)', 'PostgreSQL', 'AWS'. */
  title: string;
  /** The URL form shown when a URL matches no backend, e.g. `sqlite:PATH`. */
  urlForm: string;
  matches(url: string): boolean;
  /** The URL as the opened backend reports it (`Backend.url`), without opening it. */
  canonicalUrl(url: string): string;
  open(url: string): Promise<Backend>;
  admin: BackendAdmin;
}
