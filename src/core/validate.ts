/** Turn schema failures into errors that name every field and say how to fix it. */
import type { z } from 'zod';
import { notInThisBuildWarnings } from './config.js';
import { ValidationError } from './errors.js';
import { scheduleProblems } from './schedule-check.js';
import { KNOWN_JOB_FIELDS, SCHEMAS, unknownFields, type SchemaKind } from './schemas.js';

export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const where = issue.path.length ? issue.path.join('.') : '(top level)';
    let msg = issue.message;
    if (issue.code === 'unrecognized_keys') msg = `unknown field(s) ${issue.keys.join(', ')}: remove them`;
    else if (issue.code === 'invalid_type' && /received undefined/.test(msg)) msg = `${where} is required`;
    return `${where}: ${msg}`;
  });
}

export interface CheckResult<T> {
  value?: T;
  errors: string[];
  warnings: string[];
}

/** Validate a spec of a kind; collects every error plus upstream-style warnings. */
/**
 * `schedules: false` skips cron checks: running or dispatching a job never reads its schedule
 * (upstream runs a job whose schedule is a placeholder), only `lava check`/`put` and schedulers do.
 */
export function checkSpec<K extends SchemaKind>(
  kind: K,
  raw: unknown,
  options: { schedules?: boolean } = {},
): CheckResult<z.infer<(typeof SCHEMAS)[K]>> {
  const parsed = SCHEMAS[kind].safeParse(raw);
  const warnings: string[] = [];
  if (kind === 'job' && raw && typeof raw === 'object') {
    for (const f of unknownFields(raw as Record<string, unknown>, KNOWN_JOB_FIELDS)) {
      warnings.push(`${f}: not a job field, so Lava ignores it: move it into parameters, or prefix it with "x-"`);
    }
    const r = raw as Record<string, unknown>;
    if (r.description === undefined) warnings.push('description: missing: say what the job does');
    if (r.owner === undefined) warnings.push('owner: missing: name who to ask about the job');
  }
  if (kind === 'realm' && raw && typeof raw === 'object') {
    warnings.push(...notInThisBuildWarnings((raw as Record<string, unknown>).config));
  }
  const errors = parsed.success ? [] : formatIssues(parsed.error);
  if (kind === 'job' && options.schedules !== false && raw && typeof raw === 'object' && 'schedule' in raw) {
    errors.push(...scheduleProblems((raw as Record<string, unknown>).schedule));
  }
  if (!parsed.success || errors.length) return { errors, warnings };
  return { value: parsed.data as z.infer<(typeof SCHEMAS)[K]>, errors: [], warnings };
}

export function parseSpec<K extends SchemaKind>(kind: K, raw: unknown, label: string): z.infer<(typeof SCHEMAS)[K]> {
  const result = checkSpec(kind, raw, { schedules: false });
  if (result.errors.length) throw new ValidationError(`bad ${kind} spec ${label}`, result.errors);
  return result.value as z.infer<(typeof SCHEMAS)[K]>;
}
