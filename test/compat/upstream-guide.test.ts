/**
 * Compatibility corpus: every complete job-spec example in the upstream Lava user guide
 * (jin-gizmo/lava, doc/user-guide at commit 404d92743d2b) for the job types we implement must pass
 * `checkSpec('job', …)` unchanged. Warnings are allowed; errors are not.
 * Fixtures, provenance and the list of skipped fragments: test/fixtures/upstream-guide/README.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkSpec } from '../../src/core/validate.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'upstream-guide');
const TYPES = [
  'cmd',
  'exe',
  'pkg',
  'log',
  'chain',
  'dag',
  'foreach',
  'dispatch',
  'lavasched',
  'docker',
  'smb_get',
  'smb_put',
  'redshift_unload',
  'sharepoint_get_doc',
  'sharepoint_get_list',
  'sharepoint_get_multi_doc',
  'sharepoint_put_doc',
  'sharepoint_put_list',
] as const;

function load(type: string): unknown[] {
  const parsed: unknown = parse(fs.readFileSync(path.join(FIXTURES, `${type}.yaml`), 'utf8'), { uniqueKeys: true });
  if (!Array.isArray(parsed)) throw new Error(`${type}.yaml must hold a YAML list of job specs`);
  return parsed;
}

/** Examples that are not valid as written, with why; they must fail for exactly that reason. */
const INVALID_AS_WRITTEN: Record<string, { reason: string; error: RegExp }> = {
  'demo/line-reporter': {
    reason: 'its schedule is the placeholder "..." (upstream\'s own JSON Schema rejects it too)',
    error: /^schedule: bad cron line "\.\.\."/,
  },
};

describe('upstream user-guide job-spec examples pass lava check', () => {
  for (const type of TYPES) {
    const specs = load(type);
    describe(type, () => {
      it(`${type}.yaml holds only "${type}" job specs`, () => {
        for (const spec of specs) expect((spec as Record<string, unknown>).type).toBe(type);
      });
      specs.forEach((spec, i) => {
        const jobId = String((spec as Record<string, unknown>).job_id);
        const invalid = INVALID_AS_WRITTEN[jobId];
        it(`#${i + 1} ${jobId}${invalid ? ` is rejected: ${invalid.reason}` : ''}`, () => {
          const result = checkSpec('job', spec);
          if (invalid) {
            expect(result.errors).toHaveLength(1);
            expect(result.errors[0]).toMatch(invalid.error);
          } else expect(result.errors, `warnings: ${JSON.stringify(result.warnings)}`).toEqual([]);
        });
      });
    });
  }
});
