/** The upstream user guide's examples (test/fixtures/upstream-guide), for the replay tests. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const GUIDE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'upstream-guide');

/** Item #n (1-based, as in behaviour.md) of `<type>.yaml`, as a fresh copy. */
export function example(type: string, n: number): Record<string, unknown> {
  const list = parse(fs.readFileSync(path.join(GUIDE, `${type}.yaml`), 'utf8')) as Record<string, unknown>[];
  const spec = list[n - 1];
  if (!spec) throw new Error(`${type}.yaml has no item #${n}`);
  return structuredClone(spec);
}
