/** This Lava's version (package.json's), for `lava --version` and the directory entries of live processes. */
import fs from 'node:fs';

export const VERSION = '0.1.0';

/** What `npm run build` records in dist/build-info.json (scripts/build-info.mjs). */
export interface BuildInfo {
  version: string;
  /** The git commit the build was made from (short hash). */
  commit?: string;
  /** The working tree had uncommitted changes to tracked files. */
  modified?: boolean;
}

/** The build's record, or undefined when running from sources (no build-info.json next to dist/). */
export function buildInfo(file: URL = new URL('../build-info.json', import.meta.url)): BuildInfo | undefined {
  try {
    const info = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<BuildInfo>;
    if (typeof info.version !== 'string') return undefined;
    return {
      version: info.version,
      ...(typeof info.commit === 'string' && /^[0-9a-f]{4,40}$/.test(info.commit) ? { commit: info.commit } : {}),
      ...(info.modified === true ? { modified: true } : {}),
    };
  } catch {
    return undefined;
  }
}

/** `lava --version`: `0.1.0 (commit 1a2b3c4d5e6f)`, or `0.1.0 (commit unknown: …)` from sources. */
export function versionText(info: BuildInfo | undefined = buildInfo()): string {
  if (!info?.commit) return `${VERSION} (commit unknown: not a build of a git checkout)`;
  return `${VERSION} (commit ${info.commit}${info.modified ? ', with uncommitted changes' : ''})`;
}
