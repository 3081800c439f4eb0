/**
 * `lava dump` (upstream lava-dump): write the specs of one config table to files, one per item;
 * `lava restore`: load such files back, validated as `lava job put` validates them.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import type { Backend, ConfigTable } from '../backends/ports.js';
import { ValidationError } from '../core/errors.js';
import { fnmatch } from '../core/fnmatch.js';
import type { SchemaKind } from '../core/schemas.js';
import { checkSpec } from '../core/validate.js';
import { checkJobType } from '../handlers/registry.js';
import { resolveRealm, withBackend, type GlobalOptions } from './context.js';
import { label, loadSpecFile, specKind } from './specs.js';

export interface TableInfo {
  /** Upstream's table title. */
  title: 'jobs' | 'connections' | 's3triggers' | 'triggers' | 'realms';
  key: string;
  /** Where it is stored here (`undefined`: the realms table). */
  table?: ConfigTable;
  kind: SchemaKind;
}

/** Upstream's tables, in its order; s3triggers and triggers are both the triggers table here. */
export const TABLES: readonly TableInfo[] = [
  { title: 'jobs', key: 'job_id', table: 'jobs', kind: 'job' },
  { title: 'connections', key: 'conn_id', table: 'connections', kind: 'connection' },
  { title: 's3triggers', key: 'trigger_id', table: 'triggers', kind: 'trigger' },
  { title: 'triggers', key: 'trigger_id', table: 'triggers', kind: 'trigger' },
  { title: 'realms', key: 'realm', kind: 'realm' },
];

/** A table by its name or any initial part of it (`j`, `conn`), as upstream accepts. */
export function tableNamed(name: string): TableInfo {
  const t = TABLES.find((x) => x.title.startsWith(name.toLowerCase()));
  if (!name || !t) {
    throw new ValidationError(
      `unknown table "${name}": use one of ${TABLES.map((x) => x.title).join(', ')} (or the start of one)`,
    );
  }
  return t;
}

/** The items of a table: for realms, every realm record; else the current realm's items. */
export async function tableItems(backend: Backend, g: GlobalOptions, t: TableInfo): Promise<Record<string, unknown>[]> {
  if (!t.table) return await backend.config.listRealms();
  const realm = await resolveRealm(backend, g);
  return backend.config.list(realm.realm, t.table);
}

/** Upstream's key selection: no globs selects all; `-n` selects keys matching none. */
export function selectKey(key: string, globs: string[], o: { notMatch?: boolean; ignoreCase?: boolean } = {}): boolean {
  if (!globs.length) return true;
  const k = o.ignoreCase ? key.toLowerCase() : key;
  const any = globs.some((g) => fnmatch(k, o.ignoreCase ? g.toLowerCase() : g));
  return o.notMatch ? !any : any;
}

/** Upstream's safe file name for a key: ASCII, lower case, `/` and `.` runs become one `.`. */
export function sanitiseFilename(value: string): string {
  const v = value
    .normalize('NFKD')
    .replace(/[^ -~\t\n\r]/g, '')
    .replace(/[^./=+\w\s-]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[/.]+/g, '.')
    .replace(/[-\s]+/g, '-');
  return v.replace(/^[.-]+|[.-]+$/g, '');
}

/** What a dumped connection holds in place of a secret value. */
export const NOT_DUMPED = '<secret: not dumped>';

/**
 * A connection spec without secret values. Specs name their secrets (`password: /lava/…`), so
 * only values written inline are removed: a slack `webhook_url` that is the URL itself.
 */
export function withoutSecrets(spec: Record<string, unknown>): Record<string, unknown> {
  const out = { ...spec };
  if (typeof out.webhook_url === 'string' && !out.webhook_url.startsWith('/')) out.webhook_url = NOT_DUMPED;
  return out;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** An item as upstream writes it: JSON with sorted keys and 4-space indent, or YAML with sorted keys. */
export function formatItem(item: Record<string, unknown>, yaml: boolean): string {
  return yaml ? stringify(sortKeys(item)) : JSON.stringify(sortKeys(item), null, 4) + '\n';
}

export interface DumpOptions {
  table: TableInfo;
  globs: string[];
  dir: string;
  yaml?: boolean;
  notMatch?: boolean;
  ignoreCase?: boolean;
}

/** Write the selected items to DIR; returns [key, file] per item written. */
export async function dumpTable(backend: Backend, g: GlobalOptions, o: DumpOptions): Promise<[string, string][]> {
  fs.mkdirSync(o.dir, { recursive: true });
  const written: [string, string][] = [];
  for (const item of await tableItems(backend, g, o.table)) {
    const key = String(item[o.table.key]);
    if (!selectKey(key, o.globs, o)) continue;
    const name = sanitiseFilename(key);
    if (!name) throw new ValidationError(`${o.table.key} "${key}" gives an empty file name: rename it`);
    const file = path.join(o.dir, `${name}.${o.yaml ? 'yaml' : 'json'}`);
    const spec = o.table.kind === 'connection' ? withoutSecrets(item) : item;
    fs.writeFileSync(file, formatItem(spec, o.yaml ?? false), { mode: 0o600 });
    written.push([key, file]);
  }
  return written;
}

const SPEC_FILE = /\.(json|ya?ml)$/i;
const DIR_KINDS: Record<string, SchemaKind> = {
  jobs: 'job',
  connections: 'connection',
  s3triggers: 'trigger',
  triggers: 'trigger',
  realms: 'realm',
};

/** The spec files of DIR and of its table-named subdirectories (a backup's layout), sorted. */
function specFiles(dir: string): { file: string; kind?: SchemaKind }[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw new ValidationError(`cannot read directory ${dir}: ${(err as Error).message}`);
  }
  const out: { file: string; kind?: SchemaKind }[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, e.name);
    if (e.isFile() && SPEC_FILE.test(e.name)) out.push({ file: full });
    else if (e.isDirectory() && DIR_KINDS[e.name]) {
      for (const f of fs.readdirSync(full).sort()) {
        if (SPEC_FILE.test(f)) out.push({ file: path.join(full, f), kind: DIR_KINDS[e.name] });
      }
    }
  }
  return out;
}

export interface RestoreResult {
  stored: string[];
  unchanged: string[];
}

const TABLE_OF: Partial<Record<SchemaKind, ConfigTable>> = { job: 'jobs', connection: 'connections', trigger: 'triggers' };
const KEY_OF: Partial<Record<SchemaKind, string>> = {
  job: 'job_id',
  connection: 'conn_id',
  trigger: 'trigger_id',
  realm: 'realm',
};

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

/**
 * Load the spec files of DIR back. Every spec is validated first (as `lava job put` does) and
 * nothing is stored unless all are good; an item equal to the stored one is left alone, so
 * restoring twice changes nothing. A connection value that was not dumped keeps the stored value.
 */
export async function restoreDir(backend: Backend, g: GlobalOptions, dir: string): Promise<RestoreResult> {
  const files = specFiles(dir);
  if (!files.length) throw new ValidationError(`${dir}: no .json or .yaml spec files here (nor in jobs/, connections/, …)`);
  const warnings: string[] = [];
  const errors: string[] = [];
  const specs: { kind: SchemaKind; spec: Record<string, unknown>; where: string }[] = [];
  for (const { file, kind: dirKind } of files) {
    for (const s of loadSpecFile(file, warnings)) {
      const kind = dirKind ?? specKind(s.spec);
      if (!kind || !KEY_OF[kind]) {
        errors.push(`${label(s)}: not a job, connection, trigger or realm spec`);
        continue;
      }
      const r = checkSpec(kind, s.spec);
      const t = kind === 'job' ? checkJobType(s.spec) : { errors: [], warnings: [] };
      errors.push(...[...r.errors, ...t.errors].map((e) => `${label(s)}: ${e}`));
      warnings.push(...[...r.warnings, ...t.warnings].map((w) => `${label(s)}: ${w}`));
      specs.push({ kind, spec: s.spec, where: label(s) });
    }
  }
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  if (errors.length) throw new ValidationError('nothing restored: fix these and try again', errors);

  const result: RestoreResult = { stored: [], unchanged: [] };
  const needRealm = specs.some((s) => s.kind !== 'realm');
  const realm = needRealm ? (await resolveRealm(backend, g)).realm : '';
  // Secrets not dumped: fill them from the stored items before anything is written.
  const prepared: { kind: SchemaKind; spec: Record<string, unknown>; stored: unknown; name: string }[] = [];
  for (const { kind, spec, where } of specs) {
    const id = String(spec[KEY_OF[kind] as string]);
    const table = TABLE_OF[kind];
    const stored = table ? await backend.config.get(realm, table, id) : await backend.config.getRealm(id);
    const item = { ...spec };
    for (const [field, value] of Object.entries(item)) {
      if (value !== NOT_DUMPED) continue;
      const old = stored?.[field];
      if (old === undefined || old === NOT_DUMPED) {
        throw new ValidationError(
          `${where}: ${field} was not dumped (a secret) and connection ${id} has none stored: put its value in the file first`,
        );
      }
      item[field] = old;
    }
    prepared.push({ kind, spec: item, stored, name: `${kind} ${id}` });
  }
  for (const { kind, spec, stored, name } of prepared) {
    if (stored !== undefined && sameJson(stored, spec)) {
      result.unchanged.push(name);
      continue;
    }
    const table = TABLE_OF[kind];
    if (table) await backend.config.put(realm, table, spec);
    else await backend.config.putRealm(spec as Parameters<Backend['config']['putRealm']>[0]);
    result.stored.push(name);
  }
  return result;
}

export function registerDump(program: Command, g: () => GlobalOptions): void {
  program
    .command('dump')
    .argument('[glob...]', 'only items whose key matches one of these glob patterns (all when none)')
    .description('write the specs of one config table to files, one per item (connections without secret values)')
    .option('-t, --table <table>', 'jobs, connections, s3triggers (or triggers) or realms; any unique start', 'jobs')
    .option('-d, --dir <dir>', 'directory to write into (made when missing)', '.')
    .option('-n, --not-match', 'only items whose key matches none of the patterns')
    .option('-i, --ignore-case', 'match the patterns in any case')
    .option('-y, --yaml', 'write YAML instead of JSON')
    .option('-q, --quiet', 'do not list what was written')
    .action(
      async (
        globs: string[],
        o: { table: string; dir: string; notMatch?: boolean; ignoreCase?: boolean; yaml?: boolean; quiet?: boolean },
      ) => {
        const table = tableNamed(o.table);
        await withBackend(g(), async (backend) => {
          const written = await dumpTable(backend, g(), { ...o, table, globs });
          if (!o.quiet) for (const [key, file] of written) process.stdout.write(`${key} --> ${file}\n`);
        });
      },
    );

  program
    .command('restore')
    .argument('<dir>', 'a directory of spec files from `lava dump`, or an unzipped `lava backup`')
    .description('store the spec files of a directory (validated first; nothing is stored unless all are good)')
    .action(async (dir: string) => {
      await withBackend(g(), async (backend) => {
        const r = await restoreDir(backend, g(), dir);
        for (const name of r.stored) process.stdout.write(`stored ${name}\n`);
        for (const name of r.unchanged) process.stdout.write(`unchanged ${name}\n`);
      });
    });
}
