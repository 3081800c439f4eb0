/**
 * `lava --version` names the commit the build was made from: scripts/build-info.mjs writes it into
 * dist/build-info.json at build time (an installed package has no .git to ask).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildInfo, VERSION, versionText } from '../../src/core/version.js';
import { LAVA_BIN, REPO_ROOT } from '../e2e/cli-helpers.js';

const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };

describe('lava --version', () => {
  it('VERSION is package.json version', () => {
    expect(VERSION).toBe(pkg.version);
  });

  it('the built CLI prints the version and the commit of HEAD', () => {
    execFileSync(process.execPath, ['scripts/build-info.mjs'], { cwd: REPO_ROOT });
    const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const out = execFileSync(process.execPath, [LAVA_BIN, '--version'], { encoding: 'utf8' }).trim();
    expect(out).toMatch(new RegExp(`^${VERSION.replace(/\./g, '\\.')} \\(commit ${head}(, with uncommitted changes)?\\)$`));
  });

  it('reads a build record, and says so when there is none or it is damaged', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-version-'));
    try {
      const file = path.join(dir, 'build-info.json');
      const url = pathToFileURL(file);
      expect(buildInfo(url)).toBeUndefined();
      expect(versionText(buildInfo(url))).toBe(`${VERSION} (commit unknown: not a build of a git checkout)`);
      fs.writeFileSync(file, JSON.stringify({ version: VERSION, commit: '0123456789ab' }));
      expect(versionText(buildInfo(url))).toBe(`${VERSION} (commit 0123456789ab)`);
      fs.writeFileSync(file, JSON.stringify({ version: VERSION, commit: '0123456789ab', modified: true }));
      expect(versionText(buildInfo(url))).toBe(`${VERSION} (commit 0123456789ab, with uncommitted changes)`);
      fs.writeFileSync(file, JSON.stringify({ version: VERSION, commit: '$(rm -rf /)' }));
      expect(versionText(buildInfo(url))).toMatch(/commit unknown/);
      fs.writeFileSync(file, '{ not json');
      expect(buildInfo(url)).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
