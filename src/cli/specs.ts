/** Reading spec files: JSON or YAML, one spec or many per file. */
import fs from 'node:fs';
import { ValidationError } from '../core/errors.js';
import type { SchemaKind } from '../core/schemas.js';
import { readYaml } from './yaml-reader.js';

export interface LoadedSpec {
  file: string;
  index: number;
  spec: Record<string, unknown>;
}

/** Specs of a file; `warnings` collects what the YAML reader found surprising (octal, base 60). */
export function loadSpecFile(file: string, warnings?: string[]): LoadedSpec[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ValidationError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let docs: unknown[];
  if (/^\s*[[{]/.test(text)) {
    try {
      const v = JSON.parse(text) as unknown;
      docs = Array.isArray(v) ? v : [v];
    } catch (err) {
      // YAML flow style looks like JSON too; when it is neither, the JSON error is the useful one.
      try {
        docs = readYaml(text, file, warnings);
      } catch {
        throw new ValidationError(`${file}: not valid JSON or YAML: ${(err as Error).message}`);
      }
    }
  } else {
    docs = readYaml(text, file, warnings);
  }
  return docs.map((spec, index) => {
    if (!spec || typeof spec !== 'object' || Array.isArray(spec)) {
      throw new ValidationError(`${file}[${index}]: a spec must be an object (a map of fields)`);
    }
    return { file, index, spec: spec as Record<string, unknown> };
  });
}

/** Which kind of spec this is, by its key field. */
export function specKind(spec: Record<string, unknown>): SchemaKind | undefined {
  if ('job_id' in spec && 'type' in spec) return 'job';
  if ('conn_id' in spec) return 'connection';
  if ('trigger_id' in spec) return 'trigger';
  if ('state_id' in spec) return 'state';
  if ('realm' in spec && 's3_payloads' in spec) return 'realm';
  if ('job_id' in spec) return 'job';
  return undefined;
}

const KEY_FIELDS: Record<SchemaKind, string> = {
  job: 'job_id',
  connection: 'conn_id',
  trigger: 'trigger_id',
  state: 'state_id',
  realm: 'realm',
  message: 'run_id',
};

export function label(s: LoadedSpec): string {
  const kind = specKind(s.spec);
  const id = kind ? s.spec[KEY_FIELDS[kind]] : undefined;
  return `${s.file}[${s.index}]${typeof id === 'string' ? ` (${id})` : ''}`;
}
