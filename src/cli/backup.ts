/**
 * `lava backup` (upstream lava-backup): every config table of a realm in one zip file, laid out as
 * `lava restore` reads it back. For the embedded backend `--snapshot` also copies the database
 * consistently; for PostgreSQL `--pg-dump` prints the pg_dump command for the realm's schema.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { blobStoreFor } from '../backends/blob/index.js';
import { backendUrl, isPostgresUrl, pgDumpCommand, snapshotSqlite } from '../backends/index.js';
import type { Backend } from '../backends/ports.js';
import { ValidationError, errorMessage } from '../core/errors.js';
import { withBackend, type GlobalOptions } from './context.js';
import { formatItem, sanitiseFilename, TABLES, withoutSecrets } from './dump.js';
import { zipFiles } from './zip.js';

/** The zip entries of a realm: `jobs/…`, `connections/…`, `s3triggers/…`, `realms/<realm>.json`. */
export async function backupEntries(backend: Backend, realm: string, yaml = false): Promise<[string, Buffer][]> {
  const spec = await backend.config.getRealm(realm);
  if (!spec) throw new ValidationError(`no realm "${realm}" in this backend: list them with \`lava realm ls\``);
  const ext = yaml ? 'yaml' : 'json';
  const entries: [string, Buffer][] = [];
  for (const t of TABLES) {
    if (!t.table || t.title === 'triggers') continue; // s3triggers and triggers are one table here
    for (const item of await backend.config.list(realm, t.table)) {
      const spec = t.kind === 'connection' ? withoutSecrets(item) : item;
      entries.push([`${t.title}/${sanitiseFilename(String(item[t.key]))}.${ext}`, Buffer.from(formatItem(spec, yaml))]);
    }
  }
  entries.push([`realms/${sanitiseFilename(realm)}.${ext}`, Buffer.from(formatItem(spec as Record<string, unknown>, yaml))]);
  return entries;
}

/** The embedded database's file, or undefined for other backends. */
export function sqliteFile(url: string): string | undefined {
  if (url.startsWith('sqlite:')) return path.resolve(url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, ''));
  if (url.endsWith('.db') && !url.includes('://')) return path.resolve(url);
  return undefined;
}

export function registerBackup(program: Command, g: () => GlobalOptions): void {
  program
    .command('backup')
    .argument('<realm>', 'realm name')
    .argument('<zip-file>', 'the zip file to write: a path, file:// or s3:// URI (replaced when it exists, as upstream)')
    .description('zip every config table of a realm (jobs, connections without secret values, s3triggers, the realm)')
    .option('-y, --yaml', 'entries in YAML instead of JSON')
    .option('--snapshot <file>', 'embedded backend: also write a consistent copy of the whole database to FILE')
    .option('--pg-dump', 'PostgreSQL backend: also print the pg_dump command that saves the realm schema')
    .action(async (realm: string, zipFile: string, o: { yaml?: boolean; snapshot?: string; pgDump?: boolean }) => {
      const url = backendUrl(g().backend);
      const dbFile = sqliteFile(url);
      if (o.snapshot && !dbFile)
        throw new ValidationError('--snapshot is for the embedded backend: for PostgreSQL use --pg-dump');
      if (o.pgDump && !isPostgresUrl(url)) throw new ValidationError('--pg-dump is for the PostgreSQL backend');
      await withBackend(g(), async (backend) => {
        const entries = await backupEntries(backend, realm, o.yaml);
        const zip = zipFiles(entries);
        try {
          if (/^(s3|file):\/\//.test(zipFile)) {
            // As upstream, the zip can go to S3 (encrypted with the realm's s3_key, as its payloads are).
            const s3Key = (await backend.config.getRealm(realm))?.s3_key;
            await blobStoreFor(zipFile, s3Key ? { s3Key } : {}).write(zipFile, zip);
          } else fs.writeFileSync(zipFile, zip, { mode: 0o600 });
        } catch (err) {
          throw new ValidationError(`cannot write ${zipFile}: ${errorMessage(err)}`);
        }
        process.stdout.write(`${entries.length} entries --> ${zipFile}\n`);
      });
      if (o.snapshot && dbFile) {
        await snapshotSqlite(dbFile, o.snapshot);
        process.stdout.write(`database snapshot --> ${o.snapshot}\n`);
      }
      if (o.pgDump) process.stdout.write(`${pgDumpCommand(url, `${realm}.pgdump`)}\n`);
    });
}

export { pgDumpCommand };
