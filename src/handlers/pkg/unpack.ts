/**
 * Unpack a package (.zip, .tar, .tar.*) into a directory, refusing any entry (or link target)
 * that would land outside it.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type yauzl from 'yauzl';
import { JobError } from '../../core/errors.js';

export function packageKind(name: string): 'zip' | 'tar' | undefined {
  if (/\.zip$/i.test(name)) return 'zip';
  // node-tar on Node 20 cannot read zstd and throws outside any promise: refuse it up front.
  if (/\.(tar\.zst|tzst)$/i.test(name)) return undefined;
  if (/\.tar(\.[^/]+)?$/i.test(name) || /\.tgz$/i.test(name)) return 'tar';
  return undefined;
}

function inside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function refuse(pkg: string, entry: string): never {
  throw new JobError(
    `package ${pkg} has an entry that escapes its directory: ${JSON.stringify(entry)}: rebuild it with relative paths`,
    {
      exit_status: 1,
    },
  );
}

export async function unpack(file: string, dest: string, signal?: AbortSignal): Promise<void> {
  const name = path.basename(file);
  const kind = packageKind(name);
  if (!kind)
    throw new JobError(`cannot unpack ${name}: packages must be .zip, .tar or .tar.* (e.g. .tar.gz; not zstd)`, {
      exit_status: 1,
    });
  const root = path.resolve(dest);
  if (kind === 'tar') await unpackTar(file, root, name, signal);
  else await unpackZip(file, root, name, signal);
}

async function unpackTar(file: string, root: string, name: string, signal?: AbortSignal): Promise<void> {
  // Check every entry first: node-tar would skip a bad entry with a warning, we refuse the package.
  const bad: string[] = [];
  // Loaded on first use: most runs never unpack anything, and start-up time matters to the CLI.
  const tar = await import('tar');
  await tar.t({
    file,
    onReadEntry: (e) => {
      const target = path.resolve(root, e.path);
      const linkOk =
        !e.linkpath ||
        inside(root, e.type === 'SymbolicLink' ? path.resolve(path.dirname(target), e.linkpath) : path.resolve(root, e.linkpath));
      if (path.isAbsolute(e.path) || !inside(root, target) || !linkOk) bad.push(e.path);
    },
  });
  if (bad.length) refuse(name, bad[0] as string);
  if (signal?.aborted) throw new JobError('unpack aborted');
  await tar.x({ file, cwd: root, strict: true, preservePaths: false });
}

async function openZip(file: string): Promise<yauzl.ZipFile> {
  const { default: yauzlLib } = await import('yauzl');
  return new Promise((resolve, reject) =>
    yauzlLib.open(file, { lazyEntries: true, strictFileNames: false }, (err, zip) => (err ? reject(err) : resolve(zip))),
  );
}

async function unpackZip(file: string, root: string, name: string, signal?: AbortSignal): Promise<void> {
  const zip = await openZip(file);
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', (err: Error) => {
        // yauzl checks names itself; report its refusal the same way as ours.
        const bad = /^(?:invalid relative path|absolute path): (.*)$/.exec(err.message);
        if (!bad) return reject(err);
        try {
          refuse(name, bad[1] as string);
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
      zip.on('end', resolve);
      zip.on('entry', (entry: yauzl.Entry) => {
        void (async () => {
          if (signal?.aborted) throw new JobError('unpack aborted');
          const target = path.resolve(root, entry.fileName);
          if (path.isAbsolute(entry.fileName) || !inside(root, target)) refuse(name, entry.fileName);
          const mode = (entry.externalFileAttributes >>> 16) & 0o177777;
          if (entry.fileName.endsWith('/')) {
            await fsp.mkdir(target, { recursive: true });
          } else {
            await fsp.mkdir(path.dirname(target), { recursive: true });
            const stream = await new Promise<NodeJS.ReadableStream>((res, rej) =>
              zip.openReadStream(entry, (err, s) => (err ? rej(err) : res(s))),
            );
            if ((mode & 0o170000) === 0o120000) {
              // A symlink: its target is the entry's content.
              const chunks: Buffer[] = [];
              for await (const c of stream) chunks.push(c as Buffer);
              const link = Buffer.concat(chunks).toString('utf8');
              if (!inside(root, path.resolve(path.dirname(target), link))) refuse(name, `${entry.fileName} -> ${link}`);
              await fsp.symlink(link, target);
            } else {
              await pipeline(stream, fs.createWriteStream(target, { mode: mode & 0o777 || 0o644 }));
              if (mode & 0o777) await fsp.chmod(target, mode & 0o777);
            }
          }
          zip.readEntry();
        })().catch(reject);
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}
