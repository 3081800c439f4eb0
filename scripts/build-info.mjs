#!/usr/bin/env node
// Writes dist/build-info.json: the version and the git commit this build was made from, for
// `lava --version` (a packed or installed package has no .git to ask). Run after tsc by `npm run build`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const root = new URL('../', import.meta.url);
const pkg = JSON.parse(fs.readFileSync(new URL('package.json', root), 'utf8'));

function git(...args) {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

const commit = process.env.LAVA_BUILD_COMMIT || git('rev-parse', '--short=12', 'HEAD');
const status = commit && !process.env.LAVA_BUILD_COMMIT ? git('status', '--porcelain', '--untracked-files=no') : '';
const info = {
  version: pkg.version,
  ...(commit ? { commit } : {}),
  ...(status ? { modified: true } : {}),
};
fs.mkdirSync(new URL('dist/', root), { recursive: true });
fs.writeFileSync(new URL('dist/build-info.json', root), JSON.stringify(info, null, 2) + '\n');
