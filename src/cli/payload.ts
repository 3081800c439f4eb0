/** `lava payload put/ls`: the realm's payload area. */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { blobStoreFor, joinUri } from '../backends/blob/index.js';
import { ValidationError } from '../core/errors.js';
import { checkPayloadKey } from '../core/paths.js';
import { printJson, printTable, resolveRealm, withBackend, type GlobalOptions } from './context.js';

/** `remote` is a key under s3_payloads: one with a `..` part (or other escape) is refused before any upload. */
export async function uploadPayload(root: string, local: string, remote?: string): Promise<string[]> {
  if (remote !== undefined) checkPayloadKey(remote, 'remote path');
  if (!fs.existsSync(local)) throw new ValidationError(`payload ${local} does not exist`);
  // `lava payload put .` uploads the directory's contents to the top of the area, as it always has.
  const base = remote ?? (path.basename(local) === '.' ? '' : path.basename(local));
  const files = fs.statSync(local).isDirectory()
    ? (fs.readdirSync(local, { recursive: true }) as string[])
        .filter((rel) => fs.statSync(path.join(local, rel)).isFile())
        .map((rel) => [path.join(local, rel), joinUri(root, base, rel.split(path.sep).join('/'))] as const)
    : [[local, joinUri(root, remote?.endsWith('/') ? remote + path.basename(local) : base)] as const];
  for (const [from, to] of files) await blobStoreFor(to).upload(from, to);
  return files.map(([, to]) => to);
}

export function registerPayload(program: Command, g: () => GlobalOptions): void {
  const cmd = program.command('payload').description("manage the realm's payload area (s3_payloads)");
  cmd
    .command('put')
    .argument('<local>', 'a file or a directory')
    .argument('[remote]', 'path under s3_payloads (default: the local name; ending in / keeps the name)')
    .description('upload a payload file or directory')
    .action(async (local: string, remote?: string) => {
      await withBackend(g(), async (backend) => {
        const realm = await resolveRealm(backend, g());
        for (const uri of await uploadPayload(realm.s3_payloads, local, remote)) process.stdout.write(`uploaded ${uri}\n`);
      });
    });
  cmd
    .command('ls')
    .argument('[prefix]', 'path under s3_payloads', '')
    .option('--json', 'print JSON')
    .description('list payload files (recursively)')
    .action(async (prefix: string, o: { json?: boolean }) => {
      await withBackend(g(), async (backend) => {
        const realm = await resolveRealm(backend, g());
        const root = realm.s3_payloads.replace(/\/+$/, '') + '/';
        if (prefix !== '') checkPayloadKey(prefix, 'prefix');
        const items = await blobStoreFor(root).listRecursive(
          joinUri(root, prefix) + (prefix === '' || prefix.endsWith('/') ? '/' : ''),
        );
        const rows = items.map((i) => ({ path: i.uri.slice(root.length), size: i.size, modified: i.modified.toISOString() }));
        if (o.json) return printJson(rows);
        printTable(
          ['PATH', 'SIZE', 'MODIFIED'],
          rows.map((r) => [r.path, String(r.size), r.modified]),
        );
      });
    });
}
