/** docs/security.md stays true: every limit it lists is a configuration parameter the code reads. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_PARAMS } from '../../src/handlers/config-keys.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const page = fs.readFileSync(path.join(ROOT, 'docs/security.md'), 'utf8');

describe('docs/security.md', () => {
  it('names only real configuration parameters in its limits table', () => {
    const table = page.slice(page.indexOf('## Limits'), page.indexOf('\n## ', page.indexOf('## Limits') + 1));
    const rows = table.split('\n').filter((l) => l.startsWith('| `'));
    const names = rows.flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!));
    expect(names.length).toBeGreaterThan(15);
    const unknown = names.filter((n) => !(n in CONFIG_PARAMS));
    expect(unknown).toEqual([]);
  });
});
