/** `lava job|conn|trigger|realm put/get/ls/rm`: the config tables. */
import type { Command } from 'commander';
import type { ConfigTable } from '../backends/ports.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import type { RealmSpec, SchemaKind } from '../core/schemas.js';
import { checkSpec } from '../core/validate.js';
import { checkJobType } from '../handlers/registry.js';
import { printJson, printTable, resolveRealm, withBackend, type GlobalOptions } from './context.js';
import { label, loadSpecFile } from './specs.js';

interface TableDef {
  command: string;
  table: ConfigTable;
  kind: SchemaKind;
  noun: string;
  columns: [string, (item: Record<string, unknown>) => unknown][];
}

const cell = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

const TABLES: TableDef[] = [
  {
    command: 'job',
    table: 'jobs',
    kind: 'job',
    noun: 'job',
    columns: [
      ['JOB_ID', (j) => j.job_id],
      ['TYPE', (j) => j.type],
      ['WORKER', (j) => j.worker],
      ['ENABLED', (j) => j.enabled ?? false],
      ['DISPATCHER', (j) => j.dispatcher],
      ['SCHEDULE', (j) => j.schedule],
      ['DESCRIPTION', (j) => j.description],
    ],
  },
  {
    command: 'conn',
    table: 'connections',
    kind: 'connection',
    noun: 'connection',
    columns: [
      ['CONN_ID', (c) => c.conn_id],
      ['TYPE', (c) => c.type],
      ['ENABLED', (c) => c.enabled ?? false],
      ['DESCRIPTION', (c) => c.description],
    ],
  },
  {
    command: 'trigger',
    table: 'triggers',
    kind: 'trigger',
    noun: 'trigger',
    columns: [
      ['TRIGGER_ID', (t) => t.trigger_id],
      ['BUCKET', (t) => t.bucket],
      ['PREFIX', (t) => t.prefix],
      ['JOB_ID', (t) => t.job_id],
      ['ENABLED', (t) => t.enabled],
    ],
  },
];

/** Validate every spec in every file first; store nothing unless all are good. */
function loadValid(files: string[], kind: SchemaKind): Record<string, unknown>[] {
  const fileWarnings: string[] = [];
  const specs = files.flatMap((f) => loadSpecFile(f, fileWarnings));
  for (const w of fileWarnings) process.stderr.write(`warning: ${w}\n`);
  const errors: string[] = [];
  for (const s of specs) {
    const r = checkSpec(kind, s.spec);
    // Job types are known here, not in core: a type this build lacks, parameters it does not take.
    const t = kind === 'job' ? checkJobType(s.spec) : { errors: [], warnings: [] };
    errors.push(...[...r.errors, ...t.errors].map((e) => `${label(s)}: ${e}`));
    for (const w of [...r.warnings, ...t.warnings]) process.stderr.write(`warning: ${label(s)}: ${w}\n`);
  }
  if (errors.length) throw new ValidationError(`nothing stored: fix these and try again`, errors);
  return specs.map((s) => s.spec);
}

export function registerItemCommands(program: Command, g: () => GlobalOptions): void {
  for (const def of TABLES) registerTable(program, def, g);
  registerRealm(program, g);
}

/** `lava job|conn|trigger put/get/ls/rm`. */
function registerTable(program: Command, def: TableDef, g: () => GlobalOptions): void {
  const key = def.columns[0]?.[0].toLowerCase() as string;
  const cmd = program.command(def.command).description(`manage ${def.noun} specs (the ${def.table} table)`);
  cmd
    .command('put')
    .argument('<file...>', 'JSON or YAML files, each with one spec or a list')
    .description(`validate and store ${def.noun} specs (replacing any with the same ${key})`)
    .action(async (files: string[]) => {
      const specs = loadValid(files, def.kind);
      await withBackend(g(), async (backend) => {
        const realm = await resolveRealm(backend, g());
        for (const spec of specs) {
          await backend.config.put(realm.realm, def.table, spec);
          process.stdout.write(`stored ${def.noun} ${String(spec[key])}\n`);
        }
      });
    });
  cmd
    .command('get')
    .argument('<id>')
    .description(`print a ${def.noun} spec as JSON`)
    .action(async (id: string) => {
      await withBackend(g(), async (backend) => {
        const realm = await resolveRealm(backend, g());
        const item = await backend.config.get(realm.realm, def.table, id);
        if (!item) throw new NotFoundError(def.noun, id, `list them with \`lava ${def.command} ls\``);
        printJson(item);
      });
    });
  cmd
    .command('ls')
    .description(`list ${def.noun} specs`)
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      await withBackend(g(), async (backend) => {
        const realm = await resolveRealm(backend, g());
        const items = await backend.config.list(realm.realm, def.table);
        if (o.json) return printJson(items);
        printTable(
          def.columns.map(([h]) => h),
          items.map((it) => def.columns.map(([, f]) => cell(f(it)))),
        );
      });
    });
  cmd
    .command('rm')
    .argument('<id...>')
    .description(`delete ${def.noun} specs`)
    .action(async (ids: string[]) => {
      await withBackend(g(), async (backend) => {
        const realm = await resolveRealm(backend, g());
        for (const id of ids) {
          if (!(await backend.config.delete(realm.realm, def.table, id))) {
            throw new NotFoundError(def.noun, id, `list them with \`lava ${def.command} ls\``);
          }
          process.stdout.write(`deleted ${def.noun} ${id}\n`);
        }
      });
    });
}

/** `lava realm put/get/ls/rm`. */
function registerRealm(program: Command, g: () => GlobalOptions): void {
  const realmCmd = program.command('realm').description('manage realm records');
  realmCmd
    .command('put')
    .argument('<file...>')
    .description('validate and store realm records')
    .action(async (files: string[]) => {
      const specs = loadValid(files, 'realm') as RealmSpec[];
      await withBackend(g(), async (backend) => {
        for (const spec of specs) {
          await backend.config.putRealm(spec);
          process.stdout.write(`stored realm ${spec.realm}\n`);
        }
      });
    });
  realmCmd
    .command('get')
    .argument('[realm]')
    .description('print a realm record as JSON')
    .action(async (name?: string) => {
      await withBackend(g(), async (backend) => {
        printJson(await resolveRealm(backend, { ...g(), ...(name ? { realm: name } : {}) }));
      });
    });
  realmCmd
    .command('ls')
    .option('--json', 'print JSON')
    .description('list realms')
    .action(async (o: { json?: boolean }) => {
      await withBackend(g(), async (backend) => {
        const realms = await backend.config.listRealms();
        if (o.json) return printJson(realms);
        printTable(
          ['REALM', 'S3_PAYLOADS', 'S3_TEMP'],
          realms.map((r) => [r.realm, r.s3_payloads, r.s3_temp]),
        );
      });
    });
  realmCmd
    .command('rm')
    .argument('<realm>')
    .description('delete a realm record (its jobs and events stay)')
    .action(async (name: string) => {
      await withBackend(g(), async (backend) => {
        if (!(await backend.config.deleteRealm(name))) throw new NotFoundError('realm', name, 'list them with `lava realm ls`');
        process.stdout.write(`deleted realm ${name}\n`);
      });
    });
}
