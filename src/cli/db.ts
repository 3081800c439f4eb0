/** `lava db migrate/status`: the backend's schema version (PostgreSQL; the embedded backend migrates itself). */
import type { Command } from 'commander';
import { backendUrl, openBackend } from '../backends/index.js';
import {
  isPostgresUrl,
  LATEST_VERSION,
  migratePostgres,
  parsePostgresUrl,
  postgresSchemaStatus,
  redactUrl,
  type SchemaStatus,
} from '../backends/postgres/index.js';
import { printJson, type GlobalOptions } from './context.js';

const EMBEDDED = 'the embedded (SQLite) backend upgrades its schema itself whenever it is opened';

function stateOf(s: SchemaStatus): string {
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
      if (!isPostgresUrl(url)) {
        if (o.json) return printJson({ backend: url, embedded: true, pending: 0 });
        process.stdout.write(`${EMBEDDED}: nothing to do\n`);
        return;
      }
      const s = await postgresSchemaStatus(url);
      const pending = Math.max(0, s.latest - s.current);
      if (o.json) {
        printJson({
          backend: redactUrl(url),
          schema: s.schema,
          current: s.current,
          latest: s.latest,
          pending,
          applied: s.applied,
        });
      } else {
        const rows: [string, string][] = [
          ['backend', redactUrl(url)],
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
      if (!isPostgresUrl(url)) {
        await (await openBackend(url)).close();
        process.stdout.write(`${EMBEDDED}: it is up to date\n`);
        return;
      }
      const { schema } = parsePostgresUrl(url);
      const { before, applied } = await migratePostgres(url);
      process.stdout.write(
        applied.length
          ? `migrated schema "${schema}" from version ${before.current} to ${LATEST_VERSION}\n`
          : before.current > LATEST_VERSION
            ? `schema "${schema}" is at version ${before.current}, newer than this lava (${LATEST_VERSION}): nothing to do\n`
            : `schema "${schema}" is up to date (version ${LATEST_VERSION})\n`,
      );
    });
}
