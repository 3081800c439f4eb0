#!/usr/bin/env node
// Adds lock entries for platform-specific optional packages that `npm install` left out
// (a registry mirror without other platforms' binaries answers 404 for them, so npm drops
// them, and `npm ci` then refuses the lock as out of sync). Each entry carries os/cpu/libc so
// npm never fetches it on a platform it does not fit. Run after changing dependencies.
import fs from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const pkgs = lock.packages;
const OS = ['android', 'darwin', 'freebsd', 'linux', 'openbsd', 'openharmony', 'win32', 'sunos', 'netbsd', 'aix'];
const CPU = {
  'arm-eabi': 'arm',
  'arm-gnueabihf': 'arm',
  'arm-musleabihf': 'arm',
  arm: 'arm',
  arm64: 'arm64',
  x64: 'x64',
  ia32: 'ia32',
  loong64: 'loong64',
  ppc64: 'ppc64',
  riscv64: 'riscv64',
  s390x: 's390x',
};

function platformOf(name) {
  const base = name.split('/').pop();
  const os = OS.find((o) => base.includes(`-${o}-`) || base.endsWith(`-${o}`));
  if (!os) return undefined;
  const rest = base.slice(base.indexOf(`-${os}-`) + os.length + 2);
  const cpuKey = Object.keys(CPU)
    .sort((a, b) => b.length - a.length)
    .find((k) => rest === k || rest.startsWith(`${k}-`));
  if (!cpuKey) return undefined;
  const out = { os: [os], cpu: [CPU[cpuKey]] };
  if (/musl/.test(rest)) out.libc = ['musl'];
  else if (/gnu/.test(rest)) out.libc = ['glibc'];
  return out;
}

let added = 0;
for (const [where, entry] of Object.entries(pkgs)) {
  for (const [dep, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const parentDir = where ? `${where}/node_modules/${dep}` : `node_modules/${dep}`;
    if (pkgs[parentDir] || pkgs[`node_modules/${dep}`]) continue;
    const platform = platformOf(dep);
    if (!platform || !/^\d+\.\d+\.\d+/.test(range)) continue;
    pkgs[`node_modules/${dep}`] = { version: range, optional: true, ...platform };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`added ${added} platform-specific optional entries`);
