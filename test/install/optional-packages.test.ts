/**
 * Optional packages (peerDependenciesMeta optional) are never loaded by a static import, so the core
 * install starts without them: every value import goes through loadOptional, except inside the AWS
 * backend, whose modules are reached only by the dynamic import behind its SDK check
 * (src/backends/aws/descriptor.ts). scripts/pack-check.sh checks the same on a real install.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../e2e/cli-helpers.js';

const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};
const OPTIONAL = Object.keys(pkg.peerDependencies);
const SRC = path.join(REPO_ROOT, 'src');
const files = (fs.readdirSync(SRC, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.ts'))
  .map((f) => path.join(SRC, f));
const AWS_BACKEND = path.join(SRC, 'backends/aws') + path.sep;
const GATED = new Set(['descriptor.ts', 'url.ts']);

/** Static `import … from 'x'` and `export … from 'x'` that are not type-only, with the module named. */
function valueImports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\s)([^;]*?)\s+from\s+'([^']+)'/gms)) out.push(m[2] ?? '');
  for (const m of text.matchAll(/^import\s+'([^']+)'/gm)) out.push(m[1] ?? '');
  return out;
}
const isOptional = (mod: string) => OPTIONAL.some((p) => mod === p || mod.startsWith(`${p}/`));

describe('optional packages', () => {
  it('are the AWS SDK, mysql2, oracledb, tedious, dockerode and ssh2: optional peers, dev dependencies, not dependencies', () => {
    expect(OPTIONAL.filter((p) => !p.startsWith('@aws-sdk/')).sort()).toEqual([
      'dockerode',
      'mysql2',
      'oracledb',
      'ssh2',
      'tedious',
    ]);
    expect(OPTIONAL.filter((p) => p.startsWith('@aws-sdk/')).length).toBeGreaterThanOrEqual(8);
    for (const p of OPTIONAL) {
      expect(pkg.peerDependenciesMeta[p]?.optional, p).toBe(true);
      expect(pkg.devDependencies[p], p).toBeDefined();
      expect(pkg.dependencies[p], p).toBeUndefined();
    }
  });

  it('are imported statically only inside the AWS backend, behind its SDK check', () => {
    const offenders: string[] = [];
    for (const f of files) {
      const text = fs.readFileSync(f, 'utf8');
      const inAwsBackend = f.startsWith(AWS_BACKEND) && !GATED.has(path.basename(f));
      for (const mod of valueImports(text)) {
        if (isOptional(mod) && !inAwsBackend) offenders.push(`${path.relative(REPO_ROOT, f)}: ${mod}`);
        // Outside the AWS backend only its URL parser and descriptor may be imported statically.
        const target = mod.startsWith('.') ? path.resolve(path.dirname(f), mod).replace(/\.js$/, '.ts') : '';
        if (target.startsWith(AWS_BACKEND) && !f.startsWith(AWS_BACKEND) && !GATED.has(path.basename(target))) {
          offenders.push(`${path.relative(REPO_ROOT, f)}: ${mod} (loads the AWS SDK)`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the AWS backend is loaded by a dynamic import after its packages are found', () => {
    const descriptor = fs.readFileSync(path.join(AWS_BACKEND, 'descriptor.ts'), 'utf8');
    expect(descriptor).toMatch(/await requireSdk\(\);\s*return import\('\.\/index\.js'\)/);
    expect(valueImports(descriptor).filter((m) => m.startsWith('./'))).toEqual(['./url.js']);
  });
});
