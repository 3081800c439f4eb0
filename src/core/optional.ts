/**
 * Packages that only some users need (database drivers, cloud SDKs, container and SSH clients) are
 * optional dependencies, loaded on first use. A missing one is a clear error naming the package and
 * the command that installs it, not a stack trace from the module loader.
 */
import { LavaError } from './errors.js';

const cache = new Map<string, Promise<unknown>>();

/** Whether an import failure means the package itself is not installed (not an error inside it). */
function isMissing(err: unknown, pkg: string): boolean {
  const e = err as { code?: string; message?: string };
  return (
    (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') &&
    typeof e.message === 'string' &&
    e.message.includes(`'${pkg}`)
  );
}

/**
 * Import an optional package once. `feature` says what needs it ("the MySQL connector"); the error
 * (LAVA_MISSING_PACKAGE) says `npm install PKG`.
 */
export function loadOptional<T>(pkg: string, feature: string): Promise<T> {
  let loading = cache.get(pkg) as Promise<T> | undefined;
  if (!loading) {
    loading = (import(pkg) as Promise<T>).catch((err: unknown) => {
      cache.delete(pkg);
      if (isMissing(err, pkg)) {
        throw new LavaError(
          'LAVA_MISSING_PACKAGE',
          `${feature} needs the package "${pkg}", which is not installed: run \`npm install ${pkg}\` where lava is installed`,
          { cause: err },
        );
      }
      throw err;
    });
    cache.set(pkg, loading);
  }
  return loading;
}
