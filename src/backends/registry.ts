/** The backends lava knows, looked up by URL or name. */
import { ConfigError } from '../core/errors.js';
import { awsDescriptor } from './aws/descriptor.js';
import type { AdminVerb, BackendAdmin, BackendDescriptor } from './descriptor.js';
import { postgresDescriptor } from './postgres/descriptor.js';
import { sqliteDescriptor } from './sqlite/descriptor.js';

const descriptors: BackendDescriptor[] = [sqliteDescriptor, postgresDescriptor, awsDescriptor];

/** Add a backend (tests, embedders); it is tried before the built-in ones. */
export function registerBackend(descriptor: BackendDescriptor): () => void {
  descriptors.unshift(descriptor);
  return () => {
    const i = descriptors.indexOf(descriptor);
    if (i >= 0) descriptors.splice(i, 1);
  };
}

export function findBackend(url: string): BackendDescriptor | undefined {
  return descriptors.find((d) => d.matches(url));
}

export function backendFor(url: string): BackendDescriptor {
  const d = findBackend(url);
  if (d) return d;
  const forms = descriptors.map((x) => x.urlForm);
  const list = forms.length > 1 ? `${forms.slice(0, -1).join(', ')} or ${forms.at(-1)}` : forms.join('');
  throw new ConfigError(
    `unknown backend ${JSON.stringify(url)}: use ${list} (e.g. --backend sqlite:./.lava/lava.db or LAVA_BACKEND)`,
  );
}

export function backendNamed(name: string): BackendDescriptor {
  const d = descriptors.find((x) => x.name === name);
  if (!d)
    throw new ConfigError(
      `no backend named ${JSON.stringify(name)}: the backends are ${descriptors.map((x) => x.name).join(', ')}`,
    );
  return d;
}

/** A URL as the opened backend reports it (`Backend.url`), without opening it; unknown URLs as they are. */
export function canonicalBackendUrl(url: string): string {
  return findBackend(url)?.canonicalUrl(url) ?? url;
}

/**
 * The admin verb `verb` of the backend at `url`, for the command `command` (named in the error when
 * that backend does not offer the verb).
 */
export function backendAdmin<V extends AdminVerb>(url: string, verb: V, command: string): NonNullable<BackendAdmin[V]> {
  const d = backendFor(url);
  const fn = d.admin[verb];
  if (fn) return fn.bind(d.admin) as NonNullable<BackendAdmin[V]>;
  const has = Object.keys(d.admin);
  throw new ConfigError(
    `${command} does not apply to the ${d.title} backend: ` +
      (has.length ? `its admin verbs are ${has.join(', ')}` : 'it has no admin verbs'),
  );
}
