/** `lava db migrate/status`: the backend's schema version (PostgreSQL; the embedded backend migrates itself). */
import type { Command } from 'commander';
import { backendAdmin, backendUrl, type SchemaVersions } from '../backends/index.js';
import { printJson, type GlobalOptions } from './context.js';

function stateOf(s: SchemaVersions): string {
  if (s.current === s.latest) return 'up to date';
  if (s.current > s.latest) return `newer than this lava (version ${s.latest}): upgrade lava`;
  const n = s.latest - s.current;
  return `${n} migration${n === 1 ? '' : 's'} pending: run \`lava db migrate\``;
}

export function registerDb(program: Command, g: () => GlobalOptions): void {
  const cmd = program.command('db').description("the backend's database schema: show its version, apply migrations (PostgreSQL)");

  cmd
    .command('status')
    .description('show the schema version in the backend and the version this lava needs')
    .option('--json', 'print the status as JSON')
    .option('--check', 'exit with status 1 if migrations are pending')
    .action(async (o: { json?: boolean; check?: boolean }) => {
      const url = backendUrl(g().backend);
      const s = await backendAdmin(url, 'status', 'lava db status')(url);
      if ('selfMigrating' in s) {
        if (o.json) return printJson({ backend: url, embedded: true, pending: 0 });
        process.stdout.write(`${s.selfMigrating}: nothing to do\n`);
        return;
      }
      const pending = Math.max(0, s.latest - s.current);
      if (o.json) {
        printJson({
          backend: s.backend,
          schema: s.schema,
          current: s.current,
          latest: s.latest,
          pending,
          applied: s.applied,
        });
      } else {
        const rows: [string, string][] = [
          ['backend', s.backend],
          ['schema', s.schema],
          ['current version', String(s.current)],
          ['latest version', String(s.latest)],
          ['state', stateOf(s)],
        ];
        process.stdout.write(rows.map(([k, v]) => `${k.padEnd(16)} ${v}\n`).join(''));
      }
      if (o.check && pending > 0) process.exitCode = 1;
    });

  cmd
    .command('migrate')
    .description('bring the schema up to the version this lava needs (safe to run from several hosts at once)')
    .action(async () => {
      const url = backendUrl(g().backend);
      const m = await backendAdmin(url, 'migrate', 'lava db migrate')(url);
      if ('selfMigrating' in m) {
        process.stdout.write(`${m.selfMigrating}: it is up to date\n`);
        return;
      }
      const { schema, before, latest } = m;
      process.stdout.write(
        m.applied.length
          ? `migrated schema "${schema}" from version ${before} to ${latest}\n`
          : before > latest
            ? `schema "${schema}" is at version ${before}, newer than this lava (${latest}): nothing to do\n`
            : `schema "${schema}" is up to date (version ${latest})\n`,
      );
    });
}
